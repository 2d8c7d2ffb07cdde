// A stat fingerprint of one path of the build context, taken by GNU find(1) in a child process.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  fstatSync,
  lstatSync,
  openSync,
  readdirSync,
  readlinkSync,
  type Stats,
  statSync,
  unlinkSync,
} from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DockerignoreMatcher } from './dockerignore.ts';

/** What {@link fingerprintContextPath} returns: a digest of a subtree's metadata. */
export interface PathFingerprint {
  /** sha256 over the path's components and every entry below it: type, mode, owner, size,
   *  inode, device, link count, mtime, ctime (nanoseconds), name and link target. */
  readonly digest: string;
  /**
   * No entry's mtime or ctime is within the settle time before the fingerprint began: no change
   * can hide behind an unchanged stat (git's racy-clean rule), so the digest may be remembered.
   */
  readonly settled: boolean;
}

/**
 * One record per entry: the numbers (mtime and ctime last, `seconds.nanoseconds`), the path
 * (`./` and relative to the path fingerprinted), the link target; each part NUL-terminated, so
 * any byte a file name may hold is unambiguous.
 */
const recordFormat = '%y %m %U %G %s %i %D %n %T@ %C@\\0%p\\0%l\\0';

/**
 * Why find(1) and not our own walk: a cached rebuild must lstat every file it could copy, and
 * that is most of its time. find does it in C, ~1.5 µs a file against ~3.3 µs for lstatSync plus
 * the garbage of a Stats object per file (~40 ms of collection per 20,000 files), and in its own
 * process, beside whatever this one does meanwhile. Its output is hashed by sha256sum in the same
 * pipeline and never reaches this process. The fingerprint is only ever a memo key (see
 * cache/content-hash.ts): when it cannot be taken — no GNU find, an unreadable directory, a
 * symlink on the way — the caller walks the context itself, so find is a speed-up, never a
 * dependency. (A small directory of files only is stat'ed here: starting processes would cost
 * more.)
 *
 * Returns undefined when `path` (relative to the context, '' for all of it) or one of its parent
 * directories is missing, is a symlink (COPY follows it, find would not), or find fails.
 * Subtrees that `.dockerignore` excludes outright (a literal pattern, no `!` exception anywhere)
 * are pruned; any other excluded entry is still fingerprinted, which can only cause a miss.
 */
export async function fingerprintContextPath(
  contextDir: string,
  ignore: DockerignoreMatcher,
  path: string,
  settleMs: number,
): Promise<PathFingerprint | undefined> {
  const settledBefore = Date.now() - settleMs;
  const hash = createHash('sha256');
  // The parents are included so that a directory swapped for a symlink after this check is
  // caught by the next build's check rather than remembered under the same key.
  let at = contextDir;
  let info = lstatQuiet(contextDir, true);
  for (const part of path === '' ? [] : path.split('/')) {
    at = `${at}/${part}`;
    info = lstatQuiet(at);
    if (info === undefined || info.isSymbolicLink()) return undefined;
    hash.update(`${part}\0${info.mode}\0${info.ino}\0${info.dev}\0`);
  }
  if (info === undefined) return undefined;
  // The starting point's own record (find's would be the same numbers, formatted differently).
  hash.update(statRecord(info, '', ''));
  let settled = Math.max(info.mtimeMs, info.ctimeMs) < settledBefore;
  if (info.isDirectory()) {
    const prunes = pruneArgs(path, ignore);
    if (prunes === undefined) return undefined;
    let names: string[];
    try {
      names = readdirSync(at).sort();
    } catch {
      return undefined;
    }
    // A few files and no directory (a COPY of one small folder): stat'ed here, no process.
    const files = names.length <= smallDirNames ? statFiles(at, names) : undefined;
    if (files === null) return undefined;
    if (files !== undefined) {
      for (const file of files) {
        hash.update(statRecord(file.info, file.name, file.target));
        settled &&= Math.max(file.info.mtimeMs, file.info.ctimeMs) < settledBefore;
      }
      return { digest: `sha256:${hash.digest('hex')}`, settled };
    }
    // The subtrees go to one find per core, each taking every n-th top-level name: a context's
    // directories are rarely one big and many small, and the stats are all kernel time.
    // So many names that they would not fit on command lines: one find over `.` instead (its own
    // record is the starting point's, already hashed).
    const manyNames = names.reduce((sum, name) => sum + name.length + 3, 0) > maxArgBytes;
    const groups = Math.min(names.length, manyNames ? 1 : availableParallelism(), maxFinds); // 0: empty
    const starts = manyNames
      ? [['.', '-mindepth', '1']]
      : Array.from({ length: groups }, (_, g) =>
          names.filter((_, i) => i % groups === g).map((name) => `./${name}`),
        );
    const runs = await Promise.all(starts.map((group) => runFind(at, [...group, ...prunes], settledBefore)));
    for (const run of runs) {
      if (run === undefined) return undefined;
      hash.update(run.digest);
      settled &&= run.settled;
    }
  }
  return { digest: `sha256:${hash.digest('hex')}`, settled };
}

/** At most this many find processes for one path. */
const maxFinds = 4;

/** Starting points beyond this many bytes go to a single find over `.` (ARG_MAX is ~2 MB). */
const maxArgBytes = 256 * 1024;

/** A directory of at most this many entries, none a directory, is stat'ed without find. */
const smallDirNames = 32;

/** One entry's record (the numbers of find's record, as node has them). */
function statRecord(info: Stats, name: string, target: string): string {
  return `${info.mode} ${info.uid} ${info.gid} ${info.size} ${info.ino} ${info.dev} ${info.nlink} ${info.mtimeMs} ${info.ctimeMs}\0${name}\0${target}\0`;
}

/**
 * The lstat (and link target) of each of `names` in `dir`; undefined when one is a directory (find
 * walks those), null when one cannot be read (gone meanwhile).
 */
function statFiles(
  dir: string,
  names: readonly string[],
): { name: string; info: Stats; target: string }[] | undefined | null {
  const files: { name: string; info: Stats; target: string }[] = [];
  for (const name of names) {
    const info = lstatQuiet(`${dir}/${name}`);
    if (info === undefined) return null;
    if (info.isDirectory()) return undefined;
    let target = '';
    if (info.isSymbolicLink()) {
      try {
        target = readlinkSync(`${dir}/${name}`);
      } catch {
        return null;
      }
    }
    files.push({ name, info, target });
  }
  return files;
}

/**
 * find(1) in `cwd` over `args` (starting points first, each `./name`, so that no name is read as
 * an option or an expression, then the prunes): the digest of its records, and whether none was
 * changed after `settledBefore` (ms since the epoch). The records are hashed by sha256sum(1) in
 * the same pipeline, so they never pass through this process (whose event loop, busy with the
 * build, would stall find on a full pipe). find also writes each recent entry's name to its
 * descriptor 3, an unlinked temporary file (a pipe from node is a socket, which /dev/fd cannot
 * reopen). Undefined when find or sha256sum is missing or find fails (an unreadable directory, an
 * entry gone meanwhile).
 */
async function runFind(
  cwd: string,
  args: string[],
  settledBefore: number,
): Promise<{ digest: Buffer; settled: boolean } | undefined> {
  const at = `@${(settledBefore / 1000).toFixed(3)}`;
  const recent = ['(', '-newermt', at, '-o', '-newerct', at, ')'];
  let marks: number;
  try {
    const path = join(tmpdir(), `tbuild-find-${process.pid}-${randomBytes(6).toString('hex')}`);
    marks = openSync(path, 'wx+', 0o600);
    unlinkSync(path);
  } catch {
    return undefined;
  }
  try {
    const findArgs = [...args, '-printf', recordFormat, ...recent, '-fprint0', '/dev/fd/3'];
    const out = await new Promise<{ code: number | null; stdout: string; stderr: string } | undefined>(
      (resolve) => {
        const child = spawn('sh', ['-c', findPipeline, 'sh', ...findArgs], {
          cwd,
          stdio: ['ignore', 'pipe', 'pipe', marks],
          env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' },
        });
        let stdout = '';
        let stderr = '';
        child.stdout?.setEncoding('latin1').on('data', (text: string) => {
          stdout += text;
        });
        child.stderr?.setEncoding('latin1').on('data', (text: string) => {
          stderr += text;
        });
        child.once('error', () => resolve(undefined));
        child.once('close', (code) => resolve({ code, stdout, stderr }));
      },
    );
    const hex = /^([0-9a-f]{64}) /.exec(out?.stdout ?? '')?.[1];
    if (out?.code !== 0 || out.stderr !== 'find:0\n' || hex === undefined) return undefined;
    return { digest: Buffer.from(hex, 'hex'), settled: fstatSync(marks).size === 0 };
  } finally {
    closeSync(marks);
  }
}

/** find's records into sha256sum; find's exit status reported on stderr (a pipeline hides it). */
const findPipeline = '{ find "$@" 2>/dev/null; echo "find:$?" >&2; } | sha256sum';

/**
 * `-path ./P -prune -o` for each literal exclude pattern below `path`, when no pattern is an
 * exception (an exception can re-include something below an excluded directory). Patterns with
 * wildcards or escapes are left to the fingerprint. Undefined when a pattern excludes `path`
 * itself (the walk then reports what a COPY of it means).
 */
function pruneArgs(path: string, ignore: DockerignoreMatcher): string[] | undefined {
  if (ignore.hasExceptions) return [];
  const below: string[] = [];
  for (const { text } of ignore.patterns) {
    if (text === '' || text === '.' || /[*?[\\]/.test(text) || text.split('/').includes('..')) continue;
    if (path === '') below.push(text);
    else if (text === path || path.startsWith(`${text}/`)) return undefined;
    else if (text.startsWith(`${path}/`)) below.push(text.slice(path.length + 1));
  }
  if (below.length === 0) return [];
  const tests = below.flatMap((p, i) => (i === 0 ? ['-path', `./${p}`] : ['-o', '-path', `./${p}`]));
  return ['(', ...tests, ')', '-prune', '-o'];
}

/** lstat (stat with `follow`), or undefined when the path cannot be stat'ed (missing, ENOTDIR, EACCES). */
function lstatQuiet(path: string, follow = false): Stats | undefined {
  try {
    return follow ? statSync(path) : lstatSync(path);
  } catch {
    return undefined;
  }
}
