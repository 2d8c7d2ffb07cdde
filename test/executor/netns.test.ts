import assert from 'node:assert/strict';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createRuncExecutor } from '../../executor/index.ts';
import { skipReason } from '../needs.ts';
import { runcSkipReason, writeBusyboxRootfs } from './busybox-rootfs.ts';

const reason = skipReason(runcSkipReason());
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
    // Held by one process (no mount, nothing under the state dir) that goes after close().
    const holders = namespaceHolders(first[0] as string);
    assert.equal(holders.length, 1, `holders of ${first[0]}: ${holders.join(' ')}`);
    await executor.close();
    await waitFor(() => namespaceHolders(first[0] as string).length === 0);
  } finally {
    await executor.close();
  }
  assert.ok(
    !readFileSync('/proc/self/mountinfo', 'utf8').includes(state),
    'nothing mounted under the state dir',
  );
});

/** The pids whose network namespace is `ns` (`net:[inode]`). */
function namespaceHolders(ns: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readlinkSync(`/proc/${name}/ns/net`) === ns) pids.push(Number(name));
    } catch {
      // gone, or not ours to read
    }
  }
  return pids;
}

async function waitFor(done: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !done(); i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(done(), 'the namespace holder exited after close()');
}
