import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { isProcessAlive } from '../processes.ts';
import { privateDirMode } from './root-modes.ts';

/**
 * "I am building this key": so that two builds on one root needing the same step build it once.
 * The first process creates `<root>/cache/building/<key>` exclusively (its pid inside) and removes
 * it when done; another process waits until the claim is gone and then looks for the record. A
 * claim whose process died is taken over. Waiting cannot deadlock: a step is claimed only while
 * it runs, after its inputs are done, and a running step waits for nothing else.
 */
export interface KeyClaim {
  release(): Promise<void>;
}

const pollMs = 100;

/**
 * Claims `key`. Returns the claim, or undefined once another process's claim on it has ended
 * (the caller then looks for its record and claims again if there is none).
 */
export async function claimKey(
  root: string,
  key: string,
  signal: AbortSignal,
): Promise<KeyClaim | undefined> {
  const dir = join(root, 'cache', 'building');
  const path = join(dir, key.replace(/^sha256:/, ''));
  // Synchronous file calls: a claim is taken and released around every step that runs.
  mkdirSync(dir, { recursive: true, mode: privateDirMode });
  let waited = false;
  for (;;) {
    signal.throwIfAborted();
    try {
      writeFileSync(path, String(process.pid), { flag: 'wx' });
      if (waited) {
        // Another process held it and is done: its record may be there now.
        rmSync(path, { force: true });
        return undefined;
      }
      return { release: async () => rmSync(path, { force: true }) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const pid = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
    // A claim without a pid is being written right now; one of a dead process is stale.
    if (Number.isInteger(pid) && pid > 0 && !isProcessAlive(pid)) await rm(path, { force: true });
    else {
      waited = true;
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }
}
