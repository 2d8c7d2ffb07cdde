// RUN --mount=type=cache: a directory kept between steps and builds, by id (default: the
// target), with the given owner and mode, never in the image. behaviours.md 55.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setupBuildTests } from './helpers.ts';

const h = setupBuildTests();
const it = (name: string, fn: () => Promise<void>) => test(name, { skip: h.skip }, fn);

it('a cache mount keeps its files between RUNs and builds, per target unless an id is shared', async () => {
  const first = await h.buildOk({
    Dockerfile: [
      'FROM busybox',
      'RUN --mount=type=cache,target=/var/cache/app echo one >> /var/cache/app/log',
      'RUN --mount=type=cache,target=/var/cache/app cat /var/cache/app/log > /seen1',
      'RUN --mount=type=cache,target=/other ls /other | wc -l > /other-count',
      'RUN --mount=type=cache,id=shared,target=/x echo via-x > /x/f',
      'RUN --mount=type=cache,id=shared,target=/y cat /y/f > /via-y',
      '',
    ].join('\n'),
  });
  assert.equal(await first.text('/seen1'), 'one\n');
  assert.equal((await first.text('/other-count')).trim(), '0');
  assert.equal(await first.text('/via-y'), 'via-x\n');
  for (const path of ['/var/cache/app', '/other', '/x', '/y'])
    assert.equal(first.entries.has(path), false, path);
  // A later build (a different step) sees what the first one left.
  const second = await h.buildOk({
    Dockerfile:
      'FROM busybox\nRUN --mount=type=cache,target=/var/cache/app echo two >> /var/cache/app/log && cat /var/cache/app/log > /seen2\n',
  });
  assert.equal(await second.text('/seen2'), 'one\ntwo\n');
});

it('uid, gid and mode set the cache directory owner and mode; a user sees it as given', async () => {
  const image = await h.buildOk({
    Dockerfile: [
      'FROM busybox',
      'RUN --mount=type=cache,target=/c,uid=1000,gid=1001,mode=0750 stat -c "%a %u:%g" /c > /stat',
      'RUN --mount=type=cache,target=/c,sharing=locked stat -c "%a %u:%g" /c > /stat2',
      'RUN --mount=type=cache,target=/ro,readonly (touch /ro/x 2>/dev/null && echo writable || echo read-only) > /ro-result',
      '',
    ].join('\n'),
  });
  assert.equal(await image.text('/stat'), '750 1000:1001\n');
  // The directory is made once: a later mount of the same id keeps the first owner and mode.
  assert.equal(await image.text('/stat2'), '750 1000:1001\n');
  assert.equal(await image.text('/ro-result'), 'read-only\n');
});
