// Layers are byte-reproducible: the same tree packs to the same blob, and with an epoch the
// mtimes of a copy (made later, so with other mtimes) do not matter.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setAttribute } from '@napi-rs/xattr';
import { listLayer } from '../../image/index.ts';
import { makeTempDir, packToFile, readStream, run } from './layer-helpers.ts';

let tmp: { dir: string; cleanup: () => Promise<void> };
let src: string;
let copy: string;
const EPOCH = 1_500_000_000; // earlier than every mtime in the test trees

before(async () => {
  tmp = await makeTempDir('layer-determinism');
  src = join(tmp.dir, 'src');
  await mkdir(join(src, 'a/b/c'), { recursive: true });
  await mkdir(join(src, 'a-b'), { recursive: true });
  await writeFile(join(src, 'a/b/c/data'), randomBytes(200_000));
  await writeFile(join(src, 'a-b/x'), 'x');
  await writeFile(join(src, 'Z-upper'), 'z');
  await writeFile(join(src, 'ünï'), 'u');
  await link(join(src, 'a-b/x'), join(src, 'a/x-link'));
  await symlink('b/c/data', join(src, 'a/data-link'));
  await setAttribute(join(src, 'a/b/c/data'), 'user.k', 'v');
  run('mkfifo', [join(src, 'a/fifo')]);
  // A copy with other mtimes: every node gets a later, distinct time.
  copy = join(tmp.dir, 'copy');
  run('cp', ['-a', src, copy]);
  run('find', [copy, '-exec', 'touch', '-h', '-d', '2031-05-06 07:08:09', '{}', '+']);
});
after(() => tmp.cleanup());

test('packing the same tree twice gives byte-identical blobs', async () => {
  const first = await packToFile({ kind: 'directory', path: src }, join(tmp.dir, 'one'));
  const second = await packToFile({ kind: 'directory', path: src }, join(tmp.dir, 'two'));
  assert.deepEqual(second, first);
  assert.ok((await readFile(join(tmp.dir, 'one'))).equals(await readFile(join(tmp.dir, 'two'))));
});

test('with an epoch, a copy with different mtimes packs to the same blob', async () => {
  const withoutEpoch = await packToFile({ kind: 'directory', path: copy }, join(tmp.dir, 'copy-plain'));
  const original = await packToFile({ kind: 'directory', path: src }, join(tmp.dir, 'src-plain'));
  assert.notEqual(withoutEpoch.digest, original.digest, 'the copy really has other mtimes');

  const a = await packToFile({ kind: 'directory', path: src }, join(tmp.dir, 'src-epoch'), { epoch: EPOCH });
  const b = await packToFile({ kind: 'directory', path: copy }, join(tmp.dir, 'copy-epoch'), {
    epoch: EPOCH,
  });
  assert.deepEqual(b, a);
  assert.ok((await readFile(join(tmp.dir, 'src-epoch'))).equals(await readFile(join(tmp.dir, 'copy-epoch'))));
  const entries = await listLayer(readStream(join(tmp.dir, 'copy-epoch')));
  assert.ok(entries.length > 0);
  for (const entry of entries) assert.equal(entry.mtime, EPOCH, `${entry.path} mtime is clamped`);
});

test('mtimes earlier than the epoch are kept', async () => {
  const digests = await packToFile({ kind: 'directory', path: src }, join(tmp.dir, 'late-epoch'), {
    epoch: 4_000_000_000,
  });
  const plain = await packToFile({ kind: 'directory', path: src }, join(tmp.dir, 'no-epoch'));
  assert.equal(digests.digest, plain.digest);
});

test('an uncompressed layer has digest = diffID = the gzip layer diffID', async () => {
  const gz = await packToFile({ kind: 'directory', path: src }, join(tmp.dir, 'gz'), { epoch: EPOCH });
  const plain = await packToFile({ kind: 'directory', path: src }, join(tmp.dir, 'plain'), {
    compression: 'none',
    epoch: EPOCH,
  });
  assert.equal(plain.digest, plain.diffID);
  assert.equal(plain.diffID, gz.diffID);
  assert.notEqual(gz.digest, gz.diffID);
  assert.equal(plain.size, (await readFile(join(tmp.dir, 'plain'))).length);
  assert.equal(gz.size, (await readFile(join(tmp.dir, 'gz'))).length);
  // The digests are sha256 of the bytes actually written.
  const sha = (await import('node:crypto')).createHash('sha256');
  assert.equal(gz.digest, `sha256:${sha.update(await readFile(join(tmp.dir, 'gz'))).digest('hex')}`);
});

test('entries come out in BuildKit walk order: a, a/..., a-b (not a, a-b, a/...)', async () => {
  const entries = await listLayer(readStream(join(tmp.dir, 'one')));
  assert.deepEqual(
    entries.map((e) => e.path),
    [
      'Z-upper',
      'a/',
      'a/b/',
      'a/b/c/',
      'a/b/c/data',
      'a/data-link',
      'a/fifo',
      'a/x-link',
      'a-b/',
      'a-b/x',
      'ünï',
    ],
  );
  assert.equal(entries.find((e) => e.path === 'a-b/x')?.type, 'link', 'second path of the inode is a link');
});
