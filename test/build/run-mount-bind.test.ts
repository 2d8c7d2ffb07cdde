// RUN --mount=type=bind (the default type): the build context or another stage, read-only or
// writable-and-discarded, never in the image. behaviours.md 53, 56, 57.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setupBuildTests } from './helpers.ts';

const h = setupBuildTests();
const it = (name: string, fn: () => Promise<void>) => test(name, { skip: h.skip }, fn);

it('without a type the context is mounted read-only at target, .dockerignore applied', async () => {
  const image = await h.buildOk({
    Dockerfile: [
      'FROM busybox',
      'WORKDIR /w',
      'RUN --mount=target=/ctx cat /ctx/a.txt > /a && ls /ctx/sub > /sub && (test ! -e /ctx/ignored.env && echo hidden > /ignored)',
      'RUN --mount=target=/ctx (touch /ctx/new 2>/dev/null && echo writable || echo read-only) > /ro',
      'RUN --mount=source=sub,target=rel cat rel/b.txt > /rel',
      '',
    ].join('\n'),
    '.dockerignore': 'ignored.env\n',
    'a.txt': 'context a\n',
    'ignored.env': 'PASSWORD=x\n',
    'sub/b.txt': 'context b\n',
  });
  assert.equal(await image.text('/a'), 'context a\n');
  assert.equal(await image.text('/sub'), 'b.txt\n');
  assert.equal(await image.text('/ignored'), 'hidden\n');
  assert.equal(await image.text('/ro'), 'read-only\n');
  // A relative target is under the working directory.
  assert.equal(await image.text('/rel'), 'context b\n');
  for (const path of ['/ctx', '/w/rel']) assert.equal(image.entries.has(path), false, path);
});

it('from= a stage with source=; rw takes writes that are thrown away', async () => {
  const image = await h.buildOk({
    Dockerfile: [
      'FROM busybox AS build',
      'RUN mkdir /out && echo built > /out/x',
      'FROM busybox',
      'RUN --mount=from=build,source=/out,target=/in cat /in/x > /x',
      'RUN --mount=type=bind,from=build,source=/out,target=/in,rw echo scratch > /in/new && cat /in/new > /saw',
      'RUN --mount=from=build,source=/out,target=/in ls /in > /after',
      '',
    ].join('\n'),
  });
  assert.equal(await image.text('/x'), 'built\n');
  assert.equal(await image.text('/saw'), 'scratch\n');
  assert.equal(await image.text('/after'), 'x\n');
  assert.equal(image.entries.has('/in'), false);
  assert.equal(image.entries.has('/out'), false);
});

it('a context bind mount is cached by the content under its source', async () => {
  const dockerfile = 'FROM busybox\nRUN --mount=source=conf,target=/conf cat /conf/v > /v\n';
  const first = await h.buildOk({ Dockerfile: dockerfile, 'conf/v': 'one\n', 'other.txt': '1' });
  assert.equal(await first.text('/v'), 'one\n');
  // Same files under conf/ (another file changed): a cache hit.
  const same = await h.buildOk({ Dockerfile: dockerfile, 'conf/v': 'one\n', 'other.txt': '2' });
  assert.match(same.stderr, /#\d+ CACHED/);
  assert.equal(await same.text('/v'), 'one\n');
  // Changed content under conf/: the step runs again.
  const changed = await h.buildOk({ Dockerfile: dockerfile, 'conf/v': 'two\n', 'other.txt': '2' });
  assert.equal(await changed.text('/v'), 'two\n');
});

it('a missing bind source fails the step', async () => {
  const result = await h.build({ Dockerfile: 'FROM busybox\nRUN --mount=source=nope,target=/n true\n' });
  assert.equal(result.code, 1);
  assert.match(result.stderr, /nope: no such file or directory/);
});
