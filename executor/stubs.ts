import { lstat, readdir, rmdir, stat, unlink, utimes } from 'node:fs/promises';
import { dirname } from 'node:path';
import { isMissing, resolveInRoot } from './rootpath.ts';

/**
 * Records which mount destinations (and their missing parents) do not exist in the rootfs before
 * the run, so that the empty files and directories runc creates as mount points can be removed
 * afterwards and do not end up in the layer. BuildKit: executor/stubs.go MountStubsCleaner
 * (recursive form). Returns the cleanup function; it never throws.
 */
export async function recordMountStubs(rootfs: string, destinations: string[]): Promise<() => Promise<void>> {
  const candidates: string[] = [];
  for (const dest of destinations) {
    let hostPath: string;
    try {
      hostPath = await resolveInRoot(rootfs, dest);
    } catch {
      continue;
    }
    // Walk up from the destination while the path is missing.
    while (hostPath !== rootfs && hostPath.startsWith(`${rootfs}/`)) {
      if (!(await isAbsent(hostPath))) break;
      if (!candidates.includes(hostPath)) candidates.push(hostPath);
      hostPath = dirname(hostPath);
    }
  }
  // Deepest first: a stub directory can only go once the stubs inside it are gone.
  candidates.sort((a, b) => b.split('/').length - a.split('/').length);
  return async () => {
    for (const path of candidates) await removeStub(rootfs, path);
  };
}

async function isAbsent(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return false;
  } catch (err) {
    return isMissing(err);
  }
}

/** Removes `path` only if it is an empty directory or an empty regular file, keeping the parent's times. */
async function removeStub(rootfs: string, path: string): Promise<void> {
  try {
    const rel = path.slice(rootfs.length);
    // The process may have replaced a parent with a symlink; only act on the same real path.
    if ((await resolveInRoot(rootfs, rel)) !== path) return;
    const parent = dirname(path);
    if ((await resolveInRoot(rootfs, parent.slice(rootfs.length) || '/')) !== parent) return;
    const st = await lstat(path);
    if (st.isDirectory()) {
      if ((await readdir(path)).length > 0) return;
    } else if (!st.isFile() || st.size !== 0) return;
    // Keep the parent's timestamps for reproducible layers (moby/buildkit#3148).
    const parentSt = await stat(parent);
    if (st.isDirectory()) await rmdir(path);
    else await unlink(path);
    await utimes(parent, parentSt.atime, parentSt.mtime);
  } catch {
    // Best effort, like BuildKit: a stub we cannot remove is left in place.
  }
}
