/**
 * Attachments nobody will tear down: a `run -p` or `start` killed after it attached the container
 * and before the container ran, or a container removed half-way. Each command that opens the
 * root sweeps first, holding no lock of its own: a container recorded as not running has its
 * namespace, addresses, veths and forwarder removed. A container busy under its lock (a start or stop in progress) is left for later.
 * Then the runtimes of networks that are no longer defined (a `network rm` killed after it
 * removed the definition, or a root whose definitions were removed by hand) are cleared.
 */

import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { tryLock } from '../../locks.ts';
import { containerPaths, readContainer } from '../container-store.ts';
import { isActive } from '../state-sync.ts';
import { attachedContainerIds, detachContainer } from './attach.ts';
import { listNetworks } from './definitions.ts';
import { clearRuntime, withNetworkLock } from './infra.ts';
import { runDir } from './run-dir.ts';

export async function sweepNetworkLeftovers(root: string): Promise<void> {
  for (const id of attachedContainerIds(root)) {
    const found = readContainer(root, id);
    if (found === undefined) {
      await detachContainer(root, id); // removed while attached (a killed rm)
      continue;
    }
    // Recorded as running: whoever next reads it finds the truth (state-sync.ts), and a recorded
    // exit detaches it there; the sweep does not record exits itself (fsck reports those).
    if (isActive(found)) continue;
    const lock = await tryLock(containerPaths(found.dir, id).lock);
    if (lock === undefined) continue;
    try {
      const now = readContainer(root, id);
      if (now === undefined || !isActive(now)) await detachContainer(root, id);
    } finally {
      await lock.release();
    }
  }
  await sweepUndefinedNetworks(root);
}

/** Clears the runtime of every network with a run directory but no definition. */
async function sweepUndefinedNetworks(root: string): Promise<void> {
  let running: string[];
  try {
    running = readdirSync(join(runDir(root), 'networks'));
  } catch {
    return;
  }
  if (running.length === 0) return;
  const defined = new Set((await listNetworks(root)).map((n) => n.Id));
  for (const id of running.filter((name) => /^[0-9a-f]{64}$/.test(name) && !defined.has(name))) {
    await withNetworkLock(root, id, () => clearRuntime(root, id));
  }
}
