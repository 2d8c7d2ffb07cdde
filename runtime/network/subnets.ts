/**
 * IPv4 subnets as Docker's IPAM takes them (`--subnet 172.20.0.0/16`, `--gateway`), and the pool
 * new networks are given subnets from. Pure.
 */
import { NetworkError } from './errors.ts';

export interface Subnet {
  /** The network address as a 32-bit unsigned number. */
  base: number;
  prefix: number;
}

export function parseAddress(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) < 256))
    return undefined;
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

export function formatAddress(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** `a.b.c.d/n`; host bits are cleared as Docker does (172.20.0.5/16 is 172.20.0.0/16). */
export function parseSubnet(text: string): Subnet {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(text);
  const address = m ? parseAddress(m[1] as string) : undefined;
  const prefix = Number(m?.[2]);
  if (address === undefined || !(prefix >= 0 && prefix <= 32))
    throw new NetworkError(`invalid CIDR address: ${text}`);
  if (prefix > 30) throw new NetworkError(`invalid subnet ${text}: too small for a gateway and a container`);
  return { base: (address & mask(prefix)) >>> 0, prefix };
}

export function formatSubnet(subnet: Subnet): string {
  return `${formatAddress(subnet.base)}/${subnet.prefix}`;
}

export function subnetContains(subnet: Subnet, address: number): boolean {
  return (address & mask(subnet.prefix)) >>> 0 === subnet.base;
}

export function subnetsOverlap(a: Subnet, b: Subnet): boolean {
  const prefix = Math.min(a.prefix, b.prefix);
  return (a.base & mask(prefix)) >>> 0 === (b.base & mask(prefix)) >>> 0;
}

/** The last address (broadcast) of a subnet. */
export function lastAddress(subnet: Subnet): number {
  return (subnet.base | (~mask(subnet.prefix) >>> 0)) >>> 0;
}

/** Docker's default gateway: the first address of the subnet. */
export function defaultGateway(subnet: Subnet): number {
  return subnet.base + 1;
}

/**
 * Docker's default address pools (libnetwork ipamutils): 172.17–31.0.0/16, then
 * 192.168.0.0/20 pieces. 172.17.0.0/16 is the default `bridge` network's.
 */
export function* defaultPool(): Generator<Subnet> {
  for (let second = 17; second <= 31; second++)
    yield { base: parseAddress(`172.${second}.0.0`) as number, prefix: 16 };
  for (let third = 0; third < 256; third += 16)
    yield { base: parseAddress(`192.168.${third}.0`) as number, prefix: 20 };
}
