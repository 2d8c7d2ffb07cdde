import type { BuildDefinition } from '../frontend/index.ts';
import {
  type ArchiveImage,
  type Digest,
  type History,
  type ImageConfig,
  type ImageStore,
  MediaType,
  normalizeTag,
} from '../image/index.ts';
import type { FsResult } from '../solver/index.ts';

/**
 * The image the exporter made, whether or not a tag points at it yet: its ID (the config digest),
 * manifest descriptor, manifest, config and the config's bytes, which is all an archive needs.
 */
export type ExportedImage = ArchiveImage;

/** How the image is made from the build (see {@link assembleImage}). */
export interface ImageRequest {
  definition: Pick<BuildDefinition, 'config' | 'history'>;
  result: FsResult;
  /** Extra top-level config fields (the inline build cache). */
  extra?: Record<string, unknown>;
  /** SOURCE_DATE_EPOCH as an RFC 3339 time, when the build has one. */
  epoch?: string;
}

/**
 * The image exporter: the solved root filesystem (its layers) and the frontend's config become an
 * image (config and manifest blobs) in the store, which {@link storeImage} tags and the archive
 * outputs write out. History entries whose step added no layer are marked `empty_layer`, so the
 * config's non-empty history entries line up with `rootfs.diff_ids` as Docker expects.
 *
 * Dates: the frontend stamps the config and this build's history entries with the build's start
 * time. Without SOURCE_DATE_EPOCH that stamp is replaced by `result.created`, the time the
 * final step's result was first made, which the cache record keeps. So a fully cached rebuild,
 * here or on another builder that imported the cache, yields the same image ID (BuildKit's
 * exporter likewise dates cached layers from their cache records, not the clock).
 *
 * With SOURCE_DATE_EPOCH (`epoch`, already the frontend's stamp) the config's `created` is the
 * epoch and every history entry without a date or dated after it (the base image's included) gets
 * the epoch: the clamp rule of the layers' mtimes, so a base image built "in the future" of the
 * epoch cannot date the result either. (BuildKit's exporter, exporter/containerimage/writer.go,
 * applies the epoch to the history too; its exact rule for base-image entries was not checked.)
 * The layers were clamped when they were packed (see RunnerDeps.epoch).
 */
export async function assembleImage(store: ImageStore, request: ImageRequest): Promise<ExportedImage> {
  const { definition, result, extra = {}, epoch } = request;
  const steps = new Set(result.layers.flatMap((layer) => (layer.step ? [layer.step] : [])));
  const buildTime = definition.config.created;
  const created = epoch ?? result.created ?? buildTime;
  const dated = (entry: History): History => {
    if (epoch !== undefined) {
      const at = entry.created === undefined ? Number.NaN : Date.parse(entry.created);
      return at <= Date.parse(epoch) ? entry : { ...entry, created: epoch };
    }
    return entry.created === buildTime && buildTime !== undefined ? { ...entry, created } : entry;
  };
  const history: History[] = definition.history.map(({ entry: original, step }) => {
    const entry = dated(original);
    if (step === undefined) return entry;
    const copy: History = { ...entry };
    if (steps.has(step)) delete copy.empty_layer;
    else copy.empty_layer = true;
    return copy;
  });
  const config: ImageConfig = {
    ...definition.config,
    ...extra,
    ...(created !== undefined ? { created } : {}),
    rootfs: { type: 'layers', diff_ids: result.layers.map((layer) => layer.diffId as Digest) },
    history,
  };
  const configBytes = Buffer.from(JSON.stringify(config));
  const configBlob = await store.putBlob(configBytes, { what: 'image config' });
  const descriptor = await store.putManifest(
    { mediaType: MediaType.ociConfig, digest: configBlob.digest, size: configBlob.size },
    result.layers.map((layer) => layer.blob),
  );
  const manifest = await store.readManifest(descriptor.digest);
  return { id: configBlob.digest, descriptor, manifest, config, configBytes };
}

/** Points `tags` at the image in the store (none: an untagged image, as `docker build` without -t). */
export async function storeImage(store: ImageStore, image: ExportedImage, tags: string[]): Promise<void> {
  await store.commitImages([{ descriptor: image.descriptor, tags: tags.map(normalizeTag) }]);
}
