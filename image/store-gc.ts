/**
 * Garbage in the store: blobs nothing references any more, and temp files of writers that are
 * gone. What counts as referenced: reachable from index.json, held by a live process's lease
 * (store-leases.ts), or a root of the build cache. A blob written but not yet tagged is leased
 * before it is renamed into place, so collecting never races a writer.
 */
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { cacheBlobRoots } from '../cache/index.ts';
import { syncDirSync } from '../files.ts';
import { isOwnerAlive } from '../processes.ts';
import {
  classifyMediaType,
  type Descriptor,
  type Digest,
  type ImageIndex,
  isDigest,
  isImageConfig,
  isImageIndex,
  isManifest,
  parseJsonAs,
} from './oci.ts';
import type { BlobStore } from './store-blobs.ts';
import { blobPath, lockStore, type StoreLayout, sizePath, storeRoot } from './store-layout.ts';
import { type Lease, leasedDigests } from './store-leases.ts';
import { readIndex, refName } from './store-tags.ts';

/**
 * Every digest reachable from the index: manifests, nested indexes, configs, layers. A manifest,
 * index or config that cannot be read is noted in `problems` (fsck) and its children skipped.
 */
export async function reachableDigests(
  blobs: BlobStore,
  index: ImageIndex,
  problems?: string[],
): Promise<Set<Digest>> {
  const seen = new Set<Digest>();
  const visit = async (d: Descriptor, from: string): Promise<void> => {
    if (seen.has(d.digest)) return;
    seen.add(d.digest);
    const kind = classifyMediaType(d.mediaType);
    if (kind !== 'manifest' && kind !== 'index') return;
    let bytes: Buffer;
    try {
      bytes = await blobs.readBlob(d.digest);
    } catch (error) {
      problems?.push(`${from}: ${(error as Error).message}`);
      return;
    }
    try {
      if (kind === 'index') {
        const child = parseJsonAs(bytes, isImageIndex, `index ${d.digest}`);
        for (const m of child.manifests)
          if (await blobs.hasBlob(m.digest)) await visit(m, `index ${d.digest}`);
      } else {
        const manifest = parseJsonAs(bytes, isManifest, `manifest ${d.digest}`);
        for (const b of [manifest.config, ...manifest.layers]) await visit(b, `manifest ${d.digest}`);
        parseJsonAs(
          await blobs.readBlob(manifest.config.digest),
          isImageConfig,
          `config ${manifest.config.digest}`,
        );
      }
    } catch (error) {
      problems?.push(`${from}: ${(error as Error).message}`);
    }
  };
  for (const m of index.manifests) await visit(m, refName(m) ?? `image ${m.digest}`);
  return seen;
}

/** Every blob in the store, by the name of its file. */
export async function allBlobs(layout: StoreLayout): Promise<Digest[]> {
  return (await readdir(layout.blobDir)).map((hex) => `sha256:${hex}` as Digest);
}

/**
 * Removes blobs nothing references (no index entry reaches them, no live lease but `own` holds
 * them, the build cache does not use them). `only` limits the candidates (used to undo a failed
 * load). Returns the removed digests.
 */
export async function collectGarbage(
  layout: StoreLayout,
  blobs: BlobStore,
  own: Lease,
  only?: Iterable<Digest>,
): Promise<Digest[]> {
  const lock = await lockStore(layout);
  try {
    const keep = await reachableDigests(blobs, await readIndex(layout));
    for (const d of await leasedDigests(layout.leaseDir, own)) keep.add(d);
    // The build cache's records and running builds keep their layer blobs alive too.
    for (const d of await cacheBlobRoots(storeRoot(layout))) if (isDigest(d)) keep.add(d);
    const removed: Digest[] = [];
    for (const d of only ?? (await allBlobs(layout))) {
      if (keep.has(d)) continue;
      await rm(blobPath(layout, d), { force: true });
      await rm(sizePath(layout, d), { force: true });
      removed.push(d);
    }
    if (removed.length > 0) syncDirSync(layout.blobDir);
    return removed;
  } finally {
    await lock.release();
  }
}

/** Removes the temp files of writers that are gone (every command does on opening the root). */
export async function removeStaleTemps(layout: StoreLayout): Promise<number> {
  let removed = 0;
  for (const name of await readdir(layout.tmpDir)) {
    if (isOwnerAlive(name) === true) continue;
    const path = join(layout.tmpDir, name);
    // Counted only when still there: another process opening the store may have removed it.
    if (!(await stat(path).catch(() => undefined))) continue;
    await rm(path, { force: true });
    removed++;
  }
  return removed;
}
