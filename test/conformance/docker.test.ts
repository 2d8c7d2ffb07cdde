/**
 * Conformance against Docker: every case under test/conformance/cases/ is built by tbuild and by a
 * private dockerd 20.10 with BuildKit, and the two images must match: the flattened filesystem
 * (type, mode, owner, content hash, link target, hard-link groups; not mtimes) and the runtime
 * config fields users see (Env, Cmd, Entrypoint, WorkingDir, User, ExposedPorts, Volumes,
 * Labels, OnBuild, Healthcheck, StopSignal, Shell). A case folder holds a Dockerfile and its context, plus optional files
 * that are not part of the context:
 *   args               build flags, one per line (`--build-arg=K=V`, `--target=x`, `--file=name`)
 *   setup.sh           run in the copied context before building (archives, files git cannot hold)
 *   parent.Dockerfile  built first by both engines as `<case>-parent` (a parent image for FROM)
 *   docker20/          files laid over Docker's copy of the context only, for features Docker 20.10
 *                      lacks (each says why in a comment); tbuild builds the case as written
 *   exclude            config fields or image paths left out of the comparison, one per line, each
 *                      with a `#` reason (only where Docker 20.10 differs from current BuildKit)
 * Needs root, Debian's docker.io (dockerd, /usr/bin/docker 20.10) and runc; skips otherwise.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, cp, lstat, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  busyboxArchive,
  type FlatEntry,
  type FlatImage,
  flattenArchive,
  type ImageConfigJson,
  setupBuildTests,
} from '../build/helpers.ts';
import { skipReason } from '../needs.ts';
import { type PrivateDockerd, startPrivateDockerd, whyNoDocker } from '../private-dockerd.ts';

const exec = promisify(execFile);
const casesDir = join(dirname(fileURLToPath(import.meta.url)), 'cases');
const socket = '/run/tbuild-test-docker.sock';
/** Files of a case folder that are not build context. */
const metaFiles = new Set(['args', 'setup.sh', 'parent.Dockerfile', 'docker20', 'exclude']);
/** The image config fields compared (Docker's `docker image inspect` `.Config`). */
const configFields = [
  'Env',
  'Cmd',
  'Entrypoint',
  'WorkingDir',
  'User',
  'ExposedPorts',
  'Volumes',
  'Labels',
  'OnBuild',
  'Healthcheck',
  'StopSignal',
  'Shell',
] as const;
type ConfigField = (typeof configFields)[number];

const harness = setupBuildTests();
const skip = harness.skip || skipReason(whyNoDocker());
let work = '';
let dockerd: PrivateDockerd | undefined;

before(async () => {
  if (skip) return;
  work = await mkdtemp(join(tmpdir(), 'tbuild-conformance-'));
  dockerd = await startPrivateDockerd(work, socket);
  await docker(['load', '-i', await busyboxArchive()]);
});

after(async () => {
  await dockerd?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

function docker(args: string[]): Promise<{ stdout: string; stderr: string }> {
  if (!dockerd) throw new Error('dockerd is not running');
  return dockerd.docker(args);
}

interface Case {
  name: string;
  dir: string;
  args: string[];
  excluded: Set<string>;
}

async function readCase(name: string): Promise<Case> {
  const dir = join(casesDir, name);
  const lines = async (file: string) =>
    (await readFile(join(dir, file), 'utf8').catch(() => ''))
      .split('\n')
      .map((line) => line.replace(/#.*/, '').trim())
      .filter((line) => line !== '');
  return { name, dir, args: await lines('args'), excluded: new Set(await lines('exclude')) };
}

/**
 * Copies a case's context for one engine: meta files left out, `docker20/` laid over it for Docker,
 * modes normalised as a git checkout with umask 022 gives them, then `setup.sh` run in it.
 */
async function prepareContext(one: Case, engine: 'tbuild' | 'docker'): Promise<string> {
  const ctx = join(work, one.name, `ctx-${engine}`);
  await rm(ctx, { recursive: true, force: true });
  await mkdir(ctx, { recursive: true });
  for (const name of await readdir(one.dir)) {
    if (metaFiles.has(name)) continue;
    await cp(join(one.dir, name), join(ctx, name), { recursive: true, verbatimSymlinks: true });
  }
  const overlay = join(one.dir, 'docker20');
  if (engine === 'docker' && existsSync(overlay)) {
    await cp(overlay, ctx, { recursive: true, verbatimSymlinks: true, force: true });
  }
  await normaliseModes(ctx);
  if (existsSync(join(one.dir, 'setup.sh'))) {
    await exec('bash', ['-e', join(one.dir, 'setup.sh')], { cwd: ctx, env: { ...process.env, LC_ALL: 'C' } });
  }
  return ctx;
}

async function normaliseModes(dir: string): Promise<void> {
  for (const name of await readdir(dir)) {
    const path = join(dir, name);
    const info = await lstat(path);
    if (info.isSymbolicLink()) continue;
    if (info.isDirectory()) {
      await chmod(path, 0o755);
      await normaliseModes(path);
    } else await chmod(path, info.mode & 0o100 ? 0o755 : 0o644);
  }
}

/** The case's flags with `--file` made absolute against its context (both CLIs read it from cwd). */
function flagsFor(one: Case, ctx: string): string[] {
  return one.args.map((arg) => arg.replace(/^(--file=|-f=)(?!\/)/, `$1${ctx}/`));
}

async function buildWithTbuild(one: Case, ctx: string, tag: string, extra: string[] = []): Promise<void> {
  const result = await harness.cli([
    'build',
    '--progress',
    'plain',
    '--network',
    'none',
    '-t',
    tag,
    ...extra,
    ctx,
  ]);
  if (result.code !== 0)
    throw new Error(`tbuild build of ${one.name} failed (exit ${result.code}):\n${result.stderr}`);
}

async function buildWithDocker(ctx: string, tag: string, extra: string[] = []): Promise<void> {
  await docker(['build', '--progress=plain', '--network=none', '-t', tag, ...extra, ctx]);
}

/** Builds a case (its parent image first, when it has one) with tbuild; returns the tag. */
async function buildCaseWithTbuild(one: Case): Promise<string> {
  const ctx = await prepareContext(one, 'tbuild');
  const parent = join(one.dir, 'parent.Dockerfile');
  if (existsSync(parent)) await buildWithTbuild(one, ctx, `${one.name}-parent`, ['--file', parent]);
  const tag = `conformance-${one.name}`;
  await buildWithTbuild(one, ctx, tag, flagsFor(one, ctx));
  return tag;
}

async function buildCaseWithDocker(one: Case): Promise<string> {
  const ctx = await prepareContext(one, 'docker');
  const parent = join(one.dir, 'parent.Dockerfile');
  if (existsSync(parent)) await buildWithDocker(ctx, `${one.name}-parent`, ['--file', parent]);
  const tag = `conformance-${one.name}`;
  await buildWithDocker(ctx, tag, flagsFor(one, ctx));
  return tag;
}

async function flattenDocker(one: Case, tag: string): Promise<FlatImage> {
  const archive = join(work, one.name, 'docker-save.tar');
  await docker(['save', '-o', archive, tag]);
  return flattenArchive(archive, join(work, one.name, 'docker-flat'));
}

/** One line per entry, all compared attributes; no mtimes. */
function show(entry: FlatEntry | undefined): string {
  if (entry === undefined) return 'absent';
  const parts = [entry.type, entry.mode.toString(8).padStart(4, '0'), `${entry.uid}:${entry.gid}`];
  if (entry.sha256 !== undefined) parts.push(`sha256:${entry.sha256.slice(0, 12)} (${entry.size} bytes)`);
  if (entry.link !== undefined) parts.push(`-> ${entry.link}`);
  if (entry.hardlink !== undefined) parts.push(`hardlink of ${entry.hardlink}`);
  return parts.join(' ');
}

function diffFilesystems(docker: FlatImage, tbuild: FlatImage, excluded: Set<string>): string[] {
  const paths = [...new Set([...docker.entries.keys(), ...tbuild.entries.keys()])]
    .filter((path) => !excluded.has(path))
    .sort();
  const lines: string[] = [];
  for (const path of paths) {
    const want = show(docker.entries.get(path));
    const got = show(tbuild.entries.get(path));
    if (want !== got) lines.push(`  ${path}\n      docker: ${want}\n      tbuild: ${got}`);
  }
  return lines;
}

/** JSON with sorted object keys; null and absent are the same (Docker prints nil as null). */
function canonical(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner !== null && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => (a < b ? -1 : 1)))
      : inner,
  );
}

function diffConfigs(
  docker: ImageConfigJson['config'],
  tbuild: ImageConfigJson['config'],
  excluded: Set<string>,
): string[] {
  const lines: string[] = [];
  for (const field of configFields) {
    if (excluded.has(field)) continue;
    const want = canonical(docker[field as ConfigField]);
    const got = canonical(tbuild[field as ConfigField]);
    if (want !== got)
      lines.push(`  ${field}\n      docker: ${want ?? 'absent'}\n      tbuild: ${got ?? 'absent'}`);
  }
  return lines;
}

const allCases = existsSync(casesDir) ? (await readdir(casesDir)).sort() : [];
/** `CONFORMANCE_CASES=a,b` runs only those cases (while working on them). */
const only = process.env.CONFORMANCE_CASES?.split(',').filter(Boolean);
const caseNames = only ? allCases.filter((name) => only.includes(name)) : allCases;

/** Both values, once both promises have settled; the first rejection otherwise. */
async function settleBoth<A, B>(a: Promise<A>, b: Promise<B>): Promise<[A, B]> {
  const [first, second] = await Promise.allSettled([a, b]);
  if (first.status === 'rejected') throw first.reason;
  if (second.status === 'rejected') throw second.reason;
  return [first.value, second.value];
}

test('the conformance suite has at least 25 cases', () => {
  assert.ok(allCases.length >= 25, `only ${allCases.length} cases`);
});

for (const name of caseNames) {
  test(`conformance: ${name}`, { skip }, async () => {
    const one = await readCase(name);
    // The two engines build side by side: they share nothing but the case folder.
    // Both settle before either failure is reported: a side still writing its flattened copy
    // while the harness removes the work folder makes that removal fail (ENOTEMPTY).
    const [dockerImage, tbuildImage] = await settleBoth(
      buildCaseWithDocker(one).then((tag) => flattenDocker(one, tag)),
      buildCaseWithTbuild(one).then((tag) => harness.flatten(tag)),
    );
    const fsDiff = diffFilesystems(dockerImage, tbuildImage, one.excluded);
    // The config blob `docker save` wrote, not `docker image inspect`: inspect prints an absent
    // WorkingDir or User as "", so it cannot tell them apart.
    const configDiff = diffConfigs(dockerImage.config.config, tbuildImage.config.config, one.excluded);
    const report = [
      ...(fsDiff.length > 0 ? [`filesystem differs at ${fsDiff.length} paths:`, ...fsDiff.slice(0, 40)] : []),
      ...(fsDiff.length > 40 ? [`  ... ${fsDiff.length - 40} more`] : []),
      ...(configDiff.length > 0 ? ['config differs:', ...configDiff] : []),
    ];
    assert.equal(report.length, 0, `${name}: tbuild and Docker disagree\n${report.join('\n')}`);
    assert.ok(tbuildImage.entries.size > 0, `${name}: empty image`);
  });
}

test('an image saved by tbuild loads into Docker and runs the same as `tbuild run`', { skip }, async () => {
  const one = await readCase('all-instructions');
  const tag = await buildCaseWithTbuild(one);
  const exported = 'tbuild-exported:latest';
  assert.equal((await harness.cli(['tag', tag, exported])).code, 0);
  const archive = join(work, 'exported.tar');
  const saved = await harness.cli(['save', '-o', archive, exported]);
  assert.equal(saved.code, 0, saved.stderr);
  await docker(['load', '-i', archive]);
  for (const command of [[], ['/app/run.txt'], ['/etc/passwd']]) {
    const inDocker = await docker(['run', '--rm', '--network', 'none', exported, ...command]);
    const inTbuild = await harness.cli(['run', '--rm', '--network', 'none', exported, ...command]);
    assert.equal(inTbuild.code, 0, inTbuild.stderr);
    assert.ok(inDocker.stdout.length > 0, `docker run ${command.join(' ')} printed nothing`);
    assert.equal(inTbuild.stdout, inDocker.stdout, `output of run ${command.join(' ')}`);
  }
  const whoami = ['--entrypoint', '/bin/sh', exported, '-c', 'id; pwd; echo "$APP $MODE"'];
  const inDocker = await docker(['run', '--rm', '--network', 'none', ...whoami]);
  const inTbuild = await harness.cli(['run', '--rm', '--network', 'none', ...whoami]);
  assert.equal(inTbuild.stdout, inDocker.stdout, 'user, workdir and env in the container');
});
