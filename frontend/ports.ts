/**
 * EXPOSE values as Docker reads them (nat.ParsePortSpecs): `80`, `80/udp`, ranges `8000-8002`,
 * and `ip:hostport:containerport/proto` forms of which only the container port is kept.
 * Returns the `port/proto` keys of the image config's ExposedPorts.
 */
export function parseExposedPorts(spec: string): string[] {
  let rest = spec;
  let proto = 'tcp';
  const slash = rest.lastIndexOf('/');
  if (slash >= 0) {
    proto = rest.slice(slash + 1).toLowerCase();
    rest = rest.slice(0, slash);
    if (!['tcp', 'udp', 'sctp'].includes(proto)) throw new Error(`invalid proto: ${proto}`);
  }
  // ip:hostPort:containerPort, [ipv6]:hostPort:containerPort, hostPort:containerPort
  let container = rest;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    container =
      rest
        .slice(close + 1)
        .split(':')
        .at(-1) ?? '';
  } else if (rest.includes(':')) {
    const parts = rest.split(':');
    if (parts.length === 3 && parts[0] !== '' && !/^[0-9.]+$/.test(parts[0] as string)) {
      throw new Error(`invalid IP address: ${parts[0]}`);
    }
    container = parts.at(-1) ?? '';
  }
  const range = /^(\d+)(?:-(\d+))?$/.exec(container);
  if (!range) throw new Error(`invalid containerPort: ${container}`);
  const start = Number(range[1]);
  const end = range[2] === undefined ? start : Number(range[2]);
  if (start > 65535 || end > 65535 || end < start) throw new Error(`invalid port range: ${container}`);
  const ports: string[] = [];
  for (let port = start; port <= end; port++) ports.push(`${port}/${proto}`);
  return ports;
}
