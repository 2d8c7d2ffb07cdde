/**
 * Where the image store keeps what (the tree is drawn in store.ts), the tbuild root it lives
 * under, and the one lock its writers share.
 */
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { makePrivateDir } from '../cache/index.ts';
import { isNoSpaceError, noSpaceMessage } from '../errors.ts';
import { acquireLock, type HeldLock } from '../locks.ts';
import { StoreError } from './errors.ts';
import { type Digest, digestHex } from './oci.ts';

/** The paths of one store: `<root>/image` and what is under it. */
export interface StoreLayout {
  /** Directory of the OCI image layout. */
  dir: string;
  blobDir: string;
  tmpDir: string;
  leaseDir: string;
  sizeDir: string;
  indexPath: string;
}

/** The tbuild root: `--root`, else `TBUILD_ROOT`, else `/var/lib/tbuild` for root, else XDG data home. */
export function resolveRoot(root?: string): string {
  if (root) return root;
  if (process.env.TBUILD_ROOT) return process.env.TBUILD_ROOT;
  if (process.getuid?.() === 0) return '/var/lib/tbuild';
  const data = process.env.XDG_DATA_HOME || join(homedir(), '.local', 'share');
  return join(data, 'tbuild');
}

export function storeLayout(dir: string): StoreLayout {
  return {
    dir,
    blobDir: join(dir, 'blobs', 'sha256'),
    tmpDir: join(dir, 'tmp'),
    leaseDir: join(dir, 'leases'),
    sizeDir: join(dir, 'sizes'),
    indexPath: join(dir, 'index.json'),
  };
}

/** Creates the store's directories (if needed). */
export async function makeStoreDirs(layout: StoreLayout): Promise<void> {
  // Private like the whole root (cache/root-modes.ts, issue 12 finding 1).
  await makePrivateDir(layout.blobDir);
  await makePrivateDir(layout.tmpDir);
  await makePrivateDir(layout.leaseDir);
  await makePrivateDir(layout.sizeDir);
}

/** The tbuild root the store is in (snapshots and the build cache live beside it). */
export function storeRoot(layout: StoreLayout): string {
  return dirname(layout.dir);
}

export function blobPath(layout: StoreLayout, digest: Digest): string {
  return join(layout.blobDir, digestHex(digest));
}

/** Where a layer blob's unpacked size is recorded (store-layer-sizes.ts). */
export function sizePath(layout: StoreLayout, digest: Digest): string {
  return join(layout.sizeDir, digestHex(digest));
}

/** The flock held around index.json updates and garbage collection. */
export function lockStore(layout: StoreLayout): Promise<HeldLock> {
  return acquireLock(join(layout.dir, 'lock'));
}

/** A full disk said in the user's terms (the root that is full); undefined for other errors. */
export function fullDiskError(layout: StoreLayout, error: unknown): StoreError | undefined {
  if (!isNoSpaceError(error)) return undefined;
  return new StoreError(noSpaceMessage(storeRoot(layout)), { cause: error });
}
