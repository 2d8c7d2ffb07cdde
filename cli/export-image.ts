import type { BuildDefinition } from '../frontend/index.ts';
import type { Descriptor, History, ImageConfig, ImageStore } from '../image/index.ts';
import type { FsResult } from '../solver/index.ts';

/**
 * The image exporter: the solved root filesystem (its layers) and the frontend's config become an
 * image in the store. History entries whose step added no layer are marked `empty_layer`, so the
 * config's non-empty history entries line up with `rootfs.diff_ids` as Docker expects.
 *
 * Dates: the frontend stamps the config and this build's history entries with the build's start
 * time. Unless SOURCE_DATE_EPOCH pins it, that stamp is replaced by `result.created`, the time the
 * final step's result was first made, which the cache record keeps. So a fully cached rebuild,
 * here or on another builder that imported the cache, yields the same image ID (BuildKit's
 * exporter likewise dates cached layers from their cache records, not the clock).
 */
export async function exportImage(
  store: ImageStore,
  definition: BuildDefinition,
  result: FsResult,
  tags: string[],
  /** Extra top-level config fields (the inline build cache). */
  extra: Record<string, unknown> = {},
): Promise<{ id: string; manifest: Descriptor; config: ImageConfig }> {
  const steps = new Set(result.layers.flatMap((layer) => (layer.step ? [layer.step] : [])));
  const buildTime = definition.config.created;
  const created = process.env.SOURCE_DATE_EPOCH === undefined ? (result.created ?? buildTime) : buildTime;
  const dated = (entry: History): History =>
    entry.created === buildTime && buildTime !== undefined ? { ...entry, created } : entry;
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
