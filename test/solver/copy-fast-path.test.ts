// The COPY cache key's fast path (cache/content-hash.ts contextChecksum, called by
// solver/ops/cache-keys.ts): a settled context's COPY key comes from the find(1) fingerprint of the paths it reads and the memo, with
// no walk; otherwise only those paths are walked, or the whole context when a fingerprint cannot be
// taken. The walk and fingerprint are the real ones, counted; no root needed (keys only).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { type TestContext, test } from 'node:test';
import type { Executor } from '../../executor/index.ts';
import { compileDockerignore, fingerprintContextPath, scanContext } from '../../frontend/index.ts';
import type { ImageStore } from '../../image/index.ts';
import { createFsRunner, type Digest, type Vertex, vertex } from '../../solver/index.ts';

interface Counts {
  walks: (readonly string[] | undefined)[];
  prints: string[];
}

/** A runner with the CLI's walk and fingerprint, counting calls; `settleMs` overrides the racy window. */
function makeRunner(root: string, counts: Counts, settleMs?: number) {
  return createFsRunner({
    root,
    store: {} as ImageStore,
    executor: {} as Executor,
    defaultNetwork: 'none',
    walkSource: async (dir, excludes, within) => {
      counts.walks.push(within);
      return scanContext(dir, excludes, within);
    },
    fingerprintSource: (dir, excludes, path, racyMs) => {
      counts.prints.push(path);
      return fingerprintContextPath(dir, compileDockerignore(excludes), path, settleMs ?? racyMs);
    },
    excludeMatcher: (patterns) => {
      const matcher = compileDockerignore(patterns);
      return (path) => patterns.length > 0 && matcher.matches(path);
    },
  });
}

function setup(t: TestContext, files: Record<string, string>): { root: string; ctx: string } {
  const work = mkdtempSync(join(tmpdir(), 'tbuild-fastpath-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const ctx = join(work, 'ctx');
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(ctx, path)), { recursive: true });
    writeFileSync(join(ctx, path), content);
  }
  return { root: join(work, 'root'), ctx };
}

function copyVertex(ctx: string, sources: string[]): Vertex {
  const base = vertex({ type: 'scratch' }, [], 'scratch');
  const context = vertex({ type: 'context', name: 'context', dir: ctx, excludes: [] }, [], 'context');
  return vertex(
    { type: 'copy', sources, dest: '/d/', extractArchives: false, excludes: [] },
    [base, context],
    `COPY ${sources.join(' ')} /d/`,
  );
}

const baseKey = `sha256:${'1'.repeat(64)}` as Digest;

/** One build's key of `copy`: a fresh runner (as each CLI build makes), with its calls counted. */
async function keyOnce(root: string, copy: Vertex, settleMs?: number): Promise<{ key: Digest } & Counts> {
  const counts: Counts = { walks: [], prints: [] };
  const runner = makeRunner(root, counts, settleMs);
  try {
    const key = await runner.cacheKey(copy, [baseKey], new AbortController().signal);
    return { key, ...counts };
  } finally {
    await runner.close();
  }
}

const files = { 'src/a.txt': 'aaa', 'src/sub/b.txt': 'bbb', 'other/x.txt': 'xxx', 'top.txt': 't' };

test('a settled context: the second key is the memo (no walk); a change walks only the COPY paths', async (t) => {
  const { root, ctx } = setup(t, files);
  const copy = copyVertex(ctx, ['src/', 'top.txt']);
  // A negative settle time: every entry counts as settled (the real window is 2 s).
  const settled = -1000;
  const first = await keyOnce(root, copy, settled);
  assert.deepEqual(first.walks, [['src', 'top.txt']], 'the first key walks only the COPY paths');
  assert.deepEqual(first.prints.sort(), ['src', 'top.txt']);
  const second = await keyOnce(root, copy, settled);
  assert.equal(second.key, first.key);
  assert.deepEqual(second.walks, [], 'the memo answers: no walk');
  // Outside the COPY's paths: still no walk, same key.
  writeFileSync(join(ctx, 'other/x.txt'), 'XXX');
  writeFileSync(join(ctx, 'other/new.txt'), 'new');
  const third = await keyOnce(root, copy, settled);
  assert.equal(third.key, first.key);
  assert.deepEqual(third.walks, []);
  // A same-size change with the mtime restored: a new fingerprint, a walk of the COPY paths, a
  // new key.
  const file = join(ctx, 'src/sub/b.txt');
  const old = new Date('2020-01-01T00:00:00Z');
  utimesSync(file, old, old);
  const before = await keyOnce(root, copy, settled);
  writeFileSync(file, 'BBB');
  utimesSync(file, old, old);
  assert.equal(statSync(file).mtimeMs, old.getTime());
  const changed = await keyOnce(root, copy, settled);
  assert.notEqual(changed.key, before.key);
  assert.deepEqual(changed.walks, [['src', 'top.txt']]);
  assert.deepEqual((await keyOnce(root, copy, settled)).walks, [], 'remembered again');
  // Back to the old content: the old key (content, not stats, makes the key).
  writeFileSync(file, 'bbb');
  assert.equal((await keyOnce(root, copy, settled)).key, first.key);
});

test('an unsettled context is never remembered: every build walks the COPY paths', async (t) => {
  const { root, ctx } = setup(t, files);
  const copy = copyVertex(ctx, ['src/']);
  const first = await keyOnce(root, copy); // the real racy window: the files are fresh
  const second = await keyOnce(root, copy);
  assert.equal(second.key, first.key);
  assert.deepEqual(first.walks, [['src']]);
  assert.deepEqual(second.walks, [['src']]);
});

test('a COPY through a symlinked directory walks the whole context and keys what the link reaches', async (t) => {
  const { root, ctx } = setup(t, { 'real/f.txt': 'one', 'z.txt': 'z' });
  symlinkSync('real', join(ctx, 'link'));
  const copy = copyVertex(ctx, ['link/']);
  const first = await keyOnce(root, copy, -1000);
  assert.deepEqual(first.walks, [undefined], 'no fingerprint through a symlink: the whole walk');
  const second = await keyOnce(root, copy, -1000);
  assert.deepEqual(second.walks, [undefined]);
  assert.equal(second.key, first.key);
  writeFileSync(join(ctx, 'real/f.txt'), 'two');
  const changed = await keyOnce(root, copy, -1000);
  assert.notEqual(changed.key, first.key, 'a change behind the link misses');
  // The real directory itself is fingerprinted and walked alone.
  const direct = await keyOnce(root, copyVertex(ctx, ['real/']), -1000);
  assert.deepEqual(direct.walks, [['real']]);
});

test('prefetch fingerprints each COPY path once; dropPrefetched makes the key take it again', async (t) => {
  const { root, ctx } = setup(t, files);
  const copy = copyVertex(ctx, ['src/*.txt', 'top.txt']);
  const counts: Counts = { walks: [], prints: [] };
  const runner = makeRunner(root, counts, -1000);
  try {
    runner.prefetch(copy);
    assert.deepEqual([...counts.prints].sort(), ['src', 'top.txt']);
    const key = await runner.cacheKey(copy, [baseKey], new AbortController().signal);
    assert.equal(counts.prints.length, 2, 'the key used the prefetched fingerprints');
    runner.dropPrefetched();
    assert.equal(await runner.cacheKey(copy, [baseKey], new AbortController().signal), key);
    assert.deepEqual([...counts.prints].sort(), ['src', 'src', 'top.txt', 'top.txt'], 'taken again');
  } finally {
    await runner.close();
  }
});
