import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { isOwnerAlive, ownerToken } from '../processes.ts';
import { unmountPath } from './overlay.ts';
import { privateDirMode } from './root-modes.ts';

/**
 * Scratch space under `<root>/tmp` and what a killed process leaves there (issue 12, finding 8).
 *
 * Every scratch name says whose it is: `<root>/tmp/<kind>-<pid>.<start time>-<random>` (kinds:
 * `snap` a step's upper and overlay work dir and its rootfs mount point, `mount` a RUN mount's
 * scratch, `trash` what prune is deleting, `out` a note naming a file being written outside the
 * root, such as `save -o`'s temp archive; `record`, `memo`, `checksums` a cache file being written,
 * renamed into place when whole; `seed` a cache mount being filled). A process killed with SIGKILL runs no `finally`: its
 * overlay stays mounted and its directories stay. {@link sweepDeadOwners} runs whenever a command
 * opens the root: for each entry whose owner is no longer running it unmounts whatever is mounted
 * at or below it (deepest first, lazily when busy) and then removes it. Entries of live processes
 * (running builds on the same root) are never touched; names without an owner (made before names
 * carried one) are left alone, as nothing tells whether their maker still runs. The same sweep
 * removes dead builds' `--secret` directories ({@link secretScratchPath}) and, under `<root>/tmp`,
 * a cache mount being seeded (`cachemount`).
 */
export function scratchDir(root: string): string {
  return join(root, 'tmp');
}

/** A fresh scratch path owned by this process: `<root>/tmp/<kind>-<owner>-<random hex>`. */
export function scratchPath(root: string, kind: string): string {
  return join(scratchDir(root), `${kind}-${ownerToken()}-${randomHex()}`);
}

function randomHex(): string {
  return Math.floor(Math.random() * 2 ** 48)
    .toString(16)
    .padStart(12, '0');
}

/**
 * {@link scratchPath}, with the scratch directory made: for a file written whole and then renamed
 * into place elsewhere under the root (same filesystem), so that a kill between the write and the
 * rename leaves it where the sweep finds it rather than as a stray temp beside the real files.
 */
export function scratchFileSync(root: string, kind: string): string {
  mkdirSync(scratchDir(root), { recursive: true, mode: privateDirMode });
  return scratchPath(root, kind);
}

/**
 * Records that this process is writing `path` outside the root (a `save -o` temp archive), so a
 * sweep after a kill removes it. Returns a function that forgets the note once the file is renamed
 * into place or removed.
 */
export async function noteOutsideTemp(root: string, path: string): Promise<() => Promise<void>> {
  const note = scratchPath(root, 'out');
  await mkdir(scratchDir(root), { recursive: true, mode: privateDirMode });
  await writeFile(note, resolve(path));
  return () => rm(note, { force: true });
}

/**
 * Where a build keeps the `--secret` files its RUN steps mount: a root-only directory on a memory
 * filesystem (never on disk) when there is one, outside any root since secrets belong to no store.
 * Named `tbuild-secrets-<owner>-<random>` like the scratch entries, so a build killed with SIGKILL
 * (which runs no exit handler) leaves a directory the next sweep of any root removes.
 */
export function secretScratchPath(): string {
  const base = existsSync(secretBases[0]) ? secretBases[0] : secretBases[1];
  return join(base, `${secretPrefix}${ownerToken()}-${randomHex()}`);
}

const secretBases = ['/dev/shm', '/tmp'] as const;
const secretPrefix = 'tbuild-secrets-';

/** The secret directories of dead owners (also the `tbuild-secrets-<pid>` of older versions). */
async function staleSecretDirs(): Promise<string[]> {
  const out: string[] = [];
  for (const base of secretBases) {
    for (const name of await readdir(base).catch(() => [] as string[])) {
      if (!name.startsWith(secretPrefix)) continue;
      const owner = name.slice(secretPrefix.length);
      // `<pid>.<start>-<random>`, or an older `<pid>` alone.
      const alive = isOwnerAlive(/^\d+$/.test(owner) ? `${owner}-` : owner);
      if (alive === false) out.push(join(base, name));
    }
  }
  return out;
}

/** What a sweep removed. */
export interface SweepResult {
  /** Entries of `<root>/tmp` removed (and files outside the root their notes named). */
  removed: string[];
  /** Mount points unmounted first. */
  unmounted: string[];
}

/** Unmounts and removes what dead processes left in `<root>/tmp`. Cheap when there is nothing. */
export async function sweepDeadOwners(root: string): Promise<SweepResult> {
  const dir = scratchDir(root);
  const result: SweepResult = { removed: [], unmounted: [] };
  for (const secrets of await staleSecretDirs()) {
    await rm(secrets, { recursive: true, force: true });
    result.removed.push(secrets);
  }
  const names = await readdir(dir).catch(() => [] as string[]);
  const stale = names.filter((name) => isOwnerAlive(name) === false);
  if (stale.length === 0) return result;
  const mounts = mountPoints();
  for (const name of stale) {
    const path = join(dir, name);
    const inside = mounts
      .filter((m) => m === path || m.startsWith(`${path}${sep}`))
      .sort((a, b) => b.length - a.length);
    for (const target of inside) {
      await unmountPath(target);
      result.unmounted.push(target);
    }
    if (name.startsWith('out-')) {
      const outside = await readFile(path, 'utf8').catch(() => '');
      // Only the temp name save gives (`<file>.tmp-<owner>`) of this very owner, never another file.
      const owner = /^out-(\d+\.\d+)-/.exec(name)?.[1];
      if (owner !== undefined && outside.endsWith(`.tmp-${owner}`)) {
        await rm(outside, { force: true });
        result.removed.push(outside);
      }
    }
    await rm(path, { recursive: true, force: true });
    result.removed.push(path);
  }
  return result;
}

/** Mount points of this mount namespace (`/proc/self/mountinfo` field 5, octal escapes undone). */
function mountPoints(): string[] {
  let text = '';
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((field): field is string => field !== undefined && field !== '')
    .map((field) =>
      field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8))),
    );
}
