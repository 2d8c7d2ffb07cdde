import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { claimKey } from '../../cache/index.ts';

let root = '';
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'tbuild-claims-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});
const signal = new AbortController().signal;
const key = (n: number) => `sha256:${String(n).padStart(64, '0')}`;

test('a second claimant waits until the first is done, then gets undefined (look for the record)', async () => {
  const first = await claimKey(root, key(1), signal);
  assert.ok(first);
  let settled = false;
  const second = claimKey(root, key(1), signal).then((c) => {
    settled = true;
    return c;
  });
  await new Promise((r) => setTimeout(r, 250));
  assert.equal(settled, false);
  await first.release();
  assert.equal(await second, undefined);
  // Nobody holds it now: the next claim succeeds at once.
  const third = await claimKey(root, key(1), signal);
  assert.ok(third);
  await third.release();
});

test("a dead process's claim is taken over", async () => {
  await mkdir(join(root, 'cache', 'building'), { recursive: true });
  const path = join(root, 'cache', 'building', key(2).slice(7));
  await writeFile(path, '999999999');
  const claim = await claimKey(root, key(2), signal);
  assert.ok(claim);
  assert.equal((await stat(path)).isFile(), true);
  await claim.release();
  await assert.rejects(stat(path));
});

test('waiting stops when the build is canceled', async () => {
  const held = await claimKey(root, key(3), signal);
  assert.ok(held);
  const controller = new AbortController();
  const waiting = claimKey(root, key(3), controller.signal);
  setTimeout(() => controller.abort(new Error('canceled')), 150);
  await assert.rejects(waiting, /canceled/);
  await held.release();
});
