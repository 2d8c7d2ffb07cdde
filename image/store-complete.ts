/**
 * Whether an image may be tagged: its manifest, config and layer blobs are all in the store, and,
 * for an image from outside, every layer unpacks. A tag is committed only after this holds, so a
 * killed or failed load, import or pull leaves at worst unreferenced blobs, never a tag that
 * points at something missing or unusable.
 */

import { StoreError } from './errors.ts';
import { isPrivileged } from './fs-meta.ts';
import { classifyMediaType, type Descriptor, isImageConfig, type Manifest, parseJsonAs } from './oci.ts';
import { ensureLayerSnapshots, imageSnapshotLayers } from './rootfs-mount.ts';
import type { BlobStore } from './store-blobs.ts';
import { fullDiskError, type StoreLayout, storeRoot } from './store-layout.ts';

/**
 * Checks that the manifest `descriptor` names and every blob it needs are in the store; with
 * `verifyLayers`, also unpacks each layer into its snapshot (CommitOptions.verifyLayers).
 */
export async function checkComplete(
  layout: StoreLayout,
  blobs: BlobStore,
  descriptor: Descriptor,
  verifyLayers: boolean,
): Promise<void> {
  if (classifyMediaType(descriptor.mediaType) !== 'manifest') {
    throw new StoreError(`unsupported manifest media type: ${descriptor.mediaType}`);
  }
  const manifest = await blobs.readManifest(descriptor.digest);
  for (const d of [manifest.config, ...manifest.layers]) {
    if (!(await blobs.hasBlob(d.digest))) throw new StoreError(`blob ${d.digest} is missing from the store`);
  }
  // Snapshots need root (overlay whiteouts are devices and trusted.* xattrs); an unprivileged
  // store, which can never build or run, keeps its layers as blobs only.
  if (verifyLayers && isPrivileged()) await unpackLayers(layout, blobs, manifest);
}

/** Unpacks the image's layers into their snapshots, naming the layer that cannot be applied. */
async function unpackLayers(layout: StoreLayout, blobs: BlobStore, manifest: Manifest): Promise<void> {
  const config = parseJsonAs(
    await blobs.readBlob(manifest.config.digest),
    isImageConfig,
    `config ${manifest.config.digest}`,
  );
  if (config.rootfs.diff_ids.length !== manifest.layers.length)
    throw new StoreError(
      `image ${manifest.config.digest}: ${manifest.layers.length} layers but ${config.rootfs.diff_ids.length} diff_ids in its config`,
    );
  for (const layer of imageSnapshotLayers({ manifest, config })) {
    try {
      await ensureLayerSnapshots(storeRoot(layout), blobs, [layer]);
    } catch (error) {
      const full = fullDiskError(layout, error);
      if (full) throw full;
      const message = (error as Error).message.replace(/^layer sha256:[a-f0-9]+ /, '');
      throw new StoreError(`layer ${layer.blob.digest}: ${message}`, { cause: error });
    }
  }
}
