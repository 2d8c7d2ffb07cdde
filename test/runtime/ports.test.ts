/**
 * Published ports through the CLI: `-p 127.0.0.1:PORT:80` reached from the host, Docker's error for
 * a taken port, `-p CTR` on a free port, `port` and ps PORTS, UDP (an echo server in the
 * container's namespace), port ranges, 200 concurrent connections and a
 * 100 MB checksummed download through the forwarder (its throughput as a diagnostic), and
 * nothing left once the containers are gone, also after `run -p` is killed at random moments.
 * Traffic: the host's 127.0.0.1 only.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runDir } from '../../runtime/network/run-dir.ts';
import { busyboxArchive, whyNotRunnable } from '../build/helpers.ts';
import { firstReason, needCommands, skipReason } from '../needs.ts';
import { runTbuild, tbuildArgv } from '../tbuild-entry.ts';
import { httpdArgs, networkLeftovers, noNetworkLeftovers, removeAllContainers } from './network-helpers.ts';

const reason = skipReason(
  firstReason(whyNotRunnable(), needCommands('conmon', 'slirp4netns', 'iptables', 'nsenter')),
);

let root = '';
const echoServers: ChildProcess[] = [];

async function ok(args: string[]): Promise<string> {
  const r = await runTbuild(['--root', root, ...args]);
  assert.equal(r.code, 0, `tbuild ${args.join(' ')} failed (${r.code}):\n${r.stderr}`);
  return r.stdout;
}

/** A port free on 127.0.0.1 right now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

/** True when `port` can be bound on 127.0.0.1 right now, over TCP and over UDP. */
async function isFree(port: number): Promise<boolean> {
  const tcp = createServer();
  const tcpOk = await new Promise<boolean>((r) => {
    tcp.once('error', () => r(false));
    tcp.listen(port, '127.0.0.1', () => r(true));
  });
  if (tcpOk) await new Promise((r) => tcp.close(r));
  if (!tcpOk) return false;
  const udp = createSocket('udp4');
  const udpOk = await new Promise<boolean>((r) => {
    udp.once('error', () => r(false));
    udp.bind(port, '127.0.0.1', () => r(true));
  });
  udp.close();
  return udpOk;
}

/** `count` consecutive ports free on 127.0.0.1 (TCP and UDP) right now. */
async function freePortRun(count: number): Promise<number> {
  for (;;) {
    const first = await freePort();
    if (first + count > 65535) continue;
    let all = true;
    for (let p = first; p < first + count && all; p++) all = await isFree(p);
    if (all) return first;
  }
}

/**
 * Sends `payload` from `socket` to 127.0.0.1:PORT until an answer comes (UDP may drop one on a
 * loaded machine), at most 5 times a second apart; the answer's text, or '' if none came.
 */
async function udpAsk(socket: Socket, port: number, payload: Buffer): Promise<Buffer> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const answer = new Promise<Buffer | undefined>((resolve) => {
      const timer = setTimeout(() => {
        socket.off('message', onMessage);
        resolve(undefined);
      }, 1000);
      const onMessage = (message: Buffer) => {
        clearTimeout(timer);
        resolve(message);
      };
      socket.once('message', onMessage);
    });
    socket.send(payload, port, '127.0.0.1');
    const got = await answer;
    if (got !== undefined) return got;
  }
  return Buffer.alloc(0);
}

/**
 * A UDP echo server on port 9000 in the network namespace of container NAME (its SandboxKey): the
 * busybox of the test image has no UDP server (no nc -u, no udpsvd), the host's node is one.
 * Each answer is "echo:" and the datagram.
 */
async function udpEchoIn(name: string): Promise<ChildProcess> {
  const sandbox = (await ok(['inspect', '--format', '{{.NetworkSettings.SandboxKey}}', name])).trim();
  const script =
    "const s=require('dgram').createSocket('udp4');" +
    "s.on('message',(m,r)=>s.send(Buffer.concat([Buffer.from('echo:'),m]),r.port,r.address));" +
    "s.bind(9000,()=>console.log('ready'))";
  const child = spawn('nsenter', [`--net=${sandbox}`, process.execPath, '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  echoServers.push(child);
  await new Promise<void>((resolve, reject) => {
    child.stdout?.once('data', () => resolve());
    child.once('close', (code) => reject(new Error(`the UDP echo server exited (${code})`)));
  });
  return child;
}

/** GET http://127.0.0.1:PORT/PATH: status, body bytes. */
function fetchLocal(port: number, path: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    }).on('error', reject);
  });
}

describe('published ports', { skip: reason }, () => {
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'tbuild-ports-'));
    await ok(['load', '-i', await busyboxArchive()]);
  });

  after(async () => {
    for (const child of echoServers) child.kill('SIGKILL');
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

  test("UDP: -p 127.0.0.1:PORT:9000/udp answers each client apart, big datagrams whole; Docker's errors for a taken UDP port", async () => {
    const port = await freePortRun(1);
    // An address given again: the network's neighbour cache holds the removed container's entry
    // (its forwarder talked to it), which must not swallow the new one's datagrams.
    const before = await freePortRun(1);
    await ok(httpdArgs('before', '-p', `127.0.0.1:${before}:80`));
    assert.equal((await fetchLocal(before, '/hostname')).status, 200);
    const reused = (await ok(['inspect', '--format', '{{.NetworkSettings.IPAddress}}', 'before'])).trim();
    await ok(['rm', '-f', 'before']);
    await ok(['run', '-d', '--name', 'udp', '-p', `127.0.0.1:${port}:9000/udp`, 'busybox', 'sleep', '300']);
    assert.equal(await ok(['inspect', '--format', '{{.NetworkSettings.IPAddress}}', 'udp']), `${reused}\n`);
    await udpEchoIn('udp');
    assert.equal(await ok(['port', 'udp']), `9000/udp -> 127.0.0.1:${port}\n`);
    assert.equal(
      await ok(['ps', '--filter', 'name=^udp$', '--format', '{{.Ports}}']),
      `127.0.0.1:${port}->9000/udp\n`,
    );
    const a = createSocket('udp4');
    const b = createSocket('udp4');
    try {
      for (const s of [a, b]) await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
      assert.equal((await udpAsk(a, port, Buffer.from('a1'))).toString(), 'echo:a1');
      assert.equal((await udpAsk(b, port, Buffer.from('b1'))).toString(), 'echo:b1');
      assert.equal((await udpAsk(a, port, Buffer.from('a2'))).toString(), 'echo:a2');
      const big = Buffer.alloc(30_000, 'x');
      const bigAnswer = await udpAsk(b, port, big);
      assert.equal(bigAnswer.length, 30_005);
      assert.ok(bigAnswer.subarray(5).equals(big));
    } finally {
      a.close();
      b.close();
    }
    const taken = await runTbuild([
      '--root',
      root,
      'run',
      '-d',
      '--name',
      'udp2',
      '-p',
      `127.0.0.1:${port}:9000/udp`,
      'busybox',
      'true',
    ]);
    assert.equal(taken.code, 125);
    assert.match(
      taken.stderr,
      new RegExp(`Bind for 127\\.0\\.0\\.1:${port} failed: port is already allocated`),
    );
    // The same number over TCP is another port.
    await ok(httpdArgs('tcp-same', '-p', `127.0.0.1:${port}:80`));
    assert.equal((await fetchLocal(port, '/hostname')).status, 200);
    const outsider = createSocket('udp4');
    const held = await freePortRun(1);
    await new Promise<void>((r) => outsider.bind(held, '127.0.0.1', r));
    try {
      const busy = await runTbuild([
        '--root',
        root,
        'run',
        '-d',
        '-p',
        `127.0.0.1:${held}:9000/udp`,
        'busybox',
        'true',
      ]);
      assert.equal(busy.code, 125);
      assert.match(
        busy.stderr,
        new RegExp(
          `Error starting userland proxy: listen udp4 127\\.0\\.0\\.1:${held}: bind: address already in use`,
        ),
      );
    } finally {
      outsider.close();
    }
    await ok(['rm', '-f', 'udp', 'udp2', 'tcp-same']);
  });

  test('port ranges: 80-81 port by port; a host range for one port takes its first free port; bad specs exit 125', async () => {
    const p = await freePortRun(2);
    await ok([
      'run',
      '-d',
      '--name',
      'pair',
      '-p',
      `127.0.0.1:${p}-${p + 1}:80-81`,
      'busybox',
      'sh',
      '-c',
      'httpd -p 81 -h /etc && exec httpd -f -p 80 -h /etc',
    ]);
    assert.equal(await ok(['port', 'pair']), `80/tcp -> 127.0.0.1:${p}\n81/tcp -> 127.0.0.1:${p + 1}\n`);
    for (const port of [p, p + 1]) {
      let status = 0;
      for (let i = 0; i < 50 && status !== 200; i++) {
        status = (await fetchLocal(port, '/hostname').catch(() => ({ status: 0 }))).status;
        if (status !== 200) await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(status, 200, `127.0.0.1:${port}`);
    }
    // The range's first port is someone else's: the next one is taken.
    const q = await freePortRun(2);
    const squatter = createServer();
    await new Promise<void>((r) => squatter.listen(q, '127.0.0.1', r));
    try {
      await ok(httpdArgs('ranged', '-p', `127.0.0.1:${q}-${q + 1}:80`));
      assert.equal(await ok(['port', 'ranged']), `80/tcp -> 127.0.0.1:${q + 1}\n`);
      assert.equal(
        await ok(['inspect', '--format', '{{json .HostConfig.PortBindings}}', 'ranged']),
        `{"80/tcp":[{"HostIp":"127.0.0.1","HostPort":"${q}-${q + 1}"}]}\n`,
      );
      // Now the whole range is held: one port by the squatter, one by a container.
      const full = await runTbuild([
        '--root',
        root,
        'run',
        '-d',
        '-p',
        `127.0.0.1:${q}-${q + 1}:80`,
        'busybox',
        'true',
      ]);
      assert.equal(full.code, 125);
      assert.match(full.stderr, /driver failed programming external connectivity on endpoint/);
    } finally {
      squatter.close();
    }
    const bad = await runTbuild(['--root', root, 'run', '-d', '-p', '8000-8002:80-81', 'busybox', 'true']);
    assert.equal(bad.code, 125);
    assert.equal(
      bad.stderr,
      'ERROR: invalid ranges specified for container and host Ports: 80-81 and 8000-8002\n',
    );
    await ok(['rm', '-f', 'pair', 'ranged']);
  });

  test('a forwarder killed with -9: the next port or ps serves the ports again; a host port taken meanwhile is reported and dropped', async () => {
    const port = await freePortRun(1);
    const id = (await ok(httpdArgs('orphaned', '-p', `127.0.0.1:${port}:80`))).trim();
    assert.equal((await fetchLocal(port, '/hostname')).status, 200);
    const killForwarder = async () => {
      const record = JSON.parse(readFileSync(join(runDir(root), 'attachments', `${id}.json`), 'utf8')) as {
        forwarder: { pid: number };
      };
      process.kill(record.forwarder.pid, 'SIGKILL');
      for (let i = 0; i < 100 && existsSync(`/proc/${record.forwarder.pid}/cmdline`); i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      await assert.rejects(fetchLocal(port, '/hostname'), /ECONNREFUSED/);
    };
    await killForwarder();
    assert.equal(await ok(['port', 'orphaned']), `80/tcp -> 127.0.0.1:${port}\n`);
    assert.equal((await fetchLocal(port, '/hostname')).status, 200);
    await killForwarder();
    const psOut = await ok(['ps', '--filter', 'name=^orphaned$', '--format', '{{.Ports}}']);
    assert.equal(psOut, `127.0.0.1:${port}->80/tcp\n`);
    assert.equal((await fetchLocal(port, '/hostname')).status, 200);
    await killForwarder();
    const squatter = createServer();
    await new Promise<void>((r) => squatter.listen(port, '127.0.0.1', r));
    try {
      const ps = await runTbuild([
        '--root',
        root,
        'ps',
        '--filter',
        'name=^orphaned$',
        '--format',
        '{{.Ports}}',
      ]);
      assert.equal(ps.code, 0);
      assert.equal(ps.stdout, '\n');
      assert.match(
        ps.stderr,
        new RegExp(
          `WARNING: the published ports of orphaned are lost: .*listen tcp4 127\\.0\\.0\\.1:${port}: bind: address already in use`,
        ),
      );
      assert.equal(await ok(['port', 'orphaned']), '');
    } finally {
      squatter.close();
    }
    await ok(['rm', '-f', 'orphaned']);
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
