// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the cases are Dockerfile text, where ${VAR} is literal
// `build --call=check|outline|targets` and `--check` through the CLI (issue 14): buildx's output
// for each, as text and as format=json, its exit codes, and no build.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setupBuildTests } from './helpers.ts';

const h = setupBuildTests();
const it = (name: string, fn: () => Promise<void>) => test(name, { skip: h.skip }, fn);

const described = [
  '# BASE the image everything starts from',
  'ARG BASE=busybox',
  '# UNUSED is used by no stage',
  'ARG UNUSED=1',
  '',
  '# build compiles the app',
  'FROM ${BASE} as build',
  '# OUT_DIR where the output goes',
  'ARG OUT_DIR=/out',
  'RUN --mount=type=secret,id=npmrc,required echo hi',
  '',
  'FROM busybox AS lint',
  'ENV CI 1',
  '',
  '# release is the final image',
  'FROM busybox AS release',
  'COPY --from=build /etc/passwd /srv/',
  'CMD ["httpd", "-f"]',
  '',
].join('\n');

it('--call=check: the warnings of every stage with their lines around them, exit 1, nothing built', async () => {
  const result = await h.build({ Dockerfile: described }, { args: ['--call=check'], tag: 'not-built' });
  assert.equal(result.code, 1, result.stderr);
  assert.equal(
    result.stdout,
    [
      'Check complete, 2 warnings have been found!',
      '',
      'WARNING: FromAsCasing - https://docs.docker.com/go/dockerfile/rule/from-as-casing/',
      "'as' and 'FROM' keywords' casing do not match",
      'Dockerfile:7',
      '--------------------',
      '   5 |     ',
      '   6 |     # build compiles the app',
      '   7 | >>> FROM ${BASE} as build',
      '   8 |     # OUT_DIR where the output goes',
      '   9 |     ARG OUT_DIR=/out',
      '--------------------',
      '',
      'WARNING: LegacyKeyValueFormat - https://docs.docker.com/go/dockerfile/rule/legacy-key-value-format/',
      '"ENV key=value" should be used instead of legacy "ENV key value" format',
      'Dockerfile:13',
      '--------------------',
      '  11 |     ',
      '  12 |     FROM busybox AS lint',
      '  13 | >>> ENV CI 1',
      '  14 |     ',
      '  15 |     # release is the final image',
      '--------------------',
      '',
    ].join('\n'),
  );
  assert.doesNotMatch(result.stderr, /#\d+ |warnings found/);
  const inspect = await h.cli(['inspect', 'not-built']);
  assert.notEqual(inspect.code, 0);
});

it('--check is --call=check; --target dispatches that stage only (per-line rules still see all)', async () => {
  const result = await h.build(
    { Dockerfile: described.replace('ENV CI 1', 'ENV CI=1') },
    { args: ['--check', '--target', 'release'] },
  );
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stdout, /^Check complete, 1 warning has been found!\n\nWARNING: FromAsCasing /);
  const lint = await h.build(
    { Dockerfile: described.replace(' as build', ' AS build') },
    { args: ['--check', '--target', 'release'] },
  );
  assert.equal(lint.code, 0, lint.stderr);
  assert.equal(lint.stdout, 'Check complete, no warnings found.\n');
});

it('a clean Dockerfile: "Check complete, no warnings found.", exit 0; ignorestatus keeps 0 anyway', async () => {
  const clean = await h.build({ Dockerfile: 'FROM busybox\nCMD ["true"]\n' }, { args: ['--check'] });
  assert.equal(clean.code, 0, clean.stderr);
  assert.equal(clean.stdout, 'Check complete, no warnings found.\n');
  const ignored = await h.build({ Dockerfile: described }, { args: ['--call=check,ignorestatus=true'] });
  assert.equal(ignored.code, 0, ignored.stderr);
  assert.match(ignored.stdout, /^Check complete, 2 warnings have been found!/);
});

it('error=true: the warnings, then the violation as the error, exit 1', async () => {
  const result = await h.build(
    { Dockerfile: '# check=error=true\nFROM busybox as base\n' },
    { args: ['--check'] },
  );
  assert.equal(result.code, 1);
  assert.match(result.stdout, /^Check complete, 1 warning has been found!\n\nWARNING: FromAsCasing /);
  assert.match(result.stdout, /--------------------\n\n$/);
  assert.match(result.stderr, /ERROR: lint violation found for rules: FromAsCasing\n/);
});

it('a parse error is the check result: the warnings before it, then the error with its lines', async () => {
  const result = await h.build({ Dockerfile: 'FROM busybox AS Bad\nBADCMD\n' }, { args: ['--check'] });
  assert.equal(result.code, 1);
  assert.match(result.stdout, /WARNING: StageNameCasing /);
  assert.match(
    result.stderr,
    /ERROR: dockerfile parse error on line 2: unknown instruction: BADCMD\nDockerfile:2\n-{20}\n {3}1 \| {5}FROM busybox AS Bad\n {3}2 \| >>> BADCMD\n/,
  );
});

it('--call=check,format=json: the lint result as JSON', async () => {
  const result = await h.build({ Dockerfile: described }, { args: ['--call=check,format=json'] });
  assert.equal(result.code, 1, result.stderr);
  const json = JSON.parse(result.stdout);
  assert.deepEqual(json.warnings[0], {
    ruleName: 'FromAsCasing',
    description: "The 'as' keyword should match the case of the 'from' keyword",
    url: 'https://docs.docker.com/go/dockerfile/rule/from-as-casing/',
    detail: "'as' and 'FROM' keywords' casing do not match",
    location: { ranges: [{ start: { line: 7 }, end: { line: 7 } }] },
  });
  assert.equal(json.warnings.length, 2);
  assert.equal(json.sources[0].filename, 'Dockerfile');
  assert.equal(Buffer.from(json.sources[0].data, 'base64').toString(), described);
  assert.doesNotMatch(result.stdout, /Check complete/);
});

it('--call=targets: every stage with its description, the default marked', async () => {
  const result = await h.build({ Dockerfile: described }, { args: ['--call=targets'] });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(
    result.stdout,
    'TARGET            DESCRIPTION\nbuild             compiles the app\nlint              \nrelease (default) is the final image\n',
  );
  const json = JSON.parse(
    (await h.build({ Dockerfile: described }, { args: ['--call=targets,format=json'] })).stdout,
  );
  assert.deepEqual(json.targets[2], {
    name: 'release',
    default: true,
    description: 'is the final image',
    base: 'busybox',
    location: { ranges: [{ start: { line: 16 }, end: { line: 16 } }] },
  });
});

it('--call=outline: the build args and secrets the target uses, with values and descriptions', async () => {
  const result = await h.build(
    { Dockerfile: described },
    { args: ['--call=outline', '--build-arg', 'OUT_DIR=/srv/out'] },
  );
  assert.equal(result.code, 0, result.stderr);
  assert.equal(
    result.stdout,
    [
      'TARGET:      release',
      'DESCRIPTION: is the final image',
      '',
      'BUILD ARG   VALUE      DESCRIPTION',
      'BASE        busybox    the image everything starts from',
      'OUT_DIR     /srv/out   where the output goes',
      '',
      'SECRET   REQUIRED',
      'npmrc    true',
      '',
      '',
    ].join('\n'),
  );
  const lint = await h.build(
    { Dockerfile: described },
    { args: ['--call=outline,format=json', '--target', 'lint'] },
  );
  assert.deepEqual(JSON.parse(lint.stdout), {
    name: 'lint',
    sources: [Buffer.from(described).toString('base64')],
  });
});

it('--call with an unknown request or field is refused', async () => {
  const unknown = await h.build({ Dockerfile: 'FROM busybox\n' }, { args: ['--call=describe'] });
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /ERROR: failed to solve: unsupported request frontend\.describe\n/);
  const field = await h.build({ Dockerfile: 'FROM busybox\n' }, { args: ['--call=check,colour=red'] });
  assert.equal(field.code, 1);
  assert.match(field.stderr, /ERROR: invalid print field: colour=red\n/);
});
