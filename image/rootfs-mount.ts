import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import {
  commitMutable,
  createMutable,
  discardMutable,
  hasSnapshot,
  type MountedView,
  type MutableSnapshot,
  mountOverlay,
  privateDirMode,
  snapshotPaths,
} from '../cache/index.ts';
import { applyLayer } from './layer-apply.ts';
import type { Descriptor, Digest } from './oci.ts';

/** Where layer blobs are read from: the image store (ImageStore, or its blobs while it commits). */
interface LayerBlobs {
  getBlob(digest: Digest, size?: number): NodeJS.ReadableStream;
}

/**
 * One layer of a root filesystem: the compressed blob in the store and the diffID that names its
 * snapshot directory (cache/snapshots.ts). An image gives these as `manifest.layers[i]` paired
 * with `config.rootfs.diff_ids[i]`; a build step's result carries them directly.
 */
export interface SnapshotLayer {
  /** sha256 of the uncompressed layer tar. */
  diffId: string;
  blob: Descriptor;
}

/** A per-process promise map so concurrent users unpack a shared base layer once. */
const unpacking = new Map<string, Promise<void>>();

/**
 * Makes sure every layer has its snapshot directory under `root`, unpacking blobs from the store
 * where one is missing. Resolves with the snapshot dirs, base first (overlay lower order).
 */
export async function ensureLayerSnapshots(
  root: string,
  store: LayerBlobs,
  layers: readonly SnapshotLayer[],
): Promise<string[]> {
  const dirs: string[] = [];
  for (const layer of layers) {
    const key = `${root}\0${layer.diffId}`;
    let pending = unpacking.get(key);
    if (!pending) {
      pending = unpackLayer(root, store, layer).finally(() => unpacking.delete(key));
      unpacking.set(key, pending);
    }
    await pending;
    dirs.push(snapshotPaths(root, layer.diffId).fs);
  }
  return dirs;
}

/**
 * Two layers with the same diffID (`COPY f /f` twice around another step) share one snapshot
 * directory, and overlayfs refuses a lowerdir list naming a directory twice (ELOOP, "Too many
 * levels of symbolic links"). Only the upper-most copy is kept: a path is decided by the top-most
 * layer that has it, and a lower copy of identical content can never be that layer.
 */
function withoutRepeats(dirs: string[]): string[] {
  const seen = new Set<string>();
  const kept: string[] = [];
  for (let i = dirs.length - 1; i >= 0; i--) {
    const dir = dirs[i] as string;
    if (seen.has(dir)) continue;
    seen.add(dir);
    kept.unshift(dir);
  }
  return kept;
}

async function unpackLayer(root: string, store: LayerBlobs, layer: SnapshotLayer): Promise<void> {
  if (await hasSnapshot(root, layer.diffId)) return;
  const mutable = await createMutable(root);
  try {
    const blob = store.getBlob(layer.blob.digest, layer.blob.size) as Readable;
    const applied = await applyLayer(blob, mutable.fs, { whiteouts: 'overlay' });
    if (applied.diffID !== layer.diffId) {
      throw new Error(`layer ${layer.blob.digest} unpacks to ${applied.diffID}, not ${layer.diffId}`);
    }
    await commitMutable(root, mutable, layer.diffId);
  } catch (error) {
    await discardMutable(mutable);
    throw error;
  }
}

/**
 * A writable root filesystem mounted at `path`: an overlay of the layer snapshots with a fresh
 * upper directory (`mutable.fs`) that receives every change. The caller either turns the upper
 * into a layer or throws it away with {@link discardWritableRootfs}.
 */
export interface WritableRootfs {
  path: string;
  /** The snapshot dirs under the upper, base first. */
  lowers: string[];
  mutable: MutableSnapshot;
  view: MountedView;
}

/** Mounts a writable overlay over `layers` (none = scratch). Requires root and overlayfs. */
export async function mountWritableRootfs(
  root: string,
  store: LayerBlobs,
  layers: readonly SnapshotLayer[],
): Promise<WritableRootfs> {
  const lowers = withoutRepeats(await ensureLayerSnapshots(root, store, layers));
  const mutable = await createMutable(root);
  const path = join(mutable.dir, 'rootfs');
  await mkdir(path, { mode: privateDirMode }); // a mount point inside the private scratch dir
  try {
    // overlayfs needs at least one lower: an empty one stands in for scratch.
    if (lowers.length === 0) {
      lowers.push(join(mutable.dir, 'empty'));
      await mkdir(lowers[0] as string, { mode: 0o755 }); // the lower's root: hidden by the upper's
    }
    const view = await mountOverlay({ lowers, upper: mutable.fs, work: mutable.work, target: path });
    if (view.method !== 'overlay' && view.method !== 'bind') {
      await view.unmount();
      throw new Error('overlayfs is required (tbuild must run as root on a kernel with overlayfs)');
    }
    return { path, lowers, mutable, view };
  } catch (error) {
    await discardMutable(mutable);
    throw error;
  }
}

/** Unmounts a writable rootfs and removes its upper and scratch dirs; the snapshots stay. */
export async function discardWritableRootfs(rootfs: WritableRootfs): Promise<void> {
  await rootfs.view.unmount().catch(() => {});
  await discardMutable(rootfs.mutable);
}

/** A read-only view of `layers` at `path`; `release()` unmounts it and removes the mount point. */
export async function mountReadonlyRootfs(
  root: string,
  store: LayerBlobs,
  layers: readonly SnapshotLayer[],
): Promise<{ path: string; release(): Promise<void> }> {
  const lowers = withoutRepeats(await ensureLayerSnapshots(root, store, layers));
  const mutable = await createMutable(root);
  const path = join(mutable.dir, 'rootfs');
  // Without layers this empty directory is the view's `/` itself: a content mode.
  await mkdir(path, { mode: 0o755 });
  if (lowers.length === 0) {
    return { path, release: () => discardMutable(mutable) };
  }
  const view = await mountOverlay({ lowers, target: path });
  return {
    path,
    async release() {
      await view.unmount();
      await discardMutable(mutable);
    },
  };
}

/** The layers of a stored image, base first: manifest blobs paired with the config's diffIDs. */
export function imageSnapshotLayers(image: {
  manifest: { layers: Descriptor[] };
  config: { rootfs: { diff_ids: string[] } };
}): SnapshotLayer[] {
  return image.manifest.layers.map((blob, i) => {
    const diffId = image.config.rootfs.diff_ids[i];
    if (diffId === undefined) throw new Error(`image config has no diff_id for layer ${i}`);
    return { diffId, blob };
  });
}
