// The history entries of ARG and RUN when build args are given (issue 12, finding 5). tbuild writes
// what current BuildKit writes (frontend/dockerfile/dockerfile2llb/convert.go: dispatchArg and
// runCommandString): `ARG KEY=value` with the value in effect, a bare `ARG KEY` when there is none,
// and `RUN |N KEY=value ... <args>` for every ARG of the stage (`KEY=` for one without a value). Docker 20.10's BuildKit wrote
// `ARG PASSWORD` for a --build-arg; current BuildKit records the value, so `docker history`
// shows it: secrets belong in --secret, which never reaches history (run-mount-secret.test.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setupBuildTests } from './helpers.ts';

const h = setupBuildTests();
// h.skip fails under CI instead (test/needs.ts).
const it = (name: string, fn: () => Promise<void>) => test(name, { skip: h.skip }, fn);

it('ARG and RUN history entries are written as current BuildKit writes them', async () => {
  const image = await h.buildOk(
    {
      Dockerfile: [
        'FROM busybox',
        'ARG PASSWORD',
        'ARG WITH_DEFAULT=dflt BARE',
        'ARG DERIVED=$WITH_DEFAULT-x',
        'RUN true',
        '',
      ].join('\n'),
    },
    { args: ['--build-arg', 'PASSWORD=hunter2', '--build-arg', 'UNDECLARED=never'] },
  );
  const createdBy = (image.config.history ?? []).map((entry) => entry.created_by ?? '').slice(-4);
  assert.deepEqual(createdBy, [
    'ARG PASSWORD=hunter2',
    'ARG WITH_DEFAULT=dflt BARE',
    'ARG DERIVED=dflt-x',
    'RUN |4 PASSWORD=hunter2 WITH_DEFAULT=dflt BARE= DERIVED=dflt-x /bin/sh -c true # buildkit',
  ]);
  // A build arg no ARG declares is nowhere in the image.
  assert.equal(JSON.stringify(image.config).includes('never'), false);
});
