// Cache export and import between builders (issue 5, "Export and import"): builder A exports,
// builder B (an empty root) imports, every step is a hit and the image ID is identical.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { busyboxArchive, setupBuildTests } from '../build/helpers.ts';
import { imageId, stepOutcomes, steps } from './steps.ts';

const h = setupBuildTests();
const it = (name: string, fn: () => Promise<void>) => test(name, { skip: h.skip }, fn);

const files = {
  Dockerfile: [
    'FROM busybox AS build',
    'RUN echo built-$RANDOM > /out',
    'FROM busybox',
    'COPY a.txt /a',
    'COPY --from=build /out /out',
    'RUN cat /a /out > /both',
    '',
  ].join('\n'),
  'a.txt': 'hello\n',
};
const finalSteps = [
  '[build 2/2] RUN echo built-$RANDOM > /out',
  '[stage-1 2/4] COPY a.txt /a',
  '[stage-1 3/4] COPY --from=build /out /out',
  '[stage-1 4/4] RUN cat /a /out > /both',
];

let roots = 0;
/** A second, empty builder: its own root with only busybox loaded. */
async function newBuilder() {
  const root = join(dirname(h.root()), `builder-${++roots}`);
  const cli = (args: string[]) => h.cli(['--root', root, ...args]);
  const loaded = await cli(['load', '-i', await busyboxArchive()]);
  assert.equal(loaded.code, 0, loaded.stderr);
  return { root, cli };
}

async function buildIn(cli: (args: string[]) => Promise<{ code: number; stderr: string }>, args: string[]) {
  const dir = await h.testdir(files);
  const r = await cli(['build', '--progress', 'plain', ...args, dir]);
  assert.equal(r.code, 0, r.stderr);
  const o = stepOutcomes(r.stderr);
  return { ...r, id: imageId(r.stderr), cached: steps(o.cached), ran: steps(o.ran) };
}

async function readCacheConfig(dir: string) {
  const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8'));
  const manifest = JSON.parse(
    await readFile(join(dir, 'blobs/sha256', index.manifests[0].digest.slice(7)), 'utf8'),
  );
  assert.equal(manifest.config.mediaType, 'application/vnd.tbuild.cache.config.v1+json');
  const config = JSON.parse(
    await readFile(join(dir, 'blobs/sha256', manifest.config.digest.slice(7)), 'utf8'),
  );
  return { manifest, config };
}

it('type=local mode=max: an empty builder importing it hits every step and makes the same image', async () => {
  const dest = join(dirname(h.root()), 'cache-max');
  const a = await buildIn(h.cli, ['-t', 'exp', '--cache-to', `type=local,dest=${dest},mode=max`]);
  assert.equal(a.ran.length, 5, a.stderr);
  const { manifest, config } = await readCacheConfig(dest);
  // Every layer blob of every record is in the layout.
  for (const r of config.records)
    for (const l of r.layers) {
      assert.ok(manifest.layers.some((m: { digest: string }) => m.digest === l.blob.digest));
      const blob = await readFile(join(dest, 'blobs/sha256', l.blob.digest.slice(7)));
      assert.equal(blob.length, l.blob.size);
    }

  const b = await newBuilder();
  const imported = await buildIn(b.cli, ['-t', 'exp', '--cache-from', `type=local,src=${dest}`]);
  assert.deepEqual(imported.ran, [], imported.stderr);
  assert.ok(imported.cached.includes('[stage-1 4/4] RUN cat /a /out > /both'), imported.stderr);
  assert.equal(imported.id, a.id);
  // The image is complete in B's store, and B's store is consistent.
  const fsck = await b.cli(['fsck']);
  assert.equal(fsck.code, 0, fsck.stderr);
  const ran = await b.cli(['run', '--rm', 'exp', 'cat', '/both']);
  assert.equal(ran.code, 0, ran.stderr);
  assert.match(ran.stdout, /^hello\nbuilt-\d+\n$/);
  // The imported records are local now: no --cache-from needed any more.
  const again = await buildIn(b.cli, ['-t', 'exp2']);
  assert.deepEqual(again.ran, []);
  assert.equal(again.id, a.id);
});

it('mode=min exports only the final image chain; mode=max also the other stages', async () => {
  const minDir = join(dirname(h.root()), 'cache-min');
  const maxDir = join(dirname(h.root()), 'cache-max2');
  await buildIn(h.cli, [
    '-t',
    'exp-min',
    '--cache-to',
    `type=local,dest=${minDir},mode=min`,
    '--cache-to',
    `type=local,dest=${maxDir},mode=max`,
  ]);
  const min = (await readCacheConfig(minDir)).config.records.length;
  const max = (await readCacheConfig(maxDir)).config.records.length;
  assert.ok(min < max, `min ${min} records, max ${max}`);
  // The build stage alone: its RUN is only in the max export.
  const withMin = await newBuilder();
  const t1 = await buildIn(withMin.cli, ['--target', 'build', '--cache-from', `type=local,src=${minDir}`]);
  assert.deepEqual(t1.ran, [finalSteps[0]]);
  const withMax = await newBuilder();
  const t2 = await buildIn(withMax.cli, ['--target', 'build', '--cache-from', `type=local,src=${maxDir}`]);
  assert.deepEqual(t2.ran, []);
});

it('type=inline: the image carries the cache; loaded elsewhere it seeds a builder', async () => {
  const a = await buildIn(h.cli, ['-t', 'inl', '--cache-to', 'type=inline']);
  const archive = join(dirname(h.root()), 'inl.tar');
  assert.equal((await h.cli(['save', '-o', archive, 'inl'])).code, 0);
  const b = await newBuilder();
  const loaded = await b.cli(['load', '-i', archive]);
  assert.equal(loaded.code, 0, loaded.stderr);
  const inspected = JSON.parse((await b.cli(['inspect', 'inl'])).stdout);
  assert.ok(JSON.stringify(inspected).includes('tbuild.cache.v1') || inspected.length > 0);
  const rebuilt = await buildIn(b.cli, ['-t', 'inl', '--cache-from', 'inl', '--cache-to', 'type=inline']);
  assert.deepEqual(
    rebuilt.ran.filter((s) => !s.startsWith('[build')),
    [],
    rebuilt.stderr,
  );
  assert.equal(rebuilt.id, a.id);
  // Without the cache source the same build in another empty builder runs.
  const c = await newBuilder();
  const cold = await buildIn(c.cli, ['-t', 'inl']);
  assert.ok(cold.ran.length >= 4);
});

it('a missing --cache-from source is a warning, not a failure', async () => {
  const r = await buildIn(h.cli, ['--cache-from', `type=local,src=${join(dirname(h.root()), 'nope')}`]);
  assert.match(r.stderr, /WARNING: failed to import cache from/);
});
