// Failing builds: exit code and the exact messages `docker build` (BuildKit) gives, each located
// at `Dockerfile:LINE` (behaviours.md 6, 7, 15, 41).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setupBuildTests } from './helpers.ts';

const h = setupBuildTests();
const it = (name: string, fn: () => Promise<void>) => test(name, { skip: h.skip }, fn);

it('a failing RUN names the step and line, shows the exit code and the last output lines', async () => {
  const result = await h.build({
    Dockerfile:
      'FROM busybox\nRUN for i in 1 2 3 4 5 6 7 8 9 10 11 12; do echo line$i; done; sleep 0.3; echo oops >&2; exit 3\n',
  });
  assert.equal(result.code, 1);
  const error = result.stderr.slice(result.stderr.lastIndexOf('ERROR:'));
  assert.match(error, /^ERROR: Dockerfile:2: \[2\/2\] RUN for i in/);
  const report = result.stderr.slice(result.stderr.indexOf('------\n > [2/2] RUN for i in'));
  assert.match(
    error,
    /process "\/bin\/sh -c for i in .* exit 3" did not complete successfully: exit code: 3/,
  );
  // The tail of the step's output is shown under the message, and the failing line.
  assert.ok(report.length < result.stderr.length, result.stderr);
  // stdout and stderr are separate pipes: the sleep keeps `oops` last in the tail.
  assert.match(report, /\nline12\n/);
  assert.match(report, /\noops\n/);
  assert.doesNotMatch(report, /^line1$/m);
  assert.match(report, /Dockerfile:2\n-+\n +1 \| {5}FROM busybox\n +2 \| >>> RUN for i in/);
});

it('a missing COPY source', async () => {
  const result = await h.build({ Dockerfile: 'FROM busybox\nCOPY missing.txt /\n' });
  assert.equal(result.code, 1);
  assert.match(
    result.stderr,
    /ERROR: Dockerfile:2: \[2\/2\] COPY missing.txt \/: .*"\/missing.txt": not found/,
  );
});

it('COPY --from an unknown stage or image', async () => {
  const result = await h.build({ Dockerfile: 'FROM busybox\nCOPY --from=nostage /x /\n' });
  assert.equal(result.code, 1);
  assert.match(result.stderr, /ERROR: Dockerfile:2: .*"nostage"/);
});

it('a missing base image', async () => {
  const result = await h.build({ Dockerfile: 'FROM nothere:1\nRUN true\n' });
  assert.equal(result.code, 1);
  assert.match(result.stderr, /ERROR: Dockerfile:1: .*"nothere:1"/);
});

// The --target suggestion itself ("bulid" → build) is in target-suggest.test.ts.

it('an unknown --target is located nowhere but names the target', async () => {
  const result = await h.build(
    { Dockerfile: 'FROM busybox AS build\nRUN true\n' },
    { args: ['--target', 'bulid'] },
  );
  assert.equal(result.code, 1);
  assert.match(result.stderr, /ERROR: target stage "bulid" could not be found/);
});

it('a --build-arg without a name is a usage error (exit 125)', async () => {
  const result = await h.build({ Dockerfile: 'FROM busybox\n' }, { args: ['--build-arg', '=x'] });
  assert.equal(result.code, 125);
  assert.match(result.stderr, /ERROR: invalid build-arg "=x"/);
});

it('an invalid --chmod (41)', async () => {
  for (const mode of ['64a', '10000']) {
    const result = await h.build({ Dockerfile: `FROM busybox\nCOPY --chmod=${mode} Dockerfile /\n` });
    assert.equal(result.code, 1, mode);
    assert.match(
      result.stderr,
      new RegExp(
        `ERROR: Dockerfile:2: .*invalid chmod parameter: '${mode}'. it should be octal string and between 0 and 07777`,
      ),
    );
  }
});
