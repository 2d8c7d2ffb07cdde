// test/needs.ts: executables are found on PATH, and under CI a skip reason fails the run.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { findExecutable, needCommands } from './needs.ts';

const work = mkdtempSync(join(tmpdir(), 'tbuild-needs-'));
after(() => rmSync(work, { recursive: true, force: true }));

test('findExecutable takes the first executable regular file on PATH', () => {
  const [a, b] = [join(work, 'a'), join(work, 'b')];
  mkdirSync(a);
  mkdirSync(b);
  writeFileSync(join(a, 'tool'), '#!/bin/sh\n'); // not executable: passed over
  writeFileSync(join(b, 'tool'), '#!/bin/sh\n');
  chmodSync(join(b, 'tool'), 0o755);
  mkdirSync(join(a, 'dir-tool'), { mode: 0o755 }); // a directory is no executable
  const saved = process.env.PATH;
  process.env.PATH = ['', a, b].join(':');
  try {
    assert.equal(findExecutable('tool'), join(b, 'tool'));
    assert.equal(findExecutable('dir-tool'), undefined);
    assert.equal(needCommands('tool'), false);
    assert.equal(
      needCommands('tool', 'no-such-tool-x:some-pkg', 'no-such-tool-y'),
      'needs no-such-tool-x, no-such-tool-y on PATH (apt-get install some-pkg no-such-tool-y)',
    );
  } finally {
    process.env.PATH = saved;
  }
});

/** Runs a tiny test file that needs a missing command, with CI set as given. */
function runNeedingMissing(ci: string | undefined) {
  const file = join(work, `probe-${ci ?? 'unset'}.test.ts`);
  const needs = pathToFileURL(join(import.meta.dirname, 'needs.ts')).href;
  writeFileSync(
    file,
    `import { test } from 'node:test';
import { needCommands, skipReason, skipTest } from ${JSON.stringify(needs)};
const skip = skipReason(needCommands('no-such-tool-for-tbuild'));
test('uses the tool', { skip }, () => { throw new Error('ran without its tool'); });
test('checks inside', (t) => { if (skipTest(t, 'no overlay here')) return; throw new Error('ran'); });
test('an ordinary test', () => {});
`,
  );
  const env = { ...process.env };
  delete env.CI;
  delete env.NODE_TEST_CONTEXT; // set for children of a test run: it would change the reporter
  if (ci !== undefined) env.CI = ci;
  return spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=tap', file], {
    encoding: 'utf8',
    env,
  });
}

test('without CI a missing command skips; with CI=true it fails, naming the cause', () => {
  for (const ci of [undefined, 'false', '0']) {
    const local = runNeedingMissing(ci);
    assert.equal(local.status, 0, local.stdout + local.stderr);
    assert.match(local.stdout, /# skipped 2/);
    assert.match(local.stdout, /# fail 0/);
  }
  const ci = runNeedingMissing('true');
  assert.equal(ci.status, 1, ci.stdout);
  assert.match(ci.stdout, /not ok \d+ - CI set-up: needs no-such-tool-for-tbuild on PATH/);
  assert.match(ci.stdout, /not ok \d+ - checks inside/);
  assert.match(ci.stdout, /no overlay here: CI=true installs this/);
  // The test that needs the tool is still skipped, not run without it.
  assert.doesNotMatch(ci.stdout, /ran without its tool/);
  assert.match(ci.stdout, /# fail 2/);
});
