// Entitlements (issue 12, finding 3): `RUN --network=host` and `RUN --security=insecure` need
// `tbuild build --allow network.host|security.insecure`, as BuildKit's do, and `--network none`
// on the command line wins over a step's own `--network=host`.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { setupBuildTests } from './helpers.ts';

const h = setupBuildTests();
// h.skip fails under CI instead (test/needs.ts).
const it = (name: string, fn: () => Promise<void>) => test(name, { skip: h.skip }, fn);

/** Interface names of a /proc/net/dev text, sorted. */
function interfaces(procNetDev: string): string[] {
  return procNetDev
    .split('\n')
    .slice(2)
    .map((line) => line.split(':')[0]?.trim() ?? '')
    .filter((name) => name !== '')
    .sort();
}

const hostInterfaces = interfaces(readFileSync('/proc/net/dev', 'utf8'));

it('RUN --network=host without --allow network.host is refused before anything runs', async () => {
  const result = await h.build({
    Dockerfile: 'FROM busybox\nRUN echo ran > /ran\nRUN --network=host cat /proc/net/dev > /net\n',
  });
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /ERROR: Dockerfile:3: .*RUN --network=host.*: network\.host is not allowed/);
  assert.match(result.stderr, /--allow network\.host/);
  // Refused when the graph is checked, like BuildKit's load-time check: the first RUN never ran.
  assert.doesNotMatch(result.stderr, /\[2\/3\] RUN echo ran/);
});

it('--allow network.host gives the step the host network', async () => {
  const image = await h.buildOk(
    { Dockerfile: 'FROM busybox\nRUN --network=host cat /proc/net/dev > /net\n' },
    { args: ['--allow', 'network.host'] },
  );
  assert.deepEqual(interfaces(await image.text('/net')), hostInterfaces);
});

it('--network host on the command line grants network.host (as buildx does)', async () => {
  const result = await h.build(
    { Dockerfile: 'FROM busybox\nRUN --network=host true\n' },
    { args: ['--network', 'host'] },
  );
  assert.equal(result.code, 0, result.stderr);
});

it('--network none wins over RUN --network=host, without asking for the entitlement', async () => {
  assert.notDeepEqual(hostInterfaces, ['lo'], 'the host needs an interface besides lo for this test');
  const image = await h.buildOk(
    { Dockerfile: 'FROM busybox\nRUN --network=host cat /proc/net/dev > /net\n' },
    { args: ['--network', 'none'] },
  );
  assert.deepEqual(interfaces(await image.text('/net')), ['lo']);
});

it('RUN --security=insecure needs --allow security.insecure', async () => {
  const result = await h.build({ Dockerfile: 'FROM busybox\nRUN --security=insecure true\n' });
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /ERROR: Dockerfile:2: .*: security\.insecure is not allowed/);
});

it('an unknown entitlement is a usage error', async () => {
  const result = await h.build({ Dockerfile: 'FROM busybox\n' }, { args: ['--allow', 'network.bogus'] });
  assert.equal(result.code, 125);
  assert.match(result.stderr, /ERROR: unknown entitlement network\.bogus/);
});
