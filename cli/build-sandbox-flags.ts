// `tbuild build --add-host --shm-size --ulimit`: the RUN sandbox's hosts, /dev/shm and rlimits,
// parsed as docker buildx takes them (build/utils.go toBuildkitExtraHosts; docker/cli opts
// MemBytes and UlimitOpt over go-units).
import { isIP } from 'node:net';
import { parseByteSize } from '../cache/index.ts';
import { UsageError } from '../errors.ts';
import { type ExtraHost, type Ulimit, ulimitNames } from '../executor/index.ts';

/**
 * `host-gateway` is the host as a RUN step reaches it. Steps run in the host's network namespace
 * (or none), so the host is its own loopback address; Docker's default is the bridge's gateway,
 * which tbuild builds do not have.
 */
export const hostGatewayIp = '127.0.0.1';

/** `NAME:IP`, `NAME=IP`, `NAME=IP1,IP2`, `NAME:[::1]`, `NAME:host-gateway` → one entry per address. */
export function parseAddHost(spec: string): ExtraHost[] {
  const bad = () =>
    new UsageError(`invalid argument "${spec}" for "--add-host" flag: bad format for add-host: "${spec}"`, {
      hint: 'use NAME:IP or NAME=IP (IP may be host-gateway)',
    });
  const eq = spec.indexOf('=');
  const sep = eq >= 0 ? eq : spec.indexOf(':');
  if (sep <= 0 || sep === spec.length - 1) throw bad();
  const host = spec.slice(0, sep);
  const value = spec.slice(sep + 1);
  if (value === 'host-gateway') return [{ host, ip: hostGatewayIp }];
  return value.split(',').map((part) => {
    const ip = part.length > 2 && part.startsWith('[') && part.endsWith(']') ? part.slice(1, -1) : part;
    if (isIP(ip) === 0) throw bad();
    return { host, ip };
  });
}

/** `--shm-size` in bytes (go-units RAMInBytes: `64m`, `1g`, `512k`, bytes); 0 keeps the default. */
export function parseShmSize(spec: string): number {
  const bytes = parseByteSize(spec);
  if (bytes === undefined)
    throw new UsageError(`invalid argument "${spec}" for "--shm-size" flag: invalid size: '${spec}'`);
  return bytes;
}

/** `NAME=SOFT[:HARD]` (go-units ParseUlimit); -1 is unlimited. */
export function parseUlimit(spec: string): Ulimit {
  const bad = (reason: string) =>
    new UsageError(`invalid argument "${spec}" for "--ulimit" flag: ${reason}`, {
      hint: `use NAME=SOFT[:HARD], NAME one of ${ulimitNames.join(', ')}`,
    });
  const eq = spec.indexOf('=');
  if (eq < 0) throw bad(`invalid ulimit argument: ${spec}`);
  const name = spec.slice(0, eq);
  if (!ulimitNames.includes(name)) throw bad(`invalid ulimit type: ${name}`);
  const limits = spec.slice(eq + 1).split(':');
  if (limits.length > 2)
    throw bad(
      `too many limit value arguments - ${spec.slice(eq + 1)}, can only have up to two, \`soft[:hard]\``,
    );
  const [soft, hard] = limits.map((text) => {
    if (!/^-?\d+$/.test(text)) throw bad(`invalid ulimit value: ${text}`);
    return Number(text);
  }) as [number, number | undefined];
  const top = hard ?? soft;
  // -1 (unlimited) is the largest limit there is.
  const size = (n: number) => (n === -1 ? Number.POSITIVE_INFINITY : n);
  if (size(soft) > size(top))
    throw bad(`ulimit soft limit must be less than or equal to hard limit: ${soft} > ${top}`);
  return { name, soft, hard: top };
}
