/**
 * The build cache around a build: `--cache-from`/`--cache-to` (local layout and inline), and the
 * automatic garbage collection after a build. The composition root joins cache/ (formats and
 * housekeeping), image/ (the store) and solver/ (results and keys) here.
 */
import { createReadStream, statSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CacheError,
  type ImageUsage,
  lockCacheForGc,
  measureCache,
  type PortableRecord,
  parseByteSize,
  pruneCache,
  readCacheLayout,
  writeCacheLayout,
} from '../cache/index.ts';
import { UsageError } from '../errors.ts';
import type { Digest, ImageConfig, ImageStore } from '../image/index.ts';
import type { CacheSource, FsResult, FsRunner } from '../solver/index.ts';

/** `--cache-to`: where and how much to export. */
export type CacheTo =
  | { type: 'local'; dest: string; mode: 'min' | 'max' }
  | { type: 'inline' }
  | { type: 'registry'; ref: string; mode: 'min' | 'max' };
/** `--cache-from`: a local layout, an image (inline cache) in the store, or a registry cache. */
export type CacheFrom =
  | { type: 'local'; src: string }
  | { type: 'image'; ref: string }
  | { type: 'registry'; ref: string };

/** The image config field that carries an inline cache (BuildKit's is `moby.buildkit.cache.v0`). */
export const inlineCacheField = 'tbuild.cache.v1';

interface InlineCache {
  version: 1;
  /** `layers` are indexes into the image's layers (manifest.layers and rootfs.diff_ids). */
  records: { key: string; created?: string; layers: number[]; steps?: (string | null)[] }[];
}

function parseCsv(spec: string, flag: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of spec.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new UsageError(`invalid ${flag} value "${spec}": "${part}" is not key=value`);
    out.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return out;
}

export function parseCacheTo(spec: string): CacheTo {
  const f = parseCsv(spec, '--cache-to');
  const type = f.get('type');
  if (type === 'inline') return { type: 'inline' };
  if (type === 'local') {
    const dest = f.get('dest');
    if (!dest) throw new UsageError('--cache-to type=local needs dest=DIR');
    const mode = f.get('mode') ?? 'min';
    if (mode !== 'min' && mode !== 'max')
      throw new UsageError(`invalid cache mode "${mode}": use min or max`);
    return { type: 'local', dest, mode };
  }
  if (type === 'registry') {
    const ref = f.get('ref');
    if (!ref) throw new UsageError('--cache-to type=registry needs ref=NAME[:TAG]');
    const mode = f.get('mode') ?? 'min';
    if (mode !== 'min' && mode !== 'max')
      throw new UsageError(`invalid cache mode "${mode}": use min or max`);
    return { type: 'registry', ref, mode };
  }
  throw new UsageError(`unsupported --cache-to type "${type ?? ''}"`, {
    hint: 'use type=local, type=inline or type=registry',
  });
}

export function parseCacheFrom(spec: string): CacheFrom {
  if (!spec.includes('=')) return { type: 'image', ref: spec };
  const f = parseCsv(spec, '--cache-from');
  const type = f.get('type');
  if (type === 'local') {
    const src = f.get('src');
    if (!src) throw new UsageError('--cache-from type=local needs src=DIR');
    return { type: 'local', src };
  }
  if (type === 'image' || type === 'registry') {
    const ref = f.get('ref');
    if (!ref) throw new UsageError(`--cache-from type=${type} needs ref=IMAGE`);
    return { type, ref };
  }
  throw new UsageError(`unsupported --cache-from type "${type ?? ''}"`, {
    hint: 'use type=local or an image',
  });
}

/** Opens the `--cache-from` sources. A missing source is a warning, as in BuildKit, not a failure. */
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
          ? await openLocal(from.src, store)
          : from.type === 'registry' && openRegistry
            ? await openRegistry(from.ref)
            : await openInline(from.ref, store),
      );
    } catch (error) {
      const what = from.type === 'local' ? from.src : from.ref;
      warn(`WARNING: failed to import cache from ${what}: ${(error as Error).message}\n`);
    }
  }
  return sources;
}

async function openLocal(src: string, store: ImageStore): Promise<CacheSource> {
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

/** The inline cache of an image in the store (`--cache-from IMAGE`). */
export async function openInline(ref: string, store: ImageStore): Promise<CacheSource> {
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

/** A record of a cache layout (local or registry) as the solver's result. */
export function fromPortable(record: PortableRecord): FsResult {
  return {
    layers: record.layers.map((l) => ({
      diffId: l.diffId,
      blob: {
        mediaType: l.blob.mediaType ?? 'application/vnd.oci.image.layer.v1.tar+gzip',
        digest: l.blob.digest as Digest,
        size: l.blob.size,
      },
      ...(l.step ? { step: l.step } : {}),
    })),
    ...(record.created ? { created: record.created } : {}),
  };
}

function toPortable(key: string, result: FsResult): PortableRecord {
  return {
    key,
    ...(result.created ? { created: result.created } : {}),
    layers: result.layers.map((l) => ({
      diffId: l.diffId,
      blob: { mediaType: l.blob.mediaType, digest: l.blob.digest, size: l.blob.size },
      ...(l.step ? { step: l.step } : {}),
    })),
  };
}

/**
 * The records to export. `max`: every step of the build (all stages). `min`: the steps whose
 * result is a prefix of the final image's layers, i.e. the final image's own chain (BuildKit's
 * min mode exports only the layers of the result).
 */
export async function selectRecords(
  runner: FsRunner,
  final: FsResult,
  mode: 'min' | 'max',
): Promise<PortableRecord[]> {
  const out: PortableRecord[] = [];
  const seen = new Set<string>();
  for (const key of runner.keys.values()) {
    if (seen.has(key)) continue;
    seen.add(key);
    const result = await runner.readRecord(key);
    if (!result) continue;
    if (mode === 'min' && !isPrefix(result, final)) continue;
    out.push(toPortable(key, result));
  }
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

function isPrefix(result: FsResult, final: FsResult): boolean {
  return (
    result.layers.length <= final.layers.length &&
    result.layers.every((l, i) => final.layers[i]?.blob.digest === l.blob.digest)
  );
}

/** Writes a local cache layout (`--cache-to type=local`). */
export async function exportLocalCache(
  to: Extract<CacheTo, { type: 'local' }>,
  runner: FsRunner,
  final: FsResult,
  store: ImageStore,
): Promise<void> {
  const records = await selectRecords(runner, final, to.mode);
  await writeCacheLayout(to.dest, records, (digest) => store.getBlob(digest as Digest));
}

/** The inline cache for the image config (`--cache-to type=inline`): the final chain's records. */
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

/** What images in the store use (never collected by the cache's GC). */
export async function imageUsage(store: ImageStore): Promise<ImageUsage> {
  const usage: ImageUsage = { diffIds: new Set(), blobs: new Set() };
  for (const image of await store.listImages()) {
    for (const d of image.config.rootfs.diff_ids) usage.diffIds.add(d);
    for (const l of image.manifest.layers) usage.blobs.add(l.digest);
  }
  return usage;
}

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
export async function collectAfterBuild(root: string, store: ImageStore): Promise<void> {
  const policy = await readGcPolicy(root);
  if (!policy.enabled) return;
  // `<root>/cache/gc.last`: its mtime is when a build last measured (see defaultGcIntervalSeconds).
  const stamp = join(root, 'cache', 'gc.last');
  const last = statSync(stamp, { throwIfNoEntry: false })?.mtimeMs;
  if (last !== undefined && Date.now() - last < policy.intervalSeconds * 1000) return;
  await writeFile(stamp, '').catch(() => undefined);
  // Measured without the lock (reading only): most builds end under the cap and lock nothing.
  if ((await measureCache(root, await imageUsage(store))).bytes <= policy.keepBytes) return;
  // Over the cap: wait a while for other running builds (new ones queue behind, see gc-lock.ts);
  // if they take longer, the next build to finish tries again.
  const lock = await lockCacheForGc(root, { wait: true, timeoutSeconds: 30 });
  if (!lock) return;
  try {
    await pruneCache(root, await imageUsage(store), { all: true, keepBytes: policy.keepBytes });
    await store.collectGarbage();
  } finally {
    await lock.release();
  }
}
