/**
 * OCI image layouts packed as tar (image-spec `image-layout.md`): reading spooled archives into
 * images, and writing them.
 *
 * On load, manifests are kept byte for byte (the manifest digest survives); an index or Docker
 * manifest list is resolved to the host platform's manifest (or the first one, when none
 * matches). Names come from `io.containerd.image.name` (Docker ≥ 25, containerd) or from
 * `org.opencontainers.image.ref.name` when that holds a full reference; a bare tag such as
 * `latest` (what `skopeo copy … oci:DIR:latest` writes) names no repository, so such an image
 * loads untagged, as `docker load` does.
 */
import type { ArchiveContents, LoadedImage } from './archive-contents.ts';
import type { SaveRequest } from './archive-docker.ts';
import type { TarWriter } from './archive-write.ts';
import { StoreError } from './errors.ts';
import {
  ContainerdNameAnnotation,
  classifyMediaType,
  type Descriptor,
  type Digest,
  digestHex,
  hostPlatform,
  type ImageIndex,
  isImageConfig,
  isImageIndex,
  isManifest,
  isOciLayout,
  MediaType,
  parseJsonAs,
  RefNameAnnotation,
} from './oci.ts';
import { parseReference } from './reference.ts';
import { type ImageStore, normalizeTag } from './store.ts';

/** The path of a blob inside an OCI layout. */
export function blobPath(d: Digest): string {
  return `blobs/sha256/${digestHex(d)}`;
}

/** Reads a blob of the archive; it must have been spooled (and so verified against its name). */
async function readArchiveBlob(c: ArchiveContents, d: Descriptor): Promise<Buffer> {
  const blob = c.blobs.get(blobPath(d.digest));
  const small = c.small.get(blobPath(d.digest));
  if (!blob && !small) throw new StoreError(`blob ${d.digest} is missing from the archive`);
  if (blob && blob.size !== d.size)
    throw new StoreError(`blob ${d.digest}: size ${blob.size}, descriptor says ${d.size}`);
  return blob ? c.store.readBlob(blob.digest) : (small as Buffer);
}

function nameFrom(d: Descriptor): string | undefined {
  const full = d.annotations?.[ContainerdNameAnnotation];
  if (full) return normalizeTag(full);
  const ref = d.annotations?.[RefNameAnnotation];
  if (ref && (ref.includes('/') || ref.includes(':'))) {
    try {
      const parsed = parseReference(ref);
      if (parsed.tag !== undefined) return normalizeTag(ref);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** Picks the manifest for this machine from an index (moby: platforms.Default matcher). */
function pickManifest(index: ImageIndex): Descriptor {
  const host = hostPlatform();
  const candidates = index.manifests.filter((m) => classifyMediaType(m.mediaType) !== undefined);
  const match = candidates.find(
    (m) => m.platform?.os === host.os && m.platform.architecture === host.architecture,
  );
  const chosen = match ?? candidates[0];
  if (!chosen) throw new StoreError('image index lists no manifests');
  return chosen;
}

/** Checks one manifest and its blobs; returns its descriptor (plain) and image ID. */
async function checkManifest(
  c: ArchiveContents,
  d: Descriptor,
): Promise<{ descriptor: Descriptor; id: Digest }> {
  const manifest = parseJsonAs(await readArchiveBlob(c, d), isManifest, `manifest ${d.digest}`);
  if (classifyMediaType(manifest.config.mediaType) !== 'config') {
    throw new StoreError(`unknown config media type: ${manifest.config.mediaType}`);
  }
  const config = parseJsonAs(
    await readArchiveBlob(c, manifest.config),
    isImageConfig,
    `config ${manifest.config.digest}`,
  );
  if (config.rootfs.diff_ids.length !== manifest.layers.length) {
    throw new StoreError(
      `manifest ${d.digest}: ${manifest.layers.length} layers but ${config.rootfs.diff_ids.length} diff_ids`,
    );
  }
  for (const [i, layer] of manifest.layers.entries()) {
    if (classifyMediaType(layer.mediaType) !== 'layer')
      throw new StoreError(`unknown layer media type: ${layer.mediaType}`);
    const blob = c.blobs.get(blobPath(layer.digest));
    if (!blob) throw new StoreError(`blob ${layer.digest} is missing from the archive`);
    if (blob.size !== layer.size)
      throw new StoreError(`layer ${layer.digest}: size ${blob.size}, manifest says ${layer.size}`);
    const diffId = config.rootfs.diff_ids[i];
    if (blob.diffId !== undefined && blob.diffId !== diffId) {
      throw new StoreError(
        `layer ${layer.digest}: digest mismatch: config lists ${diffId}, content is ${blob.diffId}`,
      );
    }
  }
  // Small JSON files named blobs/… were kept in memory (a `.json` suffix is never used there, but a
  // hand-made archive could); make sure the manifest and config are in the store.
  for (const b of [d, manifest.config]) {
    if (!c.blobs.has(blobPath(b.digest)))
      await c.store.putBlob(await readArchiveBlob(c, b), { digest: b.digest });
  }
  return {
    descriptor: { mediaType: d.mediaType, digest: d.digest, size: d.size },
    id: manifest.config.digest,
  };
}

/** Assembles the images of an OCI layout archive. */
export async function assembleOciImages(c: ArchiveContents): Promise<LoadedImage[]> {
  const layout = c.small.get('oci-layout');
  if (layout) parseJsonAs(layout, isOciLayout, 'oci-layout');
  const index = parseJsonAs(c.small.get('index.json') as Buffer, isImageIndex, 'index.json');
  const byDigest = new Map<Digest, LoadedImage>();
  for (const top of index.manifests) {
    let d = top;
    for (let depth = 0; classifyMediaType(d.mediaType) === 'index'; depth++) {
      if (depth > 4) throw new StoreError('image indexes nested too deeply');
      d = pickManifest(parseJsonAs(await readArchiveBlob(c, d), isImageIndex, `index ${d.digest}`));
    }
    if (classifyMediaType(d.mediaType) !== 'manifest')
      throw new StoreError(`unknown media type: ${d.mediaType}`);
    const { descriptor, id } = await checkManifest(c, d);
    const image = byDigest.get(descriptor.digest) ?? { descriptor, id, tags: [] };
    const name = nameFrom(top);
    if (name !== undefined && !image.tags.includes(name)) image.tags.push(name);
    byDigest.set(descriptor.digest, image);
  }
  return [...byDigest.values()];
}

/** What an OCI layout of the images holds: the blobs (layers, config, manifest) and index entries. */
export function layoutEntries(requests: SaveRequest[]): { blobs: Descriptor[]; manifests: Descriptor[] } {
  const seen = new Set<Digest>();
  const blobs: Descriptor[] = [];
  const manifests: Descriptor[] = [];
  for (const { image, tags } of requests) {
    const m = image.manifest;
    for (const d of [...m.layers, m.config, image.descriptor]) {
      if (seen.has(d.digest)) continue;
      seen.add(d.digest);
      blobs.push(d);
    }
    const plain: Descriptor = {
      mediaType: image.descriptor.mediaType,
      digest: image.descriptor.digest,
      size: image.descriptor.size,
    };
    if (tags.length === 0) manifests.push(plain);
    for (const tag of tags) {
      const ref = parseReference(tag);
      manifests.push({
        ...plain,
        annotations: { [ContainerdNameAnnotation]: tag, [RefNameAnnotation]: ref.tag ?? 'latest' },
      });
    }
  }
  return { blobs, manifests };
}

/** The `oci-layout` file's content. */
export const ociLayoutFile = '{"imageLayoutVersion":"1.0.0"}';

/** Writes an OCI layout tar of the images: oci-layout, blobs, then index.json. */
export async function writeOciArchive(
  store: ImageStore,
  requests: SaveRequest[],
  out: TarWriter,
): Promise<void> {
  await out.addFile('oci-layout', Buffer.from(ociLayoutFile));
  await out.addDirectory('blobs/');
  await out.addDirectory('blobs/sha256/');
  const { blobs, manifests } = layoutEntries(requests);
  for (const d of blobs) {
    await out.addStream(
      blobPath(d.digest),
      d.size,
      store.getBlob(d.digest, d.size) as AsyncIterable<Uint8Array>,
    );
  }
  const index: ImageIndex = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests };
  await out.addFile('index.json', Buffer.from(JSON.stringify(index)));
}
