/**
 * Docker's copy-up (moby daemon/volumes_unix.go populateVolumes, container.CopyImagePathContent):
 * at each start, a volume mount whose volume is empty gets what the container's filesystem holds
 * at its path, owners, modes, times and links kept, the volume's own directory taking the
 * path's owner and mode. A volume with anything in it is left alone, so this happens once, for
 * the first container that finds the volume empty; `nocopy` turns it off.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdir, stat } from 'node:fs/promises';
import { resolveInRoot } from '../../executor/index.ts';
import { RunError } from '../errors.ts';
import type { ContainerMount } from './container-mount.ts';

/** Fills the empty volumes among `mounts` from `rootfs` (the container's mounted root). */
export async function copyUpVolumes(rootfs: string, mounts: readonly ContainerMount[]): Promise<void> {
  for (const m of mounts) {
    if (m.volume === undefined || m.volume.noCopy) continue;
    if ((await readdir(m.source)).length > 0) continue;
    // Inside the root whatever links the image has on the way (resolveInRoot never leaves it).
    const from = resolveInRoot(rootfs, m.target);
    if (!(await stat(from).catch(() => undefined))?.isDirectory()) continue;
    await copyTree(from, m.source, m.volume.name);
  }
}

/**
 * `cp -a FROM/. TO`: GNU cp keeps owners, modes, times, hard and symbolic links (never following
 * one) and special files, and gives TO the attributes of FROM; a hand-written walk would have to
 * redo each of those.
 */
async function copyTree(from: string, to: string, name: string): Promise<void> {
  const child = spawn('cp', ['-a', '--', `${from}/.`, to], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
  });
  const [code] = (await once(child, 'close')) as [number | null];
  if (code !== 0) {
    throw new RunError(
      `copying the image's content into volume ${name}: ${stderr.trim() || `cp exited ${code}`}`,
    );
  }
}
