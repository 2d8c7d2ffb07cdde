// image/layer-size.ts: Docker's SIZE of a layer from its tar, checked against what moby's
// pkg/directory Size counts on the unpacked tree (every non-directory's lstat size, a hardlinked
// inode once), for GNU tar's gnu, pax and ustar formats; plus the store's record of it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  linkSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { ImageStore } from '../../image/index.ts';
import { TarSizeCounter } from '../../image/layer-size.ts';
import { makeTempDir } from './helpers.ts';

const tmp = makeTempDir('tbuild-layer-size-');
after(() => tmp.cleanup());

/** moby pkg/directory calcSize: lstat sizes of non-directories, each inode once. */
function directorySize(dir: string): number {
  let size = 0;
  const seen = new Set<number>();
  const walk = (path: string) => {
    for (const name of readdirSync(path)) {
      const child = join(path, name);
      const s = lstatSync(child);
      if (s.isDirectory()) walk(child);
      else if (s.size > 0 && !seen.has(s.ino)) {
        seen.add(s.ino);
        size += s.size;
      }
    }
  };
  walk(dir);
  return size;
}

function counted(data: Buffer, chunk = 1000): number | undefined {
  const counter = new TarSizeCounter();
  for (let at = 0; at < data.length; at += chunk) counter.write(data.subarray(at, at + chunk));
  return counter.size();
}

const tree = join(tmp.dir, 'tree');
mkdirSync(join(tree, 'bin'), { recursive: true });
mkdirSync(join(tree, 'empty-dir'));
writeFileSync(join(tree, 'bin', 'busybox'), Buffer.alloc(123_457, 7));
linkSync(join(tree, 'bin', 'busybox'), join(tree, 'bin', 'sh'));
symlinkSync('busybox', join(tree, 'bin', 'ls'));
symlinkSync('/bin/busybox', join(tree, 'bin', 'cat'));
writeFileSync(join(tree, 'empty'), '');
const long = `${'d'.repeat(90)}/${'f'.repeat(120)}`;
mkdirSync(join(tree, 'd'.repeat(90)));
writeFileSync(join(tree, long), 'long name\n');
symlinkSync(`/${'t'.repeat(150)}`, join(tree, 'long-link'));
writeFileSync(join(tree, 'ünïcode'), 'ü\n');

for (const format of ['gnu', 'pax', 'posix']) {
  test(`a ${format} tar counts as moby counts the unpacked tree`, () => {
    const data = execFileSync('tar', ['-C', tree, `--format=${format}`, '-cf', '-', '.'], {
      maxBuffer: 1 << 26,
    });
    const expected = directorySize(tree);
    assert.equal(counted(data), expected);
    assert.equal(counted(data, 1), expected, 'byte by byte');
    assert.equal(counted(data, 1 << 20), expected, 'in one chunk');
  });
}

test('a tree of directories only is 0B (a WORKDIR layer)', () => {
  const dirs = join(tmp.dir, 'dirs');
  mkdirSync(join(dirs, 'app', 'sub'), { recursive: true });
  const data = execFileSync('tar', ['-C', dirs, '-cf', '-', '.']);
  assert.equal(counted(data), 0);
});

test('what is not a whole tar has no size', () => {
  const data = execFileSync('tar', ['-C', tree, '-cf', '-', '.'], { maxBuffer: 1 << 26 });
  assert.equal(counted(data.subarray(0, 700)), undefined, 'cut inside an entry');
  assert.equal(
    counted(Buffer.from(JSON.stringify({ architecture: 'amd64', x: 'y'.repeat(600) }))),
    undefined,
  );
  assert.equal(counted(Buffer.from('{"short": "json"}')), undefined);
  const corrupt = Buffer.from(data);
  corrupt[10] = (corrupt[10] as number) ^ 0xff; // the first header's checksum no longer matches
  assert.equal(counted(corrupt), undefined);
});

test('the store records a layer size as the blob arrives, and measures an older one once', async () => {
  const root = join(tmp.dir, 'root');
  const store = await ImageStore.open(root);
  try {
    const tar = execFileSync('tar', ['-C', tree, '-cf', '-', '.'], { maxBuffer: 1 << 26 });
    const blob = await store.putBlob(gzipSync(tar), { layer: true });
    assert.equal(blob.unpackedSize, directorySize(tree));
    const record = join(root, 'image', 'sizes', blob.digest.slice(7));
    assert.equal(readFileSync(record, 'utf8'), String(directorySize(tree)));
    assert.equal(await store.layerSize(blob.digest), directorySize(tree));
    // A blob stored without a record (a store from before them): measured, then recorded.
    const plain = await store.putBlob(tar);
    assert.equal(plain.unpackedSize, undefined);
    assert.equal(await store.layerSize(plain.digest), directorySize(tree));
    assert.equal(
      readFileSync(join(root, 'image', 'sizes', plain.digest.slice(7)), 'utf8'),
      String(directorySize(tree)),
    );
    // The record is what is read: a changed record shows (so no blob is read again).
    writeFileSync(join(root, 'image', 'sizes', plain.digest.slice(7)), '42');
    assert.equal(await store.layerSize(plain.digest), 42);
    const config = await store.putBlob(Buffer.from('{"not":"a tar"}'), { layer: true });
    assert.equal(config.unpackedSize, undefined);
    assert.equal(await store.layerSize(config.digest), undefined);
    // Garbage collection takes the record with the blob.
    await store.collectGarbage([blob.digest]);
    assert.throws(() => readFileSync(record));
  } finally {
    await store.close();
  }
});
