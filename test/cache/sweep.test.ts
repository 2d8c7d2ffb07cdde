// What a killed process leaves under <root>/tmp is swept by the next command (issue 12, finding 8):
// entries of dead owners go, unmounted first; a live owner's and unowned names stay; a note for a
// file outside the root removes that file only when it is the temp name the note's owner made.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { noteOutsideTemp, scratchPath, sweepDeadOwners } from '../../cache/index.ts';
import { isOwnerAlive, ownerToken, processStartTime } from '../../processes.ts';
import { needRoot, skipReason } from '../needs.ts';

const work = await mkdtemp(join(tmpdir(), 'tbuild-sweep-'));
after(() => rm(work, { recursive: true, force: true }));

/** The owner token of a process that has exited (its pid is free again, or reused by another). */
function deadOwner(): string {
  const r = spawnSync('sh', ['-c', 'echo $$; cut -d" " -f22 /proc/$$/stat']);
  const [pid, start] = r.stdout.toString().trim().split('\n');
  return `${pid}.${start}`;
}

const mounted = (path: string) =>
  readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((line) => line.split(' ')[4] === path);

test('owner tokens: this process is alive, an exited one is not, a reused pid with another start time is not', () => {
  assert.equal(isOwnerAlive(`snap-${ownerToken()}-abc`), true);
  assert.equal(isOwnerAlive(`snap-${deadOwner()}-abc`), false);
  const start = processStartTime(process.pid);
  assert.ok(start !== undefined);
  assert.equal(isOwnerAlive(`snap-${process.pid}.${start + 1}-abc`), false);
  assert.equal(isOwnerAlive('snap-5b784948435c'), undefined);
  assert.equal(isOwnerAlive(`${process.pid}-abc`), true);
});

test('a dead owner’s scratch is unmounted and removed; live and unowned entries stay', {
  skip: skipReason(needRoot('mounting tmpfs')),
}, async () => {
  const root = join(work, 'root');
  const tmp = join(root, 'tmp');
  const dead = join(tmp, `snap-${deadOwner()}-0123456789ab`);
  const deadTrash = join(tmp, `trash-${deadOwner()}-0123456789ab`);
  const live = scratchPath(root, 'snap');
  const unowned = join(tmp, 'snap-5b784948435c');
  for (const dir of [join(dead, 'rootfs'), join(dead, 'fs'), deadTrash, live, unowned])
    await mkdir(dir, { recursive: true });
  await writeFile(join(deadTrash, 'junk'), 'x');
  const rootfs = join(dead, 'rootfs');
  const m = spawnSync('mount', ['-t', 'tmpfs', 'tmpfs', rootfs]);
  assert.equal(m.status, 0, m.stderr.toString());
  await mkdir(join(rootfs, 'inner'));
  assert.equal(spawnSync('mount', ['-t', 'tmpfs', 'tmpfs', join(rootfs, 'inner')]).status, 0);

  const result = await sweepDeadOwners(root);
  assert.deepEqual(result.unmounted, [join(rootfs, 'inner'), rootfs]);
  assert.deepEqual(result.removed.sort(), [dead, deadTrash].sort());
  assert.equal(mounted(rootfs), false);
  assert.equal(existsSync(dead), false);
  assert.equal(existsSync(deadTrash), false);
  assert.equal(existsSync(live), true);
  assert.equal(existsSync(unowned), true);
  // Nothing stale: a second sweep does nothing.
  assert.deepEqual(await sweepDeadOwners(root), { removed: [], unmounted: [] });
});

test('a note for a file outside the root: removed after its owner died, only if it is that owner’s temp name', async () => {
  const root = join(work, 'notes');
  const owner = deadOwner();
  const archive = join(work, `out.tar.tmp-${owner}`);
  const victim = join(work, 'precious.txt');
  await writeFile(archive, 'half an archive');
  await writeFile(victim, 'keep me');
  await mkdir(join(root, 'tmp'), { recursive: true });
  await writeFile(join(root, 'tmp', `out-${owner}-000000000001`), archive);
  await writeFile(join(root, 'tmp', `out-${owner}-000000000002`), victim);
  // A live note (this process's) is left alone, and so is its file.
  const mine = join(work, `mine.tar.tmp-${ownerToken()}`);
  await writeFile(mine, 'being written');
  const forget = await noteOutsideTemp(root, mine);
  await sweepDeadOwners(root);
  assert.equal(existsSync(archive), false);
  assert.equal(existsSync(victim), true);
  assert.equal(existsSync(mine), true);
  await forget();
  assert.deepEqual(await sweepDeadOwners(root), { removed: [], unmounted: [] });
});
