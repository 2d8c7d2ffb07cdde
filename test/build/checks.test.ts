// Build checks end to end (issue 14): through the CLI, the warnings buildx prints at the end of a
// build (plain, tty, rawjson), `error=true` failing the build before any step runs, the
// BUILDKIT_DOCKERFILE_CHECK build arg, warnings before a parse error, and `# syntax=`.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { setupBuildTests } from './helpers.ts';

const h = setupBuildTests();
const it = (name: string, fn: () => Promise<void>) => test(name, { skip: h.skip }, fn);

/** A real-world style Dockerfile (a web app's two stages) with five rule violations. */
const fiveViolations = [
  'FROM busybox as build',
  'WORKDIR app',
  'ENV NODE_ENV production',
  'COPY package.json ./',
  '',
  'FROM busybox',
  'MAINTAINER web team <web@example.com>',
  'COPY --from=build /app/package.json /srv/',
  'EXPOSE 80',
  'CMD httpd -f -p 80 -h /srv',
  '',
].join('\n');

const fiveSummary = [
  '',
  ' 5 warnings found (use docker --debug to expand):',
  " - FromAsCasing: 'as' and 'FROM' keywords' casing do not match (line 1)",
  ' - WorkdirRelativePath: Relative workdir "app" can have unexpected results if the base image changes (line 2)',
  ' - LegacyKeyValueFormat: "ENV key=value" should be used instead of legacy "ENV key value" format (line 3)',
  ' - MaintainerDeprecated: Maintainer instruction is deprecated in favor of using label (line 7)',
  ' - JSONArgsRecommended: JSON arguments recommended for CMD to prevent unintended behavior related to OS signals (line 10)',
  '',
].join('\n');

it('a build lists exactly the five warnings with their lines after the steps (plain)', async () => {
  const result = await h.build({ Dockerfile: fiveViolations, 'package.json': '{}\n' });
  assert.equal(result.code, 0, result.stderr);
  const [progress, rest] = result.stderr.split(fiveSummary);
  assert.ok(rest !== undefined, `no warnings block in:\n${result.stderr}`);
  assert.match(progress as string, /#\d+ DONE/);
  assert.match(rest, /^writing image sha256:/);
});

it('tty: the same block below the last frame, its heading in yellow', async () => {
  const result = await h.build(
    { Dockerfile: fiveViolations, 'package.json': '{}\n' },
    { args: ['--progress', 'tty'] },
  );
  assert.equal(result.code, 0, result.stderr);
  assert.ok(
    result.stderr.includes(
      `\n \x1b[33m5 warnings found (use docker --debug to expand):\n\x1b[0m - FromAsCasing: 'as' and 'FROM' keywords' casing do not match (line 1)\n`,
    ),
    result.stderr,
  );
  assert.ok(result.stderr.indexOf('FINISHED') < result.stderr.indexOf('5 warnings found'));
});

it('rawjson: one warning event per violation, with rule, message, page and place', async () => {
  const result = await h.build(
    { Dockerfile: fiveViolations, 'package.json': '{}\n' },
    { args: ['--progress', 'rawjson'] },
  );
  assert.equal(result.code, 0, result.stderr);
  const warnings = result.stderr
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line))
    .filter((event) => event.type === 'warning');
  assert.deepEqual(warnings.map((w) => `${w.rule} ${w.location}`).sort(), [
    'FromAsCasing Dockerfile:1',
    'JSONArgsRecommended Dockerfile:10',
    'LegacyKeyValueFormat Dockerfile:3',
    'MaintainerDeprecated Dockerfile:7',
    'WorkdirRelativePath Dockerfile:2',
  ]);
  const workdir = warnings.find((w) => w.rule === 'WorkdirRelativePath');
  assert.equal(workdir.url, 'https://docs.docker.com/go/dockerfile/rule/workdir-relative-path/');
  assert.equal(
    workdir.detail,
    'Relative workdir "app" can have unexpected results if the base image changes',
  );
  assert.doesNotMatch(result.stderr, /warnings found/);
});

it('error=true: the warnings, then the build fails before any step runs', async () => {
  const result = await h.build({
    Dockerfile: '# check=error=true\nFROM busybox as base\nRUN echo should-not-run\n',
  });
  assert.equal(result.code, 1);
  assert.match(
    result.stderr,
    /\n 1 warning found \(use docker --debug to expand\):\n - FromAsCasing: 'as' and 'FROM' keywords' casing do not match \(line 2\)\n/,
  );
  assert.match(result.stderr, /ERROR: lint violation found for rules: FromAsCasing\n/);
  assert.doesNotMatch(result.stderr, /should-not-run|#\d+ /);
});

it('--build-arg BUILDKIT_DOCKERFILE_CHECK replaces # check= (skip=all: nothing; error=true: fails)', async () => {
  const dockerfile = '# check=error=true\nFROM busybox as base\n';
  const skipped = await h.build(
    { Dockerfile: dockerfile },
    { args: ['--build-arg', 'BUILDKIT_DOCKERFILE_CHECK=skip=all'] },
  );
  assert.equal(skipped.code, 0, skipped.stderr);
  assert.doesNotMatch(skipped.stderr, /warning/);
  const strict = await h.build(
    { Dockerfile: 'FROM busybox as base\n' },
    { args: ['--build-arg', 'BUILDKIT_DOCKERFILE_CHECK=error=true'] },
  );
  assert.equal(strict.code, 1);
  assert.match(strict.stderr, /ERROR: lint violation found for rules: FromAsCasing/);
  const bad = await h.build({ Dockerfile: '# check=colour=red\nFROM busybox\n' });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /ERROR: failed to parse check options: invalid check option "colour"\n/);
});

it('warnings found before a parse error are shown, then the error', async () => {
  const result = await h.build({
    Dockerfile: 'FROM busybox AS BadStageName\nMAINTAINER me@example.org\nBADCMD\n',
  });
  assert.equal(result.code, 1);
  const summary = result.stderr.indexOf(' 2 warnings found');
  assert.ok(summary >= 0, result.stderr);
  assert.match(
    result.stderr,
    / - StageNameCasing: Stage name 'BadStageName' should be lowercase \(line 1\)\n/,
  );
  assert.ok(result.stderr.indexOf('unknown instruction: BADCMD') > summary);
});

it('# syntax=: docker/dockerfile:1.x runs the built-in frontend quietly; another image gets one warning', async () => {
  const builtin = await h.build({ Dockerfile: '# syntax=docker/dockerfile:1.7-labs\nFROM busybox\n' });
  assert.equal(builtin.code, 0, builtin.stderr);
  assert.doesNotMatch(builtin.stderr, /warning/);
  const other = await h.build({ Dockerfile: '# syntax=example.com/frontend:2\n\nFROM busybox\n' });
  assert.equal(other.code, 0, other.stderr);
  assert.match(
    other.stderr,
    /\n 1 warning found \(use docker --debug to expand\):\n - Dockerfile:1: the syntax directive names frontend image "example.com\/frontend:2", which tbuild does not run: the built-in Dockerfile frontend builds this file\n/,
  );
});

it('--metadata-file: the image digests and name; the warnings too with BUILDX_METADATA_WARNINGS=1', async () => {
  const dir = await h.testdir({ Dockerfile: fiveViolations, 'package.json': '{}\n' });
  const plain = `${dir}.plain.json`;
  const built = await h.cli(['build', '--progress', 'plain', '-t', 'meta', '--metadata-file', plain, dir]);
  assert.equal(built.code, 0, built.stderr);
  const metadata = JSON.parse(await readFile(plain, 'utf8'));
  assert.equal(metadata['image.name'], 'docker.io/library/meta:latest');
  assert.match(metadata['containerimage.digest'], /^sha256:[0-9a-f]{64}$/);
  assert.equal(metadata['containerimage.descriptor'].digest, metadata['containerimage.digest']);
  assert.match(built.stderr, new RegExp(`writing image ${metadata['containerimage.config.digest']}`));
  assert.equal(metadata['buildx.build.warnings'], undefined);

  const withWarnings = `${dir}.warnings.json`;
  process.env.BUILDX_METADATA_WARNINGS = '1';
  try {
    const again = await h.cli(['build', '--progress', 'plain', '--metadata-file', withWarnings, dir]);
    assert.equal(again.code, 0, again.stderr);
  } finally {
    delete process.env.BUILDX_METADATA_WARNINGS;
  }
  const warned = JSON.parse(await readFile(withWarnings, 'utf8'))['buildx.build.warnings'];
  assert.equal(warned.length, 5);
  const first = warned.find((w: { Range: { start: { line: number } }[] }) => w.Range[0]?.start.line === 1);
  assert.equal(
    Buffer.from(first.Short, 'base64').toString(),
    "FromAsCasing: 'as' and 'FROM' keywords' casing do not match (line 1)",
  );
  assert.equal(first.URL, 'https://docs.docker.com/go/dockerfile/rule/from-as-casing/');
  assert.equal(first.Level, 1);
});
