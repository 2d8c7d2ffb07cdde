/**
 * End-to-end build test harness: a tbuild root per test file with the busybox fixture image loaded,
 * contexts written from inline objects, the CLI run as a child process, and built images flattened
 * into a comparable tree (path → type, mode, owner, size, content hash, link target).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import {
  chmod,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rename,
  rm,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { applyLayer } from '../../image/index.ts';
import { firstReason, needCommands, needRoot, skipReason } from '../needs.ts';
import { runTbuild } from '../tbuild-entry.ts';

const run = promisify(execFile);
const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Why this machine cannot run build tests, or false when it can (root, runc, overlayfs). */
export function whyNotRunnable(): string | false {
  return firstReason(
    needRoot('build tests (runc and overlayfs mounts)'),
    needCommands('runc'),
    existsSync('/bin/busybox') ? false : 'build tests need /bin/busybox (apt-get install busybox-static)',
  );
}

/** A context file: text/bytes, or with a mode, or a symlink. */
export type ContextFile = string | Buffer | { content: string | Buffer; mode: number } | { symlink: string };

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** One flattened path of an image. */
export interface FlatEntry {
  type: 'file' | 'dir' | 'symlink' | 'other';
  /** Permission bits with setuid/setgid/sticky (`mode & 0o7777`). */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** sha256 hex of a regular file's content. */
  sha256?: string;
  /** A symlink's target. */
  link?: string;
  /** For a hard link: the first path (in sorted walk order) of the same inode. */
  hardlink?: string;
}

/** An image unpacked as Docker would run it: every layer applied in order, whiteouts honoured. */
export interface FlatImage {
  /** Host directory holding the flattened rootfs. */
  dir: string;
  entries: Map<string, FlatEntry>;
  /** The saved image config (`config` section is the runtime config). */
  config: ImageConfigJson;
  /** Layer tar paths in the saved archive, base first. */
  layers: string[];
  /** A file's text; throws when absent. */
  text(path: string): Promise<string>;
}

export interface ImageConfigJson {
  config: {
    Env?: string[];
    Cmd?: string[];
    Entrypoint?: string[];
    WorkingDir?: string;
    User?: string;
    ExposedPorts?: Record<string, object>;
    Volumes?: Record<string, object>;
    Labels?: Record<string, string>;
    OnBuild?: string[];
    Healthcheck?: {
      Test?: string[];
      Interval?: number;
      Timeout?: number;
      StartPeriod?: number;
      Retries?: number;
    };
    StopSignal?: string;
    Shell?: string[];
  };
  rootfs: { diff_ids: string[] };
  history?: { created_by?: string; empty_layer?: boolean }[];
}

/** A string like `file 0644 0:0 content` for compact assertions. */
export function describe(entry: FlatEntry | undefined): string {
  if (entry === undefined) return 'absent';
  const base = `${entry.type} ${entry.mode.toString(8).padStart(4, '0')} ${entry.uid}:${entry.gid}`;
  if (entry.type === 'symlink') return `${base} -> ${entry.link}`;
  return base;
}

export function sha256(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}

export interface BuildOptions {
  tag?: string;
  args?: string[];
  /** Added to the CLI's environment. */
  env?: Record<string, string>;
}

/** The per-file harness. `skip` is the reason to skip the whole file, or false (under CI a reason also fails the file: test/needs.ts). */
export interface BuildHarness {
  skip: string | false;
  /** The tbuild root (valid after `before`). */
  root(): string;
  /** Writes a context directory from an inline object. */
  testdir(files: Record<string, ContextFile>): Promise<string>;
  /** `tbuild --root ROOT ...args`, `env` added to its environment. */
  cli(args: string[], env?: Record<string, string>): Promise<CliResult>;
  /** Writes the context, then `tbuild build --progress plain -t TAG [args] CTX`. */
  build(files: Record<string, ContextFile>, options?: BuildOptions): Promise<CliResult>;
  /** Saves `tag` and flattens it. */
  flatten(tag: string): Promise<FlatImage>;
  /** `build`, failing with the CLI's stderr unless it exits 0, then `flatten`. */
  buildOk(files: Record<string, ContextFile>, options?: BuildOptions): Promise<FlatImage & CliResult>;
}

let counter = 0;

/**
 * Registers before/after hooks for the calling test file: a fresh root with busybox:latest loaded
 * (the fixture archive is cached in os.tmpdir() across files), removed afterwards.
 */
export function setupBuildTests(): BuildHarness {
  const skip = skipReason(whyNotRunnable());
  let work = '';
  let root = '';
  const harness: BuildHarness = {
    skip,
    root: () => root,
    async testdir(files) {
      const dir = join(work, `ctx-${++counter}`);
      await mkdir(dir, { recursive: true });
      for (const [name, file] of Object.entries(files)) {
        const path = join(dir, name);
        await mkdir(dirname(path), { recursive: true });
        if (typeof file === 'string' || Buffer.isBuffer(file)) await writeFile(path, file);
        else if ('symlink' in file) await symlink(file.symlink, path);
        else {
          await writeFile(path, file.content);
          await chmod(path, file.mode);
        }
      }
      return dir;
    },
    cli: (args, env) => runTbuild(['--root', root, ...args], env ? { env } : {}),
    async build(files, options = {}) {
      const dir = await harness.testdir(files);
      const tag = options.tag ?? `t${counter}`;
      return harness.cli(
        ['build', '--progress', 'plain', '-t', tag, ...(options.args ?? []), dir],
        options.env,
      );
    },
    async buildOk(files, options = {}) {
      const tag = options.tag ?? `ok${++counter}`;
      const result = await harness.build(files, { ...options, tag });
      if (result.code !== 0) throw new Error(`build failed (exit ${result.code}):\n${result.stderr}`);
      return { ...(await harness.flatten(tag)), ...result };
    },
    async flatten(tag) {
      const archive = join(work, `save-${++counter}.tar`);
      const saved = await harness.cli(['save', '-o', archive, tag]);
      if (saved.code !== 0) throw new Error(`tbuild save ${tag} failed: ${saved.stderr}`);
      return flattenArchive(archive, join(work, `flat-${counter}`));
    },
  };
  before(async () => {
    if (skip) return;
    work = await mkdtemp(join(tmpdir(), 'tbuild-build-test-'));
    root = join(work, 'root');
    const loaded = await harness.cli(['load', '-i', await busyboxArchive()]);
    if (loaded.code !== 0) throw new Error(`loading busybox failed: ${loaded.stderr}`);
  });
  after(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });
  return harness;
}

/**
 * Flattens a `docker save`-format archive (tbuild's or Docker's) into `into` (created; the archive
 * is unpacked beside it as `into.tar.d`): the first manifest entry's layers applied in order with
 * tbuild's layer code, then every path listed.
 */
export async function flattenArchive(archive: string, into: string): Promise<FlatImage> {
  const out = `${into}.tar.d`;
  await mkdir(out, { recursive: true });
  await run('tar', ['-xf', archive, '-C', out]);
  const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as {
    Config: string;
    Layers: string[];
  }[];
  const first = manifest[0];
  if (first === undefined) throw new Error('saved archive has no manifest entry');
  const config = JSON.parse(await readFile(join(out, first.Config), 'utf8')) as ImageConfigJson;
  await mkdir(into, { recursive: true });
  for (const layer of first.Layers) await applyLayer(createReadStream(join(out, layer)), into);
  const entries = new Map<string, FlatEntry>();
  await listTree(into, '', entries, new Map());
  return {
    dir: into,
    entries,
    config,
    layers: first.Layers.map((layer) => join(out, layer)),
    text: (path) => readFile(join(into, path), 'utf8'),
  };
}

/**
 * The busybox fixture archive, made once and cached in os.tmpdir() between test files; one promise
 * per process, so two harnesses of one file do not both make it under the same partial name.
 */
let busyboxMade: Promise<string> | undefined;
export function busyboxArchive(): Promise<string> {
  busyboxMade ??= makeBusyboxArchive();
  return busyboxMade;
}

async function makeBusyboxArchive(): Promise<string> {
  const cached = join(tmpdir(), 'tbuild-test-busybox.tar');
  if (existsSync(cached)) return cached;
  const partial = `${cached}.${process.pid}`;
  await run('bash', [join(repo, 'fixtures/make-busybox-image.sh'), partial]);
  await rename(partial, cached);
  return cached;
}

/** Every path under `dir` as FlatEntry, keyed `/path` (the directory itself not included). */
export async function listDirectory(dir: string): Promise<Map<string, FlatEntry>> {
  const entries = new Map<string, FlatEntry>();
  await listTree(dir, '', entries, new Map());
  return entries;
}

async function listTree(
  dir: string,
  rel: string,
  out: Map<string, FlatEntry>,
  inodes: Map<string, string>,
): Promise<void> {
  for (const name of (await readdir(join(dir, rel))).sort()) {
    const path = rel === '' ? name : `${rel}/${name}`;
    const host = join(dir, path);
    const info = await lstat(host);
    const entry: FlatEntry = {
      type: info.isFile() ? 'file' : info.isDirectory() ? 'dir' : info.isSymbolicLink() ? 'symlink' : 'other',
      mode: info.mode & 0o7777,
      uid: info.uid,
      gid: info.gid,
      size: info.isFile() ? info.size : 0,
    };
    if (info.isFile()) entry.sha256 = sha256(await readFile(host));
    if (info.isSymbolicLink()) entry.link = await readlink(host);
    if (!info.isDirectory() && info.nlink > 1) {
      // Hard links: every later path of an inode names the first one listed (sorted walk order).
      const key = `${info.dev}:${info.ino}`;
      const first = inodes.get(key);
      if (first === undefined) inodes.set(key, `/${path}`);
      else entry.hardlink = first;
    }
    out.set(`/${path}`, entry);
    if (info.isDirectory()) await listTree(dir, path, out, inodes);
  }
}
