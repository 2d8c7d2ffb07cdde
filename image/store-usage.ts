/** Disk usage of the image store, as `du` reports it. */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { BlobStore } from './store-blobs.ts';
import { allBlobs, reachableDigests } from './store-gc.ts';
import type { StoreLayout } from './store-layout.ts';
import { readIndex } from './store-tags.ts';

/** Disk usage as `du` reports it. */
export interface DiskUsage {
  images: number;
  blobs: number;
  bytes: number;
  unreferencedBlobs: number;
  unreferencedBytes: number;
  tempFiles: number;
  tempBytes: number;
}

export async function diskUsage(layout: StoreLayout, blobs: BlobStore): Promise<DiskUsage> {
  const index = await readIndex(layout);
  const reachable = await reachableDigests(blobs, index);
  let bytes = 0;
  let unreferencedBlobs = 0;
  let unreferencedBytes = 0;
  const names = await allBlobs(layout);
  for (const d of names) {
    const s = await stat(blobs.blobPath(d)).catch(() => undefined);
    if (!s) continue;
    bytes += s.size;
    if (!reachable.has(d)) {
      unreferencedBlobs++;
      unreferencedBytes += s.size;
    }
  }
  let tempFiles = 0;
  let tempBytes = 0;
  for (const name of await readdir(layout.tmpDir)) {
    const s = await stat(join(layout.tmpDir, name)).catch(() => undefined);
    if (!s) continue;
    tempFiles++;
    tempBytes += s.size;
  }
  return {
    images: new Set(index.manifests.map((m) => m.digest)).size,
    blobs: names.length,
    bytes,
    unreferencedBlobs,
    unreferencedBytes,
    tempFiles,
    tempBytes,
  };
}
