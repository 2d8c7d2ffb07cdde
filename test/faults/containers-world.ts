/**
 * The root the kept-container fault suites (kill9-containers, containers-concurrent) work in: a
 * temp root with the busybox fixture loaded, commands through a fresh bundle (helpers.ts), and
 * the check that nothing of a container is left once all are removed.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { busyboxArchive } from '../build/helpers.ts';
import { cli, cliOk, makeBundle, processesNaming, settledLeftovers, useBundle } from './helpers.ts';

export interface ContainerWorld {
  work: string;
  root: string;
  bundleDir: string;
}

/** A fresh root under a temp dir named `prefix…`, busybox loaded, the CLI switched to a bundle. */
export async function makeContainerWorld(prefix: string): Promise<ContainerWorld> {
  const bundle = makeBundle();
  useBundle(bundle);
  const work = await mkdtemp(join(tmpdir(), prefix));
  const root = join(work, 'root');
  await cliOk(root, ['load', '-i', await busyboxArchive()]);
  return { work, root, bundleDir: dirname(bundle) };
}

/** Removes every container (rm -f), then the temp dir and the bundle. */
export async function destroyContainerWorld(world: ContainerWorld | undefined): Promise<void> {
  if (!world) return;
  const all = (await cli(world.root, ['ps', '-aq', '--no-trunc'])).stdout.split('\n').filter(Boolean);
  if (all.length > 0) await cli(world.root, ['rm', '-f', ...all]);
  await rm(world.work, { recursive: true, force: true });
  await rm(world.bundleDir, { recursive: true, force: true });
}

/**
 * Nothing of a container left on `root`: mounts, runc state (`runc --root <root>/runc/containers
 * list` too), conmon monitors, processes running `marker` or naming the root, scratch; fsck clean.
 */
export async function assertNoContainerLeft(root: string, marker: string): Promise<void> {
  const left = await settledLeftovers(root, { marker });
  const runcRoot = join(root, 'runc', 'containers');
  const listed = existsSync(runcRoot)
    ? execFileSync('runc', ['--root', runcRoot, 'list', '-q'], { encoding: 'utf8' })
        .split('\n')
        .filter(Boolean)
    : [];
  const monitors = processesNaming('conmon').filter((p) => p.cmdline.includes(root));
  assert.deepEqual(
    [...left, ...listed.map((c) => `runc list: ${c}`), ...monitors.map((m) => `conmon ${m.pid}`)],
    [],
    'left after every container was removed',
  );
  const fsck = await cli(root, ['fsck']);
  assert.equal(fsck.code, 0, `fsck exited ${fsck.code}:\n${fsck.stderr}${fsck.stdout}`);
  assert.match(fsck.stdout, /^ok/m);
}
