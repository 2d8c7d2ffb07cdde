// Two builders with separate roots that share only a registry: one pushes the base, the other's FROM
// pulls it, builds and pushes (build --push), the first pulls the result and runs it; --pull
// refreshes a base that moved; a FROM the registry does not have fails in one located line.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { skipReason } from '../needs.ts';
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

const skip = skipReason(whyNoRegistry() || whyNoRuntime());
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

describe('a build cache shared through the registry', { skip }, () => {
  let cacheWork = '';
  let cacheRegistry: TestRegistry;
  before(async () => {
    cacheWork = await mkdtemp(join(tmpdir(), 'tbuild-registry-cache-'));
    cacheRegistry = await startRegistry(join(cacheWork, 'registry'));
    const seed = join(cacheWork, 'seed');
    await tbuildOk(seed, ['load', '-i', await busyboxArchive()]);
    await tbuildOk(seed, ['tag', 'busybox', `${cacheRegistry.host}/base:1`]);
    await tbuildOk(seed, ['push', `${cacheRegistry.host}/base:1`]);
  });
  after(async () => {
    await cacheRegistry?.stop();
    if (cacheWork) await rm(cacheWork, { recursive: true, force: true });
  });

  it('the second builder, sharing only the registry, has every step cached and the same image id', async () => {
    const host = cacheRegistry.host;
    const files = async (name: string) => {
      const dir = join(cacheWork, name);
      await mkdir(dir, { recursive: true });
      await writeFile(
        join(dir, 'Dockerfile'),
        `FROM ${host}/base:1 AS build\nCOPY input.txt /src/\nRUN sort /src/input.txt > /src/sorted && echo $RANDOM > /src/random\n` +
          `FROM ${host}/base:1\nCOPY --from=build /src/ /out/\nRUN wc -l /out/sorted > /out/count\n`,
      );
      await writeFile(join(dir, 'input.txt'), 'pear\napple\nfig\n');
      return dir;
    };
    const first = join(cacheWork, 'first');
    const a = await tbuild(first, [
      'build',
      '--progress',
      'plain',
      '--cache-to',
      `type=registry,ref=${host}/cache:main,mode=max`,
      '--push',
      '-t',
      `${host}/app:1`,
      await files('ctx-first'),
    ]);
    assert.equal(a.code, 0, a.stderr);
    assert.doesNotMatch(a.stderr, / CACHED/);
    const raw = JSON.parse(
      await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${host}/cache:main`]),
    ) as { config: { mediaType: string }; layers: unknown[] };
    assert.equal(raw.config.mediaType, 'application/vnd.tbuild.cache.config.v1+json');
    assert.ok(raw.layers.length >= 3, `mode=max exports the build stage too (${raw.layers.length} layers)`);

    const second = join(cacheWork, 'second');
    const b = await tbuild(second, [
      'build',
      '--progress',
      'plain',
      '--cache-from',
      `type=registry,ref=${host}/cache:main`,
      '-t',
      'again',
      await files('ctx-second'),
    ]);
    assert.equal(b.code, 0, b.stderr);
    for (const step of ['COPY input.txt', 'RUN sort', 'COPY --from=build', 'RUN wc -l']) {
      assert.match(
        b.stderr,
        new RegExp(`\\] ${step.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}[^\\n]*\\n#\\d+ CACHED`),
        step,
      );
    }
    const idA = (await tbuildOk(first, ['images', '-q', '--no-trunc', `${host}/app:1`])).trim();
    const idB = (await tbuildOk(second, ['images', '-q', '--no-trunc', 'again'])).trim();
    assert.match(idA, /^sha256:[a-f0-9]{64}$/);
    assert.equal(idB, idA);
    const run = await tbuild(second, ['run', 'again', 'cat', '/out/sorted', '/out/count']);
    assert.equal(run.stdout, 'apple\nfig\npear\n3 /out/sorted\n', run.stderr);
  });
});
