import { lstat, readlink } from 'node:fs/promises';
import { posix } from 'node:path';

const maxSymlinks = 40; // Linux's MAXSYMLINKS

/**
 * Resolves `path` (absolute, as seen inside the container) to a host path under `root`, following
 * symlinks the way the container would see them: an absolute link target restarts at `root`, and
 * `..` never climbs above it. Nothing a rootfs contains can make the result leave `root`. The
 * last component is followed too unless `followLast` is false (to replace a symlink rather than
 * write through it). Missing components are fine: the rest of the path is appended as is.
 */
export async function resolveInRoot(root: string, path: string, followLast = true): Promise<string> {
  const pending = posix.normalize(`/${path}`).split('/').filter(Boolean);
  const resolved: string[] = [];
  let hops = 0;
  while (pending.length > 0) {
    const name = pending.shift() as string;
    if (name === '.') continue;
    if (name === '..') {
      resolved.pop();
      continue;
    }
    const candidate = [...resolved, name];
    const host = posix.join(root, ...candidate);
    const info = await lstat(host).catch(() => undefined);
    if (info?.isSymbolicLink() && (pending.length > 0 || followLast)) {
      if (++hops > maxSymlinks) throw new Error(`too many levels of symbolic links: ${path}`);
      const target = await readlink(host);
      if (target.startsWith('/')) resolved.length = 0;
      pending.unshift(...target.split('/').filter(Boolean));
      continue;
    }
    resolved.push(name);
    if (!info) {
      // Nothing below a missing component can be a symlink: take the rest literally.
      for (const rest of pending) {
        if (rest === '..') resolved.pop();
        else if (rest !== '.' && rest !== '') resolved.push(rest);
      }
      break;
    }
  }
  return posix.join(root, ...resolved);
}
