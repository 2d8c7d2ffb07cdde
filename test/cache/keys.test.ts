// Cache keys end to end: what must hit and what must miss (issue 5, "Keys"). A step is a hit when
// `--progress plain` shows it CACHED, a miss when it shows DONE.
import assert from 'node:assert/strict';
import { chmod, chown, readdir, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { setupBuildTests } from '../build/helpers.ts';
import { imageId, stepOutcomes, steps } from './steps.ts';

const h = setupBuildTests();
const it = (name: string, fn: () => Promise<void>) => test(name, { skip: h.skip }, fn);

let n = 0;
async function build(dir: string, args: string[] = []) {
  const r = await h.cli(['build', '--progress', 'plain', '-t', `keys${++n}`, ...args, dir]);
  assert.equal(r.code, 0, r.stderr);
  const o = stepOutcomes(r.stderr);
  return { ...r, cached: steps(o.cached), ran: steps(o.ran), id: imageId(r.stderr) };
}

const basic = {
  Dockerfile: 'FROM busybox\nCOPY a.txt /a\nRUN cat /a > /b\n',
  'a.txt': 'one\n',
  'other.txt': 'not copied\n',
};
const all3 = ['[1/3] FROM docker.io/library/busybox:latest', '[2/3] COPY a.txt /a', '[3/3] RUN cat /a > /b'];

it('a fully cached rebuild shows every step CACHED and gives the same image ID', async () => {
  const dir = await h.testdir(basic);
  const first = await build(dir);
  assert.deepEqual(first.cached, []);
  assert.deepEqual(first.ran, all3);
  const second = await build(dir);
  assert.deepEqual(second.cached, all3);
  assert.deepEqual(second.ran, []);
  assert.equal(second.id, first.id);
});

it('a fresh copy of the context (new inodes, new mtimes) hits; so does a touched file', async () => {
  const first = await build(await h.testdir(basic));
  const copy = await h.testdir(basic);
  await utimes(join(copy, 'a.txt'), new Date('2001-01-01'), new Date('2001-01-01'));
  const second = await build(copy);
  assert.deepEqual(second.cached, all3);
  assert.equal(second.id, first.id);
});

it('changing a copied file misses that COPY and what follows; the FROM stays cached', async () => {
  const dir = await h.testdir(basic);
  const first = await build(dir);
  await writeFile(join(dir, 'a.txt'), 'two\n');
  const second = await build(dir);
  assert.deepEqual(second.cached, all3.slice(0, 1));
  assert.deepEqual(second.ran, all3.slice(1));
  assert.notEqual(second.id, first.id);
  // Changing it back hits the first result again.
  await writeFile(join(dir, 'a.txt'), 'one\n');
  const third = await build(dir);
  assert.deepEqual(third.cached, all3);
  assert.equal(third.id, first.id);
});

it('changing a context file no step reads, or an ignored one, invalidates nothing', async () => {
  const dir = await h.testdir({ ...basic, '.dockerignore': 'ignored*\n', 'ignored.txt': 'x' });
  await build(dir);
  await writeFile(join(dir, 'other.txt'), 'changed\n');
  await writeFile(join(dir, 'ignored.txt'), 'changed\n');
  await writeFile(join(dir, 'new-file.txt'), 'new\n');
  const second = await build(dir);
  assert.deepEqual(second.cached, all3);
});

it('a wildcard COPY misses when a matching file appears, not when another does', async () => {
  const dir = await h.testdir({ Dockerfile: 'FROM busybox\nCOPY *.txt /d/\n', 'a.txt': 'a' });
  await build(dir);
  await writeFile(join(dir, 'b.md'), 'not matched');
  assert.deepEqual((await build(dir)).ran, []);
  await writeFile(join(dir, 'b.txt'), 'matched');
  assert.deepEqual((await build(dir)).ran, ['[2/2] COPY *.txt /d/']);
});

it('a mode change misses the COPY', async () => {
  const dir = await h.testdir(basic);
  await chmod(join(dir, 'a.txt'), 0o644);
  await build(dir);
  await chmod(join(dir, 'a.txt'), 0o755);
  const second = await build(dir);
  assert.deepEqual(second.ran, all3.slice(1));
});

it('an owner change misses the COPY (uid and gid each)', async () => {
  const dir = await h.testdir(basic);
  await chown(join(dir, 'a.txt'), 0, 0);
  await build(dir);
  await chown(join(dir, 'a.txt'), 1234, 0);
  assert.deepEqual((await build(dir)).ran, all3.slice(1));
  await chown(join(dir, 'a.txt'), 1234, 99);
  assert.deepEqual((await build(dir)).ran, all3.slice(1));
  await chown(join(dir, 'a.txt'), 1234, 99);
  assert.deepEqual((await build(dir)).ran, []);
});

it('a build arg invalidates from the first step after its ARG; proxy args never do', async () => {
  const dir = await h.testdir({
    Dockerfile: 'FROM busybox\nRUN echo one > /1\nARG V\nRUN echo two > /2\nRUN echo $V > /3\n',
  });
  const first = await build(dir, ['--build-arg', 'V=a', '--build-arg', 'HTTP_PROXY=http://p1:3128']);
  assert.equal(first.ran.length, 3);
  // A different proxy (and a new one) changes nothing.
  const proxies = await build(dir, [
    '--build-arg',
    'V=a',
    '--build-arg',
    'HTTP_PROXY=http://p2:3128',
    '--build-arg',
    'no_proxy=example.com',
  ]);
  assert.deepEqual(proxies.ran, []);
  assert.equal(proxies.id, first.id);
  const changed = await build(dir, ['--build-arg', 'V=b']);
  assert.deepEqual(changed.cached, [
    '[1/4] FROM docker.io/library/busybox:latest',
    '[2/4] RUN echo one > /1',
  ]);
  assert.deepEqual(changed.ran, ['[3/4] RUN echo two > /2', '[4/4] RUN echo $V > /3']);
});

it("the base image's digest is part of FROM's key: a retagged base misses everything", async () => {
  const base1 = await h.build({ Dockerfile: 'FROM busybox\nRUN echo 1 > /base\n' }, { tag: 'keys-base' });
  assert.equal(base1.code, 0, base1.stderr);
  const dir = await h.testdir({ Dockerfile: 'FROM keys-base\nRUN cat /base > /copy\n' });
  const first = await build(dir);
  assert.deepEqual((await build(dir)).ran, []);
  const base2 = await h.build({ Dockerfile: 'FROM busybox\nRUN echo 2 > /base\n' }, { tag: 'keys-base' });
  assert.equal(base2.code, 0, base2.stderr);
  const second = await build(dir);
  assert.deepEqual(second.cached, []);
  assert.deepEqual(second.ran, [
    '[1/2] FROM docker.io/library/keys-base:latest',
    '[2/2] RUN cat /base > /copy',
  ]);
  assert.notEqual(second.id, first.id);
});

it('--no-cache runs every step; --no-cache-filter runs only that stage', async () => {
  const dir = await h.testdir({
    Dockerfile:
      'FROM busybox AS a\nRUN echo a > /a\nFROM busybox AS b\nCOPY --from=a /a /a\nRUN echo b > /b\n',
  });
  await build(dir);
  const noCache = await build(dir, ['--no-cache']);
  assert.deepEqual(noCache.cached, []);
  // Both stages start FROM busybox: one vertex, shown under one of the two names.
  assert.deepEqual(
    noCache.ran.filter((s) => !s.includes('FROM')),
    ['[a 2/2] RUN echo a > /a', '[b 2/3] COPY --from=a /a /a', '[b 3/3] RUN echo b > /b'],
  );
  assert.equal(noCache.ran.filter((s) => s.includes('FROM')).length, 1);
  const filtered = await build(dir, ['--no-cache-filter', 'b']);
  assert.deepEqual(filtered.ran, ['[b 2/3] COPY --from=a /a /a', '[b 3/3] RUN echo b > /b']);
  assert.ok(filtered.cached.includes('[a 2/2] RUN echo a > /a'), filtered.stderr);
});

it('a settled context is keyed from its stat memo; a same-size change with the old mtime still misses', async () => {
  const dir = await h.testdir(basic);
  // Files changed within the racy window (2 s) are never memoised: let the context settle.
  await new Promise((r) => setTimeout(r, 2100));
  const first = await build(dir);
  const memoDir = join(h.root(), 'cache', 'checksum-memo');
  const memos = await readdir(memoDir);
  // Two memos: the selection's checksum under its files' stat digest, and the COPY's under the
  // fingerprint of the context paths it reads (what a rebuild looks up first).
  assert.ok(memos.length >= 2, `the COPY selection was memoised: ${memos.join(' ')}`);
  // The memo is what the rebuild uses: replacing every memo's checksum makes the COPY a miss...
  const saved = await Promise.all(memos.map((m) => readFile(join(memoDir, m), 'utf8')));
  for (const m of memos) await writeFile(join(memoDir, m), `sha256:${'0'.repeat(64)}`);
  assert.deepEqual((await build(dir)).ran, all3.slice(1));
  // ...and putting them back makes it a hit with the first image again.
  for (const [i, m] of memos.entries()) await writeFile(join(memoDir, m), saved[i] as string);
  const third = await build(dir);
  assert.deepEqual(third.ran, []);
  assert.equal(third.id, first.id);
  // Same size, mtime restored: the ctime (and the stat digest) moved, so it is re-read. (Content
  // no other test of this root copied, or the COPY would rightly be a hit on their record.)
  const { mtime } = await stat(join(dir, 'a.txt'));
  await writeFile(join(dir, 'a.txt'), 'six\n');
  await utimes(join(dir, 'a.txt'), mtime, mtime);
  assert.deepEqual((await build(dir)).ran, all3.slice(1));
});

it('a cached rebuild with the same tag leaves the store index untouched', async () => {
  const dir = await h.testdir(basic);
  await build(dir, ['-t', 'same-tag']);
  const index = join(h.root(), 'image', 'index.json');
  const before = await stat(index);
  const again = await h.cli(['build', '--progress', 'plain', '-t', `keys${n}`, '-t', 'same-tag', dir]);
  assert.equal(again.code, 0, again.stderr);
  const after = await stat(index);
  assert.equal(after.ino, before.ino, 'index.json was not replaced');
  assert.equal(after.mtimeMs, before.mtimeMs);
});

it('COPY of a symlink copies, and is keyed by, what it points to: changing the target misses', async () => {
  const dir = await h.testdir({
    Dockerfile: 'FROM busybox\nCOPY link.txt /x\nCOPY dir-link/inner.txt /y\n',
    'real.txt': 'first\n',
    'link.txt': { symlink: 'real.txt' },
    'sub/inner.txt': 'inner one\n',
    'dir-link': { symlink: '/sub' },
  });
  const first = await build(dir);
  const copies = ['[2/3] COPY link.txt /x', '[3/3] COPY dir-link/inner.txt /y'];
  assert.deepEqual(first.ran.slice(-2), copies);
  await writeFile(join(dir, 'real.txt'), 'second\n');
  await writeFile(join(dir, 'sub/inner.txt'), 'inner two\n');
  const second = await build(dir);
  assert.deepEqual(second.ran, copies);
  const x = await h.cli(['run', '--rm', `keys${n}`, 'cat', '/x', '/y']);
  assert.equal(x.stdout, 'second\ninner two\n');
});
