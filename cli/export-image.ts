import type { BuildDefinition } from '../frontend/index.ts';
import type { Descriptor, History, ImageConfig, ImageStore } from '../image/index.ts';
import type { FsResult } from '../solver/index.ts';

/**
 * The image exporter: the solved root filesystem (its layers) and the frontend's config become an
 * image in the store. History entries whose step added no layer are marked `empty_layer`, so the
 * config's non-empty history entries line up with `rootfs.diff_ids` as Docker expects.
 */
export async function exportImage(
  store: ImageStore,
  definition: BuildDefinition,
  result: FsResult,
  tags: string[],
): Promise<{ id: string; manifest: Descriptor; config: ImageConfig }> {
  const steps = new Set(result.layers.flatMap((layer) => (layer.step ? [layer.step] : [])));
  const history: History[] = definition.history.map(({ entry, step }) => {
    if (step === undefined) return entry;
    const copy: History = { ...entry };
    if (steps.has(step)) delete copy.empty_layer;
    else copy.empty_layer = true;
    return copy;
  });
  const config: ImageConfig = {
    ...definition.config,
    rootfs: { type: 'layers', diff_ids: result.layers.map((layer) => layer.diffId as `sha256:${string}`) },
    history,
  };
  const manifest = await store.putImage({ config, layers: result.layers.map((layer) => layer.blob) }, tags);
  const { config: configDescriptor } = await store.readManifest(manifest.digest);
  return { id: configDescriptor.digest, manifest, config };
}
