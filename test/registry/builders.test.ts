// Two builders with separate roots that share only a registry: one pushes the base, the other's FROM
// pulls it, builds and pushes (build --push), the first pulls the result and runs it; --pull
// refreshes a base that moved; a FROM the registry does not have fails in one located line.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  busyboxArchive,
  skopeo,
  startRegistry,
  type TestRegistry,
  tbuild,
  tbuildOk,
  whyNoRegistry,
  whyNoRuntime,
} from './helpers.ts';

const skip = whyNoRegistry() || whyNoRuntime();
let work = '';
let registry: TestRegistry;
let rootA = '';
let rootB = '';
let contexts = 0;

async function context(dockerfile: string): Promise<string> {
  const dir = join(work, `ctx-${++contexts}`);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'Dockerfile'), dockerfile);
  return dir;
}

async function imageId(root: string, ref: string): Promise<string> {
  return (await tbuildOk(root, ['images', '-q', '--no-trunc', ref])).trim();
}

describe('builders sharing a registry', { skip }, () => {
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'tbuild-registry-builders-'));
    registry = await startRegistry(join(work, 'registry'));
    rootA = join(work, 'a');
    rootB = join(work, 'b');
    await tbuildOk(rootA, ['load', '-i', await busyboxArchive()]);
    await tbuildOk(rootA, ['tag', 'busybox', `${registry.host}/base:1`]);
    await tbuildOk(rootA, ['push', `${registry.host}/base:1`]);
  });
  after(async () => {
    await registry?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('B builds FROM the pushed base (auto-pull) and pushes; A pulls the result and runs it', async () => {
    const app = `${registry.host}/app:1`;
    const ctx = await context(
      `FROM ${registry.host}/base:1\nRUN echo built-by-b > /greeting\nCMD ["cat", "/greeting"]\n`,
    );
    const built = await tbuild(rootB, ['build', '--progress', 'plain', '--push', '-t', app, ctx]);
    assert.equal(built.code, 0, built.stderr);
    assert.match(built.stderr, /Pushed/);
    assert.match(built.stderr, /Mounted from base/, 'the base layer is mounted, not uploaded again');
    const idB = await imageId(rootB, app);
    const inspect = JSON.parse(
      await skopeo(['inspect', '--config', '--raw', '--tls-verify=false', `docker://${app}`]),
    );
    assert.deepEqual(inspect.config.Cmd, ['cat', '/greeting']);
    await tbuildOk(rootA, ['pull', app]);
    assert.equal(await imageId(rootA, app), idB);
    const run = await tbuild(rootA, ['run', app]);
    assert.equal(run.stdout, 'built-by-b\n', run.stderr);
  });

  it('--pull refreshes a base that moved at the registry; without it the local copy is used', async () => {
    const newBase = await context('FROM busybox\nRUN echo v2 > /version\n');
    await tbuildOk(rootA, ['build', '-q', '--push', '-t', `${registry.host}/base:1`, newBase]);
    const ctx = await context(`FROM ${registry.host}/base:1\nCMD ["cat", "/version"]\n`);
    await tbuildOk(rootB, ['build', '-q', '-t', 'stale', ctx]);
    const stale = await tbuild(rootB, ['run', 'stale']);
    assert.notEqual(stale.code, 0, 'the local (old) base has no /version');
    await tbuildOk(rootB, ['build', '-q', '--pull', '-t', 'fresh', ctx]);
    const fresh = await tbuild(rootB, ['run', 'fresh']);
    assert.equal(fresh.stdout, 'v2\n', fresh.stderr);
  });

  it('a FROM image the registry does not have: located build error naming the registry step', async () => {
    const ctx = await context(`FROM ${registry.host}/missing:1\nRUN true\n`);
    const r = await tbuild(rootB, ['build', '--progress', 'plain', ctx]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /ERROR: Dockerfile:1: base image "127\.0\.0\.1:\d+\/missing:1" could not be pulled: 127\.0\.0\.1:\d+: pull manifest [^:]+:\d+\/missing:1: 404 Not Found/,
    );
  });
});
