// Public surface of image/: OCI formats, layers and the on-disk image store.
// Several people add export lines here: edit with a targeted insert, never rewrite the file.
// image store and archives (store.ts, oci.ts, reference.ts, archive-*.ts, import-rootfs.ts)

export type { LoadedImage } from './archive-contents.ts';
export {
  type Compression,
  type Decompressed,
  decompressStream,
  detectCompression,
} from './archive-decompress.ts';
export type { ArchiveImage, SaveRequest } from './archive-docker.ts';
export { loadArchive } from './archive-load.ts';
export { type ArchiveFormat, selectImages, writeArchive } from './archive-save.ts';
export { digestOf } from './blob-io.ts';
// what `rmi` removes, as moby's ImageDelete decides it (a pure plan; cli/commands/rmi.ts runs it)
export {
  type DeletePlan,
  type DeleteRequest,
  type DeleteTarget,
  type ImageUser,
  planImageDelete,
} from './delete-plan.ts';
export { StoreError } from './errors.ts';
export { familiarMatch, type ImageFilters, matchesImage } from './filters.ts';
export { readXattrs, readXattrsSync } from './fs-meta.ts';
export { HashTap } from './hash-tap.ts';
export { applyChanges, type ImportOptions, importRootfs } from './import-rootfs.ts';
// layers (layer-*.ts): pack a directory, overlay upperdir or naive diff into a tar; apply; list
export { type ApplyOptions, type ApplyResult, applyLayer } from './layer-apply.ts';
export { LayerError } from './layer-error.ts';
export { listLayer } from './layer-list.ts';
export { type LayerDigests, type PackedLayer, type PackOptions, packLayer } from './layer-pack.ts';
export { type LayerEntry, type LayerEntryType, OPAQUE_MARKER, WHITEOUT_PREFIX } from './layer-tar.ts';
export type { LayerSource } from './layer-walk.ts';
export * from './oci.ts';
export { writeOciLayoutDirectory } from './oci-layout-dir.ts';
export * from './reference.ts';
// rootfs mounts over layer snapshots, shared by the build's op runner and runtime/ (rootfs-mount.ts)
export {
  discardWritableRootfs,
  ensureLayerSnapshots,
  imageSnapshotLayers,
  mountReadonlyRootfs,
  mountWritableRootfs,
  type SnapshotLayer,
  type WritableRootfs,
} from './rootfs-mount.ts';
export { shortId } from './short-id.ts';
export {
  type BlobInfo,
  type CommitOptions,
  type CommitRequest,
  type DiskUsage,
  type FsckReport,
  ImageStore,
  normalizeTag,
  type PutBlobOptions,
  resolveRoot,
  type StoredImage,
} from './store.ts';
export { imageUsage } from './usage.ts';
