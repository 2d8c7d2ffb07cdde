import { lstatSync, readlinkSync } from 'node:fs';
import { posix } from 'node:path';
import { ExecError } from './errors.ts';

/** Linux gives up after 40 links in one lookup (MAXSYMLINKS); continuity's RootPath allows 255. */
const maxLinks = 255;

/**
 * Maps a container path to the host path under `root`, following symlinks as the container
 * would see them: absolute link targets and `..` are taken relative to `root` and can never
 * climb out of it. The last component is followed too unless `followLast` is false (to replace a
 * symlink rather than write through it). Components that do not exist are kept lexically (nothing
 * below a missing one can be a link). This is what containerd/continuity `fs.RootPath` does for
 * BuildKit; Node has no `openat2(RESOLVE_IN_ROOT)`. The result can still race with a process
 * changing the tree; we only call it while no container runs on that rootfs.
 *
 * Synchronous: a step resolves a dozen paths (mount points, the working directory, /etc/passwd,
 * COPY destinations), each an lstat per component, and a round trip through the thread pool per
 * lstat cost more than the calls (~5 ms of every RUN).
 */
export function resolveInRoot(root: string, path: string, followLast = true): string {
  const parts = (text: string) => text.split('/').filter((part) => part !== '' && part !== '.');
  const pending = parts(path);
  const resolved: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift() as string;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const candidate = posix.join(root, ...resolved, part);
    let info: ReturnType<typeof lstatSync>;
    try {
      info = lstatSync(candidate);
    } catch (err) {
      if (!isMissing(err)) throw err;
      resolved.push(part);
      for (const rest of pending) {
        if (rest === '..') resolved.pop();
        else resolved.push(rest);
      }
      break;
    }
    if (!info.isSymbolicLink() || (pending.length === 0 && !followLast)) {
      resolved.push(part);
      continue;
    }
    links += 1;
    if (links > maxLinks)
      throw new ExecError(`too many levels of symbolic links resolving ${path} in ${root}`);
    const target = readlinkSync(candidate);
    if (target.startsWith('/')) resolved.length = 0;
    pending.unshift(...parts(target));
  }
  return posix.join(root, ...resolved);
}

/** ENOENT, or ENOTDIR when a component is a file. */
export function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
