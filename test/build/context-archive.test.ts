// `tbuild build -` and `tbuild build URL`: a Dockerfile or a tar context (plain, gzip, bzip2, xz)
// on standard input, a tarball or Dockerfile at an http URL (a server on 127.0.0.1), as buildx
// tells them apart; archives unpacked by the layer code, never outside the context.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { needCommands, skipReason } from '../needs.ts';
import { runTbuild } from '../tbuild-entry.ts';
import { setupBuildTests } from './helpers.ts';

const h = setupBuildTests();
const skip = h.skip || skipReason(needCommands('bzip2', 'xz:xz-utils'));
const it = (name: string, fn: () => Promise<void>) => test(name, { skip }, fn);
const run = promisify(execFile);

function build(args: string[], stdin?: string | Buffer) {
  return runTbuild(
    ['--root', h.root(), 'build', '--progress', 'plain', ...args],
    stdin === undefined ? {} : { stdin },
  );
}

const contextFiles = {
  'docker/Build.Dockerfile': 'FROM busybox\nCOPY . /ctx/\nRUN cat /ctx/keep.txt > /seen\n',
  'keep.txt': 'kept\n',
  'secret.env': 'TOKEN=1\n',
  '.dockerignore': 'secret.env\n',
};

/** The context as an archive made by GNU tar (`-z`, `-j`, `-J` or none). */
async function archive(flag: string): Promise<Buffer> {
  const dir = await h.testdir(contextFiles);
  const out = join(dir, '..', `ctx-${flag || 'plain'}-${Date.now()}.tar`);
  await run('tar', ['-C', dir, ...(flag ? [flag] : []), '-cf', out, '.']);
  return readFile(out);
}

it('a Dockerfile on standard input builds with an empty context', async () => {
  const ok = await build(['-t', 'stdin-df', '-'], 'FROM busybox\nRUN echo from-stdin > /out\n');
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(await (await h.flatten('stdin-df')).text('/out'), 'from-stdin\n');
  // Nothing else came with it: the context is empty.
  const copy = await build(['-t', 'stdin-copy', '-'], 'FROM busybox\nCOPY Dockerfile /x\n');
  assert.equal(copy.code, 1);
  assert.match(copy.stderr, /COPY Dockerfile \/x: failed to compute cache key: "\/Dockerfile": not found/);
});

it('a tar context on standard input, plain or compressed, is unpacked; .dockerignore applies; -f is inside it', async () => {
  const ids = new Set<string>();
  for (const flag of ['', '-z', '-j', '-J']) {
    const result = await build(
      ['-q', '-t', `stdin-tar${flag.toLowerCase()}`, '-f', 'docker/Build.Dockerfile', '-'],
      await archive(flag),
    );
    assert.equal(result.code, 0, `${flag}: ${result.stderr}`);
    ids.add(result.stdout.trim());
  }
  // The same files whatever the compression: one image, the steps cached after the first.
  assert.equal(ids.size, 1, [...ids].join(' '));
  const image = await h.flatten('stdin-tar-j');
  assert.equal(await image.text('/seen'), 'kept\n');
  assert.equal(image.entries.has('/ctx/keep.txt'), true);
  assert.equal(image.entries.has('/ctx/secret.env'), false, '.dockerignore excluded it');
});

it('standard input cannot be the context and the Dockerfile, nor the Dockerfile twice', async () => {
  const both = await build(['-f', '-', '-'], 'FROM busybox\n');
  assert.equal(both.code, 1);
  assert.match(both.stderr, /ERROR: invalid argument: can't use stdin for both build context and dockerfile/);
  const twice = await build(['-f', 'Dockerfile', '-'], 'FROM busybox\n');
  assert.equal(twice.code, 1);
  assert.match(
    twice.stderr,
    /ERROR: ambiguous Dockerfile source: both stdin and flag correspond to Dockerfiles/,
  );
  const missing = await build(['-'], await archive('-z'));
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /failed to read dockerfile: open Dockerfile: no such file or directory/);
});

it('a context archive writes nothing outside its directory', async () => {
  const { layerTar } = await import('../image/helpers.ts');
  const outside = join(h.root(), '..', `outside-${Date.now()}`);
  const climbing = await layerTar([
    { name: 'Dockerfile', data: 'FROM busybox\n' },
    { name: `../${outside.split('/').pop()}`, data: 'x' },
  ]);
  const refused = await build(['-'], climbing);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /the context on standard input: archive entry ".*": .*'\.\.'/);
  assert.equal(existsSync(outside), false);
  // A link to an absolute path is followed inside the context, never on the host.
  const viaLink = await layerTar([
    { name: 'Dockerfile', data: 'FROM busybox\nCOPY . /ctx/\n' },
    { name: 'link', type: 'symlink', linkname: outside },
    { name: 'link/planted', data: 'x' },
  ]);
  const contained = await build(['-t', 'via-link', '-'], viaLink);
  assert.equal(contained.code, 0, contained.stderr);
  assert.equal(existsSync(outside), false);
  const image = await h.flatten('via-link');
  assert.equal(image.entries.has(`/ctx${outside}/planted`), true);
});

const served = new Map<string, Buffer>();
const server = createServer((req, res) => {
  const body = served.get(req.url ?? '');
  if (body === undefined) {
    res.writeHead(404).end('no such thing here\n');
    return;
  }
  res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(body);
});
let base = '';
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

it('an http URL context: a tarball is the context, anything else the Dockerfile, an error status fails', async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  served.set('/ctx.tar.gz', await archive('-z'));
  served.set('/Dockerfile', Buffer.from('FROM busybox\nRUN echo from-url > /out\n'));
  const tarball = await build(['-t', 'url-tar', '-f', 'docker/Build.Dockerfile', `${base}/ctx.tar.gz`]);
  assert.equal(tarball.code, 0, tarball.stderr);
  assert.equal(await (await h.flatten('url-tar')).text('/seen'), 'kept\n');
  const dockerfile = await build(['-t', 'url-df', `${base}/Dockerfile`]);
  assert.equal(dockerfile.code, 0, dockerfile.stderr);
  assert.equal(await (await h.flatten('url-df')).text('/out'), 'from-url\n');
  const missing = await build([`${base}/nothing.tar`]);
  assert.equal(missing.code, 1);
  assert.match(
    missing.stderr,
    new RegExp(
      `ERROR: unable to download remote context ${base}/nothing.tar: failed to GET .* with status 404 Not Found: no such thing here`,
    ),
  );
  // Every fetched context went with the command that fetched it.
  assert.deepEqual(
    (await import('node:fs/promises').then((fs) => fs.readdir(join(h.root(), 'tmp')))).filter((n) =>
      n.startsWith('context-'),
    ),
    [],
  );
  await rm(join(h.root(), 'tmp', 'nothing'), { force: true });
});
