// Garbage collection of the build cache (issue 5, "Garbage collection"): prune with and without
// -a, --filter until, --keep-storage, the automatic GC after builds, fsck keeping cache-only blobs;
// sizes before and after; images stay intact and runnable.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { type CacheUsage, measureCache } from '../../cache/index.ts';
import { ImageStore, imageUsage } from '../../image/index.ts';
import { setupBuildTests } from '../build/helpers.ts';
import { startStepGate } from '../step-gate.ts';
import { stepOutcomes, steps } from './steps.ts';

const h = setupBuildTests();
// One after the other: every test prunes the shared root.
const it = (name: string, fn: () => Promise<void>) => test(name, { skip: h.skip, concurrency: 1 }, fn);

async function usage(): Promise<CacheUsage> {
  const store = await ImageStore.open(h.root());
  try {
    return await measureCache(h.root(), await imageUsage(store));
  } finally {
    await store.close();
  }
}

/** A build whose `scratch` stage leaves a cache-only layer of `kb` random KiB. */
function dockerfile(name: string, kb: number): Record<string, string> {
  return {
    Dockerfile: [
      'FROM busybox AS scratchpad',
      `RUN head -c ${kb * 1024} /dev/urandom > /${name}.bin`,
      'FROM busybox',
      `COPY --from=scratchpad /${name}.bin /tmp/`,
      `RUN md5sum /tmp/${name}.bin > /sum && rm /tmp/${name}.bin`,
      '',
    ].join('\n'),
  };
}

async function buildTagged(files: Record<string, string>, tag: string) {
  const dir = await h.testdir(files);
  const r = await h.cli(['build', '--progress', 'plain', '-t', tag, dir]);
  assert.equal(r.code, 0, r.stderr);
  const o = stepOutcomes(r.stderr);
  return { dir, ran: steps(o.ran), cached: steps(o.cached) };
}

async function rebuild(dir: string, tag: string) {
  const r = await h.cli(['build', '--progress', 'plain', '-t', tag, dir]);
  assert.equal(r.code, 0, r.stderr);
  return steps(stepOutcomes(r.stderr).ran);
}

async function assertRunnable(tag: string) {
  const r = await h.cli(['run', '--rm', tag, 'cat', '/sum']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^[0-9a-f]{32} {2}\/tmp\/\w+\.bin\n$/);
}

it('fsck keeps cache-only blobs; prune removes them, -a also the image chain; images stay runnable', async () => {
  const { dir } = await buildTagged(dockerfile('one', 600), 'p1');
  const before = await usage();
  // The scratchpad stage's 600 KiB layer is held by the cache alone.
  assert.equal(before.cacheBlobs.size, 1);
  assert.ok(before.bytes > 600 * 1024, `cache bytes ${before.bytes}`);
  const fsck = await h.cli(['fsck']);
  assert.equal(fsck.code, 0, fsck.stderr);
  assert.doesNotMatch(fsck.stdout, /unreferenced/);
  assert.deepEqual(await rebuild(dir, 'p1'), []);

  // `--filter until=24h`: everything was used just now, nothing goes.
  const recent = await h.cli(['prune', '-f', '-a', '--filter', 'until=24h']);
  assert.equal(recent.code, 0, recent.stderr);
  assert.equal((await usage()).records.length, before.records.length);

  // Without -a: only records no image contains (the scratchpad stage).
  const dangling = await h.cli(['prune', '-f']);
  assert.equal(dangling.code, 0, dangling.stderr);
  const middle = await usage();
  assert.ok(middle.bytes < before.bytes - 600 * 1024, `${middle.bytes} vs ${before.bytes}`);
  assert.ok(middle.records.length > 0 && middle.records.length < before.records.length);
  assert.match(dangling.stdout, /Total:\t\d/);
  // The final image's own chain is still cached.
  assert.deepEqual(await rebuild(dir, 'p1'), []);

  const all = await h.cli(['prune', '-a', '-f']);
  assert.equal(all.code, 0, all.stderr);
  const after = await usage();
  assert.equal(after.records.length, 0);
  assert.equal(after.cacheBlobs.size, 0);
  assert.ok(after.bytes < middle.bytes);
  const fsckAfter = await h.cli(['fsck']);
  assert.equal(fsckAfter.code, 0, fsckAfter.stderr);
  await assertRunnable('p1');
  // A rebuild now runs again (and works from the surviving image layers' blobs).
  assert.ok((await rebuild(dir, 'p1')).length > 0);
  await assertRunnable('p1');
});

it('--keep-storage removes least recently used records first', async () => {
  await h.cli(['prune', '-a', '-f']);
  const old = await buildTagged(dockerfile('old', 700), 'k-old');
  const fresh = await buildTagged(dockerfile('new', 700), 'k-new');
  // Use the "new" one again so "old" is clearly the least recently used.
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(await rebuild(fresh.dir, 'k-new'), []);
  const before = await usage();
  assert.ok(before.bytes > 1400 * 1024, `${before.bytes}`);
  // Room for one of the two scratchpad layers (blob + snapshot), not both.
  const keep = Math.floor(before.bytes * 0.75);
  const pruned = await h.cli(['prune', '-a', '-f', '--keep-storage', `${keep}`]);
  assert.equal(pruned.code, 0, pruned.stderr);
  const after = await usage();
  assert.ok(after.bytes <= keep, `${after.bytes} > ${keep}`);
  assert.ok(after.bytes > before.bytes * 0.4, `pruned more than needed: ${after.bytes} of ${before.bytes}`);
  // The least recently used record went first: the old scratchpad stage runs again, the new
  // one's is still cached. (The old image's own chain, small records, survives: the cap was met.)
  const stage = async (dir: string) => {
    const r = await h.cli(['build', '--progress', 'plain', '--target', 'scratchpad', dir]);
    assert.equal(r.code, 0, r.stderr);
    return steps(stepOutcomes(r.stderr).ran);
  };
  assert.deepEqual(await stage(fresh.dir), []);
  assert.deepEqual(await stage(old.dir), ['[scratchpad 2/2] RUN head -c 716800 /dev/urandom > /old.bin']);
  assert.deepEqual(await rebuild(fresh.dir, 'k-new'), []);
  await assertRunnable('k-old');
  await assertRunnable('k-new');
});

it('the automatic GC after a build keeps the cache under the cap in <root>/config.json', async () => {
  await h.cli(['prune', '-a', '-f']);
  const cap = 300 * 1024;
  await writeFile(
    join(h.root(), 'config.json'),
    JSON.stringify({ gc: { keepStorage: `${cap}`, intervalSeconds: 0 } }),
  );
  try {
    await buildTagged(dockerfile('auto1', 400), 'a1');
    await buildTagged(dockerfile('auto2', 400), 'a2');
    const after = await usage();
    assert.ok(after.bytes <= cap, `${after.bytes} > ${cap}`);
    await assertRunnable('a1');
    await assertRunnable('a2');
    const fsck = await h.cli(['fsck']);
    assert.equal(fsck.code, 0, fsck.stderr);
  } finally {
    await writeFile(join(h.root(), 'config.json'), '{}');
  }
  // With the default cap (far above this), a build keeps its cache.
  const { dir } = await buildTagged(dockerfile('auto3', 400), 'a3');
  assert.ok((await usage()).bytes > 400 * 1024);
  assert.deepEqual(await rebuild(dir, 'a3'), []);
});

it('a fully cached rebuild leaves the automatic GC alone; the next build that adds runs it', async () => {
  await h.cli(['prune', '-a', '-f']);
  const { dir } = await buildTagged(dockerfile('idle1', 400), 'i1');
  const cap = 100 * 1024;
  await writeFile(
    join(h.root(), 'config.json'),
    JSON.stringify({ gc: { keepStorage: `${cap}`, intervalSeconds: 0 } }),
  );
  try {
    const before = await usage();
    assert.ok(before.bytes > cap);
    // Nothing ran and nothing was added: the cache is not measured, let alone pruned.
    assert.deepEqual(await rebuild(dir, 'i1'), []);
    assert.equal((await usage()).bytes, before.bytes);
    await buildTagged(dockerfile('idle2', 400), 'i2');
    const after = await usage();
    assert.ok(after.bytes <= cap, `${after.bytes} > ${cap}`);
    await assertRunnable('i1');
    await assertRunnable('i2');
  } finally {
    await writeFile(join(h.root(), 'config.json'), '{}');
  }
});

it('the automatic GC measures at most once per gc.intervalSeconds (default a minute, as BuildKit)', async () => {
  await h.cli(['prune', '-a', '-f']);
  const cap = 100 * 1024;
  await writeFile(join(h.root(), 'config.json'), JSON.stringify({ gc: { keepStorage: `${cap}` } }));
  const stamp = join(h.root(), 'cache', 'gc.last');
  try {
    // A measurement just now: the next build within the minute leaves the cache over the cap...
    await mkdir(join(h.root(), 'cache'), { recursive: true });
    await writeFile(stamp, '');
    await buildTagged(dockerfile('throttled1', 400), 't1');
    assert.ok((await usage()).bytes > cap, 'no GC within the interval');
    // ...and the first build after it collects.
    const past = new Date(Date.now() - 61_000);
    await utimes(stamp, past, past);
    await buildTagged(dockerfile('throttled2', 400), 't2');
    const after = await usage();
    assert.ok(after.bytes <= cap, `${after.bytes} > ${cap}`);
    assert.ok((await stat(stamp)).mtimeMs > Date.now() - 30_000, 'the measurement was stamped');
    await assertRunnable('t1');
    await assertRunnable('t2');
  } finally {
    await writeFile(join(h.root(), 'config.json'), '{}');
  }
});

it('a prune started during a build waits for it; the build finishes intact and fsck is clean', async () => {
  const gate = await startStepGate();
  try {
    const dir = await h.testdir({ Dockerfile: `FROM busybox\n${gate.run('echo waited > /w')}\n` });
    const build = h.cli(['build', '--allow', 'network.host', '--progress', 'plain', '-t', 'held', dir]);
    // Inside its step the build holds <root>/cache/gc.lock shared.
    await gate.reached(build);
    const prune = h.cli(['prune', '-a', '-f']);
    await until('the prune waits for the build', () => flockRefused(intentPath(), '-s'));
    gate.open();
    const pruned = await prune;
    assert.equal(pruned.code, 0, pruned.stderr);
    assert.match(pruned.stderr, /waiting for running builds on this root to finish/);
    const built = await build;
    assert.equal(built.code, 0, built.stderr);
    const run = await h.cli(['run', '--rm', 'held', 'cat', '/w']);
    assert.equal(run.stdout, 'waited\n');
    const fsck = await h.cli(['fsck']);
    assert.equal(fsck.code, 0, fsck.stderr);
  } finally {
    await gate.close();
  }
});

it('cache mounts count in du and go with prune; the next build starts with an empty one', async () => {
  await h.cli(['prune', '-a', '-f']);
  const files = (n: number) => ({
    Dockerfile: `FROM busybox\nRUN --mount=type=cache,id=pm,target=/c head -c 204800 /dev/urandom > /c/blob${n} && ls /c | wc -l > /count\n`,
  });
  await buildTagged(files(1), 'pm1');
  const before = await usage();
  assert.equal(before.mounts.length, 1);
  assert.ok((before.mounts[0]?.bytes ?? 0) >= 200 * 1024);
  const kept = await h.cli(['prune', '-f', '--filter', 'until=1h']);
  assert.equal(kept.code, 0, kept.stderr);
  assert.equal((await usage()).mounts.length, 1, 'a mount used within the hour stays');
  const pruned = await h.cli(['prune', '-a', '-f']);
  assert.equal(pruned.code, 0, pruned.stderr);
  assert.match(pruned.stdout, /Removed 1 cache mounts/);
  assert.deepEqual((await usage()).mounts, []);
  // The cache mount starts empty again: only this build's file is in it.
  await buildTagged(files(2), 'pm2');
  const count = await h.cli(['run', '--rm', 'pm2', 'cat', '/count']);
  assert.equal(count.stdout.trim(), '1');
});

it('a build started while a prune waits for another build queues behind the prune', async () => {
  const gate = await startStepGate();
  try {
    const slow = await h.testdir({ Dockerfile: `FROM busybox\n${gate.run('echo slow > /s')}\n` });
    const later = await h.testdir({ Dockerfile: 'FROM busybox\nRUN echo later > /l\n' });
    const first = h.cli(['build', '--allow', 'network.host', '--progress', 'plain', '-t', 'q-slow', slow]);
    await gate.reached(first);
    const prune = h.cli(['prune', '-a', '-f']);
    // The waiting prune holds the intent exclusively: even a shared request is refused.
    await until('the prune queues', () => flockRefused(intentPath(), '-s'));
    const second = h.cli(['build', '--progress', 'plain', '-t', 'q-later', later]);
    await until('the second build waits for the prune', () => someoneWaitsFor(intentPath()));
    gate.open();
    const built = await second;
    assert.equal(built.code, 0, built.stderr);
    assert.match(built.stderr, /waiting for a running prune on this root to finish/);
    const pruned = await prune;
    assert.equal(pruned.code, 0, pruned.stderr);
    assert.equal((await first).code, 0);
    assert.equal((await h.cli(['run', '--rm', 'q-later', 'cat', '/l'])).stdout, 'later\n');
    assert.equal((await h.cli(['fsck'])).code, 0);
  } finally {
    await gate.close();
  }
});

const intentPath = () => join(h.root(), 'cache', 'gc.intent');

/** Whether `flock -n` (with `mode`, e.g. `-s` for shared) is refused on `path`: someone holds it. */
function flockRefused(path: string, mode: '-s' | '-x'): boolean {
  return spawnSync('flock', [mode, '-n', path, 'true']).status === 1;
}

/** Whether a process is blocked in flock(2) on `path`: /proc/locks marks a waiter's line `->`. */
async function someoneWaitsFor(path: string): Promise<boolean> {
  const { ino } = await stat(path);
  const locks = await readFile('/proc/locks', 'utf8');
  return locks.split('\n').some((line) => line.includes(' -> ') && line.includes(`:${ino} `));
}

async function until(what: string, held: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await held())) {
    assert.ok(Date.now() < deadline, `never: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
