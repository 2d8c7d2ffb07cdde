/**
 * The inline cache (`--cache-to type=inline`, `--cache-from IMAGE`): the final chain's records in
 * a field of the image config, pointing at the image's own layers, so the image is its own cache.
 */
import { CacheError } from '../cache/index.ts';
import type { ImageConfig, ImageStore } from '../image/index.ts';
import type { CacheSource, FsResult, FsRunner } from '../solver/index.ts';
import { selectRecords } from './records.ts';

/** The image config field that carries an inline cache (BuildKit's is `moby.buildkit.cache.v0`). */
export const inlineCacheField = 'tbuild.cache.v1';

export interface InlineCache {
  version: 1;
  /** `layers` are indexes into the image's layers (manifest.layers and rootfs.diff_ids). */
  records: { key: string; created?: string; layers: number[]; steps?: (string | null)[] }[];
}

/** The inline cache for the image config: the final chain's records. */
export async function inlineCache(runner: FsRunner, final: FsResult): Promise<InlineCache> {
  const records = await selectRecords(runner, final, 'min');
  return {
    version: 1,
    records: records.map((r) => ({
      key: r.key,
      ...(r.created ? { created: r.created } : {}),
      layers: r.layers.map((_, i) => i),
      steps: r.layers.map((l) => l.step ?? null),
    })),
  };
}

/** The inline cache of an image in the store. */
export async function openInlineCache(ref: string, store: ImageStore): Promise<CacheSource> {
  const image = await store.resolve(ref);
  const inline = (image.config as ImageConfig & { [inlineCacheField]?: InlineCache })[inlineCacheField];
  if (inline?.version !== 1) throw new CacheError(`image ${ref} carries no inline cache`);
  const diffIds = image.config.rootfs.diff_ids;
  const records = new Map<string, FsResult>();
  for (const r of inline.records) {
    const layers = r.layers.map((i, n) => {
      const blob = image.manifest.layers[i];
      const diffId = diffIds[i];
      if (!blob || !diffId)
        throw new CacheError(`image ${ref}: inline cache names layer ${i}, which it lacks`);
      const step = r.steps?.[n];
      return { diffId, blob, ...(step ? { step } : {}) };
    });
    records.set(r.key, { layers, ...(r.created ? { created: r.created } : {}) });
  }
  // The layers are the image's own: they are in the store already.
  return { find: async (key) => records.get(key) };
}
