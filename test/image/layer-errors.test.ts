// Broken or unsupported layer blobs fail with a LayerError, not a crash or a partial silence.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { applyLayer, LayerError, listLayer } from '../../image/index.ts';
import { makeTempDir, packToFile, run } from './layer-helpers.ts';

let tmp: { dir: string; cleanup: () => Promise<void> };
let good: Buffer;

before(async () => {
  tmp = await makeTempDir('layer-errors');
  await mkdir(join(tmp.dir, 'src'));
  await writeFile(join(tmp.dir, 'src/content'), randomBytes(100_000));
  await packToFile({ kind: 'directory', path: join(tmp.dir, 'src') }, join(tmp.dir, 'good.tar.gz'));
  good = await readFile(join(tmp.dir, 'good.tar.gz'));
});
after(() => tmp.cleanup());

function isLayerError(entry: string, reason: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof LayerError, `expected a LayerError, got ${String(error)}`);
    assert.equal(error.entry, entry);
    assert.match(error.message, reason);
    return true;
  };
}

test('a truncated gzip blob is a LayerError', async () => {
  const cut = good.subarray(0, Math.floor(good.length / 2));
  await assert.rejects(applyLayer(Readable.from([cut]), join(tmp.dir, 'cut')), (error: unknown) => {
    assert.ok(error instanceof LayerError);
    assert.equal(error.entry, 'content', 'names the entry the archive ended in');
    assert.match(error.message, /unexpected end of file/);
    return true;
  });
});

test('bytes that are not a tar are a LayerError', async () => {
  const junk = Buffer.alloc(2048, 0x41);
  await assert.rejects(
    listLayer(Readable.from([junk])),
    isLayerError('(archive)', /cannot read layer|Invalid tar header/),
  );
  await assert.rejects(
    applyLayer(Readable.from([junk]), join(tmp.dir, 'junk')),
    isLayerError('(archive)', /Invalid tar header/),
  );
});

test('zstd layers are refused with a hint', async () => {
  const zstd = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0]);
  await assert.rejects(applyLayer(Readable.from([zstd]), join(tmp.dir, 'zstd')), (error: unknown) => {
    assert.ok(error instanceof LayerError);
    assert.match(error.message, /zstd/);
    assert.match(error.hint ?? '', /zstd -d/);
    return true;
  });
});

test('GNU sparse entries are refused by name', async () => {
  const sparse = join(tmp.dir, 'sparse-src');
  await writeFile(sparse, 'head');
  await truncate(sparse, 10 * 1024 * 1024);
  const blob = join(tmp.dir, 'sparse.tar');
  run('tar', ['--format=gnu', '--sparse', '-cf', blob, '-C', tmp.dir, 'sparse-src']);
  await assert.rejects(
    applyLayer(Readable.from([await readFile(blob)]), join(tmp.dir, 'sparse-out')),
    isLayerError('sparse-src', /unsupported tar entry type/),
  );
});
