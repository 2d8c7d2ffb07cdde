/**
 * ADD's archive detection and unpacking (solver/ops/unpack.ts): plain, gzip, bzip2 and xz tars
 * made by GNU tar, files that only look like archives, and a large compressed tar whose check
 * stops its decompressor.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { isTarArchive, unpackArchive } from '../../solver/ops/unpack.ts';
import { needCommands, skipReason } from '../needs.ts';

const run = promisify(execFile);
let work = '';

const formats = [
  { name: 'plain', flag: '', tool: 'tar' },
  { name: 'gzip', flag: '-z', tool: 'gzip' },
  { name: 'bzip2', flag: '-j', tool: 'bzip2' },
  { name: 'xz', flag: '-J', tool: 'xz' },
];

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'tbuild-unpack-test-'));
  const src = join(work, 'src');
  await mkdir(join(src, 'top/sub'), { recursive: true });
  await writeFile(join(src, 'top/sub/file.txt'), 'inside\n');
  await run('ln', ['-s', 'sub/file.txt', join(src, 'top/link')]);
});

after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

for (const format of formats) {
  test(`a ${format.name} tar is recognised and unpacked`, {
    skip: skipReason(needCommands(format.tool)),
  }, async () => {
    const archive = join(work, `a-${format.name}.tar`);
    const flags = ['--sort=name', '--mtime=@0', '--numeric-owner', '-C', join(work, 'src'), '-c'];
    await run('tar', [...flags, ...(format.flag ? [format.flag] : []), '-f', archive, 'top']);
    assert.equal(await isTarArchive(archive), true);
    const out = join(work, `out-${format.name}`);
    await unpackArchive(archive, out);
    assert.equal(await readFile(join(out, 'top/sub/file.txt'), 'utf8'), 'inside\n');
    assert.equal(await readlink(join(out, 'top/link')), 'sub/file.txt');
    assert.ok((await stat(join(out, 'top/sub'))).isDirectory());
  });
}

test('files that are not compressed tars are not archives, whatever their name', async () => {
  const text = join(work, 'text.tar.xz');
  await writeFile(text, 'just text\n');
  assert.equal(await isTarArchive(text), false);
  // Compression magic followed by junk: a corrupt stream, copied as a file by ADD.
  const fakeXz = join(work, 'fake.xz');
  await writeFile(
    fakeXz,
    Buffer.concat([Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), randomBytes(600)]),
  );
  assert.equal(await isTarArchive(fakeXz), false);
  const fakeBz = join(work, 'fake.bz2');
  await writeFile(fakeBz, Buffer.concat([Buffer.from('BZh9'), randomBytes(600)]));
  assert.equal(await isTarArchive(fakeBz), false);
  // A compressed file that is not a tar.
  const notTar = join(work, 'notes.txt');
  await writeFile(notTar, 'x'.repeat(2000));
  await run('gzip', ['-k', notTar]);
  assert.equal(await isTarArchive(`${notTar}.gz`), false);
});

// More than a pipe's buffer: the check must stop the decompressor instead of waiting on it (a
// hang here fails by the timeout).
test('checking a large xz tar stops after its head', {
  skip: skipReason(needCommands('xz:xz-utils')),
  timeout: 60_000,
}, async () => {
  const big = join(work, 'big');
  await mkdir(big);
  await writeFile(join(big, 'blob'), randomBytes(24 << 20));
  const archive = join(work, 'big.tar.xz');
  await run('tar', ['-C', big, '-cJf', archive, 'blob'], { env: { ...process.env, XZ_OPT: '-0' } });
  assert.equal(await isTarArchive(archive), true);
  const out = join(work, 'out-big');
  await unpackArchive(archive, out);
  assert.equal((await stat(join(out, 'blob'))).size, 24 << 20);
});
