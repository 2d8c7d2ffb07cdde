/**
 * Published ports through the CLI: `-p 127.0.0.1:PORT:80` reached from the host, Docker's error for
 * a taken port, `-p CTR` on a free port, `port` and ps PORTS, 200 concurrent connections and a
 * 100 MB checksummed download through the forwarder (its throughput as a diagnostic), and
 * nothing left once the containers are gone, also after `run -p` is killed at random moments.
 * Traffic: the host's 127.0.0.1 only.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { busyboxArchive, whyNotRunnable } from '../build/helpers.ts';
import { firstReason, needCommands, skipReason } from '../needs.ts';
import { runTbuild, tbuildArgv } from '../tbuild-entry.ts';
import {
  fetchLocal,
  freePort,
  httpdArgs,
  networkLeftovers,
  noNetworkLeftovers,
  removeAllContainers,
} from './network-helpers.ts';

const reason = skipReason(
  firstReason(whyNotRunnable(), needCommands('conmon', 'slirp4netns', 'iptables', 'nsenter')),
);

let root = '';

async function ok(args: string[]): Promise<string> {
  const r = await runTbuild(['--root', root, ...args]);
  assert.equal(r.code, 0, `tbuild ${args.join(' ')} failed (${r.code}):\n${r.stderr}`);
  return r.stdout;
}

describe('published ports', { skip: reason }, () => {
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'tbuild-ports-'));
    await ok(['load', '-i', await busyboxArchive()]);
  });

  after(async () => {
    try {
      await removeAllContainers(root, ok);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  test("-p 127.0.0.1:PORT:80 reaches the container from the host; a second container gets Docker's error", async (t) => {
    const port = await freePort();
    await ok(httpdArgs('web', '-p', `127.0.0.1:${port}:80`));
    const hostname = (await ok(['exec', 'web', 'hostname'])).trim();
    assert.equal((await fetchLocal(port, '/hostname')).body.toString(), `${hostname}\n`);
    assert.equal(await ok(['port', 'web']), `80/tcp -> 127.0.0.1:${port}\n`);
    assert.equal(await ok(['port', 'web', '80']), `127.0.0.1:${port}\n`);
    assert.equal(
      await ok(['ps', '--filter', 'name=^web$', '--format', '{{.Ports}}']),
      `127.0.0.1:${port}->80/tcp\n`,
    );
    const taken = await runTbuild([
      '--root',
      root,
      'run',
      '-d',
      '--name',
      'web2',
      '-p',
      `127.0.0.1:${port}:80`,
      'busybox',
      'true',
    ]);
    assert.equal(taken.code, 125);
    assert.match(
      taken.stderr,
      new RegExp(
        `driver failed programming external connectivity on endpoint web2 \\([0-9a-f]{64}\\): Bind for 127\\.0\\.0\\.1:${port} failed: port is already allocated`,
      ),
    );

    // 200 connections at once, each answered whole.
    const answers = await Promise.all(Array.from({ length: 200 }, () => fetchLocal(port, '/hostname')));
    assert.equal(
      answers.filter((a) => a.status === 200 && a.body.toString() === `${hostname}\n`).length,
      200,
    );

    // 100 MB through the forwarder, checksummed on both sides.
    await ok(['exec', 'web', 'dd', 'if=/dev/urandom', 'of=/etc/big', 'bs=1048576', 'count=100']);
    const inside = (await ok(['exec', 'web', 'sha256sum', '/etc/big'])).split(' ')[0];
    const started = performance.now();
    const big = await fetchLocal(port, '/big');
    const seconds = (performance.now() - started) / 1000;
    assert.equal(big.body.length, 100 * 1048576);
    assert.equal(createHash('sha256').update(big.body).digest('hex'), inside);
    t.diagnostic(
      `100 MiB through the published port in ${seconds.toFixed(2)} s: ${(100 / seconds).toFixed(1)} MiB/s`,
    );
  });

  test('-p CTR takes a free host port; stop releases it and leaves no forwarder', async () => {
    await ok(httpdArgs('any', '-p', '80'));
    const line = await ok(['port', 'any']);
    const m = /^80\/tcp -> 0\.0\.0\.0:(\d+)\n$/.exec(line);
    assert.ok(m, line);
    assert.equal((await fetchLocal(Number(m[1]), '/hostname')).status, 200);
    await ok(['stop', '-t', '1', 'any']);
    assert.equal(await ok(['port', 'any']), '');
    const again = createServer();
    await new Promise<void>((resolve, reject) => {
      again.once('error', reject);
      again.listen(Number(m[1]), '0.0.0.0', resolve);
    });
    again.close();
  });

  test('kill -9 during run -p: afterwards rm -f cleans everything and the next run works', async () => {
    for (const delay of [150, 400, 700, 1000, 1400, 1800]) {
      const child = spawn(
        process.execPath,
        tbuildArgv([
          '--root',
          root,
          'run',
          '-d',
          '-p',
          '127.0.0.1::80',
          'busybox',
          'httpd',
          '-f',
          '-p',
          '80',
          '-h',
          '/etc',
        ]),
        { stdio: 'ignore' },
      );
      // Listen before the delay: on a quiet machine run -d can end before the kill, and a 'close'
      // already emitted would never resolve a listener added after it.
      const closed = new Promise((r) => child.on('close', r));
      await new Promise((r) => setTimeout(r, delay));
      child.kill('SIGKILL');
      await closed;
    }
    const all = (await ok(['ps', '-aq', '--no-trunc'])).split('\n').filter(Boolean);
    if (all.length > 0) await ok(['rm', '-f', ...all]);
    assert.deepEqual(networkLeftovers(root), noNetworkLeftovers);
    const port = await freePort();
    await ok(httpdArgs('after', '-p', `127.0.0.1:${port}:80`));
    assert.equal((await fetchLocal(port, '/hostname')).status, 200);
  });
});
