// Which strings are git repositories and what their fragment and query say: BuildKit's own tables
// (frontend/dockerfile/dfgitutil git_ref_test.go, util/gitutil git_url_test.go), as data.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type GitRef, isGitAddress, parseGitRef, redactCredentials } from '../../source/index.ts';

type Expected = Partial<GitRef> | undefined;

const cases: [string, Expected][] = [
  ['https://example.com/', undefined],
  ['https://example.com/foo', undefined],
  ['https://example.com/foo.git', { remote: 'https://example.com/foo.git', scheme: 'https' }],
  ['https://example.com/foo.git#deadbeef', { remote: 'https://example.com/foo.git', ref: 'deadbeef' }],
  ['https://example.com/foo.git#release/1.2', { ref: 'release/1.2' }],
  ['https://example.com/foo.git/', undefined],
  ['https://example.com/foo.git.bar', undefined],
  ['git://example.com/foo', { remote: 'git://example.com/foo', scheme: 'git' }],
  [
    'github.com/moby/buildkit',
    { remote: 'https://github.com/moby/buildkit', indistinguishableFromLocal: true },
  ],
  ['custom.xyz/moby/buildkit.git', undefined],
  ['https://github.com/moby/buildkit', undefined],
  [
    'https://foo:bar@github.com/moby/buildkit.git',
    { remote: 'https://foo:bar@github.com/moby/buildkit.git' },
  ],
  ['git@github.com:moby/buildkit', { remote: 'git@github.com:moby/buildkit', scheme: 'ssh' }],
  ['git@github.com:moby/buildkit.git', { remote: 'git@github.com:moby/buildkit.git', scheme: 'ssh' }],
  ['git@github.com:moby/buildkit.git#v1.0.0:hack', { ref: 'v1.0.0', subdir: 'hack' }],
  ['nonstandarduser@example.com:/srv/repos/weird/project.git', { scheme: 'ssh' }],
  [
    'ssh://git@github.com:22/moby/buildkit.git',
    { remote: 'ssh://git@github.com:22/moby/buildkit.git', scheme: 'ssh' },
  ],
  [
    'https://github.com/foo/bar.git#baz/qux:quux/quuz',
    { remote: 'https://github.com/foo/bar.git', ref: 'baz/qux', subdir: 'quux/quuz' },
  ],
  ['http://github.com/docker/docker.git:#branch', undefined],
  ['https://github.com/docker/docker.git#:myfolder', { subdir: 'myfolder' }],
  ['https://github.com/docker/docker.git#:/', { ref: undefined, subdir: undefined }],
  ['./.git', undefined],
  ['.git', undefined],
  ['HTTP://github.com/moby/buildkit.git', { scheme: 'http' }],
  ['httpx://github.com/moby/buildkit.git', undefined],
  [
    'https://github.com/docker/docker.git?ref=v1.0.0&subdir=/subdir',
    { remote: 'https://github.com/docker/docker.git', ref: 'v1.0.0', subdir: 'subdir' },
  ],
  ['https://github.com/docker/docker.git?tag=v1', { ref: 'refs/tags/v1' }],
  [
    'https://github.com/docker/docker.git?branch=dev&keep-git-dir',
    { ref: 'refs/heads/dev', keepGitDir: true },
  ],
  ['https://github.com/docker/docker.git?checksum=abc', { ref: 'abc', checksum: 'abc' }],
  ['https://github.com/moby/buildkit.git##ref=v1.0.0,subdir=/subdir', { ref: 'v1.0.0', subdir: 'subdir' }],
  ['https://github.com/moby/buildkit.git##"ref=ref,with,comma",subdir=/subdir', { ref: 'ref,with,comma' }],
  ['https://github.com/moby/buildkit.git##ref=#ref-starts-with-sharp', { ref: '#ref-starts-with-sharp' }],
  ['https://github.com/moby/buildkit.git##commit=deadbeef', { ref: 'deadbeef', checksum: 'deadbeef' }],
  // git's remote-helper syntax runs programs: never taken for an scp-like ssh address.
  ['ext::sh -c touch% /tmp/pwned', undefined],
  // file:// is not git in BuildKit; tbuild takes it only where asked (contexts, not ADD).
  ['file:///srv/repo.git', undefined],
];

for (const [text, expected] of cases) {
  test(`parseGitRef ${JSON.stringify(text)}`, () => {
    const got = parseGitRef(text);
    if (expected === undefined) {
      assert.equal(got, undefined);
      return;
    }
    assert.ok(got, 'a git address');
    for (const [key, value] of Object.entries(expected)) {
      assert.deepEqual(got[key as keyof GitRef], value, key);
    }
  });
}

test('file:// is git where the caller allows it', () => {
  assert.deepEqual(parseGitRef('file:///srv/repo#main:sub', { allowFile: true }), {
    remote: 'file:///srv/repo',
    scheme: 'file',
    ref: 'main',
    subdir: 'sub',
    indistinguishableFromLocal: false,
  });
});

test('a malformed fragment or query of a git address is an error naming it, password redacted', () => {
  for (const [text, reason] of [
    ['https://u:pw@h/r.git##ref=v1,unknown=x', /unexpected key 'unknown'/],
    ['https://u:pw@h/r.git?ref=a&ref=b', /query "ref" has multiple values/],
    ['https://u:pw@h/r.git?ref=', /query "ref" has no value/],
    ['https://u:pw@h/r.git?tag=a&branch=b', /branch conflicts with tag/],
    ['https://u:pw@h/r.git?color=red', /unexpected query "color"/],
    ['https://u:pw@h/r.git?keep-git-dir=maybe', /invalid keep-git-dir value/],
  ] as const) {
    assert.throws(
      () => parseGitRef(text),
      (error: Error) =>
        reason.test(error.message) && error.message.includes('u:xxxxx@') && !error.message.includes('pw'),
      text,
    );
    assert.equal(isGitAddress(text), true);
  }
});

test('redactCredentials hides a password and keeps the user', () => {
  assert.equal(redactCredentials('https://u:secret@host/r.git'), 'https://u:xxxxx@host/r.git');
  assert.equal(redactCredentials('https://host/r.git'), 'https://host/r.git');
  assert.equal(redactCredentials('git@host:r.git'), 'git@host:r.git');
});
