import { lstatSync, readdirSync, rmdirSync, type Stats } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { commitMutable, discardMutable } from '../../cache/index.ts';
import {
  discardWritableRootfs,
  type ImageStore,
  listLayer,
  mountReadonlyRootfs,
  mountWritableRootfs,
  packLayer,
  readXattrsSync,
  type WritableRootfs,
} from '../../image/index.ts';
import type { Digest } from '../graph.ts';
import type { FsResult, LayerRecord } from './types.ts';

// Snapshots and overlay mounts are shared with runtime/ (tbuild run), so they live in
// image/rootfs-mount.ts; this file keeps what only a build step does: turning an upper into a layer.
export type { WritableRootfs };

/**
 * Quiescent commits whose last part (unmount, then the snapshot moved into place) still runs: a
 * step's result is returned as soon as its layer is in the store, and whatever mounts snapshots
 * next waits for these first (see {@link settleCommits}). The last step of a build so finishes
 * its unmount while the image is exported.
 */
const finishing = new Set<Promise<void>>();
let finishError: unknown;

/**
 * Waits for the commits still finishing; rethrows the first failure among them (once). Called
 * before any snapshot is mounted, and by the runner before it closes.
 */
export async function settleCommits(): Promise<void> {
  while (finishing.size > 0) await Promise.allSettled([...finishing]);
  const error = finishError;
  finishError = undefined;
  if (error !== undefined) throw error;
}

/** A writable root filesystem over `base`: changes land in `mutable.fs`. */
export async function mountWritable(
  root: string,
  store: ImageStore,
  base: FsResult,
): Promise<WritableRootfs> {
  await settleCommits();
  return mountWritableRootfs(root, store, base.layers);
}

/** A read-only view of a result (the source of `COPY --from`). */
export async function mountReadonly(
  root: string,
  store: ImageStore,
  result: FsResult,
): Promise<{ path: string; release(): Promise<void> }> {
  await settleCommits();
  return mountReadonlyRootfs(root, store, result.layers);
}

/** How to commit a writable rootfs. */
export interface CommitOptions {
  /**
   * Nothing can write into the mount any more (a file op ran there, or a RUN whose container and
   * every process of its pid namespace are gone): its upper is
   * packed while the overlay unmounts. overlayfs syncs the upper file system on unmount, ~0.25 s
   * of waiting on the disk after a 20,000-file COPY, which then overlaps the packing. (The overlay
   * is never used again, so reading and pruning its upper meanwhile cannot confuse it.)
   */
  quiescent?: boolean;
  /** SOURCE_DATE_EPOCH in seconds: the layer's later mtimes are clamped to it. */
  epoch?: number;
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
  options: CommitOptions = {},
): Promise<FsResult> {
  let unmounting: Promise<void> | undefined;
  if (options.quiescent) {
    unmounting = rootfs.view.unmount();
    unmounting.catch(() => {}); // awaited below, before anything needs it unmounted
  } else {
    await rootfs.view.unmount();
  }
  try {
    if (!unmounting) await rm(rootfs.path, { recursive: true, force: true });
    await pruneCopiedUpDirs(rootfs.mutable.fs, rootfs.lowers);
    const packed = packLayer(
      { kind: 'overlay', upperdir: rootfs.mutable.fs },
      options.epoch !== undefined ? { epoch: options.epoch } : {},
    );
    const blob = await store.putBlob(packed.stream, { what: 'layer' });
    const digests = await packed.digests;
    store.recordLayerSize(blob.digest, digests.unpackedSize);
    const empty = digests.size <= emptyGzipTarMaxSize && (await isEmptyLayer(store, blob.digest));
    const diffId = digests.diffID;
    const finish = async () => {
      if (unmounting) {
        await unmounting;
        await rm(rootfs.path, { recursive: true, force: true });
      }
      if (empty) return discardMutable(rootfs.mutable);
      const fsBytes = lstatSync(rootfs.mutable.fs).blocks * 512;
      await commitMutable(root, rootfs.mutable, diffId, fsBytes + digests.diskBytes);
    };
    if (unmounting) {
      // The layer is in the store: the step is done. The rest finishes in the background.
      const task = finish().catch(async (error: unknown) => {
        finishError ??= error;
        await discardWritable(rootfs).catch(() => {});
      });
      finishing.add(task);
      void task.finally(() => finishing.delete(task));
    } else await finish();
    if (empty) return base;
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
    // Still mounted (the unmount failed): the caller's discardWritable unmounts and discards.
    if (
      unmounting &&
      !(await unmounting.then(
        () => true,
        () => false,
      ))
    )
      throw error;
    await discardMutable(rootfs.mutable);
    throw error;
  }
}

/** Throws away a writable rootfs after a failed step. */
export function discardWritable(rootfs: WritableRootfs): Promise<void> {
  return discardWritableRootfs(rootfs);
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
  // Synchronous, and only directories are looked at closer: a COPY of 20,000 files spent ~1 s here
  // in thread-pool round trips, an lstat for every file.
  const visit = (rel: string): boolean => {
    const dir = join(upper, rel);
    let empty = true;
    for (const child of readdirSync(dir, { withFileTypes: true })) {
      if (child.isDirectory() && visit(rel ? `${rel}/${child.name}` : child.name)) continue;
      empty = false;
    }
    if (!rel || !empty) return false;
    const info = lstatSync(dir);
    const opaque = readXattrsSync(dir).some(([name]) => name.endsWith('overlay.opaque'));
    if (opaque) return false;
    for (let i = lowers.length - 1; i >= 0; i--) {
      const below = lstatOrUndefined(join(lowers[i] as string, rel));
      if (!below) continue;
      if (
        below.isDirectory() &&
        below.mode === info.mode &&
        below.uid === info.uid &&
        below.gid === info.gid
      ) {
        rmdirSync(dir);
        return true;
      }
      return false;
    }
    return false;
  };
  visit('');
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}
