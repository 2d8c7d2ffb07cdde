// scanContext with `within`: only some paths of the context walked, with exactly the entries the
// whole walk has at, below and on the way to them.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { type ContextEntry, compileDockerignore, scanContext } from '../../frontend/index.ts';

function makeTree(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'tbuild-within-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const files = [
    'a/top.txt',
    'a/b/one.txt',
    'a/b/skip.log',
    'a/b/c/deep.txt',
    'a/b/c/deep.log',
    'a/bb/sibling.txt',
    'a/b.txt',
    'c/x.txt',
    'c/keep.log',
    'c/d/e/f.txt',
    'cc/not-c.txt',
    'z/other.txt',
    'root.txt',
  ];
  for (const path of files) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), path);
  }
  mkdirSync(join(dir, 'a/b/empty'));
  symlinkSync('../z', join(dir, 'a/b/link'));
  return dir;
}

/** The whole walk's entries at, below or above one of `within`. */
function expectedWithin(all: ContextEntry[], within: string[]): ContextEntry[] {
  return all.filter((e) =>
    within.some((p) => e.path === p || e.path.startsWith(`${p}/`) || p.startsWith(`${e.path}/`)),
  );
}

const ignores: [string, string[]][] = [
  ['no .dockerignore', []],
  ['plain patterns', ['**/*.log', 'z', 'a/bb']],
  ['with exceptions', ['**/*.log', '!c/keep.log', 'a', '!a/b/c', 'cc']],
  ['an excluded directory on the way, re-included below', ['c', '!c/d/e']],
];

for (const [name, patterns] of ignores) {
  test(`within [a/b, c] equals the whole walk filtered to them (${name})`, (t) => {
    const dir = makeTree(t);
    const matcher = compileDockerignore(patterns);
    const all = scanContext(dir, matcher);
    const within = ['a/b', 'c'];
    const part = scanContext(dir, matcher, within);
    const expected = expectedWithin(all, within);
    // Compare paths, types and stats (each entry's lstat).
    assert.deepEqual(part, expected);
    assert.ok(part.length < all.length, 'something was left out');
    // Nothing from the look-alike siblings (a/bb, a/b.txt, cc) or the rest.
    for (const e of part) assert.doesNotMatch(e.path, /^(a\/bb|a\/b\.txt|cc|z|root\.txt|a\/top\.txt)/);
  });

  test(`within [''] is the whole walk (${name})`, (t) => {
    const dir = makeTree(t);
    const matcher = compileDockerignore(patterns);
    assert.deepEqual(scanContext(dir, matcher, ['']), scanContext(dir, matcher));
    assert.deepEqual(scanContext(dir, patterns, ['c', '']), scanContext(dir, patterns));
  });
}

test('within a file, a deep path, a missing path and a path under a symlink', (t) => {
  const dir = makeTree(t);
  const all = scanContext(dir, []);
  const paths = (entries: ContextEntry[]) => entries.map((e) => `${e.type} ${e.path}`);
  assert.deepEqual(paths(scanContext(dir, [], ['a/b/c/deep.txt'])), [
    'dir a',
    'dir a/b',
    'dir a/b/c',
    'file a/b/c/deep.txt',
  ]);
  assert.deepEqual(scanContext(dir, [], ['c/d/e', 'root.txt']), expectedWithin(all, ['c/d/e', 'root.txt']));
  // A missing path keeps only the directories on the way that exist.
  assert.deepEqual(paths(scanContext(dir, [], ['a/missing/x'])), ['dir a']);
  // A symlink on the way is listed as the whole walk lists it, and not followed: nothing below it
  // (the runner never walks such a scope: it cannot be fingerprinted, so the whole context is).
  assert.deepEqual(paths(scanContext(dir, [], ['a/b/link/other.txt'])), [
    'dir a',
    'dir a/b',
    'symlink a/b/link',
  ]);
  assert.deepEqual(paths(scanContext(dir, [], ['a/b/link'])), ['dir a', 'dir a/b', 'symlink a/b/link']);
  assert.deepEqual(scanContext(dir, [], []), [], 'an empty scope reads nothing');
});
