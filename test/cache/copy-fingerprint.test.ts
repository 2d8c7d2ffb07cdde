// COPY-from-context keys from the find(1) fingerprint and its memo, end to end through the CLI: on
// a settled context a rebuild hits, and every change a COPY can see still misses (with the new
// content in the image), while changes outside its paths do not. A step is a hit when
// `--progress plain` shows it CACHED, a miss when it shows DONE.
import assert from 'node:assert/strict';
import { readdir, stat, utimes, writeFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { test } from 'node:test';
import { setupBuildTests } from '../build/helpers.ts';
import { imageId, stepOutcomes, steps } from './steps.ts';

const h = setupBuildTests();
// Each test first waits for the contexts (written once, by the first test: the harness's root
// exists only once its own before hook has finished).
const it = (name: string, fn: () => Promise<void>) =>
  test(name, { skip: h.skip }, async () => {
    await contexts();
    await fn();
  });

let n = 0;
async function build(dir: string) {
  const tag = `fp${++n}`;
  const r = await h.cli(['build', '--progress', 'plain', '-t', tag, dir]);
  assert.equal(r.code, 0, r.stderr);
  const o = stepOutcomes(r.stderr);
  return { ...r, tag, cached: steps(o.cached), ran: steps(o.ran), id: imageId(r.stderr) };
}

async function cat(tag: string, ...paths: string[]): Promise<string> {
  const r = await h.cli(['run', '--rm', tag, 'cat', ...paths]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

/** Rewrites a file with same-size content and puts its old mtime back: only its ctime moves. */
async function rewriteKeepingMtime(path: string, content: string): Promise<void> {
  const before = await stat(path);
  assert.equal(Buffer.byteLength(content), before.size, 'same size');
  await writeFile(path, content);
  await utimes(path, before.atime, before.mtime);
  assert.equal((await stat(path)).mtimeMs, before.mtimeMs, 'the mtime is restored exactly');
}

const memoDir = () => join(h.root(), 'cache', 'checksum-memo');
const memoCount = async () => (await readdir(memoDir()).catch(() => [])).length;

// Every context is written up front and left to settle once: files changed within the racy
// window (2 s) are never remembered. Contents are unique to this file so that no other test's
// cache record can answer for them.
const ctx = { a: '', b: '', c: '', d: '', e: '', f: '' };
let written: Promise<void> | undefined;
const contexts = () => {
  written ??= writeContexts();
  return written;
};
async function writeContexts(): Promise<void> {
  ctx.a = await h.testdir({
    Dockerfile: 'FROM busybox\nCOPY app/ /app/\nRUN cat /app/sub/g.txt > /out\n',
    'app/f.txt': 'fp-a-one\n',
    'app/sub/g.txt': 'fp-a-gee-1\n',
    'notes.txt': 'not copied\n',
  });
  ctx.b = await h.testdir({
    Dockerfile: 'FROM busybox\nCOPY link/ /x/\n',
    'real/f.txt': 'fp-b-real-1\n',
    link: { symlink: 'real' },
  });
  ctx.c = await h.testdir({
    Dockerfile: 'FROM busybox\nCOPY src/ /s/\n',
    'src/main.c': 'fp-c-main\n',
    'other/o.txt': 'fp-c-other\n',
    'top.txt': 'fp-c-top\n',
  });
  ctx.d = await h.testdir({
    Dockerfile: 'FROM busybox\nCOPY src/*.txt /d/\n',
    'src/a.txt': 'fp-d-a\n',
    'src/keep.md': 'fp-d-md\n',
  });
  // .dockerignore inside the copied directory: a literal pattern alone (pruned from the
  // fingerprint), and with an exception (not pruned).
  const ignored = (dockerignore: string, tag: string) =>
    h.testdir({
      Dockerfile: 'FROM busybox\nCOPY app/ /app/\n',
      '.dockerignore': dockerignore,
      'app/main.txt': `fp-${tag}-main\n`,
      'app/big/keep': `fp-${tag}-keep-1\n`,
      'app/big/drop': `fp-${tag}-drop\n`,
    });
  ctx.e = await ignored('app/big\n', 'e');
  ctx.f = await ignored('app/big\n!app/big/keep\n', 'f');
  // Whole-second mtimes on the files rewritten below, so that putting them back is exact.
  const old = new Date('2020-01-01T00:00:00Z');
  for (const file of [
    join(ctx.a, 'app/sub/g.txt'),
    join(ctx.b, 'real/f.txt'),
    join(ctx.c, 'other/o.txt'),
    join(ctx.f, 'app/big/keep'),
  ]) {
    await utimes(file, old, old);
  }
  for (const dir of Object.values(ctx)) assert.ok(isAbsolute(dir), dir);
  await new Promise((r) => setTimeout(r, 2100));
}

it('a settled context: the rebuild hits every step; a same-size change with the mtime restored misses', async () => {
  const steps3 = [
    '[1/3] FROM docker.io/library/busybox:latest',
    '[2/3] COPY app/ /app/',
    '[3/3] RUN cat /app/sub/g.txt > /out',
  ];
  const memosBefore = await memoCount();
  const first = await build(ctx.a);
  assert.deepEqual(first.ran.slice(1), steps3.slice(1));
  assert.ok((await memoCount()) > memosBefore, 'the first build wrote a memo');
  const second = await build(ctx.a);
  assert.deepEqual(second.cached, steps3);
  assert.deepEqual(second.ran, []);
  assert.equal(second.id, first.id);
  await rewriteKeepingMtime(join(ctx.a, 'app/sub/g.txt'), 'fp-a-gee-2\n');
  const third = await build(ctx.a);
  assert.deepEqual(third.cached, steps3.slice(0, 1));
  assert.deepEqual(third.ran, steps3.slice(1));
  assert.notEqual(third.id, first.id);
  assert.equal(
    await cat(third.tag, '/app/sub/g.txt', '/out', '/app/f.txt'),
    'fp-a-gee-2\nfp-a-gee-2\nfp-a-one\n',
  );
});

it('a COPY through a symlinked directory keys and copies what it reaches; a change behind it misses', async () => {
  const first = await build(ctx.b);
  assert.deepEqual(first.ran, ['[2/2] COPY link/ /x/']);
  assert.equal(await cat(first.tag, '/x/f.txt'), 'fp-b-real-1\n');
  const second = await build(ctx.b);
  assert.deepEqual(second.ran, []);
  assert.equal(second.id, first.id);
  await rewriteKeepingMtime(join(ctx.b, 'real/f.txt'), 'fp-b-real-2\n');
  const third = await build(ctx.b);
  assert.deepEqual(third.ran, ['[2/2] COPY link/ /x/']);
  assert.equal(await cat(third.tag, '/x/f.txt'), 'fp-b-real-2\n');
  // A new file behind the link, too.
  await writeFile(join(ctx.b, 'real/new.txt'), 'fp-b-new\n');
  const fourth = await build(ctx.b);
  assert.deepEqual(fourth.ran, ['[2/2] COPY link/ /x/']);
  assert.equal(await cat(fourth.tag, '/x/new.txt'), 'fp-b-new\n');
});

it('on a settled context, changes outside the COPY paths keep the COPY cached', async () => {
  const first = await build(ctx.c);
  assert.deepEqual(first.ran, ['[2/2] COPY src/ /s/']);
  await rewriteKeepingMtime(join(ctx.c, 'other/o.txt'), 'fp-c-OTHER\n');
  await writeFile(join(ctx.c, 'top.txt'), 'fp-c-top changed\n');
  await writeFile(join(ctx.c, 'new-top.txt'), 'new\n');
  await writeFile(join(ctx.c, 'other/new.txt'), 'new\n');
  const second = await build(ctx.c);
  assert.deepEqual(second.ran, []);
  assert.deepEqual(second.cached, ['[1/2] FROM docker.io/library/busybox:latest', '[2/2] COPY src/ /s/']);
  assert.equal(second.id, first.id);
  // ...and a change inside them still misses.
  await writeFile(join(ctx.c, 'src/extra.c'), 'fp-c-extra\n');
  const third = await build(ctx.c);
  assert.deepEqual(third.ran, ['[2/2] COPY src/ /s/']);
  assert.equal(await cat(third.tag, '/s/extra.c', '/s/main.c'), 'fp-c-extra\nfp-c-main\n');
});

it('a wildcard COPY misses when a matching file appears, not when another does', async () => {
  const copy = '[2/2] COPY src/*.txt /d/';
  const first = await build(ctx.d);
  assert.deepEqual(first.ran, [copy]);
  assert.deepEqual((await build(ctx.d)).ran, [], 'settled rebuild');
  await writeFile(join(ctx.d, 'src/other.md'), 'not matched\n');
  const second = await build(ctx.d);
  assert.deepEqual(second.ran, [], 'a non-matching file');
  assert.equal(second.id, first.id);
  await writeFile(join(ctx.d, 'src/b.txt'), 'fp-d-b\n');
  const third = await build(ctx.d);
  assert.deepEqual(third.ran, [copy], 'a matching file');
  assert.equal(await cat(third.tag, '/d/a.txt', '/d/b.txt'), 'fp-d-a\nfp-d-b\n');
  const ls = await h.cli(['run', '--rm', third.tag, 'ls', '/d']);
  assert.equal(ls.stdout, 'a.txt\nb.txt\n');
});

it('.dockerignore in a copied directory: ignored changes stay cached, re-included ones miss', async () => {
  const copy = '[2/2] COPY app/ /app/';
  // A literal pattern: nothing under app/big is in the context.
  const e1 = await build(ctx.e);
  assert.deepEqual(e1.ran, [copy]);
  await writeFile(join(ctx.e, 'app/big/keep'), 'fp-e-keep-2\n');
  await writeFile(join(ctx.e, 'app/big/new'), 'new\n');
  const e2 = await build(ctx.e);
  assert.deepEqual(e2.ran, [], 'changes under an ignored directory');
  const ls = await h.cli(['run', '--rm', e2.tag, 'ls', '/app']);
  assert.equal(ls.stdout, 'main.txt\n');
  await writeFile(join(ctx.e, 'app/main.txt'), 'fp-e-MAIN\n');
  assert.deepEqual((await build(ctx.e)).ran, [copy], 'a kept file still counts');
  // With an exception: app/big/keep is in the context, app/big/drop is not.
  const f1 = await build(ctx.f);
  assert.deepEqual(f1.ran, [copy]);
  assert.equal(await cat(f1.tag, '/app/big/keep'), 'fp-f-keep-1\n');
  await writeFile(join(ctx.f, 'app/big/drop'), 'fp-f-drop changed\n');
  const f2 = await build(ctx.f);
  assert.deepEqual(f2.ran, [], "an excluded file below the exception's directory");
  await rewriteKeepingMtime(join(ctx.f, 'app/big/keep'), 'fp-f-keep-2\n');
  const f3 = await build(ctx.f);
  assert.deepEqual(f3.ran, [copy], 'the re-included file');
  assert.equal(await cat(f3.tag, '/app/big/keep'), 'fp-f-keep-2\n');
});
