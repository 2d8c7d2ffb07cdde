// Public surface of cache/: snapshots, the cache index, overlay mounts.
export {
  copyLowers,
  isOverlaySupported,
  MountError,
  type MountedView,
  type MountMethod,
  maxLowerLayers,
  mountDataLimit,
  mountOverlay,
  type OverlaySpec,
  overlayMountData,
  unmountPath,
} from './overlay.ts';
export { cacheRecordPath, readCacheRecord, writeCacheRecord } from './records.ts';
export {
  commitMutable,
  createMutable,
  discardMutable,
  hasSnapshot,
  type MutableSnapshot,
  type SnapshotPaths,
  snapshotPaths,
  snapshotsDir,
} from './snapshots.ts';
