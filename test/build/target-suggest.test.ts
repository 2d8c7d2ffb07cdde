// An unknown --target names the closest stage, a transposition counting as one edit as in
// BuildKit's suggestions (behaviours.md 15).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setupBuildTests } from './helpers.ts';

const h = setupBuildTests();
const it = (name: string, fn: () => Promise<void>) => test(name, { skip: h.skip }, fn);
const dockerfile = 'FROM busybox AS build\nRUN true\nFROM busybox AS test\nRUN true\n';

it('--target bulid suggests build; a word far from every stage gets no suggestion', async () => {
  const typo = await h.build({ Dockerfile: dockerfile }, { args: ['--target', 'bulid'] });
  assert.equal(typo.code, 1);
  assert.match(typo.stderr, /target stage "bulid" could not be found \(did you mean build\?\)/);
  const far = await h.build({ Dockerfile: dockerfile }, { args: ['--target', 'release'] });
  assert.equal(far.code, 1);
  assert.match(far.stderr, /target stage "release" could not be found/);
  assert.doesNotMatch(far.stderr, /did you mean/);
});
