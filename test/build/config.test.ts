// End-to-end builds checked against the image config `docker build` (BuildKit) produces
// (behaviours.md numbers cited).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setupBuildTests } from './helpers.ts';

const h = setupBuildTests();
const it = (name: string, fn: () => Promise<void>) => test(name, { skip: h.skip }, fn);

it('SHELL changes shell-form CMD and ENTRYPOINT and is kept in the config (69)', async () => {
  const image = await h.buildOk({
    Dockerfile: 'FROM busybox\nSHELL ["/bin/sh", "-ec"]\nRUN echo $0 $- > /opts\nCMD echo hi\n',
  });
  assert.deepEqual(image.config.config.Shell, ['/bin/sh', '-ec']);
  assert.deepEqual(image.config.config.Cmd, ['/bin/sh', '-ec', 'echo hi']);
  assert.match(await image.text('/opts'), /^\/bin\/sh .*e/);
  const ep = await h.buildOk({ Dockerfile: 'FROM busybox\nSHELL ["ls"]\nENTRYPOINT my entrypoint\n' });
  assert.deepEqual(ep.config.config.Entrypoint, ['ls', 'my entrypoint']);
});

it('ENTRYPOINT clears the inherited CMD; a CMD after it stays (69)', async () => {
  const cleared = await h.buildOk({ Dockerfile: 'FROM busybox\nENTRYPOINT ["/bin/echo"]\n' });
  assert.deepEqual(cleared.config.config.Entrypoint, ['/bin/echo']);
  assert.equal(cleared.config.config.Cmd, undefined);
  const kept = await h.buildOk({ Dockerfile: 'FROM busybox\nENTRYPOINT ["/bin/echo"]\nCMD ["x"]\n' });
  assert.deepEqual(kept.config.config.Cmd, ['x']);
});

it('HEALTHCHECK, STOPSIGNAL, VOLUME, EXPOSE ranges and protocols, LABEL and --label', async () => {
  const image = await h.buildOk(
    {
      Dockerfile: [
        'FROM busybox',
        'HEALTHCHECK --interval=5s --timeout=3s --start-period=1m --retries=2 CMD wget -q localhost',
        'STOPSIGNAL SIGKILL',
        'VOLUME ["/data", "/logs"]',
        'VOLUME /more',
        'EXPOSE 80 53/udp 1000-1001',
        'LABEL a=1 "b c"="d e"',
        '',
      ].join('\n'),
    },
    { args: ['--label', 'from=cli', '--label', 'a=cli'] },
  );
  const c = image.config.config;
  assert.deepEqual(c.Healthcheck, {
    Test: ['CMD-SHELL', 'wget -q localhost'],
    Interval: 5_000_000_000,
    Timeout: 3_000_000_000,
    StartPeriod: 60_000_000_000,
    Retries: 2,
  });
  assert.equal(c.StopSignal, 'SIGKILL');
  assert.deepEqual(c.Volumes, { '/data': {}, '/logs': {}, '/more': {} });
  assert.deepEqual(c.ExposedPorts, { '80/tcp': {}, '53/udp': {}, '1000/tcp': {}, '1001/tcp': {} });
  assert.deepEqual(c.Labels, { a: 'cli', 'b c': 'd e', from: 'cli' });
  // Metadata instructions are empty layers: one layer (busybox's) in all.
  assert.equal(image.config.rootfs.diff_ids.length, 1);
});

it('ONBUILD runs in the child right after FROM and is not inherited by a grandchild (72)', async () => {
  const parent = await h.buildOk(
    { Dockerfile: 'FROM busybox\nONBUILD RUN echo triggered >> /trig\n' },
    { tag: 'onbuild-parent' },
  );
  assert.deepEqual(parent.config.config.OnBuild, ['RUN echo triggered >> /trig']);
  assert.equal(parent.entries.has('/trig'), false);
  const child = await h.buildOk(
    { Dockerfile: 'FROM onbuild-parent\nRUN cp /trig /seen-by-child\n' },
    { tag: 'onbuild-child' },
  );
  assert.equal(await child.text('/seen-by-child'), 'triggered\n');
  assert.ok(!child.config.config.OnBuild?.length, 'OnBuild is cleared in the child');
  const grandchild = await h.buildOk({ Dockerfile: 'FROM onbuild-child\nRUN true\n' });
  assert.equal(await grandchild.text('/trig'), 'triggered\n');
});

it('WORKDIR, USER, ENV and FROM <stage> inherit the stage config (17)', async () => {
  const image = await h.buildOk({
    Dockerfile: [
      'FROM busybox AS base',
      'ENV A=1',
      'WORKDIR /srv',
      'USER nobody',
      'CMD ["base"]',
      'FROM base',
      'ENV B=$A-2',
      '',
    ].join('\n'),
  });
  const c = image.config.config;
  assert.deepEqual(c.Env, [
    'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    'A=1',
    'B=1-2',
  ]);
  assert.equal(c.WorkingDir, '/srv');
  assert.equal(c.User, 'nobody');
  assert.deepEqual(c.Cmd, ['base']);
});
