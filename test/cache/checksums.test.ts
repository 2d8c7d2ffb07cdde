import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { lstat, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ChecksumCache } from '../../cache/index.ts';

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
