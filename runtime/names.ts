import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { privateDirMode } from '../cache/index.ts';
import { isProcessAlive } from '../processes.ts';
import { acquireNamesLock, listContainers } from './container-store.ts';
import { RunError } from './errors.ts';

/** Docker's container name rule (daemon/names: `[a-zA-Z0-9][a-zA-Z0-9_.-]+`). */
export const namePattern = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/**
 * Reserves a container name while this process runs: `<root>/containers/<name>.pid` holds our
 * pid. A file left by a process that is gone (killed with -9) is taken over. Resolves with the
 * function that releases the name.
 */
export async function claimName(root: string, name: string): Promise<() => Promise<void>> {
  const bare = name.startsWith('/') ? name.slice(1) : name;
  if (!namePattern.test(bare)) {
    throw new RunError(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  }
  const dir = join(root, 'containers');
  await mkdir(dir, { recursive: true, mode: privateDirMode });
  const file = join(dir, `${bare}.pid`);
  // Kept containers (create.ts) hold their names too; the names lock orders this with create.
  const lock = await acquireNamesLock(root);
  try {
    const kept = (await listContainers(root)).find((c) => c.record.Name === bare);
    if (kept) {
      throw new RunError(
        `Conflict. The container name "/${bare}" is already in use by container "${kept.record.Id}". You have to remove (or rename) that container to be able to reuse that name.`,
      );
    }
    return await claimFile(file, bare);
  } finally {
    await lock.release();
  }
}

async function claimFile(file: string, bare: string): Promise<() => Promise<void>> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(file, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      return () => rm(file, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const pid = Number(await readFile(file, 'utf8').catch(() => ''));
      if (pid > 0 && isProcessAlive(pid)) {
        throw new RunError(
          `Conflict. The container name "/${bare}" is already in use by a running tbuild run (pid ${pid})`,
        );
      }
      await rm(file, { force: true });
    }
  }
  throw new RunError(`could not reserve the container name "${bare}"`);
}
