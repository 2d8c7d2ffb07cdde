/**
 * Published ports in Docker's terms: `-p [IP:][HOST:]CTR[/tcp|/udp]` with port ranges, `-P` (every
 * exposed port on a free host port), kept in the record as Docker's `HostConfig.PortBindings`
 * (`{"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}]}`) and shown as `ps` shows them.
 * Pure.
 */
import { isIP } from 'node:net';
import { RunError } from '../errors.ts';

/** Docker's PortBindings: "PORT/PROTO" → host bindings (HostPort "" = any free port). */
export type PortBindings = Record<string, { HostIp: string; HostPort: string }[]>;

/**
 * One `-p` value into PortBindings entries, as docker/go-connections nat.ParsePortSpec reads it:
 * `[IP:][HOST[-END]:]CTR[-END][/PROTO]`. A container range needs a host range of the same length
 * (port by port); a single container port with a host range takes the first free port of it
 * (HostPort "8000-8010", as Docker records it); no host port is any free one.
 */
export function parsePublish(spec: string, into: PortBindings): void {
  const parts = spec.split(':');
  const n = parts.length;
  const containerPart = parts[n - 1] ?? '';
  const hostPort = n >= 2 ? (parts[n - 2] ?? '') : '';
  let hostIp = n >= 3 ? parts.slice(0, n - 2).join(':') : '';
  const slash = containerPart.indexOf('/');
  const containerPort = slash < 0 ? containerPart : containerPart.slice(0, slash);
  const proto = (slash < 0 ? '' : containerPart.slice(slash + 1)).toLowerCase() || 'tcp';
  if (containerPort === '') throw new RunError(`no port specified: ${spec}<empty>`);
  if (!['tcp', 'udp', 'sctp'].includes(proto)) throw new RunError(`invalid proto: ${proto}`);
  if (proto === 'sctp') throw new RunError(`publishing sctp ports is not supported by tbuild: ${spec}`);
  if (hostIp.startsWith('[') && hostIp.endsWith(']')) hostIp = hostIp.slice(1, -1);
  if (hostIp !== '' && isIP(hostIp) === 0) throw new RunError(`invalid IP address: ${hostIp}`);
  const ctr = parsePortRange(containerPort);
  // Docker's parser lets container port 0 through; nothing can listen there.
  if (ctr === undefined || ctr[0] === 0) throw new RunError(`invalid containerPort: ${containerPort}`);
  let host: [number, number] | undefined;
  if (hostPort !== '') {
    host = parsePortRange(hostPort);
    if (host === undefined) throw new RunError(`invalid hostPort: ${hostPort}`);
    if (ctr[1] - ctr[0] !== host[1] - host[0] && ctr[1] !== ctr[0]) {
      throw new RunError(
        `invalid ranges specified for container and host Ports: ${containerPort} and ${hostPort}`,
      );
    }
  }
  const count = ctr[1] - ctr[0] + 1;
  for (let i = 0; i < count; i++) {
    let hostText = '';
    if (host !== undefined) {
      hostText = String(host[0] + i);
      if (count === 1 && host[0] !== host[1]) hostText += `-${host[1]}`;
    }
    const key = `${ctr[0] + i}/${proto}`;
    into[key] = [...(into[key] ?? []), { HostIp: hostIp, HostPort: hostText }];
  }
}

/** `START[-END]` as nat.ParsePortRange reads it (decimal, 0-65535, END not below START); undefined if bad. */
export function parsePortRange(text: string): [number, number] | undefined {
  const [first = '', second] = text.split('-');
  const start = portNumber(first);
  const end = second === undefined ? start : portNumber(second);
  if (start === undefined || end === undefined || end < start) return undefined;
  return [start, end];
}

function portNumber(text: string): number | undefined {
  return /^\d{1,5}$/.test(text) && Number(text) <= 65535 ? Number(text) : undefined;
}

/** A HostPort as recorded ("", "8080", "8000-8010") as the range of ports to try; [0, 0] = any free one. */
export function hostPortRange(hostPort: string): [number, number] {
  return parsePortRange(hostPort) ?? [0, 0];
}

/**
 * `--expose PORT[-END][/PROTO]` into port keys (docker/cli: nat.SplitProtoPort, then
 * nat.ParsePortRange, each port of the range exposed).
 */
export function parseExpose(value: string): string[] {
  const slash = value.indexOf('/');
  const port = slash < 0 ? value : value.slice(0, slash);
  const proto = (slash < 0 ? '' : value.slice(slash + 1)) || 'tcp';
  const range = parsePortRange(port);
  if (range === undefined) {
    throw new RunError(
      `invalid range format for --expose: ${value}, error: ${port === '' ? 'empty string specified for ports' : `invalid range specified for port: ${port}`}`,
    );
  }
  const keys: string[] = [];
  for (let p = range[0]; p <= range[1]; p++) keys.push(`${p}/${proto}`);
  return keys;
}

/** `-P`: each exposed port not bound yet, on any free host port of every address. */
export function publishAll(exposed: string[], into: PortBindings): void {
  for (const port of exposed) {
    const key = port.includes('/') ? port : `${port}/tcp`;
    if (into[key] === undefined) into[key] = [{ HostIp: '', HostPort: '' }];
  }
}

/** A binding as asked for: the host ports to try, in order ([0, 0] = any free one). */
export interface WantedPort {
  containerPort: number;
  protocol: 'tcp' | 'udp';
  hostIp: string;
  hostPorts: [number, number];
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
