/**
 * `port`'s lines as docker-cli's container/port.go prints them from NetworkSettings.Ports: every
 * published port as `PORT/PROTO -> HOST:PORT`, sorted, or the host addresses of one port (Go's
 * net.JoinHostPort: an IPv6 address in brackets). The bindings are the ones made while the
 * container runs (network/published.ts), so a stopped container lists none. Pure.
 */
import { ContainerError } from './errors.ts';
import type { BoundPort } from './network/ports.ts';

/** Every published port, sorted: `80/tcp -> 0.0.0.0:8080` lines. */
export function portMappingLines(bound: BoundPort[]): string[] {
  return [...bound].sort(byPort).map((p) => `${p.containerPort}/${p.protocol} -> ${joinHostPort(p)}`);
}

/** The host addresses of one port (`80`, `80/tcp`, `53/udp`), Docker's errors for none or a bad port. */
export function portAddressLines(bound: BoundPort[], ref: string, spec: string): string[] {
  // docker-cli: SplitN(port, "/", 2); a protocol only when something follows the slash.
  const slash = spec.indexOf('/');
  const hasProto = slash >= 0 && slash < spec.length - 1;
  const port = hasProto ? spec.slice(0, slash) : spec.replace(/\/$/, '');
  const proto = hasProto ? spec.slice(slash + 1) : 'tcp';
  // nat.NewPort → ParsePortRange: a number (or a range) Go's ParseUint reads.
  const start = port.split('-')[0] ?? '';
  if (!/^\d+$/.test(start)) throw new ContainerError(`strconv.ParseUint: parsing "${start}": invalid syntax`);
  const found = bound.filter((p) => String(p.containerPort) === String(Number(port)) && p.protocol === proto);
  if (found.length === 0) throw new ContainerError(`No public port '${port}/${proto}' published for ${ref}`);
  return found.map(joinHostPort);
}

function joinHostPort(p: BoundPort): string {
  return p.hostIp.includes(':') ? `[${p.hostIp}]:${p.hostPort}` : `${p.hostIp}:${p.hostPort}`;
}

function byPort(a: BoundPort, b: BoundPort): number {
  return (
    a.containerPort - b.containerPort ||
    a.protocol.localeCompare(b.protocol) ||
    a.hostIp.localeCompare(b.hostIp) ||
    a.hostPort - b.hostPort
  );
}
