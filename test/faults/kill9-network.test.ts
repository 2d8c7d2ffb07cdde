// kill -9 during `network rm` (issue 16, "Fault tests"), and during the `rm -f` of the last
// container of a network that `network rm` then removes, after a delay a seeded PRNG picks within
// the time an unkilled run takes (measured first). Each network had a container with a published
// port and host-gateway (so slirp4netns, aardvark-dns, the forwarder and the host-loopback
// slirp4netns all ran). After every kill: once `rm -f` and `network rm` are run to their end,
// nothing of the root's network layer is left (no nsfs mount, process naming the run directory,
// attachment or network runtime), the host's links, NAT rules and ip_forward are as before, and
// the next `network create` of the same name, a container on it and its removal work.
//
// Same harness as kill9-containers.test.ts (helpers.ts, containers-world.ts). The seed is
// printed; TBUILD_FAULTS_SEED=N replays it. CI runs 4 kills; TBUILD_FAULTS_FULL=1 runs 30,
// TBUILD_FAULTS_KILLS=N any number.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { whyNotRunnable } from '../build/helpers.ts';
import { firstReason, needCommands, skipReason } from '../needs.ts';
import { networkLeftovers, noNetworkLeftovers } from '../runtime/network-helpers.ts';
import { type ContainerWorld, destroyContainerWorld, makeContainerWorld } from './containers-world.ts';
import { cli, cliOk, runSeededKills, startCli } from './helpers.ts';

const skip = skipReason(
  firstReason(whyNotRunnable(), needCommands('conmon', 'slirp4netns', 'iptables', 'nsenter')),
);
const full = process.env.TBUILD_FAULTS_FULL === '1';
const kills = Number(process.env.TBUILD_FAULTS_KILLS ?? (full ? 30 : 4));
const seed = process.env.TBUILD_FAULTS_SEED
  ? Number(process.env.TBUILD_FAULTS_SEED)
  : Math.floor(Math.random() * 2 ** 31);

let root = '';
const ok = (args: string[]) => cliOk(root, args);

/** The host's own network set-up, which nothing here may change. */
function hostNetwork(): string {
  const links = execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' })
    .split('\n')
    .map((line) => line.split(':')[1]?.trim())
    .join(' ');
  const nat = execFileSync('iptables', ['-t', 'nat', '-S'], { encoding: 'utf8' });
  const forward = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8');
  return `${links}\n${nat}\nip_forward=${forward}`;
}

/** A network `net<n>` with one container on it that publishes a port and asked for host-gateway. */
async function networkWithContainer(n: number): Promise<{ net: string; ctr: string }> {
  const net = `net${n}`;
  const ctr = `c${n}`;
  await ok(['network', 'create', net]);
  await ok([
    'run',
    '-d',
    '--name',
    ctr,
    '--network',
    net,
    '-p',
    '127.0.0.1::80',
    '--add-host',
    'host.docker.internal:host-gateway',
    'busybox',
    'httpd',
    '-f',
    '-p',
    '80',
  ]);
  return { net, ctr };
}

interface Kill {
  name: string;
  weight: number;
  /** Sets up round n; returns the command to kill and what to run to the end afterwards. */
  prepare(n: number): Promise<{ args: string[]; net: string; ctr: string }>;
}

const killKinds: Kill[] = [
  {
    name: 'network rm',
    weight: 2,
    async prepare(n) {
      const made = await networkWithContainer(n);
      await ok(['rm', '-f', made.ctr]);
      return { args: ['network', 'rm', made.net], ...made };
    },
  },
  {
    name: 'rm -f of its last container',
    weight: 1,
    async prepare(n) {
      const made = await networkWithContainer(n);
      return { args: ['rm', '-f', made.ctr], ...made };
    },
  },
];

const windows = new Map<string, number>();
let hostBefore = '';

async function round(kind: Kill, n: number, delay: number | undefined, seen: { phase: string }) {
  const { args, net, ctr } = await kind.prepare(n);
  const run = startCli(root, args);
  const timer = delay === undefined ? undefined : setTimeout(() => run.child.kill('SIGKILL'), delay);
  const result = await run.done;
  clearTimeout(timer);
  const killed = result.signal === 'SIGKILL';
  if (!killed) assert.equal(result.code, 0, `${kind.name} exited ${result.code}:\n${result.stderr}`);
  seen.phase = killed ? 'killed' : 'finished before the kill';
  // What a user does next: remove what is still there; both must work whatever the kill left.
  if ((await cli(root, ['ps', '-aq', '--filter', `name=^${ctr}$`])).stdout.trim() !== '') {
    await ok(['rm', '-f', ctr]);
  }
  const networks = (await cli(root, ['network', 'ls', '--format', '{{.Name}}'])).stdout.split('\n');
  if (networks.includes(net)) {
    await ok(['network', 'rm', net]);
  }
  assert.deepEqual(networkLeftovers(root), noNetworkLeftovers);
  assert.equal(hostNetwork(), hostBefore, "the host's network set-up changed");
  // The next command works: the same name again, a container on it, its removal.
  await ok(['network', 'create', net]);
  await ok(['run', '-d', '--name', ctr, '--network', net, 'busybox', 'sleep', '300']);
  await ok(['rm', '-f', ctr]);
  await ok(['network', 'rm', net]);
  assert.deepEqual(networkLeftovers(root), noNetworkLeftovers);
  return result.ms;
}

describe('kill -9 during network rm', { skip }, () => {
  let world: ContainerWorld | undefined;
  before(async () => {
    world = await makeContainerWorld('tbuild-kill9-net-');
    root = world.root;
    hostBefore = hostNetwork();
  });
  after(() => destroyContainerWorld(world));

  it('each command, unkilled, passes the checks (and measures how long it takes)', async () => {
    for (const kind of killKinds) {
      windows.set(
        kind.name,
        Math.max(await round(kind, 1000 + windows.size, undefined, { phase: '?' }), 200),
      );
    }
  });

  it(`${kills} kills (seed ${seed})`, async (t) => {
    const tally = new Map<string, Map<string, number>>();
    await runSeededKills((line) => t.diagnostic(line), seed, kills, killKinds, windows, tally, round);
    for (const [name, byPhase] of [...tally].sort()) {
      t.diagnostic(
        `${name}: ${[...byPhase].map(([phase, k]) => `${phase} ${k}`).join(', ')}; unkilled ${windows.get(name)} ms`,
      );
    }
    const total = [...tally.values()].flatMap((m) => [...m.values()]).reduce((a, b) => a + b, 0);
    assert.equal(total, kills);
  });
});
