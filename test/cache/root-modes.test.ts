// The tbuild root is private (issue 12, finding 1): a setuid file a build made in a snapshot is out
// of reach of other users, a root opened up by hand is tightened by the next command, and fsck says
// so. The root lives under 0755 parents on purpose: a mkdtemp parent (0700) would hide the bug.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, lstatSync, readdirSync, statSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, test } from 'node:test';
import { busyboxArchive, whyNotRunnable } from '../build/helpers.ts';
import { tbuild } from '../image/helpers.ts';
import { firstReason, needCommands, skipReason } from '../needs.ts';

const skip = skipReason(firstReason(whyNotRunnable(), needCommands('setpriv:util-linux')));
let work = '';
let root = '';
let suid = '';

/** Runs `argv` as nobody (uid/gid 65534, no supplementary groups). */
function asNobody(argv: string[]): { status: number | null; stderr: string } {
  const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', ...argv]);
  return { status: r.status, stderr: r.stderr.toString() };
}

const mode = (path: string) => (statSync(path).mode & 0o7777).toString(8).padStart(4, '0');

/** Every directory under the root that is tbuild's bookkeeping, not image or cache-mount content. */
function bookkeepingDirs(dir: string, out: string[] = []): string[] {
  out.push(dir);
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const rel = relative(root, path).split('/');
    // Content: a snapshot's fs (the image's /), a cache mount's directory.
    if (rel[0] === 'snapshots' && rel[2] === 'fs') continue;
    if (rel[0] === 'cache' && rel[1] === 'mounts' && rel.length === 3) continue;
    if (lstatSync(path).isDirectory()) bookkeepingDirs(path, out);
  }
  return out;
}

before(async () => {
  if (skip) return;
  work = await mkdtemp(join(tmpdir(), 'tbuild-modes-'));
  await chmod(work, 0o755);
  await mkdir(join(work, 'public'), { mode: 0o755 });
  root = join(work, 'public', 'store');
  const ctx = join(work, 'ctx');
  await mkdir(ctx);
  await writeFile(
    join(ctx, 'Dockerfile'),
    'FROM busybox\nRUN --mount=type=cache,target=/c cp /bin/busybox /suid && chmod 4755 /suid && touch /c/x\n',
  );
  assert.equal((await tbuild(root, ['load', '-i', await busyboxArchive()])).code, 0);
  const built = await tbuild(root, ['build', '-q', '-t', 'suid', ctx]);
  assert.equal(built.code, 0, built.stderr);
  const snapshots = join(root, 'snapshots');
  const found = readdirSync(snapshots)
    .map((id) => join(snapshots, id, 'fs', 'suid'))
    .filter((path) => lstatSync(path, { throwIfNoEntry: false }) !== undefined);
  assert.equal(found.length, 1);
  suid = found[0] as string;
});
after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

test('a setuid file built into a snapshot is out of other users’ reach; every bookkeeping dir is 0700', {
  skip,
}, () => {
  assert.equal(mode(suid), '4755'); // the content itself is left as the image has it
  assert.equal(mode(root), '0700');
  const open = bookkeepingDirs(root).filter((d) => (statSync(d).mode & 0o077) !== 0);
  assert.deepEqual(open, []);
  const stat = asNobody(['stat', suid]);
  assert.notEqual(stat.status, 0);
  assert.match(stat.stderr, /Permission denied/);
  // Through a shell: setpriv's own exec of its argument is not the unprivileged path a user has.
  const exec = asNobody(['sh', '-c', 'exec "$0" true', suid]);
  assert.notEqual(exec.status, 0);
  assert.match(exec.stderr, /Permission denied/);
});

test('a root opened up by hand is made private again by the next command', { skip }, async () => {
  for (const dir of [root, join(root, 'snapshots')]) chmodSync(dir, 0o755);
  chmodSync(join(suid, '..', '..'), 0o755);
  // The exploit path is real while it is open: nobody reaches the setuid file.
  assert.equal(asNobody(['stat', suid]).status, 0);
  const r = await tbuild(root, ['images']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, ''); // repaired quietly, as dockerd does at start
  assert.equal(mode(root), '0700');
  assert.equal(mode(join(root, 'snapshots')), '0700');
  assert.match(asNobody(['stat', suid]).stderr, /Permission denied/);
});

test('fsck reports a root it found open, in one line with a hint, and leaves it private', {
  skip,
}, async () => {
  chmodSync(root, 0o755);
  chmodSync(join(root, 'image'), 0o750);
  const r = await tbuild(root, ['fsck']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0] as string, /^WARNING: open to other users .*made private: /);
  assert.ok(lines[0]?.includes(`${root} (was 0755), ${join(root, 'image')} (was 0750)`), lines[0]);
  assert.match(lines[0] as string, /Hint: /);
  assert.equal(mode(root), '0700');
  assert.equal(mode(join(root, 'image')), '0700');
  // Nothing left to report the next time.
  const again = await tbuild(root, ['fsck']);
  assert.equal(again.code, 0);
  assert.equal(again.stderr, '');
});
