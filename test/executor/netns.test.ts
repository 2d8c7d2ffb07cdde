import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createRuncExecutor } from '../../executor/index.ts';
import { runcSkipReason, writeBusyboxRootfs } from './busybox-rootfs.ts';

const reason = runcSkipReason();
let dir = '';
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('shareNoneNetwork: none-network runs join one loopback-only namespace, released by close()', {
  skip: reason ?? false,
}, async () => {
  dir = await mkdtemp(join(tmpdir(), 'tbuild-netns-'));
  const rootfs = join(dir, 'rootfs');
  const state = join(dir, 'state');
  await writeBusyboxRootfs(rootfs);
  const executor = createRuncExecutor({ stateDir: state, shareNoneNetwork: true });
  const run = async (network: 'none' | 'host'): Promise<string> => {
    let out = '';
    const res = await executor.run(
      rootfs,
      [],
      {
        args: [
          '/bin/sh',
          '-c',
          'readlink /proc/self/ns/net; ls /sys/class/net; ping -c1 -W1 127.0.0.1 >/dev/null && echo ping-ok',
        ],
        env: [],
        cwd: '/',
        user: '',
        network,
      },
      { stdout: (c) => (out += Buffer.from(c).toString()), stderr: () => {} },
      new AbortController().signal,
    );
    assert.equal(res.exitCode, 0);
    return out;
  };
  try {
    const first = (await run('none')).split('\n');
    const second = (await run('none')).split('\n');
    const host = (await run('host')).split('\n');
    // The same namespace both times, with only `lo`, which is up; host networking is not it.
    assert.match(first[0] as string, /^net:\[\d+\]$/);
    assert.equal(second[0], first[0]);
    assert.notEqual(host[0], first[0]);
    assert.deepEqual(first.slice(1), ['lo', 'ping-ok', '']);
    assert.equal((await readdir(join(state, 'netns'))).length, 1);
  } finally {
    await executor.close();
  }
  assert.deepEqual(await readdir(join(state, 'netns')), []);
});
