import { mkdirSync } from 'node:fs';
import { chmod, lstat, mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The tbuild root is private to its owner (issue 12, finding 1). Snapshots hold image content as
 * it is, setuid programs included (`RUN chmod 4755 /x` lands in `snapshots/<id>/fs/x`), so a root
 * another user can walk into is a local root exploit: they run the setuid file from the store.
 *
 * The rule: every directory tbuild makes for its own bookkeeping is made {@link privateDirMode}
 * (0700), and the root and its top-level directories are tightened to it whenever a command opens
 * the root. Docker keeps its data root and `overlay2/` 0710 because its group is the userns-remapped
 * root's (moby daemon/daemon_unix.go setupDaemonRoot); tbuild has no remapping, so no group is
 * meant and 0700 is the mode. Like dockerd, which chmods an existing data root at every start
 * (idtools.MkdirAllAndChown sets the mode of an existing directory too), tbuild repairs an opened-up
 * root rather than refusing to use it; `fsck` says that it did.
 *
 * What is NOT made private: directories that are content, whose mode a container sees — a
 * snapshot's `fs` (the image's `/` and everything under it), a cache mount's directory, an overlay
 * upper whose root becomes a mount's root. Being inside a private directory is what protects them.
 */
export const privateDirMode = 0o700;

/** Mode bits that let another user (group or other) list or enter a directory. */
const openBits = 0o077;

/** `mkdir -p` with every directory it creates private (an existing one keeps its mode). */
export async function makePrivateDir(path: string): Promise<void> {
  await mkdir(path, { recursive: true, mode: privateDirMode });
}

/** {@link makePrivateDir}, synchronously (for the callers that do their file work synchronously). */
export function makePrivateDirSync(path: string): void {
  mkdirSync(path, { recursive: true, mode: privateDirMode });
}

/** A directory of the root that other users can enter. */
export interface OpenDirectory {
  path: string;
  /** Its permission bits when found (`mode & 0o7777`). */
  mode: number;
}

/**
 * The root and those of its top-level directories whose mode lets another user in. Symlinks are
 * not followed below the root (a chmod must never reach outside it). Empty when the root is
 * missing.
 */
export async function findOpenDirectories(root: string): Promise<OpenDirectory[]> {
  const top = await stat(root).catch(() => undefined);
  if (!top?.isDirectory()) return [];
  const found: OpenDirectory[] = [];
  if ((top.mode & openBits) !== 0) found.push({ path: root, mode: top.mode & 0o7777 });
  for (const name of await readdir(root).catch(() => [] as string[])) {
    const path = join(root, name);
    const info = await lstat(path).catch(() => undefined);
    if (info?.isDirectory() && (info.mode & openBits) !== 0) found.push({ path, mode: info.mode & 0o7777 });
  }
  return found;
}

/** What {@link secureRoot} did. */
export interface SecureRootResult {
  /** Directories found open and made private (their mode before). */
  tightened: OpenDirectory[];
  /** Directories found open that could not be changed (not ours to chmod), with the reason. */
  failed: (OpenDirectory & { reason: string })[];
}

/**
 * Makes the root (created if missing, parents included, all 0700) and its top-level directories
 * private. Called by every command that opens the root, before anything is written under it.
 */
export async function secureRoot(root: string): Promise<SecureRootResult> {
  await makePrivateDir(root);
  const result: SecureRootResult = { tightened: [], failed: [] };
  for (const dir of await findOpenDirectories(root)) {
    try {
      // Exactly 0700, as dockerd sets its data root exactly (a tmpfs mounted as the root comes 1777).
      await chmod(dir.path, privateDirMode);
      result.tightened.push(dir);
    } catch (error) {
      result.failed.push({ ...dir, reason: (error as NodeJS.ErrnoException).code ?? String(error) });
    }
  }
  return result;
}

/** `0755` for messages. */
export function formatMode(mode: number): string {
  return mode.toString(8).padStart(4, '0');
}
