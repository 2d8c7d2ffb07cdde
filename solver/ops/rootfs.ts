import { lstat, mkdir, readdir, rm, rmdir } from 'node:fs/promises';
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
  snapshotPaths,
} from '../../cache/index.ts';
import { applyLayer, type ImageStore, listLayer, packLayer, readXattrs } from '../../image/index.ts';
import type { Digest } from '../graph.ts';
import type { FsResult, LayerRecord } from './types.ts';

/** An unlocked per-layer promise map so concurrent steps unpack a shared base layer once. */
const unpacking = new Map<string, Promise<void>>();

/**
 * Makes sure every layer of `result` has its snapshot directory, unpacking blobs from the store
 * where one is missing (a loaded image, or a cache record imported from elsewhere).
 */
export async function ensureSnapshots(root: string, store: ImageStore, result: FsResult): Promise<string[]> {
  const dirs: string[] = [];
  for (const layer of result.layers) {
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

async function unpackLayer(root: string, store: ImageStore, layer: LayerRecord): Promise<void> {
  if (await hasSnapshot(root, layer.diffId)) return;
  const mutable = await createMutable(root);
  try {
    const applied = await applyLayer(
      store.getBlob(layer.blob.digest as Digest, layer.blob.size) as Readable,
      mutable.fs,
      {
        whiteouts: 'overlay',
      },
    );
    if (applied.diffID !== layer.diffId) {
      throw new Error(`layer ${layer.blob.digest} unpacks to ${applied.diffID}, not ${layer.diffId}`);
    }
    await commitMutable(root, mutable, layer.diffId);
  } catch (error) {
    await discardMutable(mutable);
    throw error;
  }
}

/** A writable root filesystem over `base`: changes land in `mutable.fs`. */
export interface WritableRootfs {
  path: string;
  /** The snapshot dirs under the upper, base first. */
  lowers: string[];
  mutable: MutableSnapshot;
  view: MountedView;
}

export async function mountWritable(
  root: string,
  store: ImageStore,
  base: FsResult,
): Promise<WritableRootfs> {
  const lowers = await ensureSnapshots(root, store, base);
  const mutable = await createMutable(root);
  const path = join(mutable.dir, 'rootfs');
  await mkdir(path);
  try {
    // overlayfs needs at least one lower: an empty one stands in for scratch.
    if (lowers.length === 0) {
      lowers.push(join(mutable.dir, 'empty'));
      await mkdir(lowers[0] as string);
    }
    const view = await mountOverlay({ lowers, upper: mutable.fs, work: mutable.work, target: path });
    if (view.method !== 'overlay' && view.method !== 'bind') {
      await view.unmount();
      throw new Error('overlayfs is required to build (tbuild must run as root on a kernel with overlayfs)');
    }
    return { path, lowers, mutable, view };
  } catch (error) {
    await discardMutable(mutable);
    throw error;
  }
}

/** A read-only view of a result (the source of `COPY --from`). */
export async function mountReadonly(
  root: string,
  store: ImageStore,
  result: FsResult,
): Promise<{ path: string; release(): Promise<void> }> {
  const lowers = await ensureSnapshots(root, store, result);
  const mutable = await createMutable(root);
  const path = join(mutable.dir, 'rootfs');
  await mkdir(path);
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

/**
 * Unmounts a writable rootfs and turns its upper directory into a layer: packed into the store,
 * the directory kept as the layer's snapshot. A step that changed nothing adds no layer, as
 * BuildKit's exporter drops empty layers.
 */
export async function commitWritable(
  root: string,
  store: ImageStore,
  rootfs: WritableRootfs,
  base: FsResult,
  step: string,
): Promise<FsResult> {
  await rootfs.view.unmount();
  try {
    await rm(rootfs.path, { recursive: true, force: true });
    await pruneCopiedUpDirs(rootfs.mutable.fs, rootfs.lowers);
    const packed = packLayer({ kind: 'overlay', upperdir: rootfs.mutable.fs });
    const blob = await store.putBlob(packed.stream, { what: 'layer' });
    const digests = await packed.digests;
    if (digests.size <= emptyGzipTarMaxSize && (await isEmptyLayer(store, blob.digest))) {
      await discardMutable(rootfs.mutable);
      return base;
    }
    const diffId = digests.diffID;
    await commitMutable(root, rootfs.mutable, diffId);
    const layer: LayerRecord = {
      diffId,
      blob: {
        mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
        digest: blob.digest,
        size: blob.size,
      },
      step,
    };
    return { layers: [...base.layers, layer] };
  } catch (error) {
    await discardMutable(rootfs.mutable);
    throw error;
  }
}

/** Throws away a writable rootfs after a failed step. */
export async function discardWritable(rootfs: WritableRootfs): Promise<void> {
  await rootfs.view.unmount().catch(() => {});
  await discardMutable(rootfs.mutable);
}

// A gzip of a tar with no entries (just the 1024-byte trailer) is well under 100 bytes.
const emptyGzipTarMaxSize = 100;

async function isEmptyLayer(store: ImageStore, digest: Digest): Promise<boolean> {
  return (await listLayer(store.getBlob(digest) as Readable)).length === 0;
}

/**
 * overlayfs copies a directory up whenever something is created in it, even if that thing is
 * removed again (runc's mount-point stubs for /etc/hosts leave an empty `etc/` in the upper). Such
 * a directory, empty and with the same mode and owner as in the layers below, is no change, so it
 * is removed before packing, as BuildKit's overlay differ skips it (util/overlay/overlay_linux.go).
 */
async function pruneCopiedUpDirs(upper: string, lowers: string[]): Promise<void> {
  const visit = async (rel: string): Promise<boolean> => {
    const dir = join(upper, rel);
    const names = await readdir(dir);
    let empty = true;
    for (const name of names) {
      const childRel = rel ? `${rel}/${name}` : name;
      const info = await lstat(join(upper, childRel));
      if (info.isDirectory() && (await visit(childRel))) continue;
      empty = false;
    }
    if (!rel || !empty) return false;
    const info = await lstat(dir);
    const opaque = await readXattrs(dir).then((attrs) =>
      attrs.some(([name]: readonly [string, Buffer]) => name.endsWith('overlay.opaque')),
    );
    if (opaque) return false;
    for (let i = lowers.length - 1; i >= 0; i--) {
      const below = await lstat(join(lowers[i] as string, rel)).catch(() => undefined);
      if (!below) continue;
      if (
        below.isDirectory() &&
        below.mode === info.mode &&
        below.uid === info.uid &&
        below.gid === info.gid
      ) {
        await rmdir(dir);
        return true;
      }
      return false;
    }
    return false;
  };
  await visit('');
}
