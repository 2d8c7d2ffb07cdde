/**
 * The automatic GC after a build: its policy (`<root>/config.json`'s `gc` object, BuildKit's worker
 * GC policy) and the run itself, throttled and under the GC lock. What images keep and the image
 * store's own collection come from the caller: cache/ knows no images.
 */
import { statSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UsageError } from '../errors.ts';
import { type ImageUsage, measureCache, parseByteSize, pruneCache } from './gc.ts';
import { lockCacheForGc } from './gc-lock.ts';

/** The default cap of the automatic GC, BuildKit-like (its default is 10% of the disk, at most 100GB). */
export const defaultKeepStorage = '20GB';

/**
 * How often at most the automatic GC measures the cache: BuildKit's controller throttles its GC
 * the same way (`throttle.After(time.Minute, c.gc)` after each solve). Measuring reads every
 * record, snapshot and image (~10 ms of a small build's ~0.3 s); builds in quick succession
 * share one measurement, and the first to finish after the interval measures and collects.
 */
export const defaultGcIntervalSeconds = 60;

/** The automatic GC's settings. */
export interface GcPolicy {
  enabled: boolean;
  keepBytes: number;
  intervalSeconds: number;
}

/** The images' side of a collection: what they keep, and the image store's own GC. */
export interface ImageHolder {
  usage(): Promise<ImageUsage>;
  collectGarbage(): Promise<unknown>;
}

/**
 * `<root>/config.json` →
 * `{"gc": {"enabled": true, "keepStorage": "20GB", "intervalSeconds": 60}}`.
 */
export async function readGcPolicy(root: string): Promise<GcPolicy> {
  let gc: { enabled?: unknown; keepStorage?: unknown; intervalSeconds?: unknown } = {};
  const file = join(root, 'config.json');
  try {
    const config = JSON.parse(await readFile(file, 'utf8')) as { gc?: typeof gc };
    gc = config.gc ?? {};
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new UsageError(`${file}: ${(error as Error).message}`);
  }
  const text = typeof gc.keepStorage === 'string' ? gc.keepStorage : defaultKeepStorage;
  const keepBytes = typeof gc.keepStorage === 'number' ? gc.keepStorage : parseByteSize(text);
  if (keepBytes === undefined) throw new UsageError(`${file}: invalid gc.keepStorage "${text}"`);
  const interval = gc.intervalSeconds ?? defaultGcIntervalSeconds;
  if (typeof interval !== 'number' || !(interval >= 0))
    throw new UsageError(`${file}: invalid gc.intervalSeconds ${JSON.stringify(interval)}`);
  return { enabled: gc.enabled !== false, keepBytes, intervalSeconds: interval };
}

/**
 * The automatic GC after a build: when the cache holds more than the cap, least recently used
 * records (and the snapshots and blobs only they kept) go until it fits. Images and whatever a
 * running build holds are never touched.
 */
export async function collectAfterBuild(root: string, images: ImageHolder): Promise<void> {
  const policy = await readGcPolicy(root);
  if (!policy.enabled) return;
  // `<root>/cache/gc.last`: its mtime is when a build last measured (see defaultGcIntervalSeconds).
  const stamp = join(root, 'cache', 'gc.last');
  const last = statSync(stamp, { throwIfNoEntry: false })?.mtimeMs;
  if (last !== undefined && Date.now() - last < policy.intervalSeconds * 1000) return;
  await writeFile(stamp, '').catch(() => undefined);
  // Measured without the lock (reading only): most builds end under the cap and lock nothing.
  if ((await measureCache(root, await images.usage())).bytes <= policy.keepBytes) return;
  // Over the cap: wait a while for other running builds (new ones queue behind, see gc-lock.ts);
  // if they take longer, the next build to finish tries again.
  const lock = await lockCacheForGc(root, { wait: true, timeoutSeconds: 30 });
  if (!lock) return;
  try {
    await pruneCache(root, await images.usage(), { all: true, keepBytes: policy.keepBytes });
    await images.collectGarbage();
  } finally {
    await lock.release();
  }
}
