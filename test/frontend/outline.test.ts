// --call=outline and --call=targets data (issue 14), as BuildKit's dockerfile2llb/outline.go and
// ListTargets compute them: pure, from the instructions.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { listTargets, outlineTarget } from '../../frontend/index.ts';
import { parseDockerfile, toInstructions } from '../../parser/index.ts';

const platformArgs = new Map([['TARGETPLATFORM', 'linux/amd64']]);

function outline(text: string, options: { target?: string; buildArgs?: Record<string, string> } = {}) {
  const ast = parseDockerfile(text);
  return outlineTarget(toInstructions(ast), ast, { buildArgs: {}, platformArgs, ...options });
}

test('a global ARG is used through FROM, or through another used default, or by redeclaring it', () => {
  const text = [
    '# REGISTRY where images come from',
    'ARG REGISTRY=docker.io',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Dockerfile text
    'ARG IMAGE=${REGISTRY}/library/busybox',
    '# VERSION the release',
    'ARG VERSION=1',
    'ARG NOBODY=x',
    'FROM $IMAGE',
    'ARG VERSION',
    '# LOCAL a stage arg',
    'ARG LOCAL=$VERSION-local',
    '',
  ].join('\n');
  assert.deepEqual(outline(text).args, [
    { name: 'REGISTRY', value: 'docker.io', description: 'where images come from', line: 2 },
    { name: 'IMAGE', value: 'docker.io/library/busybox', line: 3 },
    { name: 'VERSION', value: '1', description: 'the release', line: 5 },
    { name: 'LOCAL', value: '1-local', description: 'a stage arg', line: 10 },
  ]);
  assert.deepEqual(
    outline(text, { buildArgs: { VERSION: '2' } }).args.map((a) => `${a.name}=${a.value}`),
    ['REGISTRY=docker.io', 'IMAGE=docker.io/library/busybox', 'VERSION=2', 'LOCAL=2-local'],
  );
});

test('only the stages the target needs count; secrets and ssh from their RUN mounts', () => {
  const text = [
    'FROM busybox AS deps',
    'ARG DEPS=1',
    'RUN --mount=type=secret,id=token --mount=type=ssh echo',
    'FROM busybox AS other',
    'ARG OTHER=1',
    'RUN --mount=type=secret,target=/run/secrets/other,required echo',
    'FROM busybox AS final',
    'RUN --mount=type=bind,from=deps,target=/d --mount=type=secret,target=/etc/cred,required=true true',
    '',
  ].join('\n');
  const result = outline(text);
  assert.deepEqual(result.args, [{ name: 'DEPS', value: '1', line: 2 }]);
  assert.deepEqual(result.secrets, [
    { name: 'token', required: false, line: 3 },
    { name: 'cred', required: true, line: 8 },
  ]);
  assert.deepEqual(result.ssh, [{ name: 'default', required: false, line: 3 }]);
  assert.equal(result.name, 'final');
  assert.deepEqual(outline(text, { target: 'other' }).secrets, [{ name: 'other', required: true, line: 6 }]);
});

test('targets: every stage, names lower-cased, descriptions from "# name ..." comments, the last the default', () => {
  const text = '# Base not this one\n# base the base\nFROM busybox AS Base\n\nFROM base\n';
  const ast = parseDockerfile(text);
  assert.deepEqual(listTargets(toInstructions(ast), ast), [
    { name: 'base', description: 'the base', default: false, base: 'busybox', line: 3 },
    { default: true, base: 'base', line: 5 },
  ]);
});
