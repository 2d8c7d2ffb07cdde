/**
 * The operations the kill -9 suite interrupts. Each one says what command to run, where a killed
 * run had got to (read from its output and the disk, before any other command touches the root),
 * and how to check afterwards that it fully happened or not at all, that repeating it works and
 * gives the reference result, and how to put the world back for the next kill.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { cli, cliOk } from './helpers.ts';
import {
  assertOk,
  buildArgs,
  contentOf,
  epochEnv,
  imageIdOf,
  loadmeContentScript,
  sha256File,
  type World,
} from './kill9-world.ts';

/** What the killed process had printed and whether it had exited on its own before the kill. */
export interface KilledRun {
  stderr: string;
  stdout: string;
}

export interface Operation {
  name: string;
  /** How often it is picked, relative to the others. */
  weight: number;
  /** Whether it needs the registry. */
  registry?: boolean;
  /** Unkilled preparation for round `round`; returns the command (after `--root ROOT`) to kill. */
  prepare(world: World, round: number): Promise<{ args: string[]; env?: Record<string, string> }>;
  /** Where the killed run had got to. Reads only output and disk: no tbuild command may run first. */
  phase(world: World, run: KilledRun, round: number): string;
  /**
   * After the kill (or a run that finished first): the operation fully happened or not at all,
   * repeating it works and gives the reference result, and the world is put back.
   */
  verify(world: World, round: number): Promise<void>;
}

const list = (dir: string): string[] => {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
};

/** Whether the store's index.json names `ref` (a full reference) right now. */
function indexNames(world: World, ref: string): boolean {
  try {
    return readFileSync(join(world.root, 'image', 'index.json'), 'utf8').includes(`"${ref}"`);
  } catch {
    return false;
  }
}

const storeTemps = (world: World) => list(join(world.root, 'image', 'tmp')).length;

/** Blob count before the command (set by `prepare`), to tell "nothing written" from "writing". */
let blobsBefore = 0;
let recordsBefore = 0;
const blobCount = (world: World) => list(join(world.root, 'image', 'blobs', 'sha256')).length;
const recordCount = (world: World) => list(join(world.root, 'cache', 'keys')).length;

/** Phase of a command that adds an image to the store under `ref`. */
function storeWritePhase(world: World, ref: string): string {
  if (indexNames(world, ref)) return 'tagged';
  if (blobCount(world) > blobsBefore) return 'some blobs written';
  if (storeTemps(world) > 0) return 'writing the first blob';
  return 'nothing written yet';
}

/** The build step a plain-progress build had reached: `[4/6] RUN`, `exporting`, … */
function buildPhase(stderr: string): string {
  let phase = 'starting';
  for (const line of stderr.split('\n')) {
    const step = /^#\d+ \[(\d+\/\d+)\] (\w+)/.exec(line);
    if (step) phase = `[${step[1]}] ${step[2]}`;
    else if (/^#\d+ \[internal\] load build context/.test(line)) phase = 'loading the context';
    else if (/^writing image/.test(line)) phase = 'writing the image';
    else if (/^naming to/.test(line)) phase = 'naming';
  }
  return phase;
}

const build: Operation = {
  name: 'build',
  weight: 5,
  async prepare(world) {
    return { args: buildArgs(world, 'victim', ['--no-cache']) };
  },
  phase: (_world, run) => buildPhase(run.stderr),
  async verify(world) {
    // Either the image is there, whole, or no tag was made.
    if ((await imageIdOf(world, 'victim')) !== undefined)
      assert.equal(
        await contentOf(world, 'victim'),
        world.appContent,
        'the killed build tagged a wrong image',
      );
    // Again, with the cache the killed build may have written to: the same content.
    assertOk(await cli(world.root, buildArgs(world, 'victim')), 'the repeated build');
    assert.equal(await contentOf(world, 'victim'), world.appContent, 'the repeated build');
    assertOk(await cli(world.root, ['rmi', 'victim']), 'rmi victim');
  },
};

const prune: Operation = {
  name: 'prune',
  weight: 2,
  async prepare(world) {
    recordsBefore = recordCount(world);
    return { args: ['prune', '-a', '-f'] };
  },
  phase(world) {
    const now = recordCount(world);
    if (recordsBefore === 0) return 'nothing to prune';
    if (now === recordsBefore) return 'no record removed yet';
    if (now === 0) return 'every record removed';
    return 'some records removed';
  },
  async verify(world) {
    assertOk(await cli(world.root, ['prune', '-a', '-f']), 'the repeated prune');
    assert.deepEqual(readdirSync(join(world.root, 'cache', 'keys')), [], 'records left after a whole prune');
    // The cache is usable: a build (from nothing now) gives the same content.
    assertOk(await cli(world.root, buildArgs(world, 'victim')), 'a build after the prune');
    assert.equal(await contentOf(world, 'victim'), world.appContent, 'a build after the prune');
    assertOk(await cli(world.root, ['rmi', 'victim']), 'rmi victim');
  },
};

/** load and pull: the same checks on the image they add. */
async function verifyAdded(world: World, ref: string, again: string[]): Promise<void> {
  const id = await imageIdOf(world, ref);
  if (id !== undefined) {
    assert.equal(id, world.loadmeId, `${ref} has another ID`);
    assert.equal(await contentOf(world, ref, loadmeContentScript), world.loadmeContent, `${ref} content`);
  }
  assertOk(await cli(world.root, again), again.join(' '));
  assert.equal(await imageIdOf(world, ref), world.loadmeId, `${ref} after ${again[0]} again`);
  assert.equal(await contentOf(world, ref, loadmeContentScript), world.loadmeContent, `${ref} content`);
  assertOk(await cli(world.root, ['rmi', ref]), `rmi ${ref}`);
}

const load: Operation = {
  name: 'load',
  weight: 2,
  async prepare(world) {
    blobsBefore = blobCount(world);
    return { args: ['load', '-i', world.loadmeArchive] };
  },
  phase: (world) => storeWritePhase(world, 'docker.io/library/loadme:latest'),
  verify: (world) => verifyAdded(world, 'loadme', ['load', '-i', world.loadmeArchive]),
};

const pull: Operation = {
  name: 'pull',
  weight: 2,
  registry: true,
  async prepare(world) {
    blobsBefore = blobCount(world);
    return { args: ['pull', world.loadmeRemote as string] };
  },
  phase: (world) => storeWritePhase(world, world.loadmeRemote as string),
  verify: (world) => verifyAdded(world, world.loadmeRemote as string, ['pull', world.loadmeRemote as string]),
};

const importOp: Operation = {
  name: 'import',
  weight: 1,
  async prepare(world) {
    blobsBefore = blobCount(world);
    return { args: ['import', world.rootfsTar, 'imported:1'], env: epochEnv };
  },
  phase: (world) => storeWritePhase(world, 'docker.io/library/imported:1'),
  async verify(world) {
    const id = await imageIdOf(world, 'imported:1');
    if (id !== undefined) assert.equal(id, world.importId, 'the killed import tagged another image');
    assertOk(await cli(world.root, ['import', world.rootfsTar, 'imported:1'], epochEnv), 'import again');
    assert.equal(await imageIdOf(world, 'imported:1'), world.importId);
    assertOk(await cli(world.root, ['rmi', 'imported:1']), 'rmi imported:1');
  },
};

const savedPath = (world: World) => join(world.outputs, 'app.tar');

const save: Operation = {
  name: 'save',
  weight: 2,
  async prepare(world) {
    return { args: ['save', '-o', savedPath(world), 'app'] };
  },
  phase(world) {
    if (existsSync(savedPath(world))) return 'renamed into place';
    if (list(world.outputs).some((name) => name.includes('.tmp-'))) return 'writing the temp archive';
    return 'nothing written yet';
  },
  async verify(world) {
    const path = savedPath(world);
    // Checked before any command: a complete archive or none.
    if (existsSync(path))
      assert.equal(
        sha256File(path),
        world.baselineSaves.get('app'),
        'the killed save left a partial archive',
      );
    assertOk(await cli(world.root, ['save', '-o', path, 'app']), 'save again');
    assert.equal(sha256File(path), world.baselineSaves.get('app'));
    await rm(path);
  },
};

const tag: Operation = {
  name: 'tag',
  weight: 1,
  async prepare() {
    return { args: ['tag', 'app', 'victim-tag:1'] };
  },
  phase: (world) => (indexNames(world, 'docker.io/library/victim-tag:1') ? 'tagged' : 'not tagged yet'),
  async verify(world) {
    const id = await imageIdOf(world, 'victim-tag:1');
    if (id !== undefined) assert.equal(id, world.baseline.get('app'));
    assertOk(await cli(world.root, ['tag', 'app', 'victim-tag:1']), 'tag again');
    assert.equal(await imageIdOf(world, 'victim-tag:1'), world.baseline.get('app'));
    assertOk(await cli(world.root, ['rmi', 'victim-tag:1']), 'rmi victim-tag:1');
  },
};

const rmi: Operation = {
  name: 'rmi',
  weight: 2,
  async prepare(world) {
    await cliOk(world.root, ['load', '-i', world.loadmeArchive]);
    blobsBefore = blobCount(world);
    return { args: ['rmi', 'loadme'] };
  },
  phase(world) {
    if (indexNames(world, 'docker.io/library/loadme:latest')) return 'still tagged';
    if (blobCount(world) === blobsBefore) return 'untagged, no blob removed yet';
    return 'blobs removed';
  },
  async verify(world) {
    // Still there: then whole (it runs and exports); gone: then the next load makes it whole again.
    if ((await imageIdOf(world, 'loadme')) !== undefined) {
      assert.equal(await contentOf(world, 'loadme', loadmeContentScript), world.loadmeContent);
      assertOk(await cli(world.root, ['rmi', 'loadme']), 'rmi again');
    }
    assertOk(await cli(world.root, ['load', '-i', world.loadmeArchive]), 'load after the rmi');
    assert.equal(await contentOf(world, 'loadme', loadmeContentScript), world.loadmeContent);
    assertOk(await cli(world.root, ['rmi', 'loadme']), 'rmi loadme');
  },
};

const pushRef = (world: World, round: number) => `${world.registry?.host}/p${round}/app:1`;

const push: Operation = {
  name: 'push',
  weight: 2,
  registry: true,
  async prepare(world, round) {
    await cliOk(world.root, ['tag', 'app', pushRef(world, round)]);
    return { args: ['push', pushRef(world, round)] };
  },
  phase(world, _run, round) {
    const repo = join(world.registry?.storage ?? '', 'docker/registry/v2/repositories', `p${round}`, 'app');
    if (existsSync(join(repo, '_manifests', 'tags', '1'))) return 'manifest pushed';
    const layers = list(join(repo, '_layers', 'sha256')).length;
    if (layers > 0) return 'some blobs pushed';
    if (list(join(repo, '_uploads')).length > 0) return 'uploading the first blob';
    return 'nothing pushed yet';
  },
  async verify(world, round) {
    const ref = pushRef(world, round);
    assertOk(await cli(world.root, ['push', ref]), 'push again');
    // What the registry holds is the app image: its manifest names app's config.
    const raw = execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref}`], {
      encoding: 'utf8',
    });
    assert.equal(
      (JSON.parse(raw) as { config: { digest: string } }).config.digest,
      world.baseline.get('app'),
    );
    assertOk(await cli(world.root, ['rmi', ref]), `rmi ${ref}`);
  },
};

export const operations: Operation[] = [build, prune, load, pull, importOp, save, tag, rmi, push];
