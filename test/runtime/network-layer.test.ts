/**
 * The network layer below the commands (runtime/network/): networks defined on disk, container
 * namespaces joined to them through netavark inside each network's own namespace, slirp4netns for
 * the way out. Reachability is checked with busybox run inside namespaces this test made; the
 * only address outside them is a server of this test on the host's 127.0.0.1 (host-gateway), and
 * pings of slirp4netns's gateway, which slirp4netns answers itself.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  type Attachment,
  attachContainer,
  attachedContainerIds,
  detachContainer,
  readAttachment,
} from '../../runtime/network/attach.ts';
import { findNetwork, listNetworks } from '../../runtime/network/definitions.ts';
import { giveHostLoopback } from '../../runtime/network/host-loopback.ts';
import { createNetwork } from '../../runtime/network/manage.ts';
import { runDir } from '../../runtime/network/run-dir.ts';
import { hostGatewayAddress } from '../../runtime/network/slirp.ts';
import { firstReason, needCommands, needRoot, skipReason } from '../needs.ts';
import { namespacesOf, processesMentioning } from './network-helpers.ts';

const reason = skipReason(
  firstReason(
    needRoot('network tests (namespaces, bridges)'),
    needCommands('slirp4netns', 'iptables', 'nsenter', 'unshare', 'ip:iproute2', 'busybox:busybox-static'),
    ['/usr/lib/podman/netavark', '/usr/libexec/podman/netavark'].some((p) => existsSync(p))
      ? false
      : 'needs netavark and aardvark-dns (apt-get install netavark aardvark-dns)',
  ),
);

let work = '';
let root = '';
let www = '';
let hostServer: Server | undefined;
let hostPort = 0;
const servers: ChildProcess[] = [];

const id = (n: number) => n.toString(16).padStart(64, '0');

/** Runs busybox with argv inside the container's namespace; resolves with its exit code and output. */
function inContainer(attachment: Attachment, argv: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = spawn('nsenter', [`--net=${attachment.netns}`, 'busybox', ...argv], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.on('close', (code) => resolve({ code: code ?? -1, out }));
  });
}

/** busybox wget, bounded by busybox timeout (its own -T crashes the static busybox of Debian 12). */
const fetch = (a: Attachment, url: string) =>
  inContainer(a, ['timeout', '5', 'busybox', 'wget', '-qO-', url]);

/**
 * The network's way out: a ping of slirp4netns's gateway, which slirp4netns answers itself
 * (libslirp), so nothing leaves the machine.
 */
const wayOut = (a: Attachment) => inContainer(a, ['ping', '-c', '1', '-W', '5', hostGatewayAddress]);

/** busybox httpd serving `www` in the container's namespace, port 80. */
async function serveIn(attachment: Attachment): Promise<void> {
  const child = spawn(
    'nsenter',
    [`--net=${attachment.netns}`, 'busybox', 'httpd', '-f', '-p', '80', '-h', www],
    {
      stdio: 'ignore',
    },
  );
  servers.push(child);
  const ip = attachment.networks[0]?.ip as string;
  for (let i = 0; i < 50; i++) {
    if ((await inContainer(attachment, ['nc', '-z', ip, '80'])).code === 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('network layer', { skip: reason }, () => {
  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'tbuild-netlayer-'));
    root = join(work, 'root');
    www = join(work, 'www');
    mkdirSync(www);
    writeFileSync(join(www, 'index.html'), 'hello from a namespace\n');
    hostServer = createServer((_, res) => res.end('hello from the host\n'));
    await new Promise<void>((r) => hostServer?.listen(0, '127.0.0.1', r));
    hostPort = (hostServer.address() as AddressInfo).port;
  });

  after(async () => {
    for (const s of servers) s.kill('SIGKILL');
    for (const cid of attachedContainerIds(root)) await detachContainer(root, cid).catch(() => undefined);
    hostServer?.close();
    for (const ns of namespacesOf(root)) spawn('umount', [ns]);
    rmSync(runDir(root), { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });

  test('network definitions: predefined ones, subnets from the pool, Docker errors', async () => {
    const names = (await listNetworks(root)).map((n) => n.Name);
    assert.deepEqual(names, ['bridge', 'host', 'none']);
    const app = await createNetwork(root, { name: 'app' });
    assert.equal(app.IPAM.Config[0]?.Subnet, '172.18.0.0/16');
    assert.equal(app.IPAM.Config[0]?.Gateway, '172.18.0.1');
    const other = await createNetwork(root, { name: 'other' });
    assert.equal(other.IPAM.Config[0]?.Subnet, '172.19.0.0/16');
    const internal = await createNetwork(root, { name: 'sealed', subnet: '10.30.0.0/24', internal: true });
    assert.equal(internal.Internal, true);
    await assert.rejects(createNetwork(root, { name: 'app' }), /network with name app already exists/);
    await assert.rejects(
      createNetwork(root, { name: 'x', subnet: '172.18.5.0/24' }),
      /Pool overlaps with other one on this address space/,
    );
    await assert.rejects(createNetwork(root, { name: 'y', subnet: '10.0.2.0/24' }), /Pool overlaps/);
    await assert.rejects(
      createNetwork(root, { name: 'z', subnet: 'nonsense' }),
      /invalid CIDR address: nonsense/,
    );
    assert.equal((await findNetwork(root, app.Id.slice(0, 6))).Name, 'app');
    await assert.rejects(findNetwork(root, 'nosuch'), /network nosuch not found/);
  });

  test('containers on one network reach each other by address and by name; another network cannot', async () => {
    const app = await findNetwork(root, 'app');
    const other = await findNetwork(root, 'other');
    const web = await attachContainer(root, { id: id(1), name: 'web' }, [{ network: app, aliases: ['www'] }]);
    const client = await attachContainer(root, { id: id(2), name: 'client' }, [
      { network: app, aliases: [] },
    ]);
    const outsider = await attachContainer(root, { id: id(3), name: 'outsider' }, [
      { network: other, aliases: [] },
    ]);
    assert.equal(web.networks[0]?.ip, '172.18.0.2');
    assert.equal(client.networks[0]?.ip, '172.18.0.3');
    assert.equal(outsider.networks[0]?.ip, '172.19.0.2');
    await serveIn(web);
    const byAddress = await fetch(client, 'http://172.18.0.2/');
    assert.equal(byAddress.out, 'hello from a namespace\n');
    for (const name of ['web', 'www', id(1).slice(0, 12)]) {
      const lookup = await inContainer(client, ['nslookup', name, '172.18.0.1']);
      assert.match(lookup.out, /Address: 172\.18\.0\.2/, `${name} resolves on app: ${lookup.out}`);
    }
    // Unreachable in the sender's network namespace: the packet never leaves it (were it routed out
    // through slirp4netns, it would go to whatever the host's routing finds at that address).
    const blocked = await fetch(outsider, 'http://172.18.0.2/');
    assert.match(
      blocked.out,
      /No route to host|Network is unreachable/,
      `a container on another network reached web: ${blocked.out}`,
    );
    const noName = await inContainer(outsider, ['nslookup', 'web', '172.19.0.1']);
    assert.doesNotMatch(noName.out, /172\.18\.0\.2/);
  });

  test("a network's way out is up but keeps the host's loopback shut; giveHostLoopback opens it to one container; --internal has no route", async () => {
    const client = readAttachment(root, id(2)) as Attachment;
    assert.equal((await wayOut(client)).code, 0, 'slirp4netns answers at its gateway');
    const shut = await fetch(client, `http://${hostGatewayAddress}:${hostPort}/`);
    assert.notEqual(shut.code, 0, `the network reached the host's loopback: ${shut.out}`);
    const app = await findNetwork(root, 'app');
    const asked = await attachContainer(root, { id: id(8), name: 'asked' }, [{ network: app, aliases: [] }]);
    await giveHostLoopback(root, asked);
    assert.equal(
      (await fetch(asked, `http://${hostGatewayAddress}:${hostPort}/`)).out,
      'hello from the host\n',
    );
    assert.notEqual((await fetch(client, `http://${hostGatewayAddress}:${hostPort}/`)).code, 0);
    const helper = processesMentioning(asked.netns).filter((p) => p.includes('slirp4netns'));
    assert.equal(helper.length, 1);
    await detachContainer(root, id(8));
    assert.deepEqual(processesMentioning(asked.netns), []);
    const sealed = await findNetwork(root, 'sealed');
    const inside = await attachContainer(root, { id: id(4), name: 'inside' }, [
      { network: sealed, aliases: [] },
    ]);
    const routes = await inContainer(inside, ['ip', 'route']);
    assert.doesNotMatch(routes.out, /default/);
    const cut = await fetch(inside, `http://${hostGatewayAddress}:${hostPort}/`);
    assert.notEqual(cut.code, 0);
    assert.equal(
      processesMentioning(`${sealed.Id}/netns`).filter((p) => p.includes('slirp4netns')).length,
      0,
    );
    await detachContainer(root, id(4));
  });

  test('a killed slirp4netns is started again by the next container that joins', async () => {
    const app = await findNetwork(root, 'app');
    const slirps = processesMentioning(`${app.Id}/netns`).filter((p) => p.includes('slirp4netns'));
    assert.equal(slirps.length, 1);
    process.kill(Number(slirps[0]?.split(':')[0]), 'SIGKILL');
    await new Promise((r) => setTimeout(r, 200));
    const late = await attachContainer(root, { id: id(5), name: 'late' }, [{ network: app, aliases: [] }]);
    assert.equal((await wayOut(late)).code, 0);
    await detachContainer(root, id(5));
  });

  test('the last container to leave takes the network namespace, slirp4netns and aardvark-dns along', async () => {
    for (const s of servers.splice(0)) s.kill('SIGKILL');
    for (const n of [1, 2, 3]) await detachContainer(root, id(n));
    assert.deepEqual(attachedContainerIds(root), []);
    assert.deepEqual(namespacesOf(root), []);
    assert.deepEqual(readdirSync(join(runDir(root), 'networks')), []);
    assert.deepEqual(processesMentioning(runDir(root)), []);
    await detachContainer(root, id(1)); // again: nothing to do, no error
  });

  test('after a reboot-like wipe of the run directory the next container gets a fresh network', async () => {
    const app = await findNetwork(root, 'app');
    await attachContainer(root, { id: id(6), name: 'before' }, [{ network: app, aliases: [] }]);
    // What a reboot does: every process and mount of the run directory gone, then the directory.
    for (const p of processesMentioning(runDir(root))) process.kill(Number(p.split(':')[0]), 'SIGKILL');
    await new Promise((r) => setTimeout(r, 200));
    for (const ns of namespacesOf(root)) {
      await new Promise((r) => spawn('umount', [ns]).on('close', r));
    }
    rmSync(runDir(root), { recursive: true, force: true });
    const after = await attachContainer(root, { id: id(7), name: 'after' }, [{ network: app, aliases: [] }]);
    assert.equal(after.networks[0]?.ip, '172.18.0.2', 'the old allocations went with the wipe');
    assert.equal((await wayOut(after)).code, 0);
    await detachContainer(root, id(6)); // its record went with the wipe: nothing to do
    await detachContainer(root, id(7));
    assert.deepEqual(namespacesOf(root), []);
    assert.deepEqual(processesMentioning(runDir(root)), []);
  });
});
