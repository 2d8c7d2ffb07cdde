// Ctrl-C and SIGTERM of a build in the middle of a RUN (issue 12, "Fault tolerance to prove"): the
// build exits within 5 s with Docker's code (130 for SIGINT, 143 for SIGTERM: 128 + the signal),
// in one line, and leaves no container, mount, scratch directory or process behind. A kill -9 leaves
// them (nothing runs in a killed process), and the next command on the root sweeps them.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { whyNotRunnable } from '../build/helpers.ts';
import { skipReason } from '../needs.ts';
import { busyboxArchive } from '../registry/helpers.ts';
import { cliOk, leftovers, settledLeftovers, startCli } from './helpers.ts';

const skip = skipReason(whyNotRunnable());

describe('signals during a RUN', { skip }, () => {
  let work = '';
  let root = '';
  let context = '';
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'tbuild-signals-'));
    root = join(work, 'root');
    context = join(work, 'ctx');
    await mkdir(context);
    await cliOk(root, ['load', '-i', await busyboxArchive()]);
  });
  after(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  /** Starts a build whose RUN sleeps; resolves once the RUN is running. */
  async function buildInRun(seconds: number) {
    await writeFile(join(context, 'Dockerfile'), `FROM busybox\nRUN echo started && sleep ${seconds}\n`);
    const build = startCli(root, ['build', '--no-cache', '--progress', 'plain', context]);
    const deadline = Date.now() + 30_000;
    while (!/\bstarted\b/.test(build.stderr().replace(/RUN echo started/g, ''))) {
      assert.ok(Date.now() < deadline, `the RUN never started:\n${build.stderr()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return build;
  }

  for (const [signal, code] of [
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const) {
    it(`${signal} mid-RUN: exit ${code} within 5 s, one ERROR line, everything cleaned`, async () => {
      const build = await buildInRun(4201);
      const sent = Date.now();
      build.child.kill(signal);
      const r = await build.done;
      const took = Date.now() - sent;
      assert.equal(r.code, code, r.stderr);
      assert.ok(took < 5000, `exited ${took} ms after ${signal}`);
      assert.match(r.stderr, new RegExp(`^ERROR: build canceled \\(${signal}\\)$`, 'm'));
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      // Cleaned by the build itself: nothing to sweep.
      assert.deepEqual(await settledLeftovers(root, { marker: 'sleep 4201' }), []);
    });
  }

  it('kill -9 mid-RUN leaves the container and its mount; the next command sweeps them', async () => {
    const build = await buildInRun(4202);
    build.child.kill('SIGKILL');
    await build.done;
    const left = leftovers(root, { marker: 'sleep 4202' });
    assert.ok(
      left.some((l) => l.startsWith('mount ')),
      left.join('\n'),
    );
    assert.ok(
      left.some((l) => l.startsWith('runc container ')),
      left.join('\n'),
    );
    assert.ok(
      left.some((l) => l.includes('sleep 4202')),
      left.join('\n'),
    );
    const listed = await cliOk(root, ['images']);
    assert.match(listed.stdout, /busybox/);
    assert.deepEqual(await settledLeftovers(root, { marker: 'sleep 4202' }), []);
    const fsck = await cliOk(root, ['fsck']);
    assert.doesNotMatch(fsck.stdout + fsck.stderr, /problem|damaged/i);
  });
});
