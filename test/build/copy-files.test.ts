// COPY's per-file work (solver/ops/copy.ts): what is in the way is replaced, never written through;
// hard links, modes and times survive; large files take the thread-pool path; a committed
// snapshot records its disk size.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { lstatSync, readdirSync } from 'node:fs';
import { link, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { setupBuildTests, sha256, describe as show } from './helpers.ts';

const h = setupBuildTests();
const it = (name: string, fn: () => Promise<void>) => test(name, { skip: h.skip }, fn);

it('COPY replaces symlinks, dangling links, directories and files in its way, never writing through', async () => {
  const image = await h.buildOk({
    Dockerfile: [
      'FROM busybox',
      'RUN mkdir -p /dst/sub /dst/f3/inner && ln -s /etc/passwd /dst/f1 && ln -s /nowhere /dst/f2 \\',
      ' && echo old > /dst/f4 && chmod 0600 /dst/f4 && ln -s /etc /dst/sub/f5',
      'COPY src/ /dst/',
      '',
    ].join('\n'),
    'src/f1': 'one\n',
    'src/f2': 'two\n',
    'src/f3': 'three\n',
    'src/f4': { content: 'four\n', mode: 0o755 },
    'src/sub/f5': 'five\n',
  });
  for (const [name, text] of [
    ['f1', 'one\n'],
    ['f2', 'two\n'],
    ['f3', 'three\n'],
    ['f4', 'four\n'],
    ['sub/f5', 'five\n'],
  ] as const) {
    assert.equal(image.entries.get(`/dst/${name}`)?.sha256, sha256(text), name);
  }
  assert.equal(show(image.entries.get('/dst/f1')), 'file 0644 0:0');
  assert.equal(show(image.entries.get('/dst/f3')), 'file 0644 0:0');
  assert.equal(image.entries.get('/dst/f3/inner'), undefined);
  assert.equal(show(image.entries.get('/dst/f4')), 'file 0755 0:0');
  assert.equal(image.entries.get('/nowhere'), undefined);
  assert.equal(image.entries.get('/etc/f5'), undefined);
  assert.match(await image.text('/etc/passwd'), /^root:/);
});

it('COPY keeps hard links, modes and mtimes; a file over 1 MiB copies whole', async () => {
  const big = randomBytes(3 << 20);
  const dir = await h.testdir({
    Dockerfile: [
      'FROM busybox',
      'COPY c/ /c/',
      'RUN stat -c "%n %Y %a" /c/old.txt /c/big.bin /c/d > /times',
      '',
    ].join('\n'),
    'c/a.txt': 'linked\n',
    'c/old.txt': { content: 'old\n', mode: 0o640 },
    'c/big.bin': { content: big, mode: 0o751 },
    'c/d/x': 'x\n',
  });
  await link(join(dir, 'c/a.txt'), join(dir, 'c/b.txt'));
  await utimes(join(dir, 'c/old.txt'), 1_000_000_000, 1_000_000_000);
  await utimes(join(dir, 'c/big.bin'), 1_100_000_000, 1_100_000_000);
  await utimes(join(dir, 'c/d'), 1_200_000_000, 1_200_000_000);
  const built = await h.cli(['build', '--progress', 'plain', '-t', 'times', dir]);
  assert.equal(built.code, 0, built.stderr);
  const image = await h.flatten('times');
  assert.equal(image.entries.get('/c/b.txt')?.hardlink, '/c/a.txt');
  assert.equal(image.entries.get('/c/big.bin')?.sha256, sha256(big));
  assert.equal(show(image.entries.get('/c/big.bin')), 'file 0751 0:0');
  assert.equal(show(image.entries.get('/c/old.txt')), 'file 0640 0:0');
  assert.equal(
    await image.text('/times'),
    '/c/old.txt 1000000000 640\n/c/big.bin 1100000000 751\n/c/d 1200000000 755\n',
  );
});

it('a committed snapshot records the disk size of its tree', async () => {
  // Without the GC after the build, which would measure and record the size itself.
  const config = join(h.root(), 'config.json');
  await writeFile(config, JSON.stringify({ gc: { enabled: false } }));
  await h.buildOk({
    Dockerfile: 'FROM busybox\nCOPY t/ /t/\n',
    't/a': 'a'.repeat(10_000),
    't/b/c': 'c\n',
    't/b/d': { symlink: 'c' },
  });
  const snapshots = join(h.root(), 'snapshots');
  let checked = 0;
  for (const name of await readdir(snapshots)) {
    const recorded = await readFile(join(snapshots, name, 'size'), 'utf8').catch(() => undefined);
    if (recorded === undefined) continue;
    assert.equal(Number(recorded), treeBytes(join(snapshots, name, 'fs')), name);
    checked++;
  }
  await rm(config);
  assert.ok(checked >= 1, 'no snapshot has a size file');
});

/** st_blocks × 512 of a tree, its root included (what cache/gc.ts measures). */
function treeBytes(path: string): number {
  const info = lstatSync(path);
  let total = info.blocks * 512;
  if (info.isDirectory()) for (const name of readdirSync(path)) total += treeBytes(join(path, name));
  return total;
}
