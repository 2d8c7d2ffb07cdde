// kill -9 around kept containers (issue 15, "Fault tests"): of the conmon monitor, of the
// container's process, and of a `tbuild` command (run -d, stop, rm -f, commit) after a delay a
// seeded PRNG picks within the time an unkilled run takes (measured first). After every kill:
// `ps -a` tells the truth (a container shown Up has its process alive; a killed process or
// monitor shows Exited (137)), a killed commit made its image fully or not at all and runs
// again, `rm -f` of every container removes them all, and nothing is left: no mount, runc
// container (`runc --root <root>/runc/containers list`), conmon, container process or scratch;
// `fsck` is clean.
//
// Same harness as kill9.test.ts (helpers.ts: the bundle, startCli, seededRandom, leftovers;
// containers-world.ts: the root and the nothing-left check shared with containers-concurrent).
// The seed is printed; TBUILD_FAULTS_SEED=N replays it. CI runs 6 kills; TBUILD_FAULTS_FULL=1
// runs 60, TBUILD_FAULTS_KILLS=N any number.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
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
const kills = Number(process.env.TBUILD_FAULTS_KILLS ?? (full ? 60 : 6));
const seed = process.env.TBUILD_FAULTS_SEED
  ? Number(process.env.TBUILD_FAULTS_SEED)
  : Math.floor(Math.random() * 2 ** 31);

/**
 * Every container runs this, so a process left running it is easy to find; the pid makes it this
 * run's own (two runs at once on one machine must not count each other's containers).
 */
const marker = `sleep ${400000 + process.pid}`;
/** The file a container writes before a commit, and what commit must carry. */
const note = '/committed.txt';

let root = '';

/** A tbuild command the test needs to succeed. */
const ok = (args: string[]) => cliOk(root, args);

/** `run -d` of a container named `name` that writes `note` and sleeps; waits until it runs. */
async function runContainer(name: string): Promise<string> {
  const r = await ok([
    'run',
    '-d',
    '--name',
    name,
    'busybox',
    'sh',
    '-c',
    `echo ${name} > ${note}; exec ${marker}`,
  ]);
  const id = r.stdout.trim();
  assert.match(id, /^[0-9a-f]{64}$/);
  return id;
}

function readNumber(path: string): number | undefined {
  try {
    const n = Number(readFileSync(path, 'utf8').trim());
    return n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

const monitorPid = (id: string) => readNumber(join(root, 'containers', id, 'conmon.pid'));
const containerPid = (id: string) => readNumber(join(root, 'containers', id, 'bundle', 'pidfile'));

function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    return !/^\d+ \(.*\) [ZX]/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

function stateStatus(ref: string): string {
  const id = /^[0-9a-f]{64}$/.test(ref) ? ref : idNamed(ref);
  if (id === undefined) return 'none made';
  try {
    return (
      JSON.parse(readFileSync(join(root, 'containers', id, 'state.json'), 'utf8')) as { Status: string }
    ).Status;
  } catch {
    return existsSync(join(root, 'containers', id)) ? 'no state' : 'gone';
  }
}

/** The id of the container directory whose record has `name` (a killed run -d printed no id). */
function idNamed(name: string): string | undefined {
  const dir = join(root, 'containers');
  for (const id of existsSync(dir) ? readdirSync(dir) : []) {
    try {
      const record = JSON.parse(readFileSync(join(dir, id, 'container.json'), 'utf8')) as { Name?: string };
      if (record.Name === `/${name}` || record.Name === name) return id;
    } catch {}
  }
  return undefined;
}

/** `ps -a`: id → Status column, for every container. */
async function psAll(): Promise<Map<string, string>> {
  const out = (await ok(['ps', '-a', '--no-trunc', '--format', '{{.ID}}\t{{.Status}}'])).stdout;
  const rows = new Map<string, string>();
  for (const line of out.split('\n').filter(Boolean)) {
    const [id, status] = line.split('\t') as [string, string];
    rows.set(id, status);
  }
  return rows;
}

/** What a kind of kill needs: the container made for it and what to kill. */
interface Kill {
  name: string;
  weight: number;
  /** Unkilled preparation; `args` when a tbuild command is killed, else `pid` of a process. */
  prepare(n: number): Promise<{ id: string; args?: string[]; pid?: () => number | undefined }>;
  /** After the kill (or a run that finished first): what must hold of that container now. */
  verify(id: string, n: number, killed: boolean): Promise<void>;
}

/** The container `ps -a` must show as killed (137) after its process or monitor was killed. */
async function assertKilled137(id: string): Promise<void> {
  const status = (await psAll()).get(id);
  assert.match(status ?? 'missing', /^Exited \(137\) /, `ps -a of a container whose process was killed`);
}

const killKinds: Kill[] = [
  {
    name: 'monitor',
    weight: 2,
    async prepare(n) {
      const id = await runContainer(`mon${n}`);
      return { id, pid: () => monitorPid(id) };
    },
    async verify(id) {
      await assertKilled137(id);
    },
  },
  {
    name: 'process',
    weight: 2,
    async prepare(n) {
      const id = await runContainer(`proc${n}`);
      return { id, pid: () => containerPid(id) };
    },
    async verify(id) {
      // conmon sees the exit; wait (bounded) for its exit command, then ps must say 137 either way.
      await assertKilled137(id);
    },
  },
  {
    name: 'run -d',
    weight: 2,
    async prepare(n) {
      return {
        id: `run${n}`,
        args: ['run', '-d', '--name', `run${n}`, 'busybox', 'sh', '-c', `exec ${marker}`],
      };
    },
    async verify(name) {
      // Made fully (Up), or partly (Created/Exited), or not at all; the name is then usable again
      // once removed. A second run -d under a fresh name works.
      await ok(['rm', '-f', name]).catch(() => undefined);
      await ok(['run', '-d', '--name', name, 'busybox', 'sh', '-c', `exec ${marker}`]);
    },
  },
  {
    name: 'stop',
    weight: 2,
    async prepare(n) {
      const id = await runContainer(`stop${n}`);
      return { id, args: ['stop', '-t', '1', id] };
    },
    async verify(id) {
      await ok(['stop', '-t', '1', id]);
      assert.match((await psAll()).get(id) ?? 'missing', /^Exited \(137\) /, 'stopped sleep (ignores TERM)');
    },
  },
  {
    name: 'rm -f',
    weight: 2,
    async prepare(n) {
      const id = await runContainer(`rmf${n}`);
      return { id, args: ['rm', '-f', id] };
    },
    async verify(id) {
      const status = (await psAll()).get(id);
      if (status !== undefined) await ok(['rm', '-f', id]);
      assert.equal((await psAll()).has(id), false, 'rm -f removed it');
    },
  },
  {
    name: 'commit',
    weight: 2,
    async prepare(n) {
      const id = await runContainer(`commit${n}`);
      return { id, args: ['commit', id, `snap${n}:1`] };
    },
    async verify(id, n) {
      const name = `commit${n}`;
      // All or nothing: the image exists with the container's change, or not at all.
      const inspected = await cli(root, ['inspect', `snap${n}:1`]);
      if (inspected.code === 0) await assertNote(`snap${n}:1`, name);
      else assert.match(inspected.stderr, /No such image/i, inspected.stderr);
      // Repeating it works (also on a container a killed commit left paused).
      await ok(['commit', id, `again${n}:1`]);
      await assertNote(`again${n}:1`, name);
      await ok(['rmi', '-f', `again${n}:1`]);
      await cli(root, ['rmi', '-f', `snap${n}:1`]);
    },
  },
];

async function assertNote(image: string, expected: string): Promise<void> {
  const r = await ok(['run', '--rm', image, 'cat', note]);
  assert.equal(r.stdout, `${expected}\n`, `${image} carries the container's change`);
}

/** `ps -a` tells the truth: a container shown Up has a live process; a live process is shown Up. */
async function assertPsTruthful(): Promise<void> {
  for (const [id, status] of await psAll()) {
    const pid = containerPid(id);
    const runs = stateStatus(id) !== 'created' && alive(pid);
    if (/^Up/.test(status))
      assert.ok(runs, `ps -a shows ${id.slice(0, 12)} "${status}" but its process is dead`);
    else if (/^Exited/.test(status))
      assert.ok(!alive(pid) || stateStatus(id) === 'created', `${id.slice(0, 12)} "${status}" still runs`);
  }
}

/** How long each command takes unkilled (ms); how long a container takes to be killable. */
const windows = new Map<string, number>();
const tally = new Map<string, Map<string, number>>();

async function round(kind: Kill, n: number, delay: number | undefined, seen: { phase: string }) {
  const { id, args, pid } = await kind.prepare(n);
  let result: Finished | undefined;
  let ms = 0;
  if (args) {
    const run = startCli(root, args);
    const timer = delay === undefined ? undefined : setTimeout(() => run.child.kill('SIGKILL'), delay);
    result = await run.done;
    clearTimeout(timer);
    ms = result.ms;
    const killed = result.signal === 'SIGKILL';
    if (!killed) assert.equal(result.code, 0, `${kind.name} exited ${result.code}:\n${result.stderr}`);
    seen.phase = killed ? `state ${stateStatus(id)}` : 'finished before the kill';
  } else {
    await new Promise((r) => setTimeout(r, delay ?? 0));
    const target = pid?.();
    assert.ok(target !== undefined && alive(target), `${kind.name}: nothing to kill for ${id.slice(0, 12)}`);
    process.kill(target, 'SIGKILL');
    seen.phase = 'killed while running';
  }
  await assertPsTruthful();
  await kind.verify(id, n, result?.signal === 'SIGKILL' || !args);
  await assertPsTruthful();
  // rm -f removes every container, whatever state the kill left it in.
  const all = [...(await psAll()).keys()];
  if (all.length > 0) await ok(['rm', '-f', ...all]);
  assert.deepEqual([...(await psAll()).keys()], [], 'ps -a after rm -f of all');
  await assertNoContainerLeft(root, marker);
  return ms;
}

describe('kill -9 around kept containers', { skip }, () => {
  let world: ContainerWorld | undefined;
  before(async () => {
    world = await makeContainerWorld('tbuild-kill9-ctr-');
    root = world.root;
  });
  after(() => destroyContainerWorld(world));

  it('every command, unkilled, passes the checks (and measures how long it takes)', async () => {
    for (const kind of killKinds) {
      if (kind.name === 'monitor' || kind.name === 'process') continue;
      const ms = await round(kind, 1000 + windows.size, undefined, { phase: '?' });
      windows.set(kind.name, Math.max(ms, 200));
    }
    // A monitor or process is killed at once or up to a second into the container's life.
    windows.set('monitor', 1000);
    windows.set('process', 1000);
  });

  it(`${kills} kills (seed ${seed})`, async (t) => {
    await runSeededKills((line) => t.diagnostic(line), seed, kills, killKinds, windows, tally, round);
    let total = 0;
    for (const [name, byPhase] of [...tally].sort()) {
      const sum = [...byPhase.values()].reduce((a, b) => a + b, 0);
      total += sum;
      const phases = [...byPhase].map(([phase, n]) => `${phase} ${n}`).join(', ');
      t.diagnostic(`${name}: ${sum} kills (${phases}); unkilled ${windows.get(name)} ms`);
    }
    t.diagnostic(`${total} kills survived`);
    assert.ok(total >= kills);
  });
});
