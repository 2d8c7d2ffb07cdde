// RUN --mount=type=tmpfs: a fresh tmpfs for the step; its files never reach a layer.
// behaviours.md 54.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setupBuildTests } from './helpers.ts';

const h = setupBuildTests();
const it = (name: string, fn: () => Promise<void>) => test(name, { skip: h.skip }, fn);

it('a tmpfs mount is writable during the step, sized as asked, and gone afterwards', async () => {
  const image = await h.buildOk({
    Dockerfile: [
      'FROM busybox',
      'RUN mkdir /scratch && echo lower > /scratch/below',
      'RUN --mount=type=tmpfs,target=/scratch,size=128m echo big > /scratch/tmpfile && ls /scratch > /during && grep " /scratch " /proc/mounts > /mounts',
      'RUN ls /scratch > /after',
      '',
    ].join('\n'),
  });
  // The tmpfs hides the directory below it while mounted, and takes the step's writes.
  assert.equal(await image.text('/during'), 'tmpfile\n');
  assert.match(await image.text('/mounts'), /^tmpfs \/scratch tmpfs rw,nosuid,nodev.*size=131072k/);
  assert.equal(await image.text('/after'), 'below\n');
  assert.equal(image.entries.has('/scratch/tmpfile'), false);
});
