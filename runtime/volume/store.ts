/**
 * The volume store: Docker's `local` driver, on disk under the root.
 *
 *   <root>/volumes/                 mode 0700: nothing in it is reachable by other host users
 *   <root>/volumes/.lock            flock: creation, removal and the "in use" check, one at a time
 *   <root>/volumes/<name>/_data/    the content, bind-mounted into containers (Docker's Mountpoint)
 *   <root>/volumes/<name>/volume.json   the metadata (Docker's volume inspect fields we keep)
 *
 * A volume appears whole or not at all: it is made under `.tmp-<random>/` (its `_data` and its
 * metadata, fsynced) and renamed to its name; removal renames it to `.trash-<random>` first and
 * deletes that afterwards. Both happen under the lock, so whoever holds it and finds a `.tmp-` or
 * `.trash-` entry knows a killed command left it, and sweeps it. Names are Docker's (moby
 * volume/local/local.go validateName): two characters at least, `[a-zA-Z0-9][a-zA-Z0-9_.-]+`, so a
 * name never holds `/` and never starts with `.`: it cannot leave the store or hit a leftover or the lock.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { syncDirSync, writeFileDurableSync } from '../../files.ts';
import { acquireLock } from '../../locks.ts';
import { VolumeError } from './errors.ts';

/** A volume as `volume inspect` shows it (moby api/types/volume Volume, local driver). */
export interface Volume {
  CreatedAt: string;
  Driver: 'local';
  Labels: Record<string, string>;
  Mountpoint: string;
  Name: string;
  Options: Record<string, string> | null;
  Scope: 'local';
}

/** What `volume.json` holds; the rest of {@link Volume} follows from where the store is. */
interface VolumeMetadata {
  Name: string;
  CreatedAt: string;
  Labels: Record<string, string>;
  Options: Record<string, string> | null;
}

/**
 * The label Docker (since API 1.42, moby 23.0) puts on the volumes a container made for itself
 * (image VOLUMEs, `-v /path`): `volume prune` without `--all` removes only these.
 */
export const anonymousLabel = 'com.docker.volume.anonymous';

const namePattern = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

export function volumesDir(root: string): string {
  return join(resolve(root), 'volumes');
}

function volumeDir(root: string, name: string): string {
  return join(volumesDir(root), name);
}

/** Where the volume's content lives (Docker's Mountpoint). */
export function volumeDataPath(root: string, name: string): string {
  return join(volumeDir(root, name), '_data');
}

/** Docker's name check, with its messages (moby volume/local/local.go validateName). */
export function checkVolumeName(name: string): void {
  if (name.length === 1) {
    throw new VolumeError(
      `create ${name}: volume name is too short, names should be at least two alphanumeric characters`,
    );
  }
  if (!namePattern.test(name)) {
    throw new VolumeError(
      `create ${name}: "${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`,
    );
  }
}

/** A new anonymous volume's name: 64 hex digits, as Docker's. */
export function anonymousVolumeName(): string {
  return randomBytes(32).toString('hex');
}

/**
 * Runs `fn` holding the store's lock, after sweeping what killed commands left. Everything that
 * creates or removes a volume, or decides that one is unused, runs under it; so does placing a
 * container that refers to volumes (runtime/create.ts), so a volume is never removed between
 * "nobody uses it" and a new container taking it.
 */
export async function withVolumeStore<T>(root: string, fn: () => Promise<T>): Promise<T> {
  mkdirSync(volumesDir(root), { recursive: true, mode: 0o700 });
  const lock = await acquireLock(join(volumesDir(root), '.lock'));
  try {
    sweepLeftovers(root);
    return await fn();
  } finally {
    await lock.release();
  }
}

function sweepLeftovers(root: string): void {
  for (const entry of readdirSync(volumesDir(root))) {
    if (entry.startsWith('.tmp-') || entry.startsWith('.trash-')) {
      rmSync(join(volumesDir(root), entry), { recursive: true, force: true });
    }
  }
}

function toVolume(root: string, meta: VolumeMetadata): Volume {
  return {
    CreatedAt: meta.CreatedAt,
    Driver: 'local',
    Labels: meta.Labels,
    Mountpoint: volumeDataPath(root, meta.Name),
    Name: meta.Name,
    Options: meta.Options,
    Scope: 'local',
  };
}

/** One volume, or undefined. Never half-written: its directory appears by rename, whole. */
export function readVolume(root: string, name: string): Volume | undefined {
  if (!namePattern.test(name)) return undefined;
  try {
    const meta = JSON.parse(
      readFileSync(join(volumeDir(root, name), 'volume.json'), 'utf8'),
    ) as VolumeMetadata;
    return toVolume(root, meta);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw error;
  }
}

/** Every volume, sorted by name (Docker's `volume ls` order). */
export function listVolumes(root: string): Volume[] {
  let entries: string[];
  try {
    entries = readdirSync(volumesDir(root));
  } catch {
    return [];
  }
  return entries
    .filter((e) => namePattern.test(e))
    .sort()
    .map((e) => readVolume(root, e))
    .filter((v): v is Volume => v !== undefined);
}

/** Docker's volume time: RFC 3339 to the second. */
function createdAt(): string {
  return `${new Date().toISOString().slice(0, 19)}Z`;
}

/**
 * Creates a volume (call under {@link withVolumeStore}). An existing one of that name is returned
 * as it is, as Docker's `volume create` does for the local driver.
 */
export function createVolumeLocked(root: string, name: string, labels: Record<string, string>): Volume {
  checkVolumeName(name);
  const existing = readVolume(root, name);
  if (existing !== undefined) return existing;
  const meta: VolumeMetadata = { Name: name, CreatedAt: createdAt(), Labels: labels, Options: null };
  const tmp = join(volumesDir(root), `.tmp-${randomBytes(8).toString('hex')}`);
  mkdirSync(join(tmp, '_data'), { recursive: true, mode: 0o755 });
  writeFileDurableSync(join(tmp, 'volume.json'), `${JSON.stringify(meta, null, 1)}\n`);
  syncDirSync(tmp);
  renameSync(tmp, volumeDir(root, name));
  syncDirSync(volumesDir(root));
  return toVolume(root, meta);
}

/**
 * Takes the volume out of the store (call under {@link withVolumeStore}): renamed aside at once,
 * so it is gone for every reader, then deleted. A kill in between leaves a `.trash-` entry the
 * next holder of the lock deletes.
 */
export function removeVolumeLocked(root: string, name: string): void {
  const trash = join(volumesDir(root), `.trash-${randomBytes(8).toString('hex')}`);
  renameSync(volumeDir(root, name), trash);
  syncDirSync(volumesDir(root));
  rmSync(trash, { recursive: true, force: true });
}
