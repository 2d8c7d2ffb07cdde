/**
 * `push`: a stored image → its blobs (config and layers), then the manifest under the tag.
 *
 * For each blob: `HEAD` (present: skip) → cross-repository mount when another repository of the
 * same registry is known to hold it (`POST …/uploads/?mount=&from=`; a 202 answer means the
 * registry would not mount and opened an upload instead) → upload: one `PUT ?digest=` for blobs
 * up to `chunkSize`, else `PATCH` chunks with `Content-Range` and a closing empty `PUT`. A
 * failed upload is retried from its `POST`. The manifest is sent as the exact stored bytes, so
 * its digest at the registry equals the local one.
 */
import { createReadStream } from 'node:fs';
import {
  type Descriptor,
  type Digest,
  digestOf,
  formatReference,
  type ImageReference,
  type ImageStore,
  type Manifest,
  MediaType,
  StoreError,
} from '../image/index.ts';
import type { RegistryClient } from './client.ts';
import { RegistryError } from './errors.ts';
import { mapLimit, shortDigest } from './util.ts';

export type PushEvent =
  | { type: 'exists'; digest: Digest }
  | { type: 'mounted'; digest: Digest; from: string }
  | { type: 'pushed'; digest: Digest; bytes: number };

export interface PushOptions {
  /** Blobs larger than this go up in chunks of this size (default 64 MiB). */
  chunkSize?: number;
  /** Parallel blob uploads (default 3). */
  concurrency?: number;
  /** Repositories (paths on this registry) that may hold a blob, for cross-repository mounts. */
  mountSources?: (digest: Digest) => string[];
  onEvent?: (event: PushEvent) => void;
}

export interface PushResult {
  /** Manifest digest at the registry. */
  digest: Digest;
  size: number;
  /** Bytes uploaded (not counting skipped or mounted blobs). */
  uploaded: number;
}

function blobChunks(path: string, start: number, end: number): AsyncIterable<Uint8Array> {
  // end is inclusive for createReadStream, exclusive here.
  return createReadStream(path, { start, end: end - 1, highWaterMark: 1 << 20 }) as AsyncIterable<Uint8Array>;
}

async function drain(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => {});
}

function locationOf(client: RegistryClient, response: Response, step: string): URL {
  const location = response.headers.get('location');
  if (!location) throw client.error(step, `${response.status} without a Location header`);
  return client.resolveUrl(location);
}

/** Where the bytes of the blobs to push are: a file per digest, and whether it is there. */
export interface BlobSource {
  has(digest: Digest): Promise<boolean>;
  path(digest: Digest): string;
}

function storeBlobs(store: ImageStore): BlobSource {
  return { has: (d) => store.hasBlob(d), path: (d) => store.blobPath(d) };
}

async function uploadBlob(
  client: RegistryClient,
  blobs: BlobSource,
  repository: string,
  d: Descriptor,
  options: PushOptions,
): Promise<PushEvent> {
  const step = `push blob ${shortDigest(d.digest)}`;
  const scopes = [`repository:${repository}:pull,push`];
  const head = await client.withRetry(() =>
    client.request({
      method: 'HEAD',
      url: `/v2/${repository}/blobs/${d.digest}`,
      step: `${step} (check)`,
      scopes,
      accept: [200, 404],
    }),
  );
  await drain(head);
  if (head.status === 200) return { type: 'exists', digest: d.digest };

  if (!(await blobs.has(d.digest))) throw client.error(step, 'blob is missing locally');
  const path = blobs.path(d.digest);
  const chunkSize = options.chunkSize ?? 64 << 20;
  const sources = (options.mountSources?.(d.digest) ?? []).filter((r) => r !== repository);

  return client.withRetry(async () => {
    let location: URL | undefined;
    for (const from of sources.slice(0, 3)) {
      const params = new URLSearchParams({ mount: d.digest, from });
      const response = await client.request({
        method: 'POST',
        url: `/v2/${repository}/blobs/uploads/?${params}`,
        step: `${step} (mount from ${from})`,
        scopes: [...scopes, `repository:${from}:pull`],
        accept: [201, 202],
      });
      await drain(response);
      if (response.status === 201) return { type: 'mounted', digest: d.digest, from };
      location = locationOf(client, response, step);
      break;
    }
    if (!location) {
      const response = await client.request({
        method: 'POST',
        url: `/v2/${repository}/blobs/uploads/`,
        step: `${step} (start upload)`,
        scopes,
        accept: [202],
      });
      await drain(response);
      location = locationOf(client, response, step);
    }
    let offset = 0;
    if (d.size > chunkSize) {
      while (offset < d.size) {
        const end = Math.min(d.size, offset + chunkSize);
        const start = offset;
        const response = await client.request({
          method: 'PATCH',
          url: location.href,
          step: `${step} (chunk ${start}-${end - 1})`,
          scopes,
          headers: {
            'content-type': 'application/octet-stream',
            'content-range': `${start}-${end - 1}`,
            'content-length': String(end - start),
          },
          body: () => blobChunks(path, start, end),
          accept: [202],
        });
        await drain(response);
        location = locationOf(client, response, step);
        offset = end;
      }
    }
    location.searchParams.set('digest', d.digest);
    const remaining = d.size - offset;
    const response = await client.request({
      method: 'PUT',
      url: location.href,
      step: `${step} (${offset === 0 ? 'upload' : 'commit'})`,
      scopes,
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(remaining) },
      body: () => (remaining === 0 ? new Uint8Array(0) : blobChunks(path, offset, d.size)),
      accept: [201],
    });
    await drain(response);
    return { type: 'pushed', digest: d.digest, bytes: d.size };
  });
}

/** Pushes the stored image `source` (reference or ID) to `target` on `client`'s registry. */
export async function pushImage(
  store: ImageStore,
  client: RegistryClient,
  source: string,
  target: ImageReference,
  options: PushOptions = {},
): Promise<PushResult> {
  const name = formatReference(target);
  let image: Awaited<ReturnType<ImageStore['resolve']>>;
  try {
    image = await store.resolve(source);
  } catch (error) {
    if (error instanceof StoreError)
      throw client.error(`push ${name}`, `An image does not exist locally with the tag: ${source}`);
    throw error;
  }
  const bytes = await store.readBlob(image.descriptor.digest);
  const mediaType =
    typeof image.manifest.mediaType === 'string' ? image.manifest.mediaType : image.descriptor.mediaType;
  return pushManifest(
    client,
    storeBlobs(store),
    target,
    { bytes, mediaType, manifest: image.manifest },
    options,
  );
}

/**
 * Pushes any image manifest (an image, or a build cache manifest) with its config and layers,
 * read from `blobs`. The manifest bytes are sent unchanged.
 */
export async function pushManifest(
  client: RegistryClient,
  blobs: BlobSource,
  target: ImageReference,
  what: { bytes: Buffer; mediaType: string; manifest: Manifest },
  options: PushOptions = {},
): Promise<PushResult> {
  const name = formatReference(target);
  const repository = target.path;
  let uploaded = 0;
  await mapLimit(what.manifest.layers, options.concurrency ?? 3, async (layer) => {
    const event = await uploadBlob(client, blobs, repository, layer, options);
    if (event.type === 'pushed') uploaded += event.bytes;
    options.onEvent?.(event);
  });
  const configEvent = await uploadBlob(client, blobs, repository, what.manifest.config, options);
  if (configEvent.type === 'pushed') uploaded += configEvent.bytes;
  const { bytes, mediaType } = what;
  const reference = target.tag ?? target.digest ?? 'latest';
  const step = `push manifest ${name}`;
  const response = await client.withRetry(() =>
    client.request({
      method: 'PUT',
      url: `/v2/${repository}/manifests/${reference}`,
      step,
      scopes: [`repository:${repository}:pull,push`],
      headers: { 'content-type': mediaType || MediaType.ociManifest },
      body: () => bytes,
      accept: [200, 201],
    }),
  );
  await drain(response);
  const digest = digestOf(bytes);
  const echoed = response.headers.get('docker-content-digest');
  if (echoed && echoed !== digest) {
    throw new RegistryError(`${client.host}: ${step}: registry stored digest ${echoed}, expected ${digest}`);
  }
  return { digest, size: bytes.length, uploaded };
}
