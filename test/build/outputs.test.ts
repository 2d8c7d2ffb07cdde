// Build outputs (issue 17, `-o`/`--output`), each checked by a tool that is not tbuild: `docker
// load` into a private dockerd 20.10 for the docker archive, skopeo and umoci for the OCI archive
// and layout directory, GNU tar for the tar output, and for the local output a compare against the
// image flattened. Everything end-to-end through bin/tbuild.js.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { needCommands, skipReason } from '../needs.ts';
import { type PrivateDockerd, startPrivateDockerd, whyNoDocker } from '../private-dockerd.ts';
import { runTbuild } from '../tbuild-entry.ts';
import { type FlatEntry, listDirectory, setupBuildTests } from './helpers.ts';

const run = promisify(execFile);
const h = setupBuildTests();
const tools = skipReason(needCommands('skopeo', 'umoci', 'tar'));
const noDocker = skipReason(whyNoDocker());
const EPOCH = 1700000000;

const files = {
  Dockerfile: [
    'FROM busybox',
    'RUN mkdir -p /app/sub && echo hello > /app/hi && chown 1000:1000 /app/hi && echo s > /app/suid \\',
    '  && chmod 4755 /app/suid && ln -s hi /app/link && ln /app/hi /app/hard && rm /bin/ls',
    'COPY f.txt /app/sub/',
    '',
  ].join('\n'),
  'f.txt': 'from the context\n',
};

let work = '';
let ctx = '';
before(async () => {
  if (h.skip) return;
  work = await mkdtemp(join(tmpdir(), 'tbuild-outputs-'));
  ctx = await h.testdir(files);
});
after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

async function build(args: string[], env: Record<string, string> = {}) {
  const result = await runTbuild(['--root', h.root(), 'build', '--progress', 'plain', ...args, ctx], { env });
  assert.equal(result.code, 0, result.stderr);
  return result;
}

/** `tbuild build … ctx > file`: standard output into a file, byte for byte. */
async function buildToStdout(args: string[], file: string) {
  const fd = openSync(file, 'w');
  try {
    const result = await runTbuild(['--root', h.root(), 'build', '--progress', 'plain', ...args, ctx], {
      stdoutFd: fd,
    });
    assert.equal(result.code, 0, result.stderr);
  } finally {
    closeSync(fd);
  }
}

/** Entries as comparable lines; `owner` replaces every uid:gid (a local output is the user's). */
function lines(entries: Map<string, FlatEntry>, owner?: string): string[] {
  return [...entries].map(([path, e]) => {
    const ids = owner ?? `${e.uid}:${e.gid}`;
    return `${path} ${e.type} ${e.mode.toString(8)} ${ids} ${e.sha256 ?? ''} ${e.link ?? ''} ${e.hardlink ?? ''}`;
  });
}

const it = (name: string, fn: () => Promise<void>, skip: string | false = false) =>
  test(name, { skip: h.skip || tools || skip }, fn);

it('one build, five outputs: local and tar equal the image, the OCI archive and layout read by skopeo and umoci', async () => {
  const out = join(work, 'all');
  await mkdir(out);
  const meta = join(out, 'meta.json');
  const local = join(out, 'local');
  await build([
    '-t',
    'outs:1',
    '-o',
    'type=image',
    '-o',
    `type=local,dest=${local}`,
    '-o',
    `type=tar,dest=${join(out, 'fs.tar')}`,
    '-o',
    `type=oci,dest=${join(out, 'oci.tar')}`,
    '-o',
    `type=oci,tar=false,dest=${join(out, 'layout')}`,
    '--metadata-file',
    meta,
  ]);
  const image = await h.flatten('outs:1');
  const expected = lines(image.entries);
  assert.ok(image.entries.get('/app/hi')?.uid === 1000, 'the image keeps the RUN step owner');
  assert.equal(image.entries.get('/bin/ls'), undefined, 'a deleted file stays deleted');

  // local: the same tree, owned by the user who ran the build (BuildKit's receiver does that).
  const me = `${process.getuid?.()}:${process.getgid?.()}`;
  assert.deepEqual(lines(await listDirectory(local)), lines(image.entries, me));
  assert.equal(await readFile(join(local, 'app/sub/f.txt'), 'utf8'), files['f.txt']);

  // tar: GNU tar lists every path of the image and unpacks to the same tree, owners included.
  const listed = (await run('tar', ['-tf', join(out, 'fs.tar')])).stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((name) => `/${name.replace(/\/$/, '')}`)
    .sort();
  assert.deepEqual(listed, [...image.entries.keys()].sort());
  const unpacked = join(out, 'tar-unpacked');
  await mkdir(unpacked);
  await run('tar', ['-xpf', join(out, 'fs.tar'), '-C', unpacked, '--numeric-owner']);
  assert.deepEqual(lines(await listDirectory(unpacked)), expected);

  // --metadata-file: BuildKit's keys, the image's own digests and name.
  const metadata = JSON.parse(await readFile(meta, 'utf8')) as Record<string, unknown>;
  const id = (await h.cli(['images', '-q', '--no-trunc', 'outs:1'])).stdout.trim();
  assert.match(id, /^sha256:[0-9a-f]{64}$/);
  assert.equal(metadata['containerimage.config.digest'], id);
  assert.equal(metadata['image.name'], 'docker.io/library/outs:1');
  const digest = metadata['containerimage.digest'];
  assert.match(String(digest), /^sha256:[0-9a-f]{64}$/);
  assert.equal((metadata['containerimage.descriptor'] as { digest?: string }).digest, digest);

  // oci archive: skopeo reads it; its manifest is the image's.
  const archived = JSON.parse(
    (await run('skopeo', ['inspect', `oci-archive:${join(out, 'oci.tar')}`])).stdout,
  );
  assert.equal(archived.Digest, digest);
  // oci layout directory: skopeo finds the image by its tag, umoci unpacks the same tree.
  const inLayout = JSON.parse((await run('skopeo', ['inspect', `oci:${join(out, 'layout')}:1`])).stdout);
  assert.equal(inLayout.Digest, digest);
  await run('umoci', ['unpack', '--image', `${join(out, 'layout')}:1`, join(out, 'bundle')]);
  assert.deepEqual(lines(await listDirectory(join(out, 'bundle', 'rootfs'))), expected);
});

it('only local and tar outputs: nothing lands in the store; -o DIR and -o - are their shorthands', async () => {
  const out = join(work, 'short');
  await mkdir(out);
  const before = (await h.cli(['images', '-a', '-q', '--no-trunc'])).stdout;
  await build(['-o', join(out, 'dir')]);
  await buildToStdout(['-o', '-'], join(out, 'stdout.tar'));
  assert.equal(await readFile(join(out, 'dir', 'app/sub/f.txt'), 'utf8'), files['f.txt']);
  const listed = (await run('tar', ['-tf', join(out, 'stdout.tar')])).stdout.split('\n');
  assert.ok(listed.includes('app/sub/f.txt'), listed.slice(0, 20).join(' '));
  assert.ok(listed.includes('bin/busybox'));
  assert.equal((await h.cli(['images', '-a', '-q', '--no-trunc'])).stdout, before);
});

it('SOURCE_DATE_EPOCH: every path of the local and tar outputs has the epoch as its mtime', async () => {
  const out = join(work, 'epoch');
  await mkdir(out);
  const env = { SOURCE_DATE_EPOCH: String(EPOCH) };
  await build(
    ['-o', `type=local,dest=${join(out, 'dir')}`, '-o', `type=tar,dest=${join(out, 'fs.tar')}`],
    env,
  );
  const times = (await run('tar', ['--full-time', '--utc', '-tvf', join(out, 'fs.tar')])).stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => line.split(/\s+/).slice(3, 5).join(' '));
  assert.ok(times.length > 200, `${times.length} entries`);
  assert.deepEqual([...new Set(times)], ['2023-11-14 22:13:20']);
  const walk = async (dir: string): Promise<number[]> => {
    const found: number[] = [];
    for (const name of await readdir(dir)) {
      const info = await lstat(join(dir, name));
      found.push(Math.trunc(info.mtimeMs / 1000));
      if (info.isDirectory()) found.push(...(await walk(join(dir, name))));
    }
    return found;
  };
  assert.deepEqual([...new Set(await walk(join(out, 'dir')))], [EPOCH]);
});

it('-o type=image,rewrite-timestamp=false: the config is dated by the epoch, the layers keep their mtimes', async () => {
  const env = { SOURCE_DATE_EPOCH: String(EPOCH) };
  const newest = async (tag: string) => {
    const image = await h.flatten(tag);
    const runLayer = image.layers[1] as string;
    const stamps = (await run('tar', ['--full-time', '--utc', '-tvf', runLayer])).stdout
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => Date.parse(`${line.split(/\s+/).slice(3, 5).join('T')}Z`));
    return { newest: Math.max(...stamps) / 1000, created: (image.config as { created?: string }).created };
  };
  await build(['-o', 'type=image,name=rewrite:off,rewrite-timestamp=false'], env);
  await build(['-o', 'type=image,name=rewrite:on,rewrite-timestamp=true'], env);
  const off = await newest('rewrite:off');
  const on = await newest('rewrite:on');
  assert.equal(off.created, '2023-11-14T22:13:20Z');
  assert.equal(on.created, '2023-11-14T22:13:20Z');
  assert.ok(off.newest > EPOCH, `unclamped RUN layer: newest mtime ${off.newest}`);
  assert.ok(on.newest <= EPOCH, `clamped RUN layer: newest mtime ${on.newest}`);
});

it('type=local,platform-split=true puts the filesystem under a directory named for the platform', async () => {
  const out = join(work, 'split');
  await build(['-o', `type=local,dest=${out},platform-split=true`]);
  assert.deepEqual(await readdir(out), ['linux_amd64']);
  assert.equal(await readFile(join(out, 'linux_amd64', 'app/sub/f.txt'), 'utf8'), files['f.txt']);
});

// The docker archive, to a file and to standard output, loads into Docker 20.10 and runs there.
let dockerd: PrivateDockerd | undefined;
let dockerWork = '';
after(async () => {
  await dockerd?.stop();
  if (dockerWork) await rm(dockerWork, { recursive: true, force: true });
});

it(
  'type=docker (dest=FILE and dest=-): docker load takes the archive and runs the image',
  async () => {
    const out = join(work, 'docker');
    await mkdir(out);
    const meta = join(out, 'meta.json');
    await build([
      '-o',
      `type=docker,dest=${join(out, 'image.tar')},name=docker-out:file`,
      '--metadata-file',
      meta,
    ]);
    await buildToStdout(['-o', 'type=docker,dest=-,name=docker-out:stdout'], join(out, 'stdout.tar'));
    dockerWork = await mkdtemp(join(tmpdir(), 'tbuild-outputs-docker-'));
    dockerd = await startPrivateDockerd(dockerWork, '/run/tbuild-test-outputs-docker.sock');
    const loaded = await dockerd.docker(['load', '-i', join(out, 'image.tar')]);
    assert.match(loaded.stdout, /Loaded image: docker-out:file/);
    const fromStdout = await dockerd.docker(['load', '-i', join(out, 'stdout.tar')]);
    assert.match(fromStdout.stdout, /Loaded image: docker-out:stdout/);
    const metadata = JSON.parse(await readFile(meta, 'utf8')) as Record<string, string>;
    const id = (await dockerd.docker(['image', 'inspect', '--format', '{{.Id}}', 'docker-out:file'])).stdout;
    assert.equal(id.trim(), metadata['containerimage.config.digest']);
    assert.equal(metadata['image.name'], 'docker.io/library/docker-out:file');
    const ran = await dockerd.docker([
      'run',
      '--rm',
      '--network',
      'none',
      'docker-out:stdout',
      'sh',
      '-c',
      'cat /app/sub/f.txt; stat -c %u:%g /app/hi',
    ]);
    assert.equal(ran.stdout, `${files['f.txt']}1000:1000\n`);
    // Not stored: an archive output leaves the store as it was.
    assert.equal((await h.cli(['images', '-q', 'docker-out'])).stdout, '');
  },
  noDocker,
);

it('--load and type=docker without dest put the image in the store', async () => {
  await build(['--load', '-t', 'loaded:1']);
  await build(['-o', 'type=docker,name=loaded:2']);
  const ids = await Promise.all(['loaded:1', 'loaded:2'].map((t) => h.cli(['images', '-q', t])));
  assert.match(ids[0]?.stdout ?? '', /^[0-9a-f]{12}\n$/);
  assert.equal(ids[0]?.stdout, ids[1]?.stdout);
});

it('a tar output to an existing file replaces it whole, leaving no temp file', async () => {
  const out = join(work, 'replace');
  await mkdir(out);
  await writeFile(join(out, 'fs.tar'), 'old content');
  await build(['-o', `type=tar,dest=${join(out, 'fs.tar')}`]);
  const listed = (await run('tar', ['-tf', join(out, 'fs.tar')])).stdout;
  assert.match(listed, /^app\/sub\/f\.txt$/m);
  assert.deepEqual((await readdir(out)).sort(), ['fs.tar'], 'no temp file left beside it');
});
