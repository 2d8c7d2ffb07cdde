// ADD <git URL>: a repository checked out by the solver from a local smart-http server (git
// http-backend on 127.0.0.1), BuildKit's semantics: ref and subdirectory from the fragment, no
// .git unless --keep-git-dir, --checksum a commit prefix; keyed by the commit the ref resolves to,
// so a rebuild asks the server what the ref is (an ls-remote) and fetches nothing; a ref that
// looks like an option runs nothing.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { needCommands, skipReason } from '../needs.ts';
import { type GitHttpServer, git, makeRepo, startGitHttp } from './git-fixtures.ts';
import { describe, setupBuildTests } from './helpers.ts';

const h = setupBuildTests();
const skip = h.skip || skipReason(needCommands('git'));
const it = (name: string, fn: () => Promise<void>) =>
  test(name, { skip }, async () => {
    await ready();
    await fn();
  });

let repos = '';
let repo = '';
let hashes: string[] = [];
let server: GitHttpServer | undefined;
let made: Promise<void> | undefined;
// Made by the first test that runs (node runs a file's `before` hooks side by side).
const ready = () => {
  made ??= (async () => {
    repos = await h.testdir({});
    repo = join(repos, 'repo.git');
    hashes = await makeRepo(repo, [
      { files: { 'top.txt': 'one\n', 'sub/s.txt': 's1\n', 'sub/run.sh': '#!/bin/sh\n' }, tag: 'v1' },
      { files: { 'top.txt': 'two\n' } },
    ]);
    await git(repo, 'update-index', '--chmod=+x', 'sub/run.sh');
    await git(repo, 'commit', '-q', '-m', 'executable');
    hashes.push((await git(repo, 'rev-parse', 'HEAD')).trim());
    server = await startGitHttp(repos);
  })();
  return made;
};
after(() => server?.close());

const url = () => `${server?.url}/repo.git`;

it('a ref and a subdirectory from the fragment; no .git; --chown applies; HEAD without a ref', async () => {
  const image = await h.buildOk({
    Dockerfile: `FROM busybox\nADD ${url()}#v1:sub /app\n` + `ADD --chown=12:34 ${url()} /whole/\n`,
  });
  assert.equal(await image.text('/app/s.txt'), 's1\n');
  assert.equal(image.entries.has('/app/top.txt'), false);
  assert.equal(image.entries.has('/app/.git'), false);
  // The tag is before the commit that made run.sh executable.
  assert.equal(describe(image.entries.get('/app/run.sh')), 'file 0644 0:0');
  assert.equal(await image.text('/whole/top.txt'), 'two\n');
  assert.equal(describe(image.entries.get('/whole/sub/run.sh')), 'file 0755 12:34');
  assert.equal(image.entries.has('/whole/.git'), false);
});

it('--keep-git-dir=true keeps .git at the commit; --checksum must be a prefix of it', async () => {
  const kept = await h.buildOk({
    Dockerfile: `FROM busybox\nADD --keep-git-dir=true ${url()}#main /src\nRUN cd /src && test -d .git\n`,
  });
  assert.equal((await kept.text('/src/.git/HEAD')).trim(), hashes[2]);
  const pinned = await h.buildOk({
    Dockerfile: `FROM busybox\nADD --checksum=${hashes[0]?.slice(0, 12)} ${url()}#v1 /src\n`,
  });
  assert.equal(await pinned.text('/src/top.txt'), 'one\n');
  const wrong = await h.build({
    Dockerfile: `FROM busybox\nADD --checksum=${hashes[0]} ${url()}#main /src\n`,
  });
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, new RegExp(`expected checksum to match ${hashes[0]}, got ${hashes[2]}`));
  const copy = await h.build({ Dockerfile: `FROM busybox\nCOPY ${url()} /src\n` });
  assert.equal(copy.code, 1);
  assert.match(copy.stderr, /source can't be a git ref for COPY/);
  const inconsistent = await h.build({
    Dockerfile: `FROM busybox\nADD --keep-git-dir=true ${url()}?keep-git-dir=false /src\n`,
  });
  assert.equal(inconsistent.code, 1);
  assert.match(inconsistent.stderr, /inconsistent keep-git-dir configuration/);
});

it('keyed by the commit: a rebuild only asks what the ref is; a new commit is a miss', async () => {
  const branch = join(repos, 'moving.git');
  await makeRepo(branch, [{ files: { 'f.txt': 'first\n' } }]);
  const files = {
    Dockerfile: `FROM busybox\nADD ${server?.url}/moving.git#main /m\nRUN cat /m/f.txt > /copy\n`,
  };
  const first = await h.buildOk(files);
  assert.equal(await first.text('/copy'), 'first\n');
  // What one ls-remote costs against this server, measured with the same git.
  const beforeLs = server?.requests.length ?? 0;
  await git(repos, 'ls-remote', '--', `${server?.url}/moving.git`, 'main');
  const lsRemote = (server?.requests.length ?? 0) - beforeLs;
  assert.ok(lsRemote > 0);
  const beforeRebuild = server?.requests.length ?? 0;
  const again = await h.buildOk(files);
  assert.match(again.stderr, /\[2\/3\] ADD [^\n]*\n#\d+ CACHED/);
  assert.match(again.stderr, /\[3\/3\] RUN [^\n]*\n#\d+ CACHED/);
  assert.equal((server?.requests.length ?? 0) - beforeRebuild, lsRemote, 'a rebuild fetched');
  await makeRepo(branch, [{ files: { 'f.txt': 'second\n' } }]);
  const moved = await h.buildOk(files);
  assert.doesNotMatch(moved.stderr, /\[3\/3\] RUN [^\n]*\n#\d+ CACHED/);
  assert.equal(await moved.text('/copy'), 'second\n');
});

it('a ref that looks like an option is refused and runs nothing (CVE-2019-13139)', async () => {
  const marker = join(repos, 'PWNED');
  for (const source of [
    `${url()}#--upload-pack=touch ${marker};git-upload-pack`,
    `${url()}?ref=${encodeURIComponent(`--upload-pack=touch ${marker}`)}`,
  ]) {
    const result = await h.build({ Dockerfile: `FROM busybox\nADD ${JSON.stringify([source, '/x'])}\n` });
    assert.equal(result.code, 1, source);
    assert.match(
      result.stderr,
      /invalid git ref "--upload-pack=touch [^"]*" for .*: it must not start with "-"/,
    );
    assert.equal(existsSync(marker), false, `${source} ran the upload-pack command`);
  }
});
