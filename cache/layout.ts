import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { CacheError } from './errors.ts';

/**
 * The exported build cache (`--cache-to type=local,dest=DIR`, `--cache-from type=local,src=DIR`):
 * an OCI image layout, so that the registry variant can push and pull it unchanged.
 *
 *   DIR/oci-layout
 *   DIR/index.json                   one manifest, annotated `org.opencontainers.image.ref.name: latest`
 *   DIR/blobs/sha256/<manifest>      an OCI image manifest: config = the cache config below
 *                                    (mediaType {@link cacheConfigMediaType}), layers = every layer blob
 *   DIR/blobs/sha256/<config>        {"version":1,"records":[{key, created, layers:[{diffId, blob}]}]}
 *   DIR/blobs/sha256/<layer>…        the layer blobs, exactly as in the image store
 *
 * Like BuildKit's cache manifest (a manifest whose config is `application/vnd.buildkit.cacheconfig.v0`),
 * the manifest makes every blob reachable for a registry's GC; the config maps cache keys to layer
 * chains. Our keys are tbuild's own, so the config has its own media type.
 */
export const cacheConfigMediaType = 'application/vnd.tbuild.cache.config.v1+json';
const manifestMediaType = 'application/vnd.oci.image.manifest.v1+json';
const layerMediaType = 'application/vnd.oci.image.layer.v1.tar+gzip';
const refNameAnnotation = 'org.opencontainers.image.ref.name';

/** A blob reference as the OCI descriptor has it (the fields the cache needs). */
export interface BlobRef {
  mediaType?: string;
  digest: string;
  size: number;
}

/** One exported record: a cache key and the layer chain (base first) that is its result. */
export interface PortableRecord {
  key: string;
  created?: string;
  /** Base first; `step` is the digest of the vertex that made the layer (history matching). */
  layers: { diffId: string; blob: BlobRef; step?: string }[];
}

/** The cache config blob. */
export interface CacheConfig {
  version: 1;
  records: PortableRecord[];
}

/** Writes `records` and their blobs (read with `openBlob`) as a cache layout at `dir`. */
export async function writeCacheLayout(
  dir: string,
  records: PortableRecord[],
  openBlob: (digest: string) => NodeJS.ReadableStream,
): Promise<{ manifest: BlobRef; blobs: number }> {
  const blobDir = join(dir, 'blobs', 'sha256');
  await mkdir(blobDir, { recursive: true });
  const layers = new Map<string, BlobRef>();
  for (const r of records) for (const l of r.layers) layers.set(l.blob.digest, l.blob);
  for (const blob of layers.values()) {
    const path = join(blobDir, hexOf(blob.digest));
    if ((await stat(path).catch(() => undefined))?.size === blob.size) continue;
    const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await pipeline(openBlob(blob.digest), createWriteStream(temp));
      await rename(temp, path);
    } finally {
      await rm(temp, { force: true });
    }
  }
  const config: CacheConfig = { version: 1, records };
  const configRef = await writeJsonBlob(blobDir, config, cacheConfigMediaType);
  const manifest = {
    schemaVersion: 2,
    mediaType: manifestMediaType,
    config: configRef,
    layers: [...layers.values()].map((b) => ({
      mediaType: b.mediaType ?? layerMediaType,
      digest: b.digest,
      size: b.size,
    })),
  };
  const manifestRef = await writeJsonBlob(blobDir, manifest, manifestMediaType);
  await writeAtomic(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  await writeAtomic(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [{ ...manifestRef, annotations: { [refNameAnnotation]: 'latest' } }],
    }),
  );
  return { manifest: manifestRef, blobs: layers.size };
}

/** An opened cache layout: its records by key, and where each blob is. */
export interface CacheLayout {
  records: Map<string, PortableRecord>;
  blobPath(digest: string): string;
}

/** Reads the cache layout at `dir`; every JSON blob is checked against its digest. */
export async function readCacheLayout(dir: string): Promise<CacheLayout> {
  const blobDir = join(dir, 'blobs', 'sha256');
  const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as {
    manifests?: (BlobRef & { annotations?: Record<string, string> })[];
  };
  const entry =
    index.manifests?.find((m) => m.annotations?.[refNameAnnotation] === 'latest') ?? index.manifests?.[0];
  if (!entry) throw new CacheError(`${dir}: index.json lists no cache manifest`);
  const manifest = (await readJsonBlob(blobDir, entry.digest)) as { config?: BlobRef; layers?: BlobRef[] };
  if (manifest.config?.mediaType !== cacheConfigMediaType)
    throw new CacheError(
      `${dir}: not a tbuild cache (config media type ${manifest.config?.mediaType ?? 'missing'})`,
    );
  const config = (await readJsonBlob(blobDir, manifest.config.digest)) as CacheConfig;
  if (config.version !== 1 || !Array.isArray(config.records))
    throw new CacheError(`${dir}: unknown cache config version`);
  return {
    records: new Map(config.records.map((r) => [r.key, r])),
    blobPath: (digest) => join(blobDir, hexOf(digest)),
  };
}

function hexOf(digest: string): string {
  const m = /^sha256:([a-f0-9]{64})$/.exec(digest);
  if (!m) throw new CacheError(`not a sha256 digest: ${digest}`);
  return m[1] as string;
}

async function writeJsonBlob(blobDir: string, value: unknown, mediaType: string): Promise<BlobRef> {
  const data = Buffer.from(JSON.stringify(value));
  const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
  await writeAtomic(join(blobDir, hexOf(digest)), data);
  return { mediaType, digest, size: data.length };
}

async function readJsonBlob(blobDir: string, digest: string): Promise<unknown> {
  const data = await readFile(join(blobDir, hexOf(digest)));
  const actual = `sha256:${createHash('sha256').update(data).digest('hex')}`;
  if (actual !== digest) throw new CacheError(`cache blob ${digest} has digest ${actual}`);
  return JSON.parse(data.toString('utf8'));
}

async function writeAtomic(path: string, data: string | Buffer): Promise<void> {
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const file = await open(temp, 'w');
  try {
    await file.writeFile(data);
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(temp, path);
}
