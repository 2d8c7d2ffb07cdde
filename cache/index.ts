// Public surface of cache/: snapshots, the cache index, overlay mounts, content hashing.

export {
  type ActiveSnapshot,
  activeSnapshotPaths,
  createActiveSnapshot,
  listActiveSnapshots,
  removeActiveSnapshot,
} from './active.ts';
export { ChecksumCache, readSelectionMemo, writeSelectionMemo } from './checksums.ts';
export { claimKey, type KeyClaim } from './claims.ts';
export {
  type ContentHasher,
  type ContextCopy,
  createContentHasher,
  type FingerprintPath,
  type PathFingerprint,
} from './content-hash.ts';
export { CacheError } from './errors.ts';
export {
  type CacheMountUsage,
  type CacheUsage,
  type ImageUsage,
  measureCache,
  type PruneOptions,
  type PruneResult,
  parseByteSize,
  parseDuration,
  pruneCache,
  type SnapshotUsage,
} from './gc.ts';
export { holdCacheForBuild, lockCacheForGc } from './gc-lock.ts';
export { collectAfterBuild, type ImageHolder } from './gc-policy.ts';
export {
  type BlobRef,
  type CacheConfig,
  type CacheLayout,
  cacheConfigMediaType,
  type PortableRecord,
  readCacheLayout,
  writeCacheLayout,
} from './layout.ts';
export { type CacheLease, createCacheLease, readLiveLeases } from './leases.ts';
export { type MemoKind, pruneMemos, readMemo, writeMemo } from './memos.ts';
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
export {
  type CacheRecordLayers,
  cacheBlobRoots,
  cacheRecordPath,
  deleteCacheRecord,
  listCacheRecords,
  readCacheRecord,
  type StoredCacheRecord,
  touchCacheRecord,
  writeCacheRecord,
} from './records.ts';
export {
  findOpenDirectories,
  formatMode,
  makePrivateDir,
  makePrivateDirSync,
  type OpenDirectory,
  privateDirMode,
  type SecureRootResult,
  secureRoot,
} from './root-modes.ts';
export type { ChecksumSelection, EntryStat } from './selection-checksum.ts';
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
export {
  noteOutsideTemp,
  type SweepResult,
  scratchDir,
  scratchFileSync,
  scratchPath,
  secretScratchPath,
  sweepDeadOwners,
} from './sweep.ts';
