import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ProgressEvent } from '../../progress/index.ts';
import { type Digest, digestOf, type OpRunner, solve, type Vertex, vertex } from '../../solver/index.ts';

/** A RUN-like vertex whose "output" is its args; the fake runner below interprets them. */
function step(name: string, inputs: Vertex[] = []): Vertex {
  return vertex(
    { type: 'exec', args: [name], env: [], cwd: '/', user: 'root', network: 'default' },
    inputs,
    name,
  );
}

interface FakeOptions {
  cached?: Set<string>;
  delay?: number;
  fail?: string;
}

/** Records what ran and when; results are the list of step names from the root down. */
function fakeRunner(options: FakeOptions = {}) {
  const ran: string[] = [];
  const aborted: string[] = [];
  const store = new Map<Digest, string[]>();
  const runner: OpRunner<string[]> = {
    async cacheKey(v, inputKeys) {
      return digestOf({ op: v.op, inputKeys });
    },
    async lookup(_key, v) {
      return options.cached?.has(v.name) ? [`cached:${v.name}`] : undefined;
    },
    async run(v, inputs, key, job) {
      ran.push(v.name);
      job.log(1, `running ${v.name}\n`);
      try {
        await sleep(options.delay ?? 0, undefined, { signal: job.signal });
      } catch (error) {
        aborted.push(v.name);
        throw error;
      }
      if (v.name === options.fail) throw new Error(`${v.name} failed`);
      const result = [...inputs.flat(), v.name];
      store.set(key, result);
      return result;
    },
  };
  return { runner, ran, aborted };
}

describe('solve', () => {
  test('runs independent branches in parallel and inputs before their consumer', async () => {
    const branches = ['a', 'b', 'c', 'd'].map((name) => step(name));
    const root = step('final', branches);
    const { runner, ran } = fakeRunner({ delay: 200 });
    const started = performance.now();
    const result = await solve(root, runner, { noCache: false, concurrency: 8 });
    const elapsed = performance.now() - started;
    assert.deepEqual(result, ['a', 'b', 'c', 'd', 'final']);
    assert.equal(ran.at(-1), 'final');
    // Four 200 ms steps in parallel then one more: well under the 1000 ms a serial run takes.
    assert.ok(elapsed < 700, `took ${elapsed} ms`);
  });

  test('respects the concurrency limit', async () => {
    const root = step(
      'final',
      ['a', 'b', 'c', 'd'].map((name) => step(name)),
    );
    const { runner } = fakeRunner({ delay: 100 });
    const started = performance.now();
    await solve(root, runner, { noCache: false, concurrency: 1 });
    assert.ok(performance.now() - started >= 480);
  });

  test('an identical vertex reached twice runs once', async () => {
    const shared = step('shared');
    const root = step('final', [step('x', [shared]), step('y', [shared])]);
    assert.equal(step('shared').digest, shared.digest);
    const { runner, ran } = fakeRunner();
    await solve(root, runner, { noCache: false, concurrency: 4 });
    assert.equal(ran.filter((name) => name === 'shared').length, 1);
  });

  test('a cache hit never builds its inputs', async () => {
    const root = step('final', [step('expensive')]);
    const { runner, ran } = fakeRunner({ cached: new Set(['final']) });
    const events: ProgressEvent[] = [];
    const result = await solve(root, runner, {
      noCache: false,
      concurrency: 4,
      progress: (e) => events.push(e),
    });
    assert.deepEqual(result, ['cached:final']);
    assert.deepEqual(ran, []);
    // Its inputs are not built, but shown CACHED as BuildKit shows every step of a cached build.
    assert.deepEqual(
      events.map((e) => e.type === 'vertex' && [e.name, e.cached]),
      [
        ['expensive', true],
        ['final', true],
      ],
    );
  });

  test('--no-cache runs every step even when cached', async () => {
    const root = step('final', [step('first')]);
    const { runner, ran } = fakeRunner({ cached: new Set(['final', 'first']) });
    await solve(root, runner, { noCache: true, concurrency: 4 });
    assert.deepEqual(ran, ['first', 'final']);
  });

  test('the first failure cancels running steps and is the error reported', async () => {
    const slow = step('slow');
    const failing = step('broken');
    const root = step('final', [slow, failing]);
    const { runner, aborted, ran } = fakeRunner({ delay: 50, fail: 'broken' });
    const slowRunner: OpRunner<string[]> = {
      ...runner,
      run: (v, inputs, key, job) =>
        v.name === 'slow'
          ? sleep(5000, undefined, { signal: job.signal }).then(() => ['slow'])
          : runner.run(v, inputs, key, job),
    };
    const events: ProgressEvent[] = [];
    const started = performance.now();
    await assert.rejects(
      solve(root, slowRunner, { noCache: false, concurrency: 4, progress: (e) => events.push(e) }),
      /broken failed/,
    );
    assert.ok(performance.now() - started < 2000, 'the slow step was not cancelled');
    assert.ok(!ran.includes('final'));
    assert.deepEqual(aborted, []);
    const errors = events.flatMap((e) => (e.type === 'vertex' && e.error ? [[e.name, e.error]] : []));
    assert.deepEqual(errors.sort(), [
      ['broken', 'broken failed'],
      ['slow', 'canceled'],
    ]);
  });

  test('an outer abort signal cancels the build', async () => {
    const { runner } = fakeRunner({ delay: 5000 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('interrupted')), 50);
    await assert.rejects(
      solve(step('final', [step('a')]), runner, {
        noCache: false,
        concurrency: 4,
        signal: controller.signal,
      }),
      /interrupted/,
    );
  });
});
