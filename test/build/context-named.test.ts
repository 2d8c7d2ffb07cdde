// Named contexts: `tbuild build --build-context NAME=VALUE`, as buildx. An image context
// (docker-image://) replaces `FROM NAME` and a whole stage of that name; a directory, a git
// repository (file:// and smart http on 127.0.0.1) is read by COPY --from, RUN --mount from= and
// FROM; a directory is keyed by its content (a hit when unchanged, a miss when a file changes)
// and honours its own .dockerignore. No test pulls: `alpine` exists only as the named context.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { needCommands, skipReason } from '../needs.ts';
import { type GitHttpServer, makeRepo, startGitHttp } from './git-fixtures.ts';
import { setupBuildTests } from './helpers.ts';

const h = setupBuildTests();
const skip = h.skip || skipReason(needCommands('git'));

let server: GitHttpServer | undefined;
after(() => server?.close());

async function busyboxDiffIds(): Promise<string[]> {
  return (await h.flatten('busybox')).config.rootfs.diff_ids;
}

test('docker-image:// replaces FROM alpine, and a stage of its name whole', { skip }, async () => {
  const image = await h.buildOk(
    {
      Dockerfile:
        'FROM alpine AS base\nRUN echo from-base > /base\n' +
        'FROM alpine:latest\nRUN echo hi > /hi\nCOPY --from=base /base /base\n',
    },
    { args: ['--build-context', 'alpine=docker-image://busybox'] },
  );
  assert.equal(await image.text('/hi'), 'hi\n');
  assert.equal(await image.text('/base'), 'from-base\n');
  // busybox's own layers under the build's: FROM alpine was busybox.
  const base = await busyboxDiffIds();
  assert.deepEqual(image.config.rootfs.diff_ids.slice(0, base.length), base);
  assert.match(image.stderr, /FROM docker\.io\/library\/busybox:latest/);

  // `base` named: the stage's FROM and its RUN give way to the context (the RUN would fail).
  const replaced = await h.buildOk(
    {
      Dockerfile: 'FROM scratch AS base\nRUN exit 3\n' + 'FROM base\nRUN echo ok > /ok\n',
    },
    { args: ['--build-context', 'docker.io/library/base:latest=docker-image://busybox'] },
  );
  assert.equal(await replaced.text('/ok'), 'ok\n');
  assert.doesNotMatch(replaced.stderr, /exit 3/);
});

test('a directory context: COPY --from, RUN --mount from=, FROM; its .dockerignore applies', {
  skip,
}, async () => {
  const extra = await h.testdir({
    'a.txt': 'from the named context\n',
    'secret.key': 'must stay out\n',
    '.dockerignore': 'secret.key\n',
    'sub/b.txt': 'b\n',
  });
  const image = await h.buildOk(
    {
      Dockerfile:
        'FROM extra AS files\n' +
        'FROM busybox\n' +
        'COPY --from=extra / /extra/\n' +
        'RUN --mount=from=extra,target=/mnt cat /mnt/sub/b.txt > /mounted && ls -a /mnt > /mnt-list\n' +
        'COPY --from=files /a.txt /from-stage\n',
      'a.txt': 'main context\n',
    },
    { args: ['--build-context', `extra=${extra}`] },
  );
  assert.equal(await image.text('/extra/a.txt'), 'from the named context\n');
  assert.equal(await image.text('/extra/sub/b.txt'), 'b\n');
  assert.equal(image.entries.has('/extra/secret.key'), false, 'the context .dockerignore applies');
  assert.equal(await image.text('/mounted'), 'b\n');
  assert.doesNotMatch(await image.text('/mnt-list'), /secret\.key/);
  assert.equal(await image.text('/from-stage'), 'from the named context\n');
});

test('a directory context is keyed by its content: a hit when unchanged, a miss when a file changes', {
  skip,
}, async () => {
  const extra = await h.testdir({ 'v.txt': 'one\n', 'other.txt': 'x\n' });
  const files = { Dockerfile: 'FROM busybox\nCOPY --from=extra v.txt /v\nRUN cat /v > /w\n' };
  const args = ['--build-context', `extra=${extra}`];
  const first = await h.buildOk(files, { args });
  assert.equal(await first.text('/w'), 'one\n');
  const again = await h.buildOk(files, { args });
  assert.match(again.stderr, /\[2\/3\] COPY --from=extra [^\n]*\n#\d+ CACHED/);
  assert.match(again.stderr, /\[3\/3\] RUN [^\n]*\n#\d+ CACHED/);
  // A file the COPY does not read changes nothing.
  await writeFile(join(extra, 'other.txt'), 'y\n');
  const unrelated = await h.buildOk(files, { args });
  assert.match(unrelated.stderr, /\[3\/3\] RUN [^\n]*\n#\d+ CACHED/);
  await writeFile(join(extra, 'v.txt'), 'two\n');
  const changed = await h.buildOk(files, { args });
  assert.doesNotMatch(changed.stderr, /\[2\/3\] COPY --from=extra [^\n]*\n#\d+ CACHED/);
  assert.equal(await changed.text('/w'), 'two\n');
});

test('a git context: file:// and smart http, with a ref and a subdirectory', { skip }, async () => {
  const repos = await h.testdir({});
  const repo = join(repos, 'lib.git');
  await makeRepo(repo, [
    { files: { 'src/lib.txt': 'v1\n', 'top.txt': 't\n' }, tag: 'v1' },
    { files: { 'src/lib.txt': 'v2\n' } },
  ]);
  server = await startGitHttp(repos);
  const files = { Dockerfile: 'FROM busybox\nCOPY --from=lib . /lib/\n' };
  const local = await h.buildOk(files, { args: ['--build-context', `lib=file://${repo}#v1:src`] });
  assert.equal(await local.text('/lib/lib.txt'), 'v1\n');
  assert.equal(local.entries.has('/lib/top.txt'), false);
  assert.equal(local.entries.has('/lib/.git'), false);
  const http = await h.buildOk(files, { args: ['--build-context', `lib=${server.url}/lib.git`] });
  assert.equal(await http.text('/lib/src/lib.txt'), 'v2\n');
  assert.ok(server.requests.some((r) => r.startsWith('GET /lib.git/info/refs?service=git-upload-pack')));
});

test('bad --build-context values: one line each, exit code 1', { skip }, async () => {
  const files = { Dockerfile: 'FROM busybox\n' };
  const noValue = await h.build(files, { args: ['--build-context', 'extra'] });
  assert.equal(noValue.code, 1);
  assert.match(noValue.stderr, /^ERROR: invalid context value: extra, expected key=value$/m);
  const badName = await h.build(files, { args: ['--build-context', 'Extra=/tmp'] });
  assert.equal(badName.code, 1);
  assert.match(badName.stderr, /invalid context name Extra: invalid reference format/);
  const missing = join(h.root(), 'no-such-dir');
  const absent = await h.build(files, { args: ['--build-context', `extra=${missing}`] });
  assert.equal(absent.code, 1);
  assert.match(
    absent.stderr,
    new RegExp(`failed to get build context extra: stat ${missing}: no such file or directory`),
  );
  const badImage = await h.build(files, { args: ['--build-context', 'extra=docker-image://Bad:Ref:x'] });
  assert.equal(badImage.code, 1);
  assert.match(badImage.stderr, /invalid build context extra: invalid reference format/);
  for (const result of [noValue, badName, absent, badImage]) assert.doesNotMatch(result.stderr, /\n\s+at /);
});
