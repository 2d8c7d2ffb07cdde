// kill -9 around volumes (issue 16, "Fault tests"): of `volume rm` of a volume holding a few
// thousand files, of `volume create`, and of `run -d -v NAME:/bin` creating the volume and
// copying the image's /bin into it, each after a delay a seeded PRNG picks within the time an
// unkilled run takes (measured first). After every kill: every volume `volume ls` lists has whole
// metadata and `volume inspect` shows it; every directory in the store is a listed volume or a
// leftover (`.tmp-`, `.trash-`) that the next command holding the store's lock sweeps; the killed
// command, run again, works; removing the containers and volumes leaves nothing.
//
// Same harness as kill9-containers (helpers.ts runSeededKills, containers-world.ts). CI runs 6
// kills; TBUILD_FAULTS_FULL=1 runs 40, TBUILD_FAULTS_KILLS=N any number; TBUILD_FAULTS_SEED=N
// replays a seed.
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { whyNotRunnable } from '../build/helpers.ts';
import { firstReason, needCommands, skipReason } from '../needs.ts';
import {
  assertNoContainerLeft,
  type ContainerWorld,
  destroyContainerWorld,
  makeContainerWorld,
} from './containers-world.ts';
import { cli, cliOk, type Finished, runSeededKills, startCli } from './helpers.ts';

const skip = skipReason(firstReason(whyNotRunnable(), needCommands('conmon')));
const full = process.env.TBUILD_FAULTS_FULL === '1';
const kills = Number(process.env.TBUILD_FAULTS_KILLS ?? (full ? 40 : 6));
const seed = process.env.TBUILD_FAULTS_SEED
  ? Number(process.env.TBUILD_FAULTS_SEED)
  : Math.floor(Math.random() * 2 ** 31);

/** The containers' command: a process left running it is this run's. */
const marker = `sleep ${410000 + process.pid}`;

let root = '';
const ok = (args: string[]) => cliOk(root, args);
const store = () => join(root, 'volumes');

/** `volume ls -q`. */
async function listed(): Promise<string[]> {
  return (await ok(['volume', 'ls', '-q'])).stdout.split('\n').filter(Boolean);
}

/**
 * ls and inspect tell the truth: every listed volume has whole metadata and its `_data`; every
 * other entry of the store is the lock or a leftover a killed command left (never a half-made
 * volume under a volume's name).
 */
async function assertStoreTruthful(): Promise<void> {
  const names = await listed();
  for (const name of names) {
    const meta = JSON.parse(readFileSync(join(store(), name, 'volume.json'), 'utf8')) as { Name: string };
    assert.equal(meta.Name, name, `${name}: whole metadata`);
    const [doc] = JSON.parse((await ok(['volume', 'inspect', name])).stdout) as { Mountpoint: string }[];
    assert.equal(doc?.Mountpoint, join(store(), name, '_data'));
    readdirSync(doc?.Mountpoint as string);
  }
  for (const entry of readdirSync(store())) {
    if (names.includes(entry) || entry === '.lock') continue;
    assert.match(entry, /^\.(tmp|trash)-[0-9a-f]{16}$/, `store entry ${entry}: a volume ls does not list`);
  }
}

/** After the next command that holds the store's lock: no leftover at all. */
function assertNoLeftovers(): void {
  const extra = readdirSync(store()).filter((e) => e.startsWith('.') && e !== '.lock');
  assert.deepEqual(extra, [], 'leftovers swept by the next volume command');
}

interface Kill {
  name: string;
  weight: number;
  prepare(n: number): Promise<string[]>;
  verify(n: number, killed: boolean): Promise<void>;
}

const killKinds: Kill[] = [
  {
    name: 'volume rm',
    weight: 3,
    async prepare(n) {
      await ok(['volume', 'create', `big${n}`]);
      // Files enough that removal takes a while, so kills land during it.
      const data = join(store(), `big${n}`, '_data');
      for (let d = 0; d < 20; d++) {
        mkdirSync(join(data, `d${d}`));
        for (let f = 0; f < 100; f++) writeFileSync(join(data, `d${d}`, `f${f}`), `${d}/${f}\n`);
      }
      return ['volume', 'rm', `big${n}`];
    },
    async verify(n) {
      const name = `big${n}`;
      if ((await listed()).includes(name)) {
        // Still there: whole (its files all present, none half-removed: removal starts by a rename).
        assert.equal(readdirSync(join(store(), name, '_data')).length, 20);
      }
      await ok(['volume', 'rm', '-f', name]);
      assert.equal((await listed()).includes(name), false);
      assertNoLeftovers();
    },
  },
  {
    name: 'volume create',
    weight: 2,
    async prepare(n) {
      return ['volume', 'create', '--label', 'made=1', `new${n}`];
    },
    async verify(n) {
      const name = `new${n}`;
      await ok(['volume', 'create', '--label', 'made=1', name]);
      const [doc] = JSON.parse((await ok(['volume', 'inspect', name])).stdout) as { Labels: object }[];
      assert.deepEqual(doc?.Labels, { made: '1' });
      assertNoLeftovers();
      await ok(['volume', 'rm', name]);
    },
  },
  {
    name: 'run -v',
    weight: 3,
    async prepare(n) {
      return ['run', '-d', '--name', `r${n}`, '-v', `rv${n}:/bin`, 'busybox', 'sh', '-c', `exec ${marker}`];
    },
    async verify(n) {
      const name = `r${n}`;
      const volume = `rv${n}`;
      // The container and its volume are made fully, partly or not at all; removing both works.
      await cli(root, ['rm', '-f', '-v', name]);
      if ((await listed()).includes(volume)) await ok(['volume', 'rm', volume]);
      assertNoLeftovers();
      // The killed command, run again, works and copies /bin into the new volume.
      await ok([
        'run',
        '-d',
        '--name',
        name,
        '-v',
        `${volume}:/bin`,
        'busybox',
        'sh',
        '-c',
        `exec ${marker}`,
      ]);
      assert.ok(readdirSync(join(store(), volume, '_data')).includes('busybox'));
      await ok(['rm', '-f', name]);
      await ok(['volume', 'rm', volume]);
    },
  },
];

const windows = new Map<string, number>();
const tally = new Map<string, Map<string, number>>();

async function round(kind: Kill, n: number, delay: number | undefined, seen: { phase: string }) {
  const args = await kind.prepare(n);
  const run = startCli(root, args);
  const timer = delay === undefined ? undefined : setTimeout(() => run.child.kill('SIGKILL'), delay);
  const result: Finished = await run.done;
  clearTimeout(timer);
  const killed = result.signal === 'SIGKILL';
  if (!killed) assert.equal(result.code, 0, `${kind.name} exited ${result.code}:\n${result.stderr}`);
  const leftovers = readdirSync(store()).filter((e) => e.startsWith('.') && e !== '.lock').length;
  seen.phase = killed
    ? leftovers > 0
      ? 'killed, leftover in the store'
      : 'killed'
    : 'finished before the kill';
  await assertStoreTruthful();
  await kind.verify(n, killed);
  await assertStoreTruthful();
  return result.ms;
}

describe('kill -9 around volumes', { skip }, () => {
  let world: ContainerWorld | undefined;
  before(async () => {
    world = await makeContainerWorld('tbuild-kill9-vol-');
    root = world.root;
    await ok(['volume', 'ls']);
  });
  after(() => destroyContainerWorld(world));

  it('every command, unkilled, passes the checks (and measures how long it takes)', async () => {
    for (const kind of killKinds)
      windows.set(
        kind.name,
        Math.max(await round(kind, 1000 + windows.size, undefined, { phase: '?' }), 200),
      );
  });

  it(`${kills} kills (seed ${seed})`, async (t) => {
    await runSeededKills((line) => t.diagnostic(line), seed, kills, killKinds, windows, tally, round);
    for (const [name, byPhase] of [...tally].sort()) {
      const phases = [...byPhase].map(([phase, count]) => `${phase} ${count}`).join(', ');
      t.diagnostic(`${name}: ${phases}; unkilled ${windows.get(name)} ms`);
    }
    const all = (await ok(['ps', '-aq', '--no-trunc'])).stdout.split('\n').filter(Boolean);
    if (all.length > 0) await ok(['rm', '-f', '-v', ...all]);
    await assertNoContainerLeft(root, marker);
    assert.deepEqual(await listed(), []);
  });
});
