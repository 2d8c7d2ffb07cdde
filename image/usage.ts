import type { ImageUsage } from '../cache/index.ts';
import type { ImageStore } from './store.ts';

/** What images in the store use: the build cache's GC and prune never collect it. */
export async function imageUsage(store: ImageStore): Promise<ImageUsage> {
  const usage: ImageUsage = { diffIds: new Set(), blobs: new Set() };
  for (const image of await store.listImages()) {
    for (const d of image.config.rootfs.diff_ids) usage.diffIds.add(d);
    for (const l of image.manifest.layers) usage.blobs.add(l.digest);
  }
  return usage;
}
