import { lstat, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { ExecError } from './errors.ts';

/** Linux gives up after 40 links in one lookup (MAXSYMLINKS); continuity's RootPath allows 255. */
const maxLinks = 255;

/**
 * Maps a container path to the host path under `root`, following symlinks as the container
 * would see them: absolute link targets and `..` are taken relative to `root` and can never
 * climb out of it. Components that do not exist are kept lexically. This is what
 * containerd/continuity `fs.RootPath` does for BuildKit; Node has no `openat2(RESOLVE_IN_ROOT)`.
 * The result can still race with a process changing the tree; we only call it while no
 * container runs on that rootfs.
 */
export async function resolveInRoot(root: string, path: string): Promise<string> {
  const resolved: string[] = [];
  const pending = path.split('/');
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift() as string;
    if (part === '' || part === '.') continue;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const candidate = join(root, ...resolved, part);
    let isLink = false;
    try {
      isLink = (await lstat(candidate)).isSymbolicLink();
    } catch (err) {
      if (!isMissing(err)) throw err;
    }
    if (!isLink) {
      resolved.push(part);
      continue;
    }
    links += 1;
    if (links > maxLinks)
      throw new ExecError(`too many levels of symbolic links resolving ${path} in ${root}`);
    const target = await readlink(candidate);
    if (target.startsWith('/')) resolved.length = 0;
    pending.unshift(...target.split('/'));
  }
  return join(root, ...resolved);
}

/** ENOENT, or ENOTDIR when a component is a file. */
export function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
