// A full disk under the root (issue 12, finding 9): a RUN that fills it, a COPY that does not fit,
// a layer that cannot be stored and a load that overflows each end in one line naming the lack of
// space and the root (no errno code, no internal path), a non-zero exit, nothing left behind, fsck
// clean; once space is freed the same root works. The root is a 16 MiB tmpfs the test mounts.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { statfsSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ociLayoutArchive, packTar, tbuild } from '../image/helpers.ts';
import { busyboxArchive, whyNotRunnable } from './helpers.ts';

const skip = whyNotRunnable();
let work = '';
let mnt = '';
let root = '';
let counter = 0;

const free = () => {
  const s = statfsSync(mnt);
  return s.bfree * s.bsize;
};

async function build(dockerfile: string, files: Record<string, Buffer> = {}) {
  const ctx = join(work, `ctx-${++counter}`);
  await mkdir(ctx);
  await writeFile(join(ctx, 'Dockerfile'), dockerfile);
  for (const [name, data] of Object.entries(files)) await writeFile(join(ctx, name), data);
  return tbuild(root, ['build', '--progress', 'plain', '-t', `full${counter}`, ctx]);
}

/** The last line is the one-line error; nothing of node's errno wording or tbuild's scratch paths anywhere. */
function assertNoSpace(r: { code: number; stderr: string }, prefix: RegExp) {
  assert.equal(r.code, 1, r.stderr);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  const last = lines[lines.length - 1] as string;
  assert.match(last, prefix, r.stderr);
  assert.ok(last.endsWith(`no space left on device: the device holding ${root} is full`), r.stderr);
  assert.doesNotMatch(r.stderr, /ENOSPC|copyfile|\/tmp\/snap-|image\/tmp|internal error|\n\s+at /);
}

async function assertClean() {
  const fsck = await tbuild(root, ['fsck']);
  assert.equal(fsck.code, 0, fsck.stderr);
  assert.doesNotMatch(fsck.stdout, /removed/);
  assert.equal(
    spawnSync('ls', ['-A', join(root, 'tmp'), join(root, 'image', 'tmp')])
      .stdout.toString()
      .trim(),
    `${join(root, 'image', 'tmp')}:\n\n${join(root, 'tmp')}:`,
  );
}

before(async () => {
  if (skip) return;
  work = await mkdtemp(join(tmpdir(), 'tbuild-full-'));
  mnt = join(work, 'mnt');
  await mkdir(mnt);
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', mnt]);
  assert.equal(m.status, 0, m.stderr.toString());
  root = join(mnt, 'root');
  const loaded = await tbuild(root, ['load', '-i', await busyboxArchive()]);
  assert.equal(loaded.code, 0, loaded.stderr);
});
after(async () => {
  if (!work) return;
  spawnSync('umount', ['-l', mnt]);
  await rm(work, { recursive: true, force: true });
});

test('a RUN that fills the disk: the step fails naming the full device, and its space comes back', {
  skip,
}, async () => {
  const before = free();
  const r = await build('FROM busybox\nRUN dd if=/dev/zero of=/big bs=1M count=64\n');
  // `exit code: 1: …`, or, when the disk filled before runc wrote its pid file, runc's failure.
  assertNoSpace(r, /^ERROR: Dockerfile:2: \[2\/2\] RUN dd .*: /);
  assert.ok(free() >= before - (256 << 10), `${before - free()} bytes not given back`);
  await assertClean();
});

test('a COPY that does not fit', { skip }, async () => {
  const r = await build('FROM busybox\nCOPY blob /blob\n', { blob: randomBytes(20 << 20) });
  assertNoSpace(r, /^ERROR: Dockerfile:2: \[2\/2\] COPY blob \/blob: /);
  await assertClean();
});

test('a RUN whose layer does not fit in the store', { skip }, async () => {
  // 7.5 MB of noise fits as the step's upper; its layer blob (as big again) does not.
  const r = await build('FROM busybox\nRUN head -c 7500000 /dev/urandom > /r\n');
  assertNoSpace(r, /^ERROR: Dockerfile:2: \[2\/2\] RUN head .*: /);
  await assertClean();
});

test('a load that overflows, then the same load once space is freed', { skip }, async () => {
  const layer = await packTar([{ name: 'noise', data: randomBytes(3 << 20) }]);
  const archive = join(work, 'noise.tar');
  writeFileSync(archive, await ociLayoutArchive(layer, { name: 'docker.io/library/noise:1' }));
  // Leave 2 MiB: less than the layer blob alone.
  const filler = join(mnt, 'filler');
  writeFileSync(filler, Buffer.alloc(free() - (2 << 20)));
  const r = await tbuild(root, ['load', '-i', archive]);
  assertNoSpace(r, new RegExp(`^ERROR: ${archive}: `));
  assert.equal(r.stderr.split('\n').filter((l) => l !== '').length, 1, r.stderr);
  await assertClean();
  await rm(filler);
  const again = await tbuild(root, ['load', '-i', archive]);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.stdout, 'Loaded image: noise:1\n');
  const ok = await build('FROM busybox\nRUN echo fits > /ok\n');
  assert.equal(ok.code, 0, ok.stderr);
  await assertClean();
});
