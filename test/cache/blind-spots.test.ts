// Cache-key blind spots (issue 11, item 4): each test here was written against a mutation of the
// source that every other test let through, and fails with it:
//  - the COPY checksum leaving out a symlink's target (cache/selection-checksum.ts);
//  - a cache record whose layer blob is gone counting as a hit (solver/ops/record-policy.ts readLocal);
//  - the COPY memo key leaving out `--exclude` (cache/content-hash.ts memoKey).
// A step is a hit when `--progress plain` shows it CACHED, a miss when it shows DONE.
import assert from 'node:assert/strict';
import { readdir, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { ImageStore } from '../../image/index.ts';
import { setupBuildTests } from '../build/helpers.ts';
import { imageId, stepOutcomes, steps } from './steps.ts';

const h = setupBuildTests();
/** A second, fresh root: what a key must be whatever ran before on the first one. */
const fresh = setupBuildTests();
const it = (name: string, fn: () => Promise<void>) => test(name, { skip: h.skip }, fn);

let n = 0;
async function build(harness: typeof h, dir: string, args: string[] = []) {
  const tag = `blind${++n}`;
  const r = await harness.cli(['build', '--progress', 'plain', '-t', tag, ...args, dir]);
  assert.equal(r.code, 0, r.stderr);
  const o = stepOutcomes(r.stderr);
  return { ...r, tag, cached: steps(o.cached), ran: steps(o.ran), id: imageId(r.stderr) };
}

async function fsckClean(harness: typeof h) {
  const r = await harness.cli(['fsck']);
  assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
  assert.doesNotMatch(r.stdout, /missing|unreferenced|problem/i, r.stdout);
}

const settle = () => new Promise((r) => setTimeout(r, 2100));
const recordKeys = async (harness: typeof h) =>
  new Set((await readdir(join(harness.root(), 'cache', 'keys'))).filter((f) => f.endsWith('.json')));

it('re-pointing a symlink inside a copied folder re-runs the COPY; the image has the new link', async () => {
  const dir = await h.testdir({
    Dockerfile: 'FROM busybox\nCOPY app/ /app/\n',
    'app/one.txt': 'blind-link-one\n',
    'app/two.txt': 'blind-link-two\n',
    'app/current': { symlink: 'one.txt' },
  });
  const first = await build(h, dir);
  assert.ok(first.ran.includes('[2/2] COPY app/ /app/'), first.stderr);
  assert.equal((await h.flatten(first.tag)).entries.get('/app/current')?.link, 'one.txt');
  assert.deepEqual((await build(h, dir)).ran, [], 'an unchanged rebuild hits');
  await rm(join(dir, 'app/current'));
  await symlink('two.txt', join(dir, 'app/current'));
  const second = await build(h, dir);
  assert.deepEqual(second.ran, ['[2/2] COPY app/ /app/']);
  assert.notEqual(second.id, first.id);
  assert.equal((await h.flatten(second.tag)).entries.get('/app/current')?.link, 'two.txt');
  // Also on a settled context, where the key comes from the fingerprint memo.
  await settle();
  assert.deepEqual((await build(h, dir)).ran, []);
  await rm(join(dir, 'app/current'));
  await symlink('elsewhere/three.txt', join(dir, 'app/current'));
  const third = await build(h, dir);
  assert.deepEqual(third.ran, ['[2/2] COPY app/ /app/']);
  assert.equal((await h.flatten(third.tag)).entries.get('/app/current')?.link, 'elsewhere/three.txt');
  // Back to the first target: the first build's record, the first image.
  await rm(join(dir, 'app/current'));
  await symlink('one.txt', join(dir, 'app/current'));
  const fourth = await build(h, dir);
  assert.deepEqual(fourth.ran, []);
  assert.equal(fourth.id, first.id);
});

it('a cache record whose layer blob is gone is a miss: the step runs, the image is whole, fsck is clean', async () => {
  const dir = await h.testdir({
    Dockerfile: 'FROM busybox\nCOPY a.txt /a\nRUN cat /a > /b\n',
    'a.txt': 'blind-blob\n',
  });
  // A fixed mtime: the COPY's layer is byte for byte the same when it is made again.
  const old = new Date('2020-01-01T00:00:00Z');
  await utimes(join(dir, 'a.txt'), old, old);
  const first = await build(h, dir);
  const store = await ImageStore.open(h.root());
  let copyBlob: string;
  try {
    const image = await store.resolve(first.tag);
    // busybox's layer, the COPY's, the RUN's.
    assert.equal(image.manifest.layers.length, 3);
    copyBlob = (image.manifest.layers[1] as { digest: string }).digest;
    await rm(store.blobPath(copyBlob as `sha256:${string}`));
    assert.equal(await store.hasBlob(copyBlob as `sha256:${string}`), false);
  } finally {
    await store.close();
  }
  const second = await build(h, dir, ['-t', first.tag]);
  // The COPY runs again (its record has no blob); the RUN's own record is whole, but its key is
  // only reached once the COPY is made, and it is a hit then.
  assert.ok(second.ran.includes('[2/3] COPY a.txt /a'), second.stderr);
  const image = await h.flatten(second.tag);
  assert.equal(await image.text('/a'), 'blind-blob\n');
  assert.equal(await image.text('/b'), 'blind-blob\n');
  const check = await ImageStore.open(h.root());
  try {
    assert.equal(await check.hasBlob(copyBlob as `sha256:${string}`), true, 'the blob is back');
  } finally {
    await check.close();
  }
  await fsckClean(h);
  const run = await h.cli(['run', '--rm', second.tag, 'cat', '/b']);
  assert.equal(run.stdout, 'blind-blob\n', run.stderr);
});

it('COPY --exclude: the excludes are in the memo key; the same COPY gets the same key as on a fresh root', async () => {
  const dir = await h.testdir({
    'Dockerfile.plain': 'FROM busybox\nCOPY src/ /s/\n',
    'Dockerfile.excluding': 'FROM busybox\nCOPY --exclude=*.log src/ /s/\n',
    'src/a.txt': 'blind-exclude-a\n',
  });
  const plain = ['-f', join(dir, 'Dockerfile.plain')];
  const excluding = ['-f', join(dir, 'Dockerfile.excluding')];
  const first = await build(h, dir, plain);
  assert.ok(first.ran.includes('[2/2] COPY src/ /s/'), first.stderr);
  // A file only the plain COPY takes; settled, so the next COPY's checksum is remembered.
  await writeFile(join(dir, 'src/a.log'), 'blind-exclude-log\n');
  await settle();
  const excluded = await build(h, dir, excluding);
  assert.deepEqual(excluded.ran, ['[2/2] COPY --exclude=*.log src/ /s/']);
  assert.equal(excluded.id === first.id, false);
  // The plain COPY must see a.log, whatever the excluding one remembered about the same files.
  const second = await build(h, dir, plain);
  assert.deepEqual(second.ran, ['[2/2] COPY src/ /s/']);
  const flat = await h.flatten(second.tag);
  assert.equal(await flat.text('/s/a.log'), 'blind-exclude-log\n');
  // The same builds on a fresh root: the same keys, every one already on the first root. (Not
  // the same image IDs: an image is dated by when its cache records were made.)
  const here = await recordKeys(h);
  await build(fresh, dir, plain);
  await build(fresh, dir, excluding);
  const there = await recordKeys(fresh);
  assert.ok(there.size >= 3, [...there].join(' '));
  for (const key of there) assert.ok(here.has(key), `key ${key} of the fresh root`);
});
