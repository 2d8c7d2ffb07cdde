/** `--cache-from`: every source opened, or skipped with a warning. */
import { CacheError } from '../cache/index.ts';
import type { ImageStore } from '../image/index.ts';
import type { CacheSource } from '../solver/index.ts';
import { openInlineCache } from './inline.ts';
import { openLocalCache } from './local.ts';
import type { CacheFrom } from './types.ts';

/**
 * Opens the `--cache-from` sources. A missing source is a warning, as in BuildKit, not a failure.
 * `openRegistry` opens a registry cache (the caller joins it to its pull); without it a registry
 * source is skipped with a warning.
 */
export async function openCacheSources(
  froms: CacheFrom[],
  store: ImageStore,
  warn: (message: string) => void,
  openRegistry?: (ref: string) => Promise<CacheSource>,
): Promise<CacheSource[]> {
  const sources: CacheSource[] = [];
  for (const from of froms) {
    try {
      if (from.type === 'registry' && !openRegistry) throw new CacheError('no registry access here');
      sources.push(
        from.type === 'local'
          ? await openLocalCache(from.src, store)
          : from.type === 'registry' && openRegistry
            ? await openRegistry(from.ref)
            : await openInlineCache(from.ref, store),
      );
    } catch (error) {
      const what = from.type === 'local' ? from.src : from.ref;
      warn(`WARNING: failed to import cache from ${what}: ${(error as Error).message}\n`);
    }
  }
  return sources;
}
