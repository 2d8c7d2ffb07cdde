/**
 * A container's published ports as bound while it runs (its attachment), for `ps` PORTS and
 * `port`; none when it is not running, as Docker shows.
 */
import { readAttachment } from './attach.ts';
import type { BoundPort } from './ports.ts';

export function publishedPorts(root: string, containerId: string): BoundPort[] {
  return readAttachment(root, containerId)?.ports ?? [];
}
