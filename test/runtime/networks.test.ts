/**
 * Container networks through the CLI (bin/tbuild.js), as the tutorials use them: the default
 * bridge, `network create`, name and alias resolution, isolation between networks, --internal,
 * host-gateway, container:NAME, none, and the network commands with Docker's messages. Traffic
 * stays inside namespaces tbuild made for this test's root, plus one server of the test on the
 * host's 127.0.0.1 (reached through host-gateway).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runDir } from '../../runtime/network/run-dir.ts';
import { busyboxArchive, whyNotRunnable } from '../build/helpers.ts';
import { firstReason, needCommands, skipReason } from '../needs.ts';
import { runTbuild } from '../tbuild-entry.ts';
import {
  httpdArgs,
  networkLeftovers,
  noNetworkLeftovers,
  processesMentioning,
  removeAllContainers,
} from './network-helpers.ts';

const reason = skipReason(
  firstReason(whyNotRunnable(), needCommands('conmon', 'slirp4netns', 'iptables', 'nsenter')),
);

let root = '';
let hostServer: Server | undefined;
let hostPort = 0;

function tbuild(args: string[]) {
  return runTbuild(['--root', root, ...args]);
}

/**
 * The container's IPv4 address on eth0, as `ip` inside it shows it. Not `hostname -i`: the
 * hostname is the id's first 12 hex digits, and when they are all decimal digits (about 1 in 280)
 * the resolver reads it as a number, not a name, and fails with "Unknown host".
 */
async function eth0Address(name: string): Promise<string> {
  const shown = await ok(['exec', name, 'ip', '-o', '-4', 'addr', 'show', 'dev', 'eth0']);
  return /\binet (\d+\.\d+\.\d+\.\d+)\//.exec(shown)?.[1] ?? `no address in: ${shown}`;
}

async function ok(args: string[]): Promise<string> {
  const r = await tbuild(args);
  assert.equal(r.code, 0, `tbuild ${args.join(' ')} failed (${r.code}):\n${r.stderr}`);
  return r.stdout;
}

/** `run -d --name NAME [FLAGS] busybox httpd`: a web server on port 80 serving /etc. */
function serve(name: string, ...flags: string[]): Promise<string> {
  return ok(httpdArgs(name, ...flags));
}

/** `exec NAME wget -qO- URL` bounded by busybox timeout (its wget -T crashes this busybox). */
function fetchFrom(name: string, url: string) {
  return tbuild(['exec', name, 'timeout', '5', 'wget', '-qO-', url]);
}

describe('container networks', { skip: reason }, () => {
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'tbuild-networks-'));
    await ok(['load', '-i', await busyboxArchive()]);
    hostServer = createServer((_, res) => res.end('hello from the host\n'));
    await new Promise<void>((r) => hostServer?.listen(0, '127.0.0.1', r));
    hostPort = (hostServer.address() as AddressInfo).port;
  });

  after(async () => {
    hostServer?.close();
    try {
      await removeAllContainers(root, ok);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  test('the default bridge: an address of 172.17.0.0/16, a way out to the host gateway, no names', async () => {
    await ok(['run', '-d', '--name', 'b1', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/etc']);
    await ok([
      'run',
      '-d',
      '--name',
      'b2',
      '--add-host',
      'host.docker.internal:host-gateway',
      'busybox',
      'sleep',
      '300',
    ]);
    const ip = await eth0Address('b1');
    assert.match(ip, /^172\.17\.0\.\d+$/);
    assert.equal(
      await ok(['inspect', '--format', '{{.NetworkSettings.IPAddress}} {{.NetworkSettings.Gateway}}', 'b1']),
      `${ip} 172.17.0.1\n`,
    );
    assert.equal(
      (await fetchFrom('b2', `http://${ip}/hostname`)).stdout,
      `${(await ok(['exec', 'b1', 'hostname'])).trim()}\n`,
    );
    const byName = await fetchFrom('b2', 'http://b1/hostname');
    assert.notEqual(byName.code, 0, 'Docker resolves no container names on the default bridge');
    assert.equal(
      (await fetchFrom('b2', `http://host.docker.internal:${hostPort}/`)).stdout,
      'hello from the host\n',
    );
    assert.match(await ok(['exec', 'b2', 'cat', '/etc/hosts']), /^10\.0\.2\.2\thost\.docker\.internal$/m);
    assert.equal(await ok(['inspect', '--format', '{{.HostConfig.NetworkMode}}', 'b1']), 'bridge\n');
  });

  test('network create app: containers talk by name and alias; a container on another network cannot', async () => {
    const id = (await ok(['network', 'create', 'app'])).trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    await ok(['network', 'create', 'other']);
    await serve('web', '--network', 'app', '--network-alias', 'www');
    await ok(['run', '-d', '--name', 'client', '--network', 'app', 'busybox', 'sleep', '300']);
    await ok(['run', '-d', '--name', 'stranger', '--network', 'other', 'busybox', 'sleep', '300']);
    const webHostname = (await ok(['exec', 'web', 'hostname'])).trim();
    assert.equal((await fetchFrom('client', 'http://web/hostname')).stdout, `${webHostname}\n`);
    assert.equal((await fetchFrom('client', 'http://www/hostname')).stdout, `${webHostname}\n`);
    const webIp = await eth0Address('web');
    assert.match(webIp, /^172\.18\.0\.\d+$/);
    assert.equal(
      await ok([
        'inspect',
        '--format',
        '{{.NetworkSettings.Networks.app.IPAddress}} {{.NetworkSettings.Networks.app.Aliases}}',
        'web',
      ]),
      `${webIp} [www]\n`,
    );
    const noName = await fetchFrom('stranger', 'http://web/hostname');
    assert.match(noName.stderr, /bad address 'web'/);
    const noRoute = await fetchFrom('stranger', `http://${webIp}/hostname`);
    assert.match(noRoute.stderr, /No route to host|Network is unreachable/);
    const ls = await ok(['network', 'ls', '--format', '{{.Name}} {{.Driver}}']);
    assert.equal(ls, 'app bridge\nbridge bridge\nhost host\nnone null\nother bridge\n');
    const inspected = JSON.parse(await ok(['network', 'inspect', 'app'])) as {
      Name: string;
      Internal: boolean;
      IPAM: { Config: { Subnet: string; Gateway: string }[] };
      Containers: Record<string, { Name: string; IPv4Address: string }>;
    }[];
    assert.equal(inspected[0]?.Name, 'app');
    assert.deepEqual(inspected[0]?.IPAM.Config, [{ Subnet: '172.18.0.0/16', Gateway: '172.18.0.1' }]);
    assert.deepEqual(
      Object.values(inspected[0]?.Containers ?? {})
        .map((c) => c.Name)
        .sort(),
      ['client', 'web'],
    );
  });

  test('network rm refuses a network with running containers; connect and disconnect work live', async () => {
    const busy = await tbuild(['network', 'rm', 'app']);
    assert.equal(busy.code, 1);
    assert.match(
      busy.stderr,
      /error while removing network: network app id [0-9a-f]{64} has active endpoints/,
    );
    const predefined = await tbuild(['network', 'rm', 'bridge']);
    assert.match(predefined.stderr, /bridge is a pre-defined network and cannot be removed/);
    assert.equal((await tbuild(['network', 'rm', 'nosuch'])).stderr, 'ERROR: No such network: nosuch\n');
    await ok(['network', 'connect', '--alias', 'bridgehead', 'other', 'client']);
    const strangerSees = await fetchFrom('stranger', 'http://bridgehead/');
    assert.doesNotMatch(strangerSees.stderr, /bad address/);
    assert.match(await ok(['exec', 'client', 'ip', '-o', '-4', 'addr']), /eth1 +inet 172\.19\./);
    await ok(['network', 'disconnect', 'other', 'client']);
    assert.doesNotMatch(await ok(['exec', 'client', 'ip', '-o', 'link']), /eth1/);
    const again = await tbuild(['network', 'disconnect', 'other', 'client']);
    assert.match(again.stderr, /is not connected to network other/);
  });

  test('--internal: no route out, not even to the host gateway; names still resolve', async () => {
    await ok(['network', 'create', '--internal', 'sealed']);
    await serve('inner1', '--network', 'sealed');
    await ok([
      'run',
      '-d',
      '--name',
      'inner2',
      '--network',
      'sealed',
      '--add-host',
      'host.docker.internal:host-gateway',
      'busybox',
      'sleep',
      '300',
    ]);
    assert.doesNotMatch(await ok(['exec', 'inner2', 'ip', 'route']), /default/);
    const out = await fetchFrom('inner2', `http://host.docker.internal:${hostPort}/`);
    assert.match(out.stderr, /Network is unreachable|No route to host/);
    assert.equal((await fetchFrom('inner2', 'http://inner1/hostname')).code, 0);
    assert.equal(await ok(['network', 'inspect', '--format', '{{.Internal}}', 'sealed']), 'true\n');
  });

  test('container:NAME shares the namespace; none has only loopback; an unknown network is refused', async () => {
    await ok(['run', '-d', '--name', 'sidecar', '--network', 'container:web', 'busybox', 'sleep', '300']);
    assert.equal(
      (await ok(['exec', 'sidecar', 'wget', '-qO-', 'http://127.0.0.1/hostname'])).trim(),
      (await ok(['exec', 'web', 'hostname'])).trim(),
    );
    await ok(['run', '-d', '--name', 'alone', '--network', 'none', 'busybox', 'sleep', '300']);
    assert.equal(await ok(['exec', 'alone', 'sh', '-c', 'ls /sys/class/net']), 'lo\n');
    const unknown = await tbuild(['run', '-d', '--network', 'nosuch', 'busybox', 'true']);
    assert.equal(unknown.code, 125);
    assert.match(unknown.stderr, /network nosuch not found/);
    const alias = await tbuild(['run', '-d', '--network-alias', 'x', 'busybox', 'true']);
    assert.match(
      alias.stderr,
      /network-scoped alias is supported only for containers in user defined networks/,
    );
  });

  test('network prune removes unused networks only; removing the containers leaves nothing behind', async () => {
    await ok(['network', 'create', 'unused']);
    const pruned = await ok(['network', 'prune', '-f']);
    assert.match(pruned, /^Deleted Networks:\n/);
    assert.match(pruned, /\nunused\n/);
    assert.doesNotMatch(pruned, /\napp\n/);
    await ok(['rm', '-f', 'sidecar', 'web', 'client', 'stranger', 'inner1', 'inner2', 'alone', 'b1', 'b2']);
    assert.deepEqual(networkLeftovers(root), noNetworkLeftovers);
    await ok(['network', 'rm', 'app', 'other', 'sealed']);
    assert.equal(await ok(['network', 'ls', '-q', '--filter', 'type=custom']), '');
  });

  test("the host's loopback: only a container that asked for host-gateway reaches it; its slirp4netns goes with stop, a killed monitor and rm -f", async () => {
    await ok(['network', 'create', 'lb']);
    const lbGateway = (
      await ok(['network', 'inspect', '--format', '{{(index .IPAM.Config 0).Gateway}}', 'lb'])
    ).trim();
    await ok(['run', '-d', '--name', 'plain', 'busybox', 'sleep', '300']);
    await ok(['run', '-d', '--name', 'plain-lb', '--network', 'lb', 'busybox', 'sleep', '300']);
    const asked = (
      await ok([
        'run',
        '-d',
        '--name',
        'asked',
        '--network',
        'lb',
        '--add-host',
        'host.docker.internal:host-gateway',
        'busybox',
        'sleep',
        '300',
      ])
    ).trim();
    // Every address that could stand for the host: slirp4netns's gateway, the network namespace's
    // own tap address, the bridge gateways. The last two are tbuild's namespaces, not the host.
    const tries: [string, string[]][] = [
      ['plain', ['10.0.2.2', '10.0.2.100', '172.17.0.1']],
      ['plain-lb', ['10.0.2.2', '10.0.2.100', lbGateway]],
    ];
    for (const [name, addresses] of tries) {
      for (const address of addresses) {
        const r = await fetchFrom(name, `http://${address}:${hostPort}/`);
        assert.notEqual(r.code, 0, `${name} reached the host's loopback at ${address}: ${r.stdout}`);
        assert.match(r.stderr, /Network is unreachable|Connection refused/, `${name} -> ${address}`);
      }
    }
    // The way out is there all the same: slirp4netns answers at its gateway.
    assert.equal((await tbuild(['exec', 'plain', 'ping', '-c', '1', '-W', '5', '10.0.2.2'])).code, 0);
    const reach = async () => (await fetchFrom('asked', `http://host.docker.internal:${hostPort}/`)).stdout;
    assert.equal(await reach(), 'hello from the host\n');
    // One more slirp4netns, naming the container's namespace; it goes whenever the attachment does.
    const helpers = () =>
      processesMentioning(join(runDir(root), 'netns', asked)).filter((p) => p.includes('slirp4netns'));
    assert.equal(helpers().length, 1);
    await ok(['stop', '-t', '1', 'asked']);
    assert.deepEqual(helpers(), []);
    await ok(['start', 'asked']);
    assert.equal(await reach(), 'hello from the host\n');
    const monitor = Number(readFileSync(join(root, 'containers', asked, 'conmon.pid'), 'utf8').trim());
    process.kill(monitor, 'SIGKILL');
    for (
      let i = 0;
      i < 100 && !(await ok(['ps', '-a', '--filter', 'name=^asked$'])).includes('Exited');
      i++
    ) {
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual(helpers(), []);
    await ok(['start', 'asked']);
    assert.equal(helpers().length, 1);
    await ok(['rm', '-f', 'asked', 'plain', 'plain-lb']);
    assert.deepEqual(helpers(), []);
    assert.deepEqual(networkLeftovers(root), noNetworkLeftovers);
    await ok(['network', 'rm', 'lb']);
  });
});
