import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { lstat, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ChecksumCache, pruneMemos, readSelectionMemo, writeSelectionMemo } from '../../cache/index.ts';

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tbuild-checksums-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

test('an unchanged file is read once, also across processes (persisted)', async () => {
  const root = join(dir, 'r1');
  const file = join(dir, 'a.txt');
  await writeFile(file, 'alpha');
  const first = await ChecksumCache.open(root, { racyWindowMs: 0 });
  assert.equal(await first.digestFile(file, await lstat(file)), sha('alpha'));
  assert.equal(await first.digestFile(file, await lstat(file)), sha('alpha'));
  assert.equal(first.reads, 1);
  await first.save();
  const second = await ChecksumCache.open(root, { racyWindowMs: 0 });
  assert.equal(await second.digestFile(file, await lstat(file)), sha('alpha'));
  assert.equal(second.reads, 0);
});

test('a change with the same size and a restored mtime is still seen (ctime, inode)', async () => {
  const root = join(dir, 'r2');
  const file = join(dir, 'b.txt');
  await writeFile(file, 'one');
  const past = new Date('2001-01-01');
  await utimes(file, past, past);
  const cache = await ChecksumCache.open(root, { racyWindowMs: 0 });
  assert.equal(await cache.digestFile(file, await lstat(file)), sha('one'));
  await new Promise((r) => setTimeout(r, 15));
  await writeFile(file, 'two');
  await utimes(file, past, past);
  assert.equal(await cache.digestFile(file, await lstat(file)), sha('two'));
  assert.equal(cache.reads, 2);
});

test('racy entries (changed just before hashing) are not persisted', async () => {
  const root = join(dir, 'r3');
  const file = join(dir, 'c.txt');
  await writeFile(file, 'fresh');
  const cache = await ChecksumCache.open(root, { racyWindowMs: 60_000 });
  await cache.digestFile(file, await lstat(file));
  await cache.save();
  const reopened = await ChecksumCache.open(root, { racyWindowMs: 60_000 });
  await reopened.digestFile(file, await lstat(file));
  assert.equal(reopened.reads, 1);
});

test('a damaged persisted file is an empty cache, not an error', async () => {
  const root = join(dir, 'r4');
  const { mkdir } = await import('node:fs/promises');
  await mkdir(join(root, 'cache'), { recursive: true });
  await writeFile(join(root, 'cache', 'checksums.json'), '{not json');
  const file = join(dir, 'd.txt');
  await writeFile(file, 'x');
  const cache = await ChecksumCache.open(root);
  assert.equal(await cache.digestFile(file, await lstat(file)), sha('x'));
});

test('selection memos: kept when settled, skipped when racy, ignored when torn, pruned when idle', async () => {
  const root = join(dir, 'r5');
  const stat1 = `sha256:${sha('stat tuple 1')}`;
  const stat2 = `sha256:${sha('stat tuple 2')}`;
  const sum = `sha256:${sha('content')}`;
  const now = Date.now();
  assert.equal(await readSelectionMemo(root, stat1), undefined);
  // A file changed 100 ms before hashing is racy: nothing is remembered.
  await writeSelectionMemo(root, stat1, sum, now - 100, now);
  assert.equal(await readSelectionMemo(root, stat1), undefined);
  await writeSelectionMemo(root, stat1, sum, now - 5000, now);
  assert.equal(await readSelectionMemo(root, stat1), sum);
  // A torn memo (a crash mid-write) is a miss, not a wrong checksum.
  const memoDir = join(root, 'cache', 'checksum-memo');
  await writeFile(join(memoDir, sha('stat tuple 1')), sum.slice(0, 20));
  assert.equal(await readSelectionMemo(root, stat1), undefined);
  // Idle ones go; recently used ones stay; without a cut-off all go.
  await writeSelectionMemo(root, stat1, sum, now - 5000, now);
  await writeSelectionMemo(root, stat2, sum, now - 5000, now);
  const old = new Date(now - 10 * 24 * 3600 * 1000);
  await utimes(join(memoDir, sha('stat tuple 1')), old, old);
  assert.equal(await pruneMemos(root, now - 7 * 24 * 3600 * 1000), 1);
  assert.deepEqual(await readdir(memoDir), [sha('stat tuple 2')]);
  assert.equal(await pruneMemos(root), 1);
  assert.deepEqual(await readdir(memoDir), []);
});

test('the checksum table is not read until a file needs it', async () => {
  const root = join(dir, 'r6');
  const { mkdir } = await import('node:fs/promises');
  await mkdir(join(root, 'cache'), { recursive: true });
  const file = join(dir, 'e.txt');
  await writeFile(file, 'e');
  const info = await lstat(file);
  const key = `${file}\0${info.size}\0${info.mtimeMs}\0${info.ino}\0${info.ctimeMs}`;
  // A persisted entry with a deliberately wrong digest shows whether the table was consulted.
  await writeFile(
    join(root, 'cache', 'checksums.json'),
    JSON.stringify({ version: 1, entries: [[key, 'f00d']] }),
  );
  const cache = await ChecksumCache.open(root);
  await rm(join(root, 'cache', 'checksums.json'));
  // Opened before the file went away, but loaded only now: the table is gone, so the file is read.
  assert.equal(await cache.digestFile(file, info), sha('e'));
  assert.equal(cache.reads, 1);
});
