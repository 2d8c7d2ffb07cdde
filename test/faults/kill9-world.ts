/**
 * The world the kill -9 suite (kill9.test.ts) works in: one tbuild root with a few images whose
 * identity and content are known (`busybox`, and `app`, built with COPY, RUN, a cache mount and a
 * secret), reference results of every operation made by unkilled runs, a local docker-registry,
 * and the checks each kill is followed by. The operations themselves are in kill9-operations.ts.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { isOwnerAlive } from '../../processes.ts';
import { busyboxArchive, startRegistry, type TestRegistry } from '../registry/helpers.ts';
import { cli, cliOk, type Finished, makeBundle, settledLeftovers, useBundle } from './helpers.ts';

/** A RUN of the build sleeps with this argument, so a process still running it is easy to find. */
export const runMarker = 'sleep 0.31';

/** The build every build kill interrupts: COPY of a 3 MB file and of 40 small ones, two RUNs (cache mount, secret), a COPY --chmod. */
export function appDockerfile(): string {
  return [
    'FROM busybox',
    'COPY blob.bin /data/blob.bin',
    'COPY f*.txt /data/small/',
    'RUN --mount=type=cache,target=/cache dd if=/dev/zero of=/cache/scratch bs=1M count=4 2>/dev/null && head -c 2000000 /data/blob.bin > /made.bin && echo ok > /ok',
    `RUN --mount=type=secret,id=tok wc -c < /run/secrets/tok > /toklen && ${runMarker}`,
    'COPY --chmod=600 f1.txt /last.txt',
    '',
  ].join('\n');
}

/** What `tbuild run IMAGE sh -c <this>` prints about an app image's content (not its dates). */
export const appContentScript =
  'sha256sum /data/blob.bin /made.bin /ok /toklen /last.txt /data/small/* && stat -c "%a %u %g %n" /last.txt /data /data/small /made.bin /toklen && ls /';

export interface World {
  work: string;
  root: string;
  /** The app build's context directory and its secret file. */
  context: string;
  secret: string;
  /** Where `save -o` writes (checked for `*.tmp-*` litter). */
  outputs: string;
  registry: TestRegistry | undefined;
  /** Image IDs of the images that exist throughout. */
  baseline: Map<string, string>;
  /** sha256 of `save -o` of each baseline image. */
  baselineSaves: Map<string, string>;
  /** `appContentScript`'s output for the app image. */
  appContent: string;
  /** A docker archive of `loadme`, an image made in another root (its layers are new to this one). */
  loadmeArchive: string;
  loadmeId: string;
  loadmeContent: string;
  /** `127.0.0.1:PORT/src/loadme:1`, pushed at setup (when a registry runs). */
  loadmeRemote: string | undefined;
  /** A rootfs tarball for `import`, and the ID it gives under SOURCE_DATE_EPOCH. */
  rootfsTar: string;
  importId: string;
  /** The bundle's directory (removed at the end). */
  bundleDir: string;
}

export const epochEnv = { SOURCE_DATE_EPOCH: '1700000000' };

/** `build` of the app context, tagged `tag` (extra flags before the context). */
export function buildArgs(world: World, tag: string, extra: string[] = []): string[] {
  return [
    'build',
    '--progress',
    'plain',
    '--secret',
    `id=tok,src=${world.secret}`,
    '-t',
    tag,
    ...extra,
    world.context,
  ];
}

export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** The image ID `tbuild inspect` gives for `ref`, or undefined when there is no such image. */
export async function imageIdOf(world: World, ref: string): Promise<string | undefined> {
  const r = await cli(world.root, ['inspect', ref]);
  if (r.code !== 0) {
    assert.match(r.stderr, /No such image/i, `inspect ${ref} failed otherwise:\n${r.stderr}`);
    return undefined;
  }
  const parsed = JSON.parse(r.stdout) as { Id: string }[];
  return parsed[0]?.Id;
}

/** What `tbuild run loadme sh -c <this>` prints about its content. */
export const loadmeContentScript = 'sha256sum /data/blob.bin /made.bin && ls /';

/** `script` (appContentScript by default) run in `image`. */
export async function contentOf(world: World, image: string, script = appContentScript): Promise<string> {
  return (await cliOk(world.root, ['run', '--rm', image, 'sh', '-c', script])).stdout;
}

/** sha256 of `save -o` of `image` (into the work dir, removed after). */
export async function saveHash(world: World, image: string): Promise<string> {
  const out = join(world.work, `check-${randomBytes(4).toString('hex')}.tar`);
  await cliOk(world.root, ['save', '-o', out, image]);
  const hash = sha256File(out);
  await rm(out, { force: true });
  return hash;
}

/** Sets up the world; `withRegistry` starts a docker-registry too. */
export async function makeWorld(withRegistry: boolean): Promise<World> {
  const bundle = makeBundle();
  useBundle(bundle);
  const work = await mkdtemp(join(tmpdir(), 'tbuild-kill9-'));
  const root = join(work, 'root');
  const context = join(work, 'ctx');
  const outputs = join(work, 'out');
  const secret = join(work, 'secret');
  await mkdir(context);
  await mkdir(outputs);
  await writeFile(secret, 'hunter2-kill9\n');
  await writeFile(join(context, 'Dockerfile'), appDockerfile());
  await writeFile(join(context, 'blob.bin'), randomBytes(3_000_000));
  for (let i = 1; i <= 40; i++) await writeFile(join(context, `f${i}.txt`), `file ${i}\n`);
  await cliOk(root, ['load', '-i', await busyboxArchive()]);
  await cliOk(root, buildArgs({ context, secret } as World, 'app'));

  // loadme: made in a root of its own, so its layers (but busybox's) are new to this root.
  const other = join(work, 'other-root');
  const loadCtx = join(work, 'loadme-ctx');
  await mkdir(loadCtx);
  await writeFile(
    join(loadCtx, 'Dockerfile'),
    'FROM busybox\nCOPY big.bin /data/blob.bin\nRUN head -c 2000000 /data/blob.bin > /made.bin\n',
  );
  await writeFile(join(loadCtx, 'big.bin'), randomBytes(6_000_000));
  await cliOk(other, ['load', '-i', await busyboxArchive()]);
  await cliOk(other, ['build', '--progress', 'plain', '-t', 'loadme', loadCtx]);
  const loadmeArchive = join(work, 'loadme.tar');
  await cliOk(other, ['save', '-o', loadmeArchive, 'loadme']);
  const loadmeId = (JSON.parse((await cliOk(other, ['inspect', 'loadme'])).stdout) as { Id: string }[])[0]
    ?.Id as string;
  const loadmeContent = (await cliOk(other, ['run', '--rm', 'loadme', 'sh', '-c', loadmeContentScript]))
    .stdout;

  // A rootfs for import: the flattened loadme.
  const rootfsTar = join(work, 'rootfs.tar');
  const rootfsDir = join(work, 'rootfs');
  await mkdir(rootfsDir);
  await writeFile(join(rootfsDir, 'big.bin'), randomBytes(5_000_000));
  await mkdir(join(rootfsDir, 'etc'));
  await writeFile(join(rootfsDir, 'etc', 'hostname'), 'imported\n');
  await execTar(['-C', rootfsDir, '-cf', rootfsTar, '.']);
  await cliOk(other, ['import', rootfsTar, 'imported:1'], epochEnv);
  const importId = (JSON.parse((await cliOk(other, ['inspect', 'imported:1'])).stdout) as { Id: string }[])[0]
    ?.Id as string;

  let registry: TestRegistry | undefined;
  let loadmeRemote: string | undefined;
  if (withRegistry) {
    registry = await startRegistry(join(work, 'registry'));
    loadmeRemote = `${registry.host}/src/loadme:1`;
    await cliOk(other, ['tag', 'loadme', loadmeRemote]);
    await cliOk(other, ['push', loadmeRemote]);
  }
  await rm(other, { recursive: true, force: true });

  const world: World = {
    work,
    root,
    context,
    secret,
    outputs,
    registry,
    baseline: new Map(),
    baselineSaves: new Map(),
    appContent: '',
    loadmeArchive,
    loadmeId,
    loadmeContent,
    loadmeRemote,
    rootfsTar,
    importId,
    bundleDir: dirname(bundle),
  };
  for (const image of ['busybox', 'app']) {
    world.baseline.set(image, (await imageIdOf(world, image)) as string);
    world.baselineSaves.set(image, await saveHash(world, image));
  }
  world.appContent = await contentOf(world, 'app');
  return world;
}

async function execTar(args: string[]): Promise<void> {
  const { execFile } = await import('node:child_process');
  await new Promise<void>((res, rej) => execFile('tar', args, (error) => (error ? rej(error) : res())));
}

export async function destroyWorld(world: World | undefined): Promise<void> {
  if (!world) return;
  await world.registry?.stop();
  await rm(world.work, { recursive: true, force: true });
  await rm(world.bundleDir, { recursive: true, force: true });
}

/** Fails unless `r` exited 0. */
export function assertOk(r: Finished, what: string): void {
  assert.equal(r.code, 0, `${what} exited ${r.code}:\n${r.stderr}${r.stdout}`);
}

/** Owner-named files of dead processes in the store's and the cache's lease and claim folders. */
function deadOwnerFiles(root: string): string[] {
  const out: string[] = [];
  for (const dir of ['image/leases', 'image/tmp', 'cache/leases', 'cache/building']) {
    const abs = join(root, dir);
    if (!existsSync(abs)) continue;
    for (const name of readdirSync(abs)) if (isOwnerAlive(name) === false) out.push(`${dir}/${name}`);
  }
  return out;
}

/**
 * Temp-looking names anywhere a writer renames files into place (records, memos, checksums, cache
 * mounts, snapshots, the store): `*.tmp`, `*.tmp-*`, `<name>.<random hex>`. Scratch belongs in
 * `<root>/tmp` under an owner's name (cache/sweep.ts), never beside the real files.
 */
function strayTemps(root: string): string[] {
  const out: string[] = [];
  const looksTemp = /\.tmp$|\.tmp-|\.[0-9a-f]{8,12}$/;
  for (const dir of [
    'cache',
    'cache/keys',
    'cache/parsed',
    'cache/checksum-memo',
    'cache/mounts',
    'snapshots',
    'image',
  ]) {
    const abs = join(root, dir);
    if (!existsSync(abs)) continue;
    for (const name of readdirSync(abs)) if (looksTemp.test(name)) out.push(`${dir}/${name}`);
  }
  return out;
}

/**
 * The checks after every kill, once the operation was repeated: nothing left on the root
 * (mounts, runc containers, scratch, temps, processes, /dev/shm entries of the killed pid), fsck
 * without problems, no dead owner's lease or claim left once fsck ran, every baseline image with
 * its ID; with `deep`, also exported byte for byte as before and (app) running with its content.
 */
export async function checkWorld(world: World, killedPid: number, deep: boolean): Promise<void> {
  const left = await settledLeftovers(world.root, {
    outputsDir: world.outputs,
    marker: runMarker,
    deadPids: [killedPid],
  });
  assert.deepEqual([...left, ...strayTemps(world.root)], [], 'litter after the next command');
  const fsck = await cli(world.root, ['fsck']);
  assertOk(fsck, 'fsck');
  assert.match(fsck.stdout, /^ok/m);
  assert.doesNotMatch(fsck.stderr, /damaged/);
  assert.deepEqual(deadOwnerFiles(world.root), [], 'dead owners’ leases, claims or temps after fsck');
  const inspected = await cli(world.root, ['inspect', ...world.baseline.keys()]);
  assertOk(inspected, 'inspect of the baseline images');
  assert.deepEqual(
    (JSON.parse(inspected.stdout) as { Id: string }[]).map((i) => i.Id),
    [...world.baseline.values()],
    'baseline image IDs',
  );
  if (!deep) return;
  for (const [image, hash] of world.baselineSaves)
    assert.equal(await saveHash(world, image), hash, `save of ${image} differs`);
  assert.equal(await contentOf(world, 'app'), world.appContent, 'app content');
}
