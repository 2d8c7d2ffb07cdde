// RUN --mount=type=secret with `tbuild build --secret`: the value reaches the step as a file or
// an env variable and nowhere else (no layer, history, config or cache key). behaviours.md 58.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { type FlatImage, setupBuildTests, sha256 } from './helpers.ts';

const h = setupBuildTests();
const it = (name: string, fn: () => Promise<void>) => test(name, { skip: h.skip }, fn);
const value = 'tbuild-secret-Zq8v3';

async function secretFile(content: string): Promise<string> {
  return join(await h.testdir({ 'secret.txt': content }), 'secret.txt');
}

/** Asserts the value appears in no layer (decompressed) and not in the image config/history. */
async function assertNowhere(image: FlatImage, text: string): Promise<void> {
  for (const layer of image.layers) {
    let bytes = await readFile(layer);
    if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipSync(bytes);
    assert.equal(bytes.includes(text), false, `${layer} contains the secret`);
  }
  assert.equal(JSON.stringify(image.config).includes(text), false, 'the image config contains the secret');
}

it('a secret is a 0400 root file at /run/secrets/<id> during the step and leaves no trace', async () => {
  const src = await secretFile(value);
  const image = await h.buildOk(
    {
      Dockerfile: [
        'FROM busybox',
        'RUN --mount=type=secret,id=tok sha256sum /run/secrets/tok | cut -d" " -f1 > /hash && stat -c "%a %u:%g" /run/secrets/tok > /stat',
        '',
      ].join('\n'),
    },
    { args: ['--secret', `id=tok,src=${src}`] },
  );
  assert.equal(await image.text('/hash'), `${sha256(value)}\n`);
  assert.equal(await image.text('/stat'), '400 0:0\n');
  // The mount point runc made (/run/secrets/tok and its parents) is gone from the image.
  assert.equal(image.entries.has('/run'), false);
  await assertNowhere(image, value);
  assert.doesNotMatch(image.stdout + image.stderr, new RegExp(value));
});

it('target, mode, uid and gid place and own the file; env= exposes the value without a file', async () => {
  const src = await secretFile(value);
  const image = await h.buildOk(
    {
      Dockerfile: [
        'FROM busybox',
        'RUN --mount=type=secret,id=tok,target=/etc/app/token,mode=0440,uid=1000,gid=1001 stat -c "%a %u:%g" /etc/app/token > /stat',
        'RUN --mount=type=secret,id=tok,env=TOKEN printf %s "$TOKEN" | sha256sum | cut -d" " -f1 > /env-hash && ls /run/secrets 2>/dev/null | wc -l > /files',
        '',
      ].join('\n'),
    },
    { args: ['--secret', `id=tok,src=${src}`] },
  );
  assert.equal(await image.text('/stat'), '440 1000:1001\n');
  assert.equal(image.entries.has('/etc/app/token'), false);
  assert.equal(await image.text('/env-hash'), `${sha256(value)}\n`);
  assert.equal(await image.text('/files'), '0\n');
  // The env variable is not in the image's Env, and the step's env never reached the history.
  await assertNowhere(image, value);
  assert.ok(image.config.history?.some((entry) => /RUN .*TOKEN/.test(entry.created_by ?? '')));
});

it('a required secret that was not given fails the step; an optional one is simply absent', async () => {
  const failed = await h.build({
    Dockerfile: 'FROM busybox\nRUN --mount=type=secret,id=missing,required=true cat /run/secrets/missing\n',
  });
  assert.equal(failed.code, 1);
  assert.match(failed.stderr, /secret missing: not found/);
  const image = await h.buildOk({
    Dockerfile:
      'FROM busybox\nRUN --mount=type=secret,id=missing test ! -e /run/secrets/missing && echo absent > /r\n',
  });
  assert.equal(await image.text('/r'), 'absent\n');
});

it('the secret value is not part of the cache key: a new value reuses the cached step', async () => {
  const dockerfile = 'FROM busybox\nRUN --mount=type=secret,id=tok wc -c < /run/secrets/tok > /len\n';
  const first = await h.buildOk(
    { Dockerfile: dockerfile },
    { args: ['--secret', `id=tok,src=${await secretFile('abc')}`] },
  );
  assert.equal((await first.text('/len')).trim(), '3');
  const second = await h.build(
    { Dockerfile: dockerfile },
    { args: ['--secret', `id=tok,src=${await secretFile('abcdef')}`] },
  );
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stderr, /#\d+ CACHED/);
  assert.doesNotMatch(second.stderr, /RUN --mount[^\n]*\n#\d+ DONE/);
});
