/**
 * Finding images in the store: every image (one per manifest, with its tags), or the ones a user's
 * reference or ID names, matched as Docker does. Image ID = config digest, as in Docker.
 */
import { StoreError } from './errors.ts';
import {
  type Descriptor,
  type Digest,
  digestHex,
  type ImageConfig,
  isImageConfig,
  type Manifest,
  parseJsonAs,
} from './oci.ts';
import { formatReference, type ImageReference, parseReference } from './reference.ts';
import type { BlobStore } from './store-blobs.ts';
import type { StoreLayout } from './store-layout.ts';
import { readIndex, refName, stripAnnotations } from './store-tags.ts';

/** An image as the store knows it: one manifest, its config, and the tags that point at it. */
export interface StoredImage {
  /** The image ID: the config digest. */
  id: Digest;
  /** Manifest descriptor (without annotations). */
  descriptor: Descriptor;
  manifest: Manifest;
  config: ImageConfig;
  /** The config blob exactly as stored (its digest is `id`). */
  configBytes: Buffer;
  /** Full normalised references, sorted. */
  tags: string[];
  /** Bytes of the manifest, config and layer blobs. */
  size: number;
}

/** Every image in the store, one per manifest, newest first. */
export async function listImages(layout: StoreLayout, blobs: BlobStore): Promise<StoredImage[]> {
  const index = await readIndex(layout);
  const byDigest = new Map<Digest, Descriptor[]>();
  for (const m of index.manifests) {
    const list = byDigest.get(m.digest) ?? [];
    list.push(m);
    byDigest.set(m.digest, list);
  }
  const images: StoredImage[] = [];
  for (const entries of byDigest.values()) images.push(await loadImage(blobs, entries));
  images.sort(
    (a, b) => (b.config.created ?? '').localeCompare(a.config.created ?? '') || a.id.localeCompare(b.id),
  );
  return images;
}

/** The image of a manifest's index entries (all of one digest, one per tag). */
async function loadImage(blobs: BlobStore, entries: Descriptor[]): Promise<StoredImage> {
  const first = entries[0] as Descriptor;
  const manifest = await blobs.readManifest(first.digest);
  const configBytes = await blobs.readBlob(manifest.config.digest);
  const config = parseJsonAs(configBytes, isImageConfig, `image config ${manifest.config.digest}`);
  const tags = entries
    .map(refName)
    .filter((t): t is string => t !== undefined)
    .sort();
  const size = first.size + manifest.config.size + manifest.layers.reduce((n, l) => n + l.size, 0);
  return {
    id: manifest.config.digest,
    descriptor: stripAnnotations(first),
    manifest,
    config,
    configBytes,
    tags,
    size,
  };
}

/**
 * Finds an image by reference or ID, as `docker image inspect` does: a full ID
 * (`sha256:<hex>` or 64 hex), a tag (`busybox` = `docker.io/library/busybox:latest`), a
 * digest reference (`busybox@sha256:…`, matched against manifest digests), or an unambiguous
 * ID prefix. Throws `No such image: …` otherwise.
 */
export async function resolveImage(
  layout: StoreLayout,
  blobs: BlobStore,
  refOrId: string,
): Promise<StoredImage> {
  const found = await findImages(layout, blobs, refOrId);
  if (found.length === 0) throw new StoreError(`No such image: ${refOrId}`);
  const ids = new Set(found.map((i) => i.id));
  if (ids.size > 1) throw new StoreError(`multiple images match "${refOrId}": give a longer ID or a tag`);
  return found[0] as StoredImage;
}

/** Like `resolveImage`, but returns every manifest that matches (an ID may have several manifests). */
export async function findImages(
  layout: StoreLayout,
  blobs: BlobStore,
  refOrId: string,
): Promise<StoredImage[]> {
  const byTag = await findTagged(layout, blobs, refOrId);
  if (byTag) return [byTag];
  const images = await listImages(layout, blobs);
  const id = /^(sha256:)?([a-f0-9]{64})$/.exec(refOrId);
  if (id) return images.filter((i) => i.id === `sha256:${id[2]}`);
  let ref: ImageReference | undefined;
  try {
    ref = parseReference(refOrId);
  } catch (error) {
    if (!/^(sha256:)?[a-f0-9]+$/.test(refOrId)) throw error;
  }
  if (ref) {
    if (ref.digest !== undefined) {
      return images.filter((i) => i.descriptor.digest === ref.digest || i.id === ref.digest);
    }
    const tag = formatReference({ ...ref, tag: ref.tag ?? 'latest' });
    const tagged = images.filter((i) => i.tags.includes(tag));
    if (tagged.length > 0) return tagged;
  }
  const prefix = /^(?:sha256:)?([a-f0-9]+)$/.exec(refOrId);
  if (prefix) return images.filter((i) => digestHex(i.id).startsWith(prefix[1] as string));
  return [];
}

/**
 * The image a tag reference names, loading only that image (a build resolves its base this way
 * on every run; `listImages` reads and verifies every image's manifest and config). Undefined
 * when `refOrId` is not a tag reference or no tag matches: `findImages` then does the full search.
 */
async function findTagged(
  layout: StoreLayout,
  blobs: BlobStore,
  refOrId: string,
): Promise<StoredImage | undefined> {
  if (/^(sha256:)?[a-f0-9]+$/.test(refOrId)) return undefined; // an ID or ID prefix
  let ref: ImageReference;
  try {
    ref = parseReference(refOrId);
  } catch {
    return undefined;
  }
  if (ref.digest !== undefined) return undefined;
  const tag = formatReference({ ...ref, tag: ref.tag ?? 'latest' });
  const index = await readIndex(layout);
  const named = index.manifests.find((m) => refName(m) === tag);
  if (!named) return undefined;
  return loadImage(blobs, [
    named,
    ...index.manifests.filter((m) => m !== named && m.digest === named.digest),
  ]);
}
