/**
 * The size of a container's writable layer, as dockerd reports it (`ps -s` SizeRw, `container
 * prune`'s reclaimed space, `system df`): the bytes of everything in it but directories, a file
 * with several hard links counted once (moby pkg/directory Size over the overlay upper).
 */
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { activeSnapshotPaths } from '../cache/index.ts';
import type { Container } from './container.ts';

export async function writableLayerSize(root: string, container: Container): Promise<number> {
  const seen = new Set<bigint>();
  let total = 0;
  const walk = async (dir: string): Promise<void> => {
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      const path = join(dir, name);
      const st = await lstat(path, { bigint: true }).catch(() => undefined);
      if (st === undefined) continue;
      if (st.isDirectory()) {
        await walk(path);
        continue;
      }
      if (st.nlink > 1n) {
        if (seen.has(st.ino)) continue;
        seen.add(st.ino);
      }
      total += Number(st.size);
    }
  };
  await walk(activeSnapshotPaths(root, container.record.Id).fs);
  return total;
}
