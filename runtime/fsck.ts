/**
 * fsck's container part: every container directory is readable, its state is made true (a
 * dead monitor is recorded as an exit, state-sync.ts), the image layer snapshots it stands on
 * and, once started, its writable layer exist. What a killed `create` left (a `.tmp-<id>`
 * directory that never got renamed into place) is removed.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { activeSnapshotPaths, snapshotPaths } from '../cache/index.ts';
import { acquireNamesLock, containersDir, readContainer } from './container-store.ts';
import { isActive, syncState } from './state-sync.ts';

export interface ContainerFsckReport {
  containers: number;
  problems: string[];
  /** Exits found and recorded (ended, or its monitor killed, while nobody looked). */
  recordedExits: string[];
  removedTempDirs: number;
}

export async function fsckContainers(root: string): Promise<ContainerFsckReport> {
  const report: ContainerFsckReport = { containers: 0, problems: [], recordedExits: [], removedTempDirs: 0 };
  const dir = containersDir(root);
  const names = existsSync(dir) ? readdirSync(dir) : [];
  if (names.some((n) => n.startsWith('.tmp-'))) {
    // create makes and renames its temp directory under the names lock: holding it, every
    // `.tmp-` directory left is one whose create was killed.
    const lock = await acquireNamesLock(root);
    try {
      for (const name of readdirSync(dir).filter((n) => n.startsWith('.tmp-'))) {
        rmSync(join(dir, name), { recursive: true, force: true });
        report.removedTempDirs++;
      }
    } finally {
      await lock.release();
    }
  }
  for (const name of names) {
    if (!/^[0-9a-f]{64}$/.test(name)) continue;
    report.containers++;
    let container: ReturnType<typeof readContainer>;
    try {
      container = readContainer(root, name);
    } catch (error) {
      report.problems.push(`container ${name}: unreadable record or state: ${(error as Error).message}`);
      continue;
    }
    if (container === undefined) continue;
    const wasActive = isActive(container);
    const synced = await syncState(root, container);
    if (wasActive && !isActive(synced)) report.recordedExits.push(name);
    for (const layer of synced.record.Layers) {
      if (!existsSync(snapshotPaths(root, layer.diffId).fs)) {
        report.problems.push(`container ${name}: the layer snapshot ${layer.diffId} it stands on is missing`);
      }
    }
    const started = !synced.state.StartedAt.startsWith('0001');
    if (started && !existsSync(activeSnapshotPaths(root, name).fs)) {
      report.problems.push(`container ${name}: its writable layer is missing`);
    }
  }
  return report;
}
