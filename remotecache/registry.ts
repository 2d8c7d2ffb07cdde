/**
 * The registry-backed build cache (`--cache-to type=registry,ref=REF[,mode=max]`,
 * `--cache-from type=registry,ref=REF`): the local cache layout of cache/layout.ts (a manifest
 * whose config maps cache keys to layer chains, plus the layer blobs), pushed to and read from a
 * registry unchanged, like BuildKit's registry cache exporter (`cache/remotecache/registry`).
 * Reading is lazy: the cache config comes at once; a layer blob is downloaded only when a
 * record that needs it is hit.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CacheConfig, CacheError, cacheConfigMediaType, writeCacheLayout } from '../cache/index.ts';
import {
  type Digest,
  type ImageStore,
  isManifest,
  parseJsonAs,
  parseTaggedReference,
} from '../image/index.ts';
import {
  type ConnectOptions,
  connectRegistry,
  fetchManifest,
  pullBlob,
  pushManifest,
} from '../registry/index.ts';
import type { CacheSource, FsResult, FsRunner } from '../solver/index.ts';
import { fromPortable, selectRecords } from './records.ts';
import type { CacheTo } from './types.ts';

/** Exports the build's cache records and pushes them as a cache manifest to `to.ref`. */
export async function exportRegistryCache(
  to: Extract<CacheTo, { type: 'registry' }>,
  runner: FsRunner,
  final: FsResult,
  store: ImageStore,
  connect: ConnectOptions,
): Promise<void> {
  const target = parseTaggedReference(to.ref);
  const records = await selectRecords(runner, final, to.mode);
  const dir = await mkdtemp(join(tmpdir(), 'tbuild-cache-push-'));
  try {
    const { manifest } = await writeCacheLayout(dir, records, (digest) => store.getBlob(digest as Digest));
    const blobPath = (digest: string) => join(dir, 'blobs', 'sha256', digest.slice('sha256:'.length));
    const bytes = await readFile(blobPath(manifest.digest));
    const client = await connectRegistry(target.domain, connect);
    await pushManifest(client, { has: async () => true, path: blobPath }, target, {
      bytes,
      mediaType: manifest.mediaType ?? 'application/vnd.oci.image.manifest.v1+json',
      manifest: parseJsonAs(bytes, isManifest, `cache manifest ${manifest.digest}`),
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Opens the cache at `ref`. When `ref` names an image rather than a cache manifest, the image is
 * pulled and `openImage` reads its inline cache (BuildKit accepts both under type=registry).
 */
export async function openRegistryCache(
  ref: string,
  store: ImageStore,
  connect: ConnectOptions,
  openImage: (ref: string) => Promise<CacheSource>,
  pullImage: (ref: string) => Promise<void>,
): Promise<CacheSource> {
  const source = parseTaggedReference(ref);
  const client = await connectRegistry(source.domain, connect);
  const reference = source.digest ?? source.tag ?? 'latest';
  const fetched = await fetchManifest(client, source.path, reference, `pull cache manifest ${ref}`);
  if (fetched.kind !== 'manifest' || fetched.manifest.config.mediaType !== cacheConfigMediaType) {
    await pullImage(ref);
    return openImage(ref);
  }
  const configRef = fetched.manifest.config;
  await pullBlob(client, store, source.path, configRef, `pull cache config ${ref}`);
  const config = JSON.parse((await store.readBlob(configRef.digest)).toString('utf8')) as CacheConfig;
  if (config.version !== 1 || !Array.isArray(config.records))
    throw new CacheError(`${ref}: unknown cache config version`);
  const records = new Map(config.records.map((r) => [r.key, r]));
  return {
    async find(key) {
      const record = records.get(key);
      if (!record) return undefined;
      for (const { blob } of record.layers) {
        const digest = blob.digest as Digest;
        if (await store.hasBlob(digest)) continue;
        const d = { mediaType: blob.mediaType ?? '', digest, size: blob.size };
        await pullBlob(client, store, source.path, d, `pull cache blob ${digest.slice(7, 19)}`);
      }
      return fromPortable(record);
    },
  };
}
