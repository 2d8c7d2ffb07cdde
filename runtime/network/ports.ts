/**
 * Published ports in Docker's terms: `-p [IP:][HOST:]CTR[/tcp|/udp]`, `-P` (every exposed port
 * on a free host port), kept in the record as Docker's `HostConfig.PortBindings`
 * (`{"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}]}`) and shown as `ps` shows them.
 * Pure.
 */
import { isIP } from 'node:net';
import { RunError } from '../errors.ts';

/** Docker's PortBindings: "PORT/PROTO" → host bindings (HostPort "" = any free port). */
export type PortBindings = Record<string, { HostIp: string; HostPort: string }[]>;

/** One `-p` value into PortBindings entries (docker/go-connections nat.ParsePortSpec). */
export function parsePublish(spec: string, into: PortBindings): void {
  const [rest = '', proto = 'tcp', extra] = spec.split('/');
  if (extra !== undefined || (proto !== 'tcp' && proto !== 'udp')) {
    throw new RunError(`invalid proto: ${proto}`);
  }
  const parts = rest.split(':');
  let hostIp = '';
  if (parts.length > 2) {
    hostIp = parts
      .slice(0, -2)
      .join(':')
      .replace(/^\[|\]$/g, '');
    if (isIP(hostIp) === 0) throw new RunError(`invalid IP address: ${hostIp}`);
  }
  const containerPort = parts.at(-1) ?? '';
  const hostPort = parts.length >= 2 ? (parts.at(-2) ?? '') : '';
  if (!validPort(containerPort)) throw new RunError(`invalid containerPort: ${containerPort}`);
  if (hostPort !== '' && !validPort(hostPort)) throw new RunError(`invalid hostPort: ${hostPort}`);
  const key = `${Number(containerPort)}/${proto}`;
  into[key] = [
    ...(into[key] ?? []),
    { HostIp: hostIp, HostPort: hostPort === '' ? '' : String(Number(hostPort)) },
  ];
}

function validPort(text: string): boolean {
  return /^\d{1,5}$/.test(text) && Number(text) >= 1 && Number(text) <= 65535;
}

/** `-P`: each exposed port not bound yet, on any free host port of every address. */
export function publishAll(exposed: string[], into: PortBindings): void {
  for (const port of exposed) {
    const key = port.includes('/') ? port : `${port}/tcp`;
    if (into[key] === undefined) into[key] = [{ HostIp: '', HostPort: '' }];
  }
}

/** A binding as made on the host. */
export interface BoundPort {
  containerPort: number;
  protocol: 'tcp' | 'udp';
  hostIp: string;
  hostPort: number;
}

/** Docker's ps PORTS text: `127.0.0.1:8080->80/tcp, 0.0.0.0:49153->443/tcp`, exposed ones as `80/tcp`. */
export function portsText(bound: BoundPort[], exposed: string[]): string {
  const published = bound.map((p) => `${p.hostIp}:${p.hostPort}->${p.containerPort}/${p.protocol}`);
  const keys = new Set(bound.map((p) => `${p.containerPort}/${p.protocol}`));
  const open = exposed.map((e) => (e.includes('/') ? e : `${e}/tcp`)).filter((e) => !keys.has(e));
  return [...published, ...open].join(', ');
}
