// Eight `tbuild build` processes on one root with an `rmi` and a `prune` racing them (issue 12,
// "Fault tolerance to prove": 8 concurrent builds, 10 rounds, a racing prune and rmi). Each round
// builds a fresh base image, then starts eight builds FROM it and, while they run, removes that
// base (`rmi`), the previous round's images (`rmi`) and the whole build cache (`prune -a -f`).
// Every build either succeeds and gives the right image, or fails with one clear ERROR line (the
// base it names was removed); no image is half-deleted (every remaining image inspects, exports
// and runs); fsck is clean after each round. CI runs 2 rounds; TBUILD_FAULTS_FULL=1 runs 10.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setupBuildTests } from '../build/helpers.ts';
import { allHoldingCache } from './steps.ts';

const h = setupBuildTests();
const rounds = process.env.TBUILD_FAULTS_FULL === '1' ? 10 : 2;
const builders = 8;

function files(round: number, i: number): Record<string, string> {
  return {
    Dockerfile: [
      `FROM base:${round}`,
      // The same step in every builder of a round: made once or by several, never wrong.
      `RUN cat /base > /shared && head -c 300000 /dev/zero > /zeros && echo shared-${round} >> /shared`,
      'COPY own.txt /own.txt',
      'RUN cat /own.txt /shared > /mine && sleep 0.2',
      '',
    ].join('\n'),
    'own.txt': `builder ${i} round ${round}\n`,
  };
}

/** One `ERROR: …` line (a `hint:` may follow it, and a Dockerfile snippet precede it), no stack trace. */
function assertClearFailure(stderr: string, what: string): void {
  assert.doesNotMatch(stderr, /\n\s+at .*\(|node:internal/, `${what}: a stack trace:\n${stderr}`);
  const errors = stderr.split('\n').filter((line) => line.startsWith('ERROR: '));
  assert.equal(errors.length, 1, `${what}: not one ERROR line:\n${stderr}`);
}

test(`${builders} concurrent builds, ${rounds} rounds, rmi and prune racing them: nothing half-deleted, fsck clean`, {
  skip: h.skip,
}, async () => {
  const kept: { tag: string; own: string }[] = [];
  let succeeded = 0;
  let failed = 0;
  for (let round = 0; round < rounds; round++) {
    const base = await h.build(
      {
        Dockerfile: `FROM busybox\nRUN echo base-${round} > /base && head -c 500000 /dev/urandom > /noise\n`,
      },
      { tag: `base:${round}` },
    );
    assert.equal(base.code, 0, base.stderr);
    const dirs = await Promise.all(Array.from({ length: builders }, (_, i) => h.testdir(files(round, i))));
    const builds = dirs.map((dir, i) =>
      h.cli(['build', '--progress', 'plain', '-t', `r${round}-b${i}`, dir]),
    );
    // Racing: the base all of them build on, the previous round's images, and the whole cache.
    // In even rounds the removals start once every build holds the cache (each has resolved its
    // base and works on its layers: they must still succeed); in odd rounds at once (a build that
    // had not resolved its base yet fails, clearly).
    let finished = 0;
    for (const b of builds) void b.finally(() => finished++);
    if (round % 2 === 0) await allHoldingCache(h.root(), builders, () => finished);
    const previous = kept.splice(0).map((k) => k.tag);
    const removals = [
      h.cli(['rmi', `base:${round}`]),
      ...(previous.length > 0 ? [h.cli(['rmi', ...previous])] : []),
      h.cli(['prune', '-a', '-f']),
    ];
    const results = await Promise.all(builds);
    for (const r of await Promise.all(removals)) assert.equal(r.code, 0, `a removal failed:\n${r.stderr}`);
    if (round % 2 === 0)
      for (const [i, r] of results.entries())
        assert.equal(r.code, 0, `builder ${i} round ${round} (base resolved):\n${r.stderr}`);
    results.forEach((r, i) => {
      if (r.code === 0) {
        succeeded++;
        kept.push({ tag: `r${round}-b${i}`, own: `builder ${i} round ${round}` });
      } else {
        failed++;
        assertClearFailure(r.stderr, `builder ${i} round ${round}`);
      }
    });
    const fsck = await h.cli(['fsck']);
    assert.equal(fsck.code, 0, `round ${round}: ${fsck.stdout}\n${fsck.stderr}`);
    assert.match(fsck.stdout, /^ok/m);
    // What was built is whole: it runs with its own file and the round's shared one, and exports.
    for (const k of kept) {
      const r = await h.cli(['run', '--rm', k.tag, 'cat', '/mine']);
      assert.equal(r.code, 0, `${k.tag}: ${r.stderr}`);
      assert.equal(r.stdout, `${k.own}\nbase-${round}\nshared-${round}\n`, k.tag);
    }
    if (kept.length > 0) {
      const saved = await h.cli(['save', '-o', '/dev/null', ...kept.map((k) => k.tag)]);
      assert.equal(saved.code, 0, saved.stderr);
    }
  }
  // Only busybox and the last round's images are left: the bases and earlier rounds were removed.
  const images = await h.cli(['images', '--format', 'json']);
  assert.equal(images.code, 0, images.stderr);
  const listed = images.stdout
    .trim()
    .split('\n')
    .map((line) => {
      const row = JSON.parse(line) as { Repository: string; Tag: string };
      return `${row.Repository}:${row.Tag}`;
    })
    .sort();
  assert.deepEqual(listed, ['busybox:latest', ...kept.map((k) => `${k.tag}:latest`)].sort());
  assert.ok(succeeded > 0, `no build succeeded (${failed} failed)`);
});
