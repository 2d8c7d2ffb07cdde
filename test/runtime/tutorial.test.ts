/**
 * Issue 15's tutorial flow end to end through the shipped CLI, as the Docker tutorials walk it:
 * a web server in the background on the host network (ps, a page fetched from the host, logs,
 * top, exec, stop, ps -a), a shell on a real pseudo-terminal that writes a page, `commit` of that
 * container with a new CMD run with a published port, and `export | import` run again.
 * Traffic: the host's 127.0.0.1 only.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { firstReason, needCommands, skipReason } from '../needs.ts';
import { tbuildArgv } from '../tbuild-entry.ts';
import { ContainerRoot, containerSkipReason, eventually } from './helpers.ts';
import { networkLeftovers, noNetworkLeftovers } from './network-helpers.ts';

const reason = firstReason(
  containerSkipReason(),
  skipReason(needCommands('slirp4netns', 'iptables', 'nsenter')),
);
const ctr = new ContainerRoot();

/** A port free on 127.0.0.1 right now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

/** GET http://127.0.0.1:PORT/PATH: the status and body, or the error's code as status text. */
function fetchLocal(port: number, path = '/'): Promise<{ status: number | string; body: string }> {
  return new Promise((resolve) => {
    get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', (e: NodeJS.ErrnoException) => resolve({ status: e.code ?? e.message, body: '' }));
    }).on('error', (e: NodeJS.ErrnoException) => resolve({ status: e.code ?? e.message, body: '' }));
  });
}

/** The page once the server answers (it needs a moment to listen after `run -d` returns). */
async function pageAt(port: number, path = '/'): Promise<{ status: number | string; body: string }> {
  let last = await fetchLocal(port, path);
  await eventually(async () => {
    last = await fetchLocal(port, path);
    return last.status === 200;
  });
  return last;
}

/** `tbuild export NAME | tbuild import - REF` through a real pipe, as the tutorial types it. */
function exportImport(name: string, ref: string): Promise<{ code: number | null; output: string }> {
  const tbuild = (args: string[]) =>
    [process.execPath, ...tbuildArgv(['--root', ctr.dir, ...args])].map((a) => `'${a}'`).join(' ');
  const script = `set -o pipefail; ${tbuild(['export', name])} | ${tbuild(['import', '-', ref])}`;
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', script], {
      env: { ...process.env, TBUILD_ROOT: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      output += s;
    });
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      output += s;
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
  });
}

describe('the tutorial flow', { skip: reason ? `tutorial test skipped: ${reason}` : false }, () => {
  before(() => ctr.setUp('tbuild-tutorial-'));
  after(async () => {
    await ctr.tearDown();
    assert.deepEqual(networkLeftovers(ctr.dir), noNetworkLeftovers);
  });

  test('run -d a web server on the host network: ps Up, the page from the host, logs, top, exec, stop, ps -a Exited', async () => {
    const www = join(ctr.dir, 'www');
    await mkdir(www);
    await writeFile(join(www, 'index.html'), '<h1>hello from web</h1>\n');
    const port = await freePort();
    await ctr.runDetached(
      '--name',
      'web',
      '--network',
      'host',
      '-v',
      `${www}:/www`,
      'busybox',
      'sh',
      '-c',
      `echo serving /www; exec httpd -f -v -p ${port} -h /www`,
    );
    assert.match(await ctr.statusOf('web'), /^Up /);
    const ps = await ctr.ok(['ps']);
    const [header, ...rows] = ps.trimEnd().split('\n');
    assert.match(header ?? '', /^CONTAINER ID +IMAGE +COMMAND +CREATED +STATUS +PORTS +NAMES$/);
    assert.equal(rows.length, 1, ps);
    assert.match(rows[0] ?? '', /^[0-9a-f]{12} +busybox +"sh -c 'echo serving…" +.+ ago +Up .+ +web$/);

    const page = await pageAt(port, '/index.html');
    assert.deepEqual(page, { status: 200, body: '<h1>hello from web</h1>\n' });
    // httpd -v logs each response on stderr: the page fetch from the host is in the container's log.
    await eventually(async () => (await ctr.tbuild(['logs', 'web'])).stderr.includes('response:200'));
    const logs = await ctr.tbuild(['logs', 'web']);
    assert.equal(logs.stdout, 'serving /www\n');
    assert.match(logs.stderr, /^\[::ffff:127\.0\.0\.1\]:\d+: response:200$/m);

    const top = await ctr.ok(['top', 'web']);
    assert.match(top, /^UID +PID +PPID +C +STIME +TTY +TIME +CMD\n/);
    assert.match(top, new RegExp(`\\n\\S+ +\\d+ +\\d+ .* httpd -f -v -p ${port} -h /www\\n`));
    assert.equal(await ctr.ok(['exec', 'web', 'ls', '/www']), 'index.html\n');

    assert.equal(await ctr.ok(['stop', 'web']), 'web\n');
    assert.match(await ctr.statusOf('web'), /^Exited \((0|137|143)\) .* ago$/);
    assert.equal(await ctr.ok(['ps', '-q']), '');
    const all = await ctr.ok(['ps', '-a']);
    assert.match(all, /\n[0-9a-f]{12} +busybox .* Exited \(\d+\) .* ago +web\n$/);
    assert.notEqual((await fetchLocal(port, '/index.html')).status, 200);
  });

  test('run -it on a pty writes a page; commit -p -a -c CMD runs it with a port; export | import runs too', async () => {
    const shell = await ctr.onPty(
      ['run', '-it', '--name', 'b1', 'busybox'],
      [
        ['wait', '# '],
        [
          'send',
          'mkdir -p /data/html && echo "<p>made in b1</p>" > /data/html/index.html && echo done-$((40+2))\r',
        ],
        ['wait', 'done-42\r\n'],
        ['send', 'exit\r'],
      ],
    );
    assert.equal(shell.code, 0, shell.output);
    assert.match(await ctr.statusOf('b1'), /^Exited \(0\) /);
    assert.equal(await ctr.ok(['diff', 'b1']), 'A /data\nA /data/html\nA /data/html/index.html\n');

    const id = await ctr.ok([
      'commit',
      '-p',
      '-a',
      'me',
      '-c',
      'CMD ["/bin/httpd","-f","-h","/data/html"]',
      'b1',
      'myhttpd:v1',
    ]);
    assert.match(id, /^sha256:[0-9a-f]{64}\n$/);
    assert.equal(
      await ctr.ok(['inspect', '-f', '{{json .Config.Cmd}} {{.Author}}', 'myhttpd:v1']),
      '["/bin/httpd","-f","-h","/data/html"] me\n',
    );

    // The new image's own CMD (httpd on port 80) behind a published port on the host's loopback.
    const port = await freePort();
    await ctr.runDetached('--name', 'web2', '-p', `127.0.0.1:${port}:80`, 'myhttpd:v1');
    assert.equal(await ctr.ok(['port', 'web2']), `80/tcp -> 127.0.0.1:${port}\n`);
    assert.deepEqual(await pageAt(port), { status: 200, body: '<p>made in b1</p>\n' });
    await ctr.ok(['rm', '-f', 'web2']);

    const piped = await exportImport('b1', 'flat:1');
    assert.equal(piped.code, 0, piped.output);
    assert.match(piped.output, /^sha256:[0-9a-f]{64}\n$/);
    assert.equal(
      await ctr.ok(['run', '--rm', 'flat:1', 'cat', '/data/html/index.html']),
      '<p>made in b1</p>\n',
    );
    // One layer: the container's whole filesystem, flattened.
    assert.equal(await ctr.ok(['inspect', '-f', '{{len .RootFS.Layers}}', 'flat:1']), '1\n');
  });
});
