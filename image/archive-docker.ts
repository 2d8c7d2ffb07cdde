/**
 * The `docker save` archive format (moby image/tarexport): reading spooled archives into images,
 * and writing archives `docker load` and `skopeo … docker-archive:` accept.
 *
 * Written layout (the classic one, which every Docker version loads):
 *   <diffid-hex>/layer.tar   uncompressed layer (gzip blobs are decompressed while writing)
 *   <config-hex>.json        the config blob, byte for byte (so the image ID is kept)
 *   manifest.json            [{Config, RepoTags, Layers}]
 *   repositories             {"busybox":{"latest":"<top layer dir>"}}
 * Fixed mtimes and entry order make the output a pure function of the images and tags.
 */
import { createGunzip } from 'node:zlib';
import {
  type ArchiveContents,
  type LoadedImage,
  putSmall,
  readArchiveFile,
  resolveLink,
} from './archive-contents.ts';
import type { TarWriter } from './archive-write.ts';
import { digestOf } from './blob-io.ts';
import { StoreError } from './errors.ts';
import {
  type ContainerConfig,
  type Descriptor,
  type Digest,
  type DockerArchiveManifestEntry,
  digestHex,
  type History,
  type ImageConfig,
  isDockerArchiveManifest,
  isImageConfig,
  layerCompression,
  MediaType,
  parseJsonAs,
} from './oci.ts';
import { familiarName, familiarString, parseReference } from './reference.ts';
import { type ImageStore, normalizeTag, type StoredImage } from './store.ts';

/** Turns the spooled blobs of a layer into a manifest layer descriptor, checking its diffID. */
function layerDescriptor(c: ArchiveContents, path: string, diffId: Digest | undefined): Descriptor {
  const resolved = resolveLink(c, path);
  const blob = c.blobs.get(resolved);
  if (!blob) throw new StoreError(`layer ${path} is missing from the archive`);
  if (blob.diffId === undefined) throw new StoreError(`layer ${path}: unsupported compression`);
  if (diffId !== undefined && blob.diffId !== diffId) {
    throw new StoreError(`layer ${path}: digest mismatch: config lists ${diffId}, content is ${blob.diffId}`);
  }
  return {
    mediaType: blob.gzip ? MediaType.ociLayerGzip : MediaType.ociLayer,
    digest: blob.digest,
    size: blob.size,
  };
}

/** Assembles the images listed in manifest.json (Docker ≥ 1.10 archives). */
export async function assembleDockerImages(c: ArchiveContents): Promise<LoadedImage[]> {
  const entries = parseJsonAs(
    c.small.get('manifest.json') as Buffer,
    isDockerArchiveManifest,
    'manifest.json',
  );
  const images: LoadedImage[] = [];
  for (const entry of entries) {
    const configBytes = await readArchiveFile(c, entry.Config);
    if (!configBytes) throw new StoreError(`config ${entry.Config} is missing from the archive`);
    const config = parseJsonAs(configBytes, isImageConfig, `image config ${entry.Config}`);
    const named = /([a-f0-9]{64})(?:\.json)?$/.exec(entry.Config);
    const configBlob = await putSmall(
      c.store,
      configBytes,
      entry.Config,
      named ? (`sha256:${named[1]}` as Digest) : undefined,
    );
    if (entry.Layers.length !== config.rootfs.diff_ids.length) {
      throw new StoreError(
        `${entry.Config}: ${entry.Layers.length} layers in manifest.json but ${config.rootfs.diff_ids.length} diff_ids`,
      );
    }
    const layers = entry.Layers.map((p, i) => layerDescriptor(c, p, config.rootfs.diff_ids[i]));
    const descriptor = await c.store.putManifest(
      { mediaType: MediaType.ociConfig, digest: configBlob.digest, size: configBlob.size },
      layers,
    );
    images.push({ descriptor, id: configBlob.digest, tags: (entry.RepoTags ?? []).map(normalizeTag) });
  }
  return images;
}

interface LegacyLayerJson {
  id: string;
  parent?: string;
  created?: string;
  author?: string;
  comment?: string;
  architecture?: string;
  os?: string;
  config?: ContainerConfig | null;
  container_config?: { Cmd?: string[] | null } | null;
}

function isLegacyLayerJson(v: unknown): v is LegacyLayerJson {
  return typeof v === 'object' && v !== null && typeof (v as { id?: unknown }).id === 'string';
}

/**
 * Assembles images from a pre-1.10 archive: `repositories` names the top layer of each tag and
 * each `<id>/json` names its parent. The image config is rebuilt from the top layer's json, as
 * moby's legacy loader (image/tarexport/load.go legacyLoad) does.
 */
export async function assembleLegacyDockerImages(c: ArchiveContents): Promise<LoadedImage[]> {
  const repos = JSON.parse((c.small.get('repositories') as Buffer).toString('utf8')) as Record<
    string,
    Record<string, string>
  >;
  const byTop = new Map<string, string[]>();
  for (const [repo, tags] of Object.entries(repos)) {
    for (const [tag, id] of Object.entries(tags)) {
      if (!/^[a-f0-9]{64}$/.test(id))
        throw new StoreError(`repositories: invalid layer id ${JSON.stringify(id)}`);
      byTop.set(id, [...(byTop.get(id) ?? []), normalizeTag(`${repo}:${tag}`)]);
    }
  }
  const images: LoadedImage[] = [];
  for (const [top, tags] of byTop) {
    const chain: LegacyLayerJson[] = [];
    for (let id: string | undefined = top; id; ) {
      const bytes = c.small.get(`${id}/json`);
      if (!bytes) throw new StoreError(`layer ${id}/json is missing from the archive`);
      const json: LegacyLayerJson = parseJsonAs(bytes, isLegacyLayerJson, `${id}/json`);
      chain.unshift(json);
      id = json.parent;
      if (chain.length > 1000) throw new StoreError('layer parent chain is too long (loop?)');
    }
    const layers = chain.map((l) => layerDescriptor(c, `${l.id}/layer.tar`, undefined));
    const diffIds = chain.map((l) => c.blobs.get(resolveLink(c, `${l.id}/layer.tar`))?.diffId as Digest);
    const last = chain[chain.length - 1] as LegacyLayerJson;
    const history: History[] = chain.map((l) => ({
      ...(l.created ? { created: l.created } : {}),
      created_by: (l.container_config?.Cmd ?? []).join(' '),
    }));
    const config: ImageConfig = {
      architecture: last.architecture ?? 'amd64',
      os: last.os ?? 'linux',
      ...(last.created ? { created: last.created } : {}),
      config: last.config ?? {},
      rootfs: { type: 'layers', diff_ids: diffIds },
      history,
    };
    const configBlob = await c.store.putBlob(Buffer.from(JSON.stringify(config)), { what: 'image config' });
    const descriptor = await c.store.putManifest(
      { mediaType: MediaType.ociConfig, digest: configBlob.digest, size: configBlob.size },
      layers,
    );
    images.push({ descriptor, id: configBlob.digest, tags });
  }
  return images;
}

/**
 * What an archive needs of an image: its blobs' descriptors and the config bytes. A stored image
 * has them; so has one the exporter made and never tagged (`build -o type=docker`).
 */
export type ArchiveImage = Pick<StoredImage, 'id' | 'descriptor' | 'manifest' | 'config' | 'configBytes'>;

/** One image to save and the tags (full references) to record for it. */
export interface SaveRequest {
  image: ArchiveImage;
  tags: string[];
}

/** Counts the decompressed bytes of a gzip blob (a tar header needs the size up front). */
async function gunzippedSize(store: ImageStore, layer: Descriptor): Promise<number> {
  let size = 0;
  const gunzip = createGunzip();
  store.getBlob(layer.digest, layer.size).pipe(gunzip);
  for await (const chunk of gunzip) size += (chunk as Buffer).length;
  return size;
}

/** Writes a `docker save` archive of the images. */
export async function writeDockerArchive(
  store: ImageStore,
  requests: SaveRequest[],
  out: TarWriter,
): Promise<void> {
  const manifest: DockerArchiveManifestEntry[] = [];
  const repositories: Record<string, Record<string, string>> = {};
  const written = new Set<string>();
  for (const { image, tags } of requests) {
    const diffIds = image.config.rootfs.diff_ids;
    const layerPaths: string[] = [];
    for (const [i, layer] of image.manifest.layers.entries()) {
      const diffId = diffIds[i];
      if (diffId === undefined)
        throw new StoreError(`image ${image.id}: config has fewer diff_ids than layers`);
      const dir = digestHex(diffId);
      const path = `${dir}/layer.tar`;
      layerPaths.push(path);
      if (written.has(path)) continue;
      written.add(path);
      await out.addDirectory(`${dir}/`);
      const compression = layerCompression(layer.mediaType);
      if (compression === 'zstd')
        throw new StoreError(`layer ${layer.digest}: zstd layers cannot be saved yet`);
      if (compression === 'none') {
        await out.addStream(
          path,
          layer.size,
          store.getBlob(layer.digest, layer.size) as AsyncIterable<Uint8Array>,
        );
      } else {
        const size = await gunzippedSize(store, layer);
        const gunzip = createGunzip();
        store.getBlob(layer.digest, layer.size).pipe(gunzip);
        await out.addStream(path, size, gunzip);
      }
    }
    const configName = `${digestHex(image.id)}.json`;
    if (!written.has(configName)) {
      written.add(configName);
      if (digestOf(image.configBytes) !== image.id)
        throw new StoreError(`config ${image.id}: digest mismatch`);
      await out.addFile(configName, image.configBytes);
    }
    const repoTags: string[] = [];
    for (const tag of tags) {
      const ref = parseReference(tag);
      repoTags.push(familiarString(ref));
      const top = layerPaths[layerPaths.length - 1];
      if (top !== undefined && ref.tag !== undefined) {
        const repo = familiarName(ref);
        repositories[repo] = { ...repositories[repo], [ref.tag]: top.slice(0, top.indexOf('/')) };
      }
    }
    manifest.push({
      Config: configName,
      RepoTags: repoTags.length > 0 ? repoTags : null,
      Layers: layerPaths,
    });
  }
  await out.addFile('manifest.json', Buffer.from(JSON.stringify(manifest)));
  await out.addFile('repositories', Buffer.from(`${JSON.stringify(repositories)}\n`));
}
