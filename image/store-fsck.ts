/**
 * `fsck`: verifies every blob against its digest and every reference from the index; removes stale
 * temp files, stale leases and unreferenced blobs. Corrupt blobs are reported, not removed.
 */
import { hashFile } from './blob-io.ts';
import { type Digest, digestHex, type ImageIndex, isDigest } from './oci.ts';
import { parseReference } from './reference.ts';
import type { BlobStore } from './store-blobs.ts';
import { allBlobs, collectGarbage, reachableDigests, removeStaleTemps } from './store-gc.ts';
import type { StoreLayout } from './store-layout.ts';
import type { Lease } from './store-leases.ts';
import { readIndex, refName } from './store-tags.ts';

/** Findings of `fsck`. `problems` is empty when the store is sound. */
export interface FsckReport {
  blobs: number;
  images: number;
  problems: string[];
  removedTempFiles: number;
  removedBlobs: Digest[];
}

/** Checks the store; garbage is collected only when no problem was found. */
export async function fsck(layout: StoreLayout, blobs: BlobStore, own: Lease): Promise<FsckReport> {
  const problems: string[] = [];
  const removedTempFiles = await removeStaleTemps(layout);
  const names = await allBlobs(layout);
  for (const d of names) {
    if (!isDigest(d)) {
      problems.push(`blobs/sha256/${digestHex(d)}: not a sha256 digest name`);
      continue;
    }
    const { digest } = await hashFile(blobs.blobPath(d));
    if (digest !== d) problems.push(`blob ${d}: content has digest ${digest}`);
  }
  let index: ImageIndex;
  try {
    index = await readIndex(layout);
  } catch (error) {
    problems.push((error as Error).message);
    return { blobs: names.length, images: 0, problems, removedTempFiles, removedBlobs: [] };
  }
  const reachable = await reachableDigests(blobs, index, problems);
  for (const d of reachable) {
    if (!(await blobs.hasBlob(d))) problems.push(`blob ${d} is referenced but missing`);
  }
  for (const m of index.manifests) {
    const name = refName(m);
    if (name !== undefined) {
      try {
        parseReference(name);
      } catch {
        problems.push(`index.json: invalid tag ${JSON.stringify(name)}`);
      }
    }
  }
  const removedBlobs = problems.length === 0 ? await collectGarbage(layout, blobs, own) : [];
  return {
    blobs: names.length,
    images: new Set(index.manifests.map((m) => m.digest)).size,
    problems,
    removedTempFiles,
    removedBlobs,
  };
}
