/**
 * Leases: the digests a live process has written into the store but not yet referenced from
 * index.json. Garbage collection keeps them, so a build or load racing a `gc` never loses a blob
 * between writing it and tagging the image that needs it. One file per process, named by its
 * owner (pid.starttime, processes.ts): a dead owner's lease is void, and a reused pid only delays
 * collection, the safe direction.
 */
import { appendFileSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { isOwnerAlive } from '../processes.ts';
import { tempName } from './blob-io.ts';
import { type Digest, isDigest } from './oci.ts';

/** This process's lease file in `leaseDir`, created by the first digest added to it. */
export class Lease {
  readonly path: string;
  #created = false;

  constructor(leaseDir: string) {
    this.path = tempName(leaseDir);
  }

  add(digest: Digest): void {
    appendFileSync(this.path, `${digest}\n`);
    this.#created = true;
  }

  /** Removes the lease. Blobs it held and nothing references become garbage. */
  async release(): Promise<void> {
    if (this.#created) await rm(this.path, { force: true });
    this.#created = false;
  }
}

/** Digests held by the leases of live processes other than `own`; removes the leases of dead ones. */
export async function leasedDigests(leaseDir: string, own: Lease): Promise<Set<Digest>> {
  const out = new Set<Digest>();
  for (const name of await readdir(leaseDir)) {
    const path = join(leaseDir, name);
    if (path === own.path) continue;
    if (isOwnerAlive(name) !== true) {
      await rm(path, { force: true });
      continue;
    }
    const text = await readFile(path, 'utf8').catch(() => '');
    for (const line of text.split('\n')) if (isDigest(line)) out.add(line);
  }
  return out;
}
