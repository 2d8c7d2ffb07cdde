// Git contexts: `tbuild build URL#ref:subdir` checks the repository out with Debian's git, from a
// local repository (file://) and over smart http (git http-backend behind a server on
// 127.0.0.1). A ref that looks like an option (CVE-2019-13139: `#--upload-pack=…`) runs nothing.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { needCommands, skipReason } from '../needs.ts';
import { runTbuild } from '../tbuild-entry.ts';
import { type GitHttpServer, git, makeRepo, startGitHttp } from './git-fixtures.ts';
import { setupBuildTests } from './helpers.ts';

const h = setupBuildTests();
const skip = h.skip || skipReason(needCommands('git'));
const it = (name: string, fn: () => Promise<void>) =>
  test(name, { skip }, async () => {
    await ready();
    await fn();
  });

function build(args: string[]) {
  return runTbuild(['--root', h.root(), 'build', '--progress', 'plain', ...args]);
}

const dockerfile = 'FROM busybox\nCOPY . /src/\nRUN cd /src && find . | sort > /files\n';
let repos = '';
let repo = '';
let hashes: string[] = [];
let server: GitHttpServer | undefined;

// Made by the first test that runs: node runs a file's `before` hooks side by side, and this
// one needs the harness's root.
let made: Promise<void> | undefined;
const ready = () => {
  made ??= makeFixtures();
  return made;
};
async function makeFixtures(): Promise<void> {
  repos = await h.testdir({});
  repo = join(repos, 'repo.git');
  hashes = await makeRepo(repo, [
    {
      files: {
        Dockerfile: dockerfile,
        'a.txt': 'one\n',
        '.dockerignore': 'ignored.txt\n',
        'ignored.txt': 'x\n',
        'sub/Dockerfile': dockerfile,
        'sub/s.txt': 's\n',
      },
      tag: 'v1',
    },
    { files: { 'a.txt': 'two\n' } },
  ]);
  await symlink('/etc', join(repo, 'etc-link'));
  await git(repo, 'add', 'etc-link');
  await git(repo, 'commit', '-q', '-m', 'a link out');
  hashes.push((await git(repo, 'rev-parse', 'HEAD')).trim());
  server = await startGitHttp(repos);
}
after(() => server?.close());

async function files(tag: string): Promise<string[]> {
  return (await (await h.flatten(tag)).text('/files')).trim().split('\n');
}

it('a git repository: its default branch, a tag with a subdirectory, a commit; its .dockerignore applies', async () => {
  const head = await build(['-t', 'git-head', `file://${repo}`]);
  assert.equal(head.code, 0, head.stderr);
  assert.deepEqual(await files('git-head'), [
    '.',
    './.dockerignore',
    './Dockerfile',
    './a.txt',
    './etc-link',
    './sub',
    './sub/Dockerfile',
    './sub/s.txt',
  ]);
  assert.equal(await (await h.flatten('git-head')).text('/src/a.txt'), 'two\n');
  const sub = await build(['-t', 'git-sub', `file://${repo}#v1:sub`]);
  assert.equal(sub.code, 0, sub.stderr);
  assert.deepEqual(await files('git-sub'), ['.', './Dockerfile', './s.txt']);
  const pinned = await build(['-t', 'git-commit', `file://${repo}#${hashes[0]}`]);
  assert.equal(pinned.code, 0, pinned.stderr);
  assert.equal(await (await h.flatten('git-commit')).text('/src/a.txt'), 'one\n');
  // -f names a file inside the repository; the context stays its root.
  const other = await build(['-t', 'git-f', '-f', 'sub/Dockerfile', `file://${repo}#main`]);
  assert.equal(other.code, 0, other.stderr);
  assert.ok((await files('git-f')).includes('./a.txt'));
});

it('keep-git-dir keeps .git at the commit checked out; a checksum must match', async () => {
  const kept = await build([
    '-t',
    'git-kept',
    '-f',
    'sub/Dockerfile',
    `file://${repo}?tag=v1&keep-git-dir=true`,
  ]);
  assert.equal(kept.code, 0, kept.stderr);
  const image = await h.flatten('git-kept');
  assert.equal((await image.text('/src/.git/HEAD')).trim(), hashes[0]);
  const wrong = await build([`file://${repo}?branch=main&checksum=${hashes[0]}`]);
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, new RegExp(`expected checksum to match ${hashes[0]}, got ${hashes[2]}`));
});

it('smart http: git http-backend on 127.0.0.1 serves the repository', async () => {
  const url = `${server?.url}/repo.git#v1:sub`;
  const result = await build(['-t', 'git-http', url]);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(await files('git-http'), ['.', './Dockerfile', './s.txt']);
  assert.ok(server?.requests.some((r) => r.startsWith('GET /repo.git/info/refs?service=git-upload-pack')));
  const missing = await build([`${server?.url}/repo.git#no-such-branch`]);
  assert.equal(missing.code, 1);
  assert.match(
    missing.stderr,
    /ERROR: failed to fetch .*\/repo\.git: fatal: couldn't find remote ref no-such-branch/,
  );
});

it('a ref that looks like an option is refused and runs nothing (CVE-2019-13139)', async () => {
  const marker = join(repos, 'PWNED');
  const hostile = `--upload-pack=touch ${marker};git-upload-pack`;
  for (const url of [
    `file://${repo}#${hostile}`,
    `${server?.url}/repo.git#${hostile}:sub`,
    `${server?.url}/repo.git?ref=${encodeURIComponent(hostile)}`,
    `${server?.url}/repo.git##ref=${hostile.replace(';', '')}`,
  ]) {
    const result = await build([url]);
    assert.equal(result.code, 1, url);
    assert.match(
      result.stderr,
      /ERROR: invalid git ref "--upload-pack=touch [^"]*" for .*: it must not start with "-"/,
      url,
    );
    assert.equal(existsSync(marker), false, `${url} ran the upload-pack command`);
  }
  // git's remote-helper syntax is no git address here: `ext::` would run a command.
  const helper = await build([`ext::sh -c touch% ${marker}`]);
  assert.equal(helper.code, 1);
  assert.match(helper.stderr, /unable to prepare context: path "ext::sh -c touch% .*" not found/);
  assert.equal(existsSync(marker), false);
});

it('credentials in a git URL never reach the output; a subdirectory must be a directory of the checkout', async () => {
  const port = new URL(server?.url ?? '').port;
  const result = await build([`http://someone:hunter2@127.0.0.1:${port}/missing.git`]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /someone:xxxxx@127\.0\.0\.1/);
  assert.doesNotMatch(result.stderr, /hunter2/);
  const link = await build([`file://${repo}#main:etc-link`]);
  assert.equal(link.code, 1);
  assert.match(link.stderr, /subdirectory etc-link of .*: etc-link is not a directory/);
});

it('a rebuild from an unchanged ref only asks what the ref is; a new commit is fetched', async () => {
  const moving = join(repos, 'moving.git');
  await makeRepo(moving, [{ files: { Dockerfile: 'FROM busybox\nCOPY f.txt /f\n', 'f.txt': 'first\n' } }]);
  const url = `${server?.url}/moving.git#main`;
  const first = await build(['-t', 'git-moving', url]);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(await (await h.flatten('git-moving')).text('/f'), 'first\n');
  // What one ls-remote costs against this server, measured with the same git.
  let before = server?.requests.length ?? 0;
  await git(repos, 'ls-remote', '--', `${server?.url}/moving.git`, 'main');
  const lsRemote = (server?.requests.length ?? 0) - before;
  assert.ok(lsRemote > 0);
  before = server?.requests.length ?? 0;
  const again = await build(['-t', 'git-moving', url]);
  assert.equal(again.code, 0, again.stderr);
  assert.equal((server?.requests.length ?? 0) - before, lsRemote, 'the rebuild fetched the repository again');
  assert.match(again.stderr, /\[2\/2\] COPY f\.txt \/f\n#\d+ CACHED/);
  await makeRepo(moving, [{ files: { 'f.txt': 'second\n' } }]);
  before = server?.requests.length ?? 0;
  const moved = await build(['-t', 'git-moving', url]);
  assert.equal(moved.code, 0, moved.stderr);
  assert.ok((server?.requests.length ?? 0) - before > lsRemote, 'a new commit must be fetched');
  assert.equal(await (await h.flatten('git-moving')).text('/f'), 'second\n');
});
