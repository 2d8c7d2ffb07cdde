import { lstatSync, readdirSync, rmdirSync, statSync, unlinkSync, utimesSync } from 'node:fs';
import { dirname } from 'node:path';
import { isMissing, resolveInRoot } from './rootpath.ts';

/**
 * Records which mount destinations (and their missing parents) do not exist in the rootfs before
 * the run, so that the empty files and directories runc creates as mount points can be removed
 * afterwards and do not end up in the layer. BuildKit: executor/stubs.go MountStubsCleaner
 * (recursive form). Returns the cleanup function; it never throws. (Synchronous calls: a few
 * dozen lstats around every RUN, cheaper than their thread-pool round trips.)
 */
export async function recordMountStubs(rootfs: string, destinations: string[]): Promise<() => Promise<void>> {
  const candidates: string[] = [];
  for (const dest of destinations) {
    let hostPath: string;
    try {
      hostPath = resolveInRoot(rootfs, dest);
    } catch {
      continue;
    }
    // Walk up from the destination while the path is missing.
    while (hostPath !== rootfs && hostPath.startsWith(`${rootfs}/`)) {
      if (!isAbsent(hostPath)) break;
      if (!candidates.includes(hostPath)) candidates.push(hostPath);
      hostPath = dirname(hostPath);
    }
  }
  // Deepest first: a stub directory can only go once the stubs inside it are gone.
  candidates.sort((a, b) => b.split('/').length - a.split('/').length);
  return async () => {
    for (const path of candidates) removeStub(rootfs, path);
  };
}

function isAbsent(path: string): boolean {
  try {
    lstatSync(path);
    return false;
  } catch (err) {
    return isMissing(err);
  }
}

/** Removes `path` only if it is an empty directory or an empty regular file, keeping the parent's times. */
function removeStub(rootfs: string, path: string): void {
  try {
    const rel = path.slice(rootfs.length);
    // The process may have replaced a parent with a symlink; only act on the same real path.
    if (resolveInRoot(rootfs, rel) !== path) return;
    const parent = dirname(path);
    if (resolveInRoot(rootfs, parent.slice(rootfs.length) || '/') !== parent) return;
    const st = lstatSync(path);
    if (st.isDirectory()) {
      if (readdirSync(path).length > 0) return;
    } else if (!st.isFile() || st.size !== 0) return;
    // Keep the parent's timestamps for reproducible layers (moby/buildkit#3148).
    const parentSt = statSync(parent);
    if (st.isDirectory()) rmdirSync(path);
    else unlinkSync(path);
    utimesSync(parent, parentSt.atime, parentSt.mtime);
  } catch {
    // Best effort, like BuildKit: a stub we cannot remove is left in place.
  }
}
