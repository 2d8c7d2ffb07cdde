// 20 kept containers started (run -d), exec'd into, stopped and removed concurrently, twice
// (issue 15): no state lost between commands that race on one root. Every run -d prints its id,
// every exec prints what its own container holds, ps lists exactly the 20 as Up and then as
// Exited, rm removes them all, and nothing is left (mount, runc container, conmon, process);
// fsck is clean. Commands go through the bundle (helpers.ts), as in the kill -9 suites.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { whyNotRunnable } from '../build/helpers.ts';
import { firstReason, needCommands, skipReason } from '../needs.ts';
import {
  assertNoContainerLeft,
  type ContainerWorld,
  destroyContainerWorld,
  makeContainerWorld,
} from './containers-world.ts';
import { cliOk } from './helpers.ts';

const skip = skipReason(firstReason(whyNotRunnable(), needCommands('conmon')));
const count = 20;
/** What every container runs (the pid: another run's containers are not this one's leftovers). */
const marker = `sleep ${500000 + process.pid}`;

let root = '';

const ok = (args: string[]) => cliOk(root, args);

/** `ps -a`: name → Status column. */
async function psByName(): Promise<Map<string, string>> {
  const out = (await ok(['ps', '-a', '--format', '{{.Names}}\t{{.Status}}'])).stdout;
  return new Map(
    out
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split('\t') as [string, string]),
  );
}

describe('20 containers at once', { skip }, () => {
  let world: ContainerWorld | undefined;
  before(async () => {
    world = await makeContainerWorld('tbuild-ctr-concurrent-');
    root = world.root;
  });
  after(() => destroyContainerWorld(world));

  for (const pass of [1, 2])
    it(`pass ${pass}: run -d, exec, stop and rm of ${count} containers concurrently lose nothing`, async () => {
      const names = Array.from({ length: count }, (_, i) => `c${pass}-${i}`);
      const ids = await Promise.all(
        names.map(async (name) => {
          const r = await ok([
            'run',
            '-d',
            '--name',
            name,
            '-e',
            `WHO=${name}`,
            'busybox',
            'sh',
            '-c',
            `exec ${marker}`,
          ]);
          assert.match(r.stdout, /^[0-9a-f]{64}\n$/, `run -d ${name}`);
          return r.stdout.trim();
        }),
      );
      assert.equal(new Set(ids).size, count, 'distinct ids');

      const up = await psByName();
      assert.deepEqual([...up.keys()].sort(), [...names].sort(), 'ps -a lists exactly the new containers');
      for (const [name, status] of up) assert.match(status, /^Up /, `${name} is Up`);

      // Each exec sees its own container: its env, its hostname (the id's first 12) and its process.
      const execs = await Promise.all(
        names.map((name) =>
          ok(['exec', name, 'sh', '-c', 'echo "$WHO $(hostname) $(cat /proc/1/cmdline | tr "\\0" " ")"']),
        ),
      );
      for (const [i, r] of execs.entries())
        assert.equal(r.stdout, `${names[i]} ${ids[i]?.slice(0, 12)} ${marker} \n`, `exec in ${names[i]}`);

      const stopped = await Promise.all(names.map((name) => ok(['stop', '-t', '1', name])));
      for (const [i, r] of stopped.entries()) assert.equal(r.stdout, `${names[i]}\n`, `stop ${names[i]}`);
      const down = await psByName();
      assert.equal(down.size, count);
      for (const [name, status] of down) assert.match(status, /^Exited \(137\) /, `${name} after stop`);

      const removed = await Promise.all(names.map((name) => ok(['rm', name])));
      for (const [i, r] of removed.entries()) assert.equal(r.stdout, `${names[i]}\n`, `rm ${names[i]}`);
      assert.equal((await psByName()).size, 0, 'ps -a after rm');

      await assertNoContainerLeft(root, marker);
    });
});
