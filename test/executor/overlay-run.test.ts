import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { isOverlaySupported, mountOverlay } from '../../cache/index.ts';
import { createRuncExecutor } from '../../executor/index.ts';
import { skipReason } from '../needs.ts';
import { runcSkipReason, writeBusyboxRootfs } from './busybox-rootfs.ts';

const reason = skipReason(
  runcSkipReason() ?? ((await isOverlaySupported()) ? undefined : 'overlayfs is not available'),
);

let dir = '';
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('a RUN over an overlay of two lowers writes only into the upper', {
  skip: reason ?? false,
}, async () => {
  dir = await mkdtemp(join(tmpdir(), 'tbuild-ovrun-'));
  const [base, layer, upper, work, rootfs, state] = ['base', 'layer', 'upper', 'work', 'rootfs', 'state'].map(
    (n) => join(dir, n),
  ) as [string, string, string, string, string, string];
  await writeBusyboxRootfs(base);
  await mkdir(join(layer, 'data'), { recursive: true });
  await writeFile(join(layer, 'data/a.txt'), 'a');
  await writeFile(join(layer, 'data/b.txt'), 'b');
  for (const d of [upper, work, rootfs]) await mkdir(d);

  const view = await mountOverlay({ lowers: [base, layer], upper, work, target: rootfs });
  assert.equal(view.method, 'overlay');
  let out = '';
  try {
    const res = await createRuncExecutor({ stateDir: state }).run(
      rootfs,
      [],
      {
        args: ['/bin/sh', '-c', 'echo new > /data/c.txt; rm /data/a.txt; ls /data'],
        env: [],
        cwd: '/',
        user: '',
        network: 'none',
      },
      { stdout: (c) => (out += Buffer.from(c).toString()), stderr: () => {} },
      new AbortController().signal,
    );
    assert.equal(res.exitCode, 0);
  } finally {
    await view.unmount();
  }
  assert.equal(out, 'b.txt\nc.txt\n');

  // The upper holds the diff: the new file, a 0/0 char device for the deleted one, and the copied-up
  // parent dirs. runc's mount-point stubs (/proc, /dev, /sys, /etc/hosts, /etc/resolv.conf) were
  // removed; only /etc, copied up when the stub was created inside it, remains as an empty dir.
  const entries = (await readdir(upper, { recursive: true })).sort();
  assert.deepEqual(entries, ['data', 'data/a.txt', 'data/c.txt', 'etc']);
  assert.equal(await readFile(join(upper, 'data/c.txt'), 'utf8'), 'new\n');
  const wh = await stat(join(upper, 'data/a.txt'));
  assert.ok(wh.isCharacterDevice() && wh.rdev === 0, 'a.txt is an overlay whiteout');
  // The lowers are untouched.
  assert.deepEqual((await readdir(join(layer, 'data'))).sort(), ['a.txt', 'b.txt']);
  assert.deepEqual((await readdir(base)).sort(), ['bin', 'etc', 'tmp']);
  assert.deepEqual((await readdir(join(base, 'etc'))).sort(), ['group', 'passwd']);
});
