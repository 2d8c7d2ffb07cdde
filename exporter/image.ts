import type { BuildDefinition } from '../frontend/index.ts';
import type { Descriptor, History, ImageConfig, ImageStore } from '../image/index.ts';
import type { FsResult } from '../solver/index.ts';

/** The image the exporter made: its ID (config digest), manifest and config. */
export interface ExportedImage {
  id: string;
  manifest: Descriptor;
  config: ImageConfig;
}

/**
 * The image exporter: the solved root filesystem (its layers) and the frontend's config become an
 * image in the store. History entries whose step added no layer are marked `empty_layer`, so the
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
export async function exportImage(
  store: ImageStore,
  definition: Pick<BuildDefinition, 'config' | 'history'>,
  result: FsResult,
  tags: string[],
  /** Extra top-level config fields (the inline build cache). */
  extra: Record<string, unknown> = {},
  /** SOURCE_DATE_EPOCH as an RFC 3339 time, when the build has one. */
  epoch?: string,
): Promise<ExportedImage> {
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
    rootfs: { type: 'layers', diff_ids: result.layers.map((layer) => layer.diffId as `sha256:${string}`) },
    history,
  };
  const manifest = await store.putImage({ config, layers: result.layers.map((layer) => layer.blob) }, tags);
  const { config: configDescriptor } = await store.readManifest(manifest.digest);
  return { id: configDescriptor.digest, manifest, config };
}
