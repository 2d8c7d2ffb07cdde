import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, open, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setAttribute } from '@napi-rs/xattr';
import {
  copyLowers,
  isOverlaySupported,
  MountError,
  mountOverlay,
  overlayMountData,
} from '../../cache/index.ts';
import { skipReason } from '../needs.ts';

describe('overlayMountData', () => {
  test('lowerdir is top-most first, then upper and work', () => {
    const r = overlayMountData({
      lowers: ['/s/base', '/s/mid', '/s/top'],
      upper: '/s/up',
      work: '/s/wk',
      target: '/m',
    });
    assert.deepEqual(r, { data: 'lowerdir=/s/top:/s/mid:/s/base,upperdir=/s/up,workdir=/s/wk' });
    const ro = overlayMountData({ lowers: ['/a', '/b'], target: '/m' }, { indexOff: true });
    assert.deepEqual(ro, { data: 'lowerdir=/b:/a,index=off' });
  });

  test('invalid specs are refused', () => {
    assert.throws(() => overlayMountData({ lowers: [], target: '/m' }), MountError);
    assert.throws(() => overlayMountData({ lowers: ['/a'], target: '/m' }), /two lower dirs/);
    assert.throws(() => overlayMountData({ lowers: ['/a', '/b'], upper: '/u', target: '/m' }), /together/);
    assert.throws(() => overlayMountData({ lowers: ['/a:b', '/c'], target: '/m' }), /contains/);
    assert.throws(() => overlayMountData({ lowers: ['/a,b', '/c'], target: '/m' }), /contains/);
    const many = Array.from({ length: 501 }, (_, i) => `/l/${i}`);
    assert.throws(() => overlayMountData({ lowers: many, target: '/m' }), /at most 500/);
  });

  test('past one page, paths become relative to their common parent', () => {
    const parent = `/var/lib/tbuild/${'x'.repeat(40)}/snapshots`;
    const lowers = Array.from({ length: 60 }, (_, i) => `${parent}/${String(i).padStart(3, '0')}/fs`);
    const r = overlayMountData({ lowers, upper: `${parent}/up/fs`, work: `${parent}/up/work`, target: '/m' });
    assert.equal(r.cwd, parent);
    assert.ok(r.data.length <= 4095);
    assert.ok(r.data.startsWith('lowerdir=059/fs:058/fs:'));
    assert.ok(r.data.endsWith(':000/fs,upperdir=up/fs,workdir=up/work'));
    const short = overlayMountData({ lowers: lowers.slice(0, 3), target: '/m' });
    assert.equal(short.cwd, undefined);
    const tooMany = Array.from({ length: 400 }, (_, i) => `/l/${'y'.repeat(20)}${i}`);
    assert.throws(() => overlayMountData({ lowers: tooMany, target: '/m' }), /limit 4095/);
  });
});

describe('overlay mounts', async () => {
  const supported = await isOverlaySupported();
  const skip = skipReason(
    supported ? false : 'overlay mount tests skipped: needs root and overlayfs in /proc/filesystems',
  );
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tbuild-overlay-'));
  });
  after(async () => {
    // A failed test may leave a mount behind; never rm -rf through a live mount.
    const mounts = await readFile('/proc/self/mountinfo', 'utf8');
    for (const line of mounts.split('\n')) {
      const mp = line.split(' ')[4];
      if (mp?.startsWith(dir)) execFileSync('umount', ['-l', mp]);
    }
    await rm(dir, { recursive: true, force: true });
  });

  async function mkdirs(...names: string[]): Promise<string[]> {
    const out = names.map((n) => join(dir, n));
    for (const p of out) await mkdir(p, { recursive: true });
    return out;
  }

  async function isMounted(path: string): Promise<boolean> {
    return (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').some((l) => l.split(' ')[4] === path);
  }

  test('two lowers + upper: merged view; writes and deletes land only in the upper', { skip }, async () => {
    const [base, top, upper, work, target] = await mkdirs(
      't1/base',
      't1/top',
      't1/upper',
      't1/work',
      't1/mnt',
    );
    await writeFile(join(base as string, 'a'), 'base-a');
    await writeFile(join(base as string, 'b'), 'base-b');
    await writeFile(join(top as string, 'b'), 'top-b');
    const view = await mountOverlay({
      lowers: [base as string, top as string],
      upper,
      work,
      target: target as string,
    });
    assert.equal(view.method, 'overlay');
    assert.equal(await readFile(join(target as string, 'b'), 'utf8'), 'top-b');
    await writeFile(join(target as string, 'c'), 'new');
    await rm(join(target as string, 'a'));
    await view.unmount();
    await view.unmount();
    assert.equal(await isMounted(target as string), false);
    assert.deepEqual((await readdir(upper as string)).sort(), ['a', 'c']);
    const wh = await stat(join(upper as string, 'a'));
    assert.ok(wh.isCharacterDevice());
    assert.equal(wh.rdev, 0);
    assert.deepEqual((await readdir(base as string)).sort(), ['a', 'b']);
    assert.deepEqual(await readdir(top as string), ['b']);
  });

  test('a single lower without upper is a read-only bind', { skip }, async () => {
    const [lower, target] = await mkdirs('t2/lower', 't2/mnt');
    await writeFile(join(lower as string, 'f'), 'x');
    const view = await mountOverlay({ lowers: [lower as string], target: target as string });
    assert.equal(view.method, 'bind');
    assert.equal(await readFile(join(target as string, 'f'), 'utf8'), 'x');
    await assert.rejects(writeFile(join(target as string, 'g'), 'y'), { code: 'EROFS' });
    await view.unmount();
    assert.deepEqual(await readdir(target as string), []);
  });

  test('many long lower paths mount through relative paths', { skip }, async () => {
    const parent = `t3/${'a-long-snapshot-parent-'.repeat(4)}`;
    const lowers = await mkdirs(...Array.from({ length: 70 }, (_, i) => `${parent}/l${i}`));
    for (const [i, l] of lowers.entries()) await writeFile(join(l, `f${i}`), String(i));
    await writeFile(join(lowers[0] as string, 'shared'), 'bottom');
    await writeFile(join(lowers[69] as string, 'shared'), 'top');
    const [upper, work, target] = await mkdirs(`${parent}/upper`, `${parent}/work`, 't3/mnt');
    const abs = `lowerdir=${lowers.join(':')}`;
    assert.ok(abs.length > 4095, 'the test needs options longer than a page');
    assert.ok(overlayMountData({ lowers, upper, work, target: target as string }).cwd?.endsWith(parent));
    const view = await mountOverlay({ lowers, upper, work, target: target as string });
    assert.equal(view.method, 'overlay');
    assert.equal((await readdir(target as string)).length, 71);
    assert.equal(await readFile(join(target as string, 'shared'), 'utf8'), 'top');
    assert.equal(await readFile(join(target as string, 'f0'), 'utf8'), '0');
    await view.unmount();
  });

  test('unmount of a busy mount falls back to a lazy detach', { skip }, async () => {
    const [a, b, target] = await mkdirs('t4/a', 't4/b', 't4/mnt');
    await writeFile(join(a as string, 'f'), 'x');
    const view = await mountOverlay({ lowers: [a as string, b as string], target: target as string });
    assert.equal(view.method, 'overlay');
    const cwdHolder = await open(join(target as string, 'f'), 'r');
    try {
      await view.unmount();
      assert.equal(await isMounted(target as string), false);
    } finally {
      await cwdHolder.close();
    }
  });

  test('copy fallback gives the same merged tree as overlayfs', { skip }, async () => {
    const [l1, l2, l3] = await mkdirs('t5/l1', 't5/l2', 't5/l3');
    // l1: base tree
    await mkdir(join(l1 as string, 'dir/sub'), { recursive: true });
    await writeFile(join(l1 as string, 'dir/keep'), 'k');
    await writeFile(join(l1 as string, 'dir/sub/old'), 'o');
    await writeFile(join(l1 as string, 'gone'), 'g');
    await mkdir(join(l1 as string, 'becomes-file'));
    await writeFile(join(l1 as string, 'becomes-file/inner'), 'i');
    await symlink('/etc', join(l1 as string, 'link'));
    // l2: delete `gone`, make dir/sub opaque with new content, replace a dir by a file
    execFileSync('mknod', [join(l2 as string, 'gone'), 'c', '0', '0']);
    await mkdir(join(l2 as string, 'dir/sub'), { recursive: true });
    await setAttribute(join(l2 as string, 'dir/sub'), 'trusted.overlay.opaque', 'y');
    await writeFile(join(l2 as string, 'dir/sub/new'), 'n');
    await writeFile(join(l2 as string, 'becomes-file'), 'now a file');
    // l3: a symlink in the lower tree is replaced by a directory with a file
    await mkdir(join(l3 as string, 'link'));
    await writeFile(join(l3 as string, 'link/inside'), 'safe');
    const lowers = [l1 as string, l2 as string, l3 as string];

    const [ovTarget, cpTarget] = await mkdirs('t5/ov', 't5/cp');
    const ov = await mountOverlay({ lowers, target: ovTarget as string });
    const cp = await mountOverlay({ lowers, target: cpTarget as string }, { method: 'copy' });
    assert.equal(cp.method, 'copy');
    try {
      const snapshot = async (root: string) => {
        const out: string[] = [];
        for (const rel of (await readdir(root, { recursive: true })).sort()) {
          const st = await stat(join(root, rel)).catch(() => undefined);
          const content = st?.isFile()
            ? await readFile(join(root, rel), 'utf8')
            : st?.isDirectory()
              ? '<dir>'
              : '?';
          out.push(`${rel}=${content}`);
        }
        return out;
      };
      const expected = await snapshot(ovTarget as string);
      assert.deepEqual(expected, [
        'becomes-file=now a file',
        'dir=<dir>',
        'dir/keep=k',
        'dir/sub=<dir>',
        'dir/sub/new=n',
        'link=<dir>',
        'link/inside=safe',
      ]);
      assert.deepEqual(await snapshot(cpTarget as string), expected);
    } finally {
      await ov.unmount();
    }
    await assert.rejects(copyLowers(lowers, cpTarget as string), /not empty/);
  });
});
