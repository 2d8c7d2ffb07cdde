/**
 * Address management of one network: the lowest free address of the subnet after the gateway,
 * as Docker's default IPAM hands them out (172.17.0.2, .3, …), or the one asked for (`--ip`).
 * Pure: the allocations live in the network's runtime state (infra.ts), changed under its lock.
 */
import { NetworkError } from './errors.ts';
import { formatAddress, lastAddress, parseAddress, type Subnet, subnetContains } from './subnets.ts';

/** Address → the container id holding it. */
export type Allocations = Record<string, string>;

export function allocateAddress(
  allocations: Allocations,
  subnet: Subnet,
  gateway: number,
  containerId: string,
  wanted?: string,
): string {
  if (wanted !== undefined) {
    const address = parseAddress(wanted);
    if (address === undefined || !subnetContains(subnet, address))
      throw new NetworkError(`no configured subnet or ip-range contain the IP address ${wanted}`);
    const holder = allocations[wanted];
    if (
      address === gateway ||
      address === subnet.base ||
      address === lastAddress(subnet) ||
      (holder && holder !== containerId)
    )
      throw new NetworkError(`Address already in use`);
    allocations[wanted] = containerId;
    return wanted;
  }
  for (let address = subnet.base + 1; address < lastAddress(subnet); address++) {
    if (address === gateway) continue;
    const text = formatAddress(address);
    if (allocations[text] === undefined) {
      allocations[text] = containerId;
      return text;
    }
  }
  throw new NetworkError("no available IPv4 addresses on this network's address pools");
}

/** Frees every address the container holds. */
export function releaseAddresses(allocations: Allocations, containerId: string): void {
  for (const [address, holder] of Object.entries(allocations)) {
    if (holder === containerId) delete allocations[address];
  }
}
