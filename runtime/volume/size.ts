import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The bytes under a directory as dockerd counts a volume's size (`volume prune`'s reclaimed
 * space, `system df`): every entry but directories, a file with several hard links once (moby
 * pkg/directory Size).
 */
export async function directorySize(dir: string): Promise<number> {
  const seen = new Set<bigint>();
  let total = 0;
  const walk = async (path: string): Promise<void> => {
    for (const name of await readdir(path).catch(() => [] as string[])) {
      const entry = join(path, name);
      const st = await lstat(entry, { bigint: true }).catch(() => undefined);
      if (st === undefined) continue;
      if (st.isDirectory()) {
        await walk(entry);
        continue;
      }
      if (st.nlink > 1n) {
        if (seen.has(st.ino)) continue;
        seen.add(st.ino);
      }
      total += Number(st.size);
    }
  };
  await walk(dir);
  return total;
}
