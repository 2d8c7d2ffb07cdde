// Reproducible images (issue 17): with SOURCE_DATE_EPOCH (in the environment of `tbuild build` or
// as a build arg) the same Dockerfile and context give the same image from two fresh roots built
// at different times: config and history `created` are the epoch, every layer's mtimes are
// clamped to it. Without it the two images differ, so the epoch is what makes them equal.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { listLayer } from '../../image/index.ts';
import { type BuildHarness, setupBuildTests } from './helpers.ts';

const run = promisify(execFile);
const EPOCH = 1700000000;
const EPOCH_TIME = '2023-11-14T22:13:20Z';

// Two roots, each with its own busybox: nothing is shared between the builds compared.
const first = setupBuildTests();
const second = setupBuildTests();
const it = (name: string, fn: () => Promise<void>) => test(name, { skip: first.skip }, fn);

/** With `ARG SOURCE_DATE_EPOCH`, RUN sees the value (and so its cache key covers it). */
const dockerfile = (declared: boolean) =>
  [
    'FROM busybox',
    ...(declared ? ['ARG SOURCE_DATE_EPOCH'] : []),
    'RUN mkdir -p /out/deep && echo made > /out/deep/file && echo "epoch=$SOURCE_DATE_EPOCH" > /out/epoch',
    'COPY ctx /ctx/',
    'ADD files.tar /added/',
    'COPY <<EOF /heredoc.txt',
    'from a heredoc',
    'EOF',
    'RUN <<EOF',
    'echo script > /out/script',
    'EOF',
    '',
  ].join('\n');

let scratch = '';
after(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

/** A tar of two files made now (its entries carry the current mtime), for `ADD files.tar`. */
async function freshTar(): Promise<Buffer> {
  scratch ||= await mkdtemp(join(tmpdir(), 'tbuild-repro-'));
  const dir = await mkdtemp(join(scratch, 'tar-'));
  await mkdir(join(dir, 'sub'));
  await writeFile(join(dir, 'a.txt'), 'a\n');
  await writeFile(join(dir, 'sub/b.txt'), 'b\n');
  await run('tar', ['-cf', join(dir, 'files.tar'), '-C', dir, 'a.txt', 'sub']);
  return readFile(join(dir, 'files.tar'));
}

interface Built {
  id: string;
  manifest: string;
  created: string;
  history: { created?: string }[];
  layers: string[];
}

/**
 * Writes a fresh context (new files, so new mtimes) and builds it in `h`'s root, with `env` added to
 * the CLI's environment; returns what `tbuild inspect` says and the saved layer tars.
 */
async function build(
  h: BuildHarness,
  tag: string,
  env: Record<string, string>,
  args: string[] = [],
  declared = false,
): Promise<Built> {
  const files = {
    Dockerfile: dockerfile(declared),
    'ctx/one.txt': 'one\n',
    'ctx/dir/two.txt': 'two\n',
    'files.tar': await freshTar(),
  };
  // The harness's CLI child inherits process.env; the tests of a file run one at a time.
  const saved = { ...process.env };
  Object.assign(process.env, env);
  let result: Awaited<ReturnType<BuildHarness['build']>>;
  try {
    result = await h.build(files, { tag, args });
  } finally {
    for (const key of Object.keys(env)) {
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    }
  }
  assert.equal(result.code, 0, result.stderr);
  const inspected = await h.cli(['inspect', tag]);
  assert.equal(inspected.code, 0, inspected.stderr);
  const [image] = JSON.parse(inspected.stdout) as {
    Id: string;
    Created: string;
    Descriptor: { digest: string };
    Metadata: { History: { created?: string }[] };
  }[];
  assert.ok(image);
  const flat = await h.flatten(tag);
  return {
    id: image.Id,
    manifest: image.Descriptor.digest,
    created: image.Created,
    history: image.Metadata.History,
    layers: flat.layers,
  };
}

async function assertClamped(built: Built): Promise<void> {
  assert.equal(built.created, EPOCH_TIME);
  // This build's entries are the epoch; the base image's are kept when not later than it.
  for (const entry of built.history) {
    assert.ok(entry.created !== undefined && Date.parse(entry.created) <= EPOCH * 1000, entry.created);
  }
  assert.equal(built.history.at(-1)?.created, EPOCH_TIME);
  let entries = 0;
  for (const layer of built.layers) {
    for (const entry of await listLayer(createReadStream(layer))) {
      entries++;
      assert.ok(entry.mtime <= EPOCH, `${entry.path}: mtime ${entry.mtime} is after the epoch`);
    }
  }
  assert.ok(entries > 10, 'the layers have entries');
}

it('SOURCE_DATE_EPOCH in the environment: the same image from two roots at different times', async () => {
  // Root 1 first builds without the epoch: its unclamped layers are cached under keys that an
  // epoch build must not hit (the Dockerfile does not declare the ARG and COPY keys ignore mtimes,
  // so only the epoch in the keys keeps them apart).
  const plainA = await build(first, 'plain', {});
  const a = await build(first, 'repro', { SOURCE_DATE_EPOCH: String(EPOCH) });
  await sleep(1100);
  const b = await build(second, 'repro', { SOURCE_DATE_EPOCH: String(EPOCH) });
  await sleep(1100);
  const plainB = await build(second, 'plain', {});

  assert.equal(a.id, b.id);
  assert.equal(a.manifest, b.manifest);
  await assertClamped(a);
  await assertClamped(b);
  // Without the epoch, the same inputs give different images.
  assert.notEqual(plainA.id, plainB.id);
  assert.notEqual(plainA.manifest, plainB.manifest);
  assert.notEqual(plainA.id, a.id);
});

it('--build-arg SOURCE_DATE_EPOCH: the same image, and RUN sees the value through ARG', async () => {
  const arg = ['--build-arg', `SOURCE_DATE_EPOCH=${EPOCH}`];
  // The environment's value loses to the flag's, as buildx only fills in a missing build arg.
  const a = await build(first, 'arg', { SOURCE_DATE_EPOCH: '1' }, arg, true);
  await sleep(1100);
  const b = await build(second, 'arg', {}, arg, true);
  assert.equal(a.id, b.id);
  assert.equal(a.manifest, b.manifest);
  await assertClamped(a);
  const image = await second.flatten('arg');
  assert.equal(await image.text('/out/epoch'), `epoch=${EPOCH}\n`);
});

it('an invalid SOURCE_DATE_EPOCH is refused in one line', async () => {
  const result = await first.build(
    { Dockerfile: 'FROM busybox\n' },
    { tag: 'bad', args: ['--build-arg', 'SOURCE_DATE_EPOCH=soon'] },
  );
  assert.equal(result.code, 1);
  assert.match(result.stderr, /invalid SOURCE_DATE_EPOCH: soon/);
  assert.doesNotMatch(result.stderr, /\n\s+at /);
});
