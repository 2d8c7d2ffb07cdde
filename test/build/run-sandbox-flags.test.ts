// `tbuild build --add-host --shm-size --ulimit` reach every RUN's sandbox (and its cache key, as
// BuildKit's exec Meta); `--build-arg NAME` alone takes the value from the environment.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runTbuild } from '../tbuild-entry.ts';
import { setupBuildTests } from './helpers.ts';

const h = setupBuildTests();
const it = (name: string, fn: () => Promise<void>) => test(name, { skip: h.skip }, fn);

const probe = [
  'FROM busybox',
  'RUN cat /etc/hosts > /hosts && df -k /dev/shm | tail -1 | tr -s " " | cut -d" " -f2 > /shm && { ulimit -Sn; ulimit -Hn; ulimit -c; ulimit -u; } > /limits',
  '',
].join('\n');

it('--add-host, --shm-size and --ulimit shape the RUN sandbox', async () => {
  const image = await h.buildOk(
    { Dockerfile: probe },
    {
      args: [
        '--add-host',
        'db:10.1.2.3',
        '--add-host',
        'gw:host-gateway',
        '--add-host',
        'v6=[::1]',
        '--shm-size',
        '96m',
        '--ulimit',
        'nofile=2048:4096',
        '--ulimit',
        'core=-1',
        '--ulimit',
        'nproc=300',
      ],
    },
  );
  const hosts = await image.text('/hosts');
  assert.match(hosts, /^127\.0\.0\.1\tlocalhost tbuildsandbox\n/);
  assert.match(hosts, /\n10\.1\.2\.3\tdb\n127\.0\.0\.1\tgw\n::1\tv6\n$/);
  assert.equal(await image.text('/shm'), `${96 * 1024}\n`);
  assert.equal(await image.text('/limits'), '2048\n4096\nunlimited\n300\n');
  // Without them: the defaults (64 MiB of shm, NOFILE 1024), and another step (not a cache hit).
  const plain = await h.buildOk({ Dockerfile: probe });
  assert.doesNotMatch(await plain.text('/hosts'), /\tdb\n/);
  assert.equal(await plain.text('/shm'), `${64 * 1024}\n`);
  assert.match(await plain.text('/limits'), /^1024\n/);
  assert.doesNotMatch(plain.stderr, /RUN cat \/etc\/hosts[^\n]*\n#\d+ CACHED/);
});

it('--build-arg NAME alone takes the value from the environment; an unset one stays unset', async () => {
  const dir = await h.testdir({
    Dockerfile: 'FROM busybox\nARG FROM_ENV\nARG UNSET_ONE=default\nRUN echo "$FROM_ENV/$UNSET_ONE" > /out\n',
  });
  const result = await runTbuild(
    [
      '--root',
      h.root(),
      'build',
      '-t',
      'arg-env',
      '--build-arg',
      'FROM_ENV',
      '--build-arg',
      'UNSET_ONE',
      dir,
    ],
    { env: { FROM_ENV: 'from the env' } },
  );
  assert.equal(result.code, 0, result.stderr);
  assert.equal(await (await h.flatten('arg-env')).text('/out'), 'from the env/default\n');
});
