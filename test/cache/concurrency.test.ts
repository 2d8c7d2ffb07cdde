// Several `tbuild build` processes on one root at once (issue 5, "Concurrency"): no corruption, no
// lost records; steps both need give the same result. Repeated, with a prune racing the builds,
// then `tbuild fsck` must be clean and every image runnable.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { listCacheRecords } from '../../cache/index.ts';
import { setupBuildTests } from '../build/helpers.ts';
import { startStepGate } from '../step-gate.ts';
import { allHoldingCache, imageId } from './steps.ts';

const h = setupBuildTests();
const it = (name: string, fn: () => Promise<void>) => test(name, { skip: h.skip }, fn);

const rounds = 3;
const builders = 4;

function files(round: number, i: number): Record<string, string> {
  return {
    Dockerfile: [
      'FROM busybox',
      // Shared by all four builders of a round: built once (a random nonce proves it), the others
      // wait for it or hit its record.
      `RUN echo shared-${round} > /shared && echo $RANDOM$RANDOM > /nonce && head -c 200000 /dev/zero > /zeros`,
      'COPY common.txt /common.txt',
      'COPY own.txt /own.txt',
      `RUN cat /own.txt /shared > /mine`,
      '',
    ].join('\n'),
    'common.txt': `common ${round}\n`,
    'own.txt': `builder ${i} round ${round}\n`,
  };
}

it(`${builders} concurrent builds on one root, ${rounds} rounds, a prune racing them: fsck clean`, async () => {
  const ids = new Map<string, string>();
  for (let round = 0; round < rounds; round++) {
    const dirs = await Promise.all(Array.from({ length: builders }, (_, i) => h.testdir(files(round, i))));
    let finished = 0;
    const runs = dirs.map((dir, i) =>
      h.cli(['build', '--progress', 'plain', '-t', `c${round}-${i}`, dir]).finally(() => finished++),
    );
    // In the middle round a prune of everything is started while all the builds run: it must not
    // take what they use. (Not in the last: a prune after a build finished may rightly take its
    // records, and the last round's records are checked below.) It starts once every builder holds
    // the cache: a builder still on its way would queue behind the prune (gc-lock.ts) and then
    // rightly make the pruned shared step again.
    if (round === 1) await allHoldingCache(h.root(), builders, () => finished);
    const prune = round === 1 ? h.cli(['prune', '-a', '-f']) : Promise.resolve({ code: 0, stderr: '' });
    const results = await Promise.all(runs);
    const pruned = await prune;
    assert.equal(pruned.code, 0, pruned.stderr);
    results.forEach((r, i) => {
      assert.equal(r.code, 0, `builder ${i} round ${round}:\n${r.stderr}`);
      ids.set(`c${round}-${i}`, imageId(r.stderr));
    });
  }
  const fsck = await h.cli(['fsck']);
  assert.equal(fsck.code, 0, `${fsck.stdout}\n${fsck.stderr}`);
  assert.match(fsck.stdout, /^ok/m);
  assert.doesNotMatch(fsck.stderr, /damaged/);
  // Every image is whole and runnable, with its own file and the round's shared one, made once.
  for (let round = 0; round < rounds; round++) {
    const nonces = new Set<string>();
    for (let i = 0; i < builders; i++) {
      const r = await h.cli(['run', '--rm', `c${round}-${i}`, 'cat', '/mine', '/nonce']);
      assert.equal(r.code, 0, r.stderr);
      const [own, shared, nonce] = r.stdout.split('\n');
      assert.deepEqual([own, shared], [`builder ${i} round ${round}`, `shared-${round}`]);
      nonces.add(nonce as string);
    }
    assert.equal(nonces.size, 1, `round ${round}: the shared step ran more than once`);
  }
  // Records are whole JSON (listCacheRecords skips unreadable ones: compare with the files).
  const records = await listCacheRecords(h.root());
  for (const r of records) assert.ok(Array.isArray(r.record.layers));
  // A rebuild of the last round is fully cached and gives the same images.
  for (let i = 0; i < builders; i++) {
    const dir = await h.testdir(files(rounds - 1, i));
    const r = await h.cli(['build', '--progress', 'plain', '-t', `again-${i}`, dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /#\d+ DONE/);
    assert.equal(imageId(r.stderr), ids.get(`c${rounds - 1}-${i}`));
  }
});

it('a --no-cache build makes a step itself even while another build is making it', async () => {
  const gate = await startStepGate();
  try {
    const dir = await h.testdir({
      Dockerfile: `FROM busybox\n${gate.run('echo $RANDOM$RANDOM$RANDOM > /nonce')}\n`,
    });
    const build = (...flags: string[]) =>
      h.cli(['build', '--allow', 'network.host', ...flags, '--progress', 'plain', dir]);
    const first = build('-t', 'nc-first');
    await gate.reached(first);
    // The first build is inside the step (it holds the claim) until the gate opens: the second
    // reaches the gate only by making the step itself rather than waiting for the first's result.
    const second = build('--no-cache', '-t', 'nc-second');
    await gate.reached(second, 2);
    gate.open();
    const made = await second;
    assert.equal(made.code, 0, made.stderr);
    assert.equal((await first).code, 0);
    const nonce = async (tag: string) => (await h.cli(['run', '--rm', tag, 'cat', '/nonce'])).stdout;
    assert.notEqual(await nonce('nc-second'), await nonce('nc-first'));
  } finally {
    await gate.close();
  }
});
