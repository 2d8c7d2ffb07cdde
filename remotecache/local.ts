/**
 * The local cache layout (`--cache-to type=local,dest=DIR`, `--cache-from type=local,src=DIR`):
 * an OCI layout of cache/layout.ts. Reading is lazy: a record's blobs are copied into the store
 * only when the build hits that record.
 */
import { createReadStream } from 'node:fs';
import { readCacheLayout, writeCacheLayout } from '../cache/index.ts';
import type { Digest, ImageStore } from '../image/index.ts';
import type { CacheSource, FsResult, FsRunner } from '../solver/index.ts';
import { fromPortable, selectRecords } from './records.ts';
import type { CacheTo } from './types.ts';

/** Opens the layout at `src` as a cache source. */
export async function openLocalCache(src: string, store: ImageStore): Promise<CacheSource> {
  const layout = await readCacheLayout(src);
  return {
    async find(key) {
      const record = layout.records.get(key);
      if (!record) return undefined;
      for (const { blob } of record.layers) {
        const digest = blob.digest as Digest;
        if (await store.hasBlob(digest)) continue;
        await store.putBlob(createReadStream(layout.blobPath(digest)), {
          digest,
          size: blob.size,
          what: `cache blob ${digest}`,
          layer: true,
        });
      }
      return fromPortable(record);
    },
  };
}

/** Writes the build's records (as `to.mode` selects) and their blobs as a layout at `to.dest`. */
export async function exportLocalCache(
  to: Extract<CacheTo, { type: 'local' }>,
  runner: FsRunner,
  final: FsResult,
  store: ImageStore,
): Promise<void> {
  const records = await selectRecords(runner, final, to.mode);
  await writeCacheLayout(to.dest, records, (digest) => store.getBlob(digest as Digest));
}
