// Diff layers: from a real overlayfs upperdir (whiteouts and opaque dirs), and from the naive
// two-directory differ. Applying the diff to a copy of the lower tree must give the upper view.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  appendFile,
  chmod,
  link,
  lutimes,
  mkdir,
  rm,
  symlink,
  unlink,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setAttribute } from '@napi-rs/xattr';
import { applyLayer, listLayer } from '../../image/index.ts';
import { skipTest } from '../needs.ts';
import { makeTempDir, packToFile, privileged, readStream, run, snapshotTree } from './layer-helpers.ts';

let tmp: { dir: string; cleanup: () => Promise<void> };

before(async () => {
  tmp = await makeTempDir('layer-diff');
});
after(() => tmp.cleanup());

/** A lower tree with things to delete, replace, modify and keep. */
async function buildLower(root: string): Promise<void> {
  await mkdir(join(root, 'etc/conf.d'), { recursive: true });
  await mkdir(join(root, 'opaque/sub'), { recursive: true });
  await mkdir(join(root, 'gone-dir/deeper'), { recursive: true });
  await mkdir(join(root, 'keep'), { recursive: true });
  await writeFile(join(root, 'etc/passwd'), 'root:x:0:0::/root:/bin/sh\n');
  await writeFile(join(root, 'etc/conf.d/a.conf'), 'a=1\n');
  await writeFile(join(root, 'delete-me'), 'bye');
  await writeFile(join(root, 'opaque/old-file'), 'old');
  await writeFile(join(root, 'opaque/sub/old-nested'), 'old');
  await writeFile(join(root, 'gone-dir/deeper/f'), 'f');
  await writeFile(join(root, 'keep/unchanged'), 'same');
  await writeFile(join(root, 'keep/chmod-me'), 'mode');
  await writeFile(join(root, 'file-to-dir'), 'was a file');
  await mkdir(join(root, 'dir-to-file'));
  await writeFile(join(root, 'dir-to-file/inner'), 'inner');
  await symlink('etc/passwd', join(root, 'retarget'));
  await mkdir(join(root, 'quiet'));
  await writeFile(join(root, 'quiet/f'), 'quiet');
}

const fixedTime = new Date(1_650_000_000 * 1000);

/** The changes a RUN step might make, applied to `root` (a merged overlay view or a copy). */
async function change(root: string): Promise<void> {
  await unlink(join(root, 'delete-me'));
  await rm(join(root, 'opaque'), { recursive: true });
  await mkdir(join(root, 'opaque'));
  await writeFile(join(root, 'opaque/new-file'), 'new');
  await rm(join(root, 'gone-dir'), { recursive: true });
  await appendFile(join(root, 'etc/passwd'), 'app:x:1000:1000::/home/app:/bin/sh\n');
  await chmod(join(root, 'keep/chmod-me'), 0o4750);
  await writeFile(join(root, 'added'), 'added');
  await link(join(root, 'added'), join(root, 'keep/added-link'));
  await rm(join(root, 'file-to-dir'));
  await mkdir(join(root, 'file-to-dir'));
  await writeFile(join(root, 'file-to-dir/child'), 'child');
  await rm(join(root, 'dir-to-file'), { recursive: true });
  await writeFile(join(root, 'dir-to-file'), 'now a file');
  await unlink(join(root, 'retarget'));
  await symlink('/etc/hostname', join(root, 'retarget'));
  await setAttribute(join(root, 'etc/conf.d/a.conf'), 'user.tag', 'changed');
  await lutimes(join(root, 'retarget'), fixedTime, fixedTime);
}

function tryMountOverlay(lower: string, upper: string, work: string, merged: string): string | undefined {
  if (!privileged) return 'overlay test needs root (mount)';
  const result = spawnSync(
    'mount',
    ['-t', 'overlay', 'overlay', '-o', `lowerdir=${lower},upperdir=${upper},workdir=${work}`, merged],
    {
      encoding: 'utf8',
    },
  );
  if (result.status !== 0) return `overlayfs unavailable: ${result.stderr.trim() || result.error?.message}`;
  return undefined;
}

test('overlay upperdir: whiteouts and opaque dirs; applied on lower it gives the merged view', async (t) => {
  const base = join(tmp.dir, 'overlay');
  const [lower, upper, work, merged] = ['lower', 'upper', 'work', 'merged'].map((d) => join(base, d)) as [
    string,
    string,
    string,
    string,
  ];
  for (const dir of [lower, upper, work, merged]) await mkdir(dir, { recursive: true });
  await buildLower(lower);
  if (skipTest(t, tryMountOverlay(lower, upper, work, merged))) return;
  let expected: Awaited<ReturnType<typeof snapshotTree>>;
  try {
    await change(merged);
    expected = await snapshotTree(merged);
  } finally {
    run('umount', [merged]);
  }
  const blob = join(base, 'layer.tar.gz');
  await packToFile({ kind: 'overlay', upperdir: upper }, blob);
  const entries = await listLayer(readStream(blob));
  const paths = entries.map((e) => e.path);
  assert.ok(paths.includes('.wh.delete-me'), 'deleted file → whiteout');
  assert.ok(paths.includes('.wh.gone-dir'), 'deleted dir → whiteout');
  const opaqueDir = paths.indexOf('opaque/');
  assert.ok(opaqueDir >= 0);
  assert.equal(paths[opaqueDir + 1], 'opaque/.wh..wh..opq', 'opaque marker right after its directory');
  assert.ok(!paths.some((p) => p.startsWith('delete-me') || p.startsWith('gone-dir')));
  for (const entry of entries) {
    for (const [name] of entry.xattrs) assert.doesNotMatch(name, /overlay/, `${entry.path} leaks ${name}`);
    if (entry.path.includes('.wh.')) assert.equal(entry.type, 'file');
  }
  assert.ok(!paths.includes('keep/unchanged'), 'untouched lower files are not in the layer');

  const target = join(base, 'applied');
  run('cp', ['-a', lower, target]);
  await applyLayer(readStream(blob), target);
  assert.deepEqual(await snapshotTree(target), expected);
});

test('naive diff of two directories: applied on lower it gives upper', async () => {
  const base = join(tmp.dir, 'naive');
  const lower = join(base, 'lower');
  const upper = join(base, 'upper');
  await mkdir(lower, { recursive: true });
  await buildLower(lower);
  run('cp', ['-a', lower, upper]);
  await change(upper);
  // Same size and same whole-second mtime but other bytes: only a content check can see it.
  await writeFile(join(lower, 'keep/sneaky'), 'AAAA');
  await writeFile(join(upper, 'keep/sneaky'), 'BBBB');
  await utimes(join(lower, 'keep/sneaky'), fixedTime, fixedTime);
  await utimes(join(upper, 'keep/sneaky'), fixedTime, fixedTime);
  // Same content and size, other mtime: a metadata change the layer must carry.
  await writeFile(join(lower, 'keep/touched'), 'T');
  await writeFile(join(upper, 'keep/touched'), 'T');
  await utimes(join(lower, 'keep/touched'), fixedTime, fixedTime);
  await utimes(join(upper, 'keep/touched'), new Date(1_700_000_000_000), new Date(1_700_000_000_000));
  for (const dir of ['keep', '']) {
    await utimes(join(lower, dir), fixedTime, fixedTime);
    await utimes(join(upper, dir), new Date(1_660_000_000_000), new Date(1_660_000_000_000));
  }

  const blob = join(base, 'layer.tar.gz');
  await packToFile({ kind: 'diff', lower, upper }, blob);
  const entries = await listLayer(readStream(blob));
  const paths = entries.map((e) => e.path);
  for (const expected of [
    '.wh.delete-me',
    '.wh.gone-dir',
    'keep/sneaky',
    'keep/touched',
    'keep/chmod-me',
    'added',
  ]) {
    assert.ok(paths.includes(expected), `layer has ${expected}`);
  }
  assert.ok(!paths.includes('keep/unchanged'), 'unchanged files are left out');
  assert.ok(paths.includes('etc/conf.d/'), 'parents of a change are included (containerd includeParents)');
  assert.ok(!paths.some((p) => p.startsWith('quiet')), 'a directory with no change below it is left out');
  assert.ok(!paths.some((p) => p.startsWith('gone-dir/')), 'a deleted directory is one whiteout');
  const hardlink = entries.find((e) => e.path === 'keep/added-link');
  assert.deepEqual(
    [hardlink?.type, hardlink?.linkname],
    ['link', 'added'],
    'second path of an inode is a link',
  );

  const target = join(base, 'applied');
  run('cp', ['-a', lower, target]);
  await applyLayer(readStream(blob), target);
  // The opaque dir's lower content must be gone through the whiteouts the differ wrote.
  assert.deepEqual(await snapshotTree(target), await snapshotTree(upper));
});
