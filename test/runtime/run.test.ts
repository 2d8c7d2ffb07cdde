import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isOverlaySupported } from '../../cache/index.ts';
import { runcSkipReason } from '../executor/busybox-rootfs.ts';
import { skipReason } from '../needs.ts';
import { runTbuild, tbuildArgv } from '../tbuild-entry.ts';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const reason = skipReason(
  runcSkipReason() ?? ((await isOverlaySupported()) ? undefined : 'overlayfs is not available'),
);

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

let root = '';

/** Runs the CLI as a user would: `tbuild --root ROOT ...` (test/tbuild-entry.ts). */
function tbuild(args: string[], env: Record<string, string> = {}, dir = root): Promise<Result> {
  return runTbuild(['--root', dir, ...args], { env });
}

async function ok(args: string[], env?: Record<string, string>): Promise<string> {
  const r = await tbuild(args, env);
  assert.equal(r.code, 0, `tbuild ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout;
}

/** Mount points under the test root that are still mounted (there must be none after a run). */
async function leftoverMounts(): Promise<string[]> {
  const mounts = await readFile('/proc/self/mounts', 'utf8');
  return mounts.split('\n').filter((line) => line.split(' ')[1]?.startsWith(root));
}

describe('tbuild run', {
  skip: reason ? `tbuild run tests skipped: ${reason}` : false,
  concurrency: 4,
}, () => {
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'tbuild-run-'));
    const archive = join(root, 'busybox.tar');
    await new Promise<void>((resolve, reject) => {
      const child = spawn('bash', ['fixtures/make-busybox-image.sh', archive], {
        cwd: repo,
        stdio: 'ignore',
      });
      child.once('error', reject);
      child.once('close', (code) =>
        code === 0 ? resolve() : reject(new Error(`make-busybox-image: ${code}`)),
      );
    });
    await ok(['load', '-i', archive]);
    const context = join(root, 'ctx');
    await mkdir(context);
    await writeFile(
      join(context, 'Dockerfile'),
      [
        'FROM busybox AS plain',
        'ENV FOO=image BAR=keep',
        'WORKDIR /data',
        'RUN echo original > /data/file',
        'CMD ["echo", "from-cmd"]',
        'FROM plain AS withep',
        'ENTRYPOINT ["echo", "ep"]',
        'CMD ["default"]',
        '',
      ].join('\n'),
    );
    await ok(['build', '-q', '--target', 'plain', '-t', 'plain', context]);
    await ok(['build', '-q', '--target', 'withep', '-t', 'withep', context]);
  });

  after(async () => {
    try {
      // Every run above has ended: no overlay or bind mount and no writable layer may remain.
      assert.deepEqual(await leftoverMounts(), []);
      assert.deepEqual(await readdir(join(root, 'tmp')).catch(() => []), []);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  test('runs the image CMD and propagates the exit code', async () => {
    assert.equal(await ok(['run', '--rm', 'plain']), 'from-cmd\n');
    const r = await tbuild(['run', 'plain', 'sh', '-c', 'echo out; echo err >&2; exit 7']);
    assert.equal(r.code, 7);
    assert.equal(r.stdout, 'out\n');
    assert.equal(r.stderr, 'err\n');
  });

  test('arguments replace CMD; --entrypoint replaces ENTRYPOINT and clears CMD', async () => {
    const cases: [string[], string][] = [
      // `-n` after the image is echo's flag, not tbuild's.
      [['plain', 'echo', '-n', 'args'], 'args'],
      [['withep'], 'ep default\n'],
      [['withep', 'x', 'y'], 'ep x y\n'],
      [['--entrypoint', 'echo', 'withep'], '\n'],
      [['--entrypoint', 'echo', 'withep', 'hi'], 'hi\n'],
      [['--entrypoint', '', 'withep', 'echo', 'bare'], 'bare\n'],
    ];
    const outputs = await Promise.all(cases.map(([args]) => ok(['run', ...args])));
    assert.deepEqual(
      outputs,
      cases.map(([, expected]) => expected),
    );
    const none = await tbuild(['run', '--entrypoint', '', 'plain']);
    assert.equal(none.code, 125);
    assert.match(none.stderr, /no command specified/);
  });

  test('-e sets, passes host values and unsets; image Env and WorkingDir apply', async () => {
    const script = 'echo "$FOO|$BAR|$NEW|$FROMHOST|$(pwd)"';
    assert.equal(await ok(['run', 'plain', 'sh', '-c', script]), 'image|keep|||/data\n');
    const out = await ok(
      ['run', '-e', 'FOO=cli', '-e', 'NEW=a=b', '-e', 'FROMHOST', '-e', 'BAR', 'plain', 'sh', '-c', script],
      { FROMHOST: 'hostvalue' },
    );
    // BAR is not set on the host, so `-e BAR` removes the image's BAR (Docker's rule).
    assert.equal(out, 'cli||a=b|hostvalue|/data\n');
    const env = await ok(['run', '-e', 'BAR', 'plain', 'env']);
    assert.doesNotMatch(env, /^BAR=/m);
  });

  test('-w and -u are honoured', async () => {
    assert.equal(await ok(['run', '-w', '/new/dir', 'plain', 'pwd']), '/new/dir\n');
    assert.equal(await ok(['run', '-u', 'nobody', 'plain', 'sh', '-c', 'id -u; id -g']), '65534\n65534\n');
    assert.equal(await ok(['run', '-u', '123:456', 'plain', 'sh', '-c', 'id -u; id -g']), '123\n456\n');
    const relative = await tbuild(['run', '-w', 'rel', 'plain', 'pwd']);
    assert.equal(relative.code, 125);
    assert.match(relative.stderr, /needs to be an absolute path/);
  });

  test('-v bind mounts are readable, writable, and read-only with :ro', async () => {
    const host = await mkdtemp(join(root, 'vol-'));
    await writeFile(join(host, 'f'), 'from host\n');
    assert.equal(await ok(['run', '-v', `${host}:/mnt`, 'plain', 'cat', '/mnt/f']), 'from host\n');
    await ok(['run', '-v', `${host}:/mnt`, 'plain', 'sh', '-c', 'echo written > /mnt/w']);
    assert.equal(await readFile(join(host, 'w'), 'utf8'), 'written\n');

    const ro = await tbuild([
      'run',
      '-v',
      `${host}:/mnt:ro`,
      'plain',
      'sh',
      '-c',
      'cat /mnt/f; echo x > /mnt/g',
    ]);
    assert.equal(ro.stdout, 'from host\n');
    assert.notEqual(ro.code, 0);
    assert.match(ro.stderr, /Read-only file system/);
    assert.equal(existsSync(join(host, 'g')), false);

    const missing = await tbuild(['run', '-v', `${join(host, 'nope')}:/mnt`, 'plain', 'true']);
    assert.equal(missing.code, 125);
    assert.match(missing.stderr, /bind source path does not exist/);
  });

  test('a run that writes files leaves the image and the root unchanged', async () => {
    await ok(['run', 'plain', 'sh', '-c', 'echo changed > /data/file; echo junk > /data/junk; rm /bin/ls']);
    assert.equal(
      await ok(['run', 'plain', 'sh', '-c', 'cat /data/file; ls /data; test -e /bin/ls && echo ls-kept']),
      'original\nfile\nls-kept\n',
    );
  });

  test('a missing image or command gives Docker exit codes', async () => {
    const image = await tbuild(['run', 'nosuch']);
    assert.equal(image.code, 125);
    assert.match(image.stderr, /Unable to find image 'nosuch:latest' locally/);
    assert.equal(image.stdout, '');
    const command = await tbuild(['run', 'plain', 'no-such-command']);
    assert.equal(command.code, 127);
    // One line from tbuild, not runc's own log line before it (issue 11).
    assert.equal(
      command.stderr,
      'ERROR: failed to start the container process: exec: "no-such-command": executable file not found in $PATH\n',
    );
    // What the process writes to stderr at once still arrives, before its later output.
    const early = await tbuild([
      'run',
      'plain',
      'sh',
      '-c',
      'echo early >&2; echo out; echo late >&2; exit 3',
    ]);
    assert.equal(early.code, 3);
    assert.equal(early.stderr, 'early\nlate\n');
    assert.equal(early.stdout, 'out\n');
  });

  test('SIGTERM goes to the container (--sig-proxy), which ends; its mounts are cleaned up', async () => {
    // As `docker run`, tbuild passes the signal on: a PID 1 without a TERM handler would ignore
    // it (the kernel's rule for a namespace's init), so this one traps it.
    const script = 'trap "echo got-TERM; exit 143" TERM; echo started; sleep 60 & wait';
    const child = spawn(
      process.execPath,
      tbuildArgv(['--root', root, 'run', '--name', 'sigterm', 'plain', 'sh', '-c', script]),
      { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      output += s;
    });
    const started = Date.now();
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', () => {
        if (output.includes('started')) resolve();
      });
      child.once('close', () => reject(new Error('exited before starting')));
    });
    const closed = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
    child.kill('SIGTERM');
    assert.equal(await closed, 143);
    assert.equal(output, 'started\ngot-TERM\n');
    assert.ok(Date.now() - started < 30_000, 'the container was not killed');
    // Kept, as docker keeps a container run without --rm.
    assert.match(
      await ok(['ps', '-a', '--filter', 'name=^sigterm$', '--format', '{{.Status}}']),
      /^Exited \(143\) .* ago\n$/,
    );
  });
});

describe('tbuild run (no root needed)', () => {
  test('usage errors exit 125 (a missing image argument 1, as docker) before touching the store', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tbuild-run-usage-'));
    try {
      const r = await tbuild(['run'], {}, dir);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /requires at least 1 argument/);
      // A foreground run is a kept container too: any network, so the missing image is the error.
      const bad = await tbuild(['run', '--network', 'bridge', 'x'], {}, dir);
      assert.equal(bad.code, 125);
      assert.match(bad.stderr, /^ERROR: Unable to find image 'x:latest' locally\n/);
      const vol = await tbuild(['run', '-v', 'a:/x:ro:z', 'x'], {}, dir);
      assert.equal(vol.code, 125);
      assert.match(vol.stderr, /invalid volume specification: 'a:\/x:ro:z'/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
