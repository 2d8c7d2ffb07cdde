/**
 * Kept containers through the CLI, as a user types them: run -d, ps, logs, stop, kill, wait, rm,
 * a killed monitor, and what is left afterwards (nothing: no runc container, mount or process).
 * One tbuild root for the file, the busybox fixture image loaded into it.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { alive, ContainerRoot, containerSkipReason, eventually } from './helpers.ts';

const reason = containerSkipReason();

let ctr = new ContainerRoot();
const tbuild = (args: string[], input?: string) => ctr.tbuild(args, input);
const ok = (args: string[], input?: string) => ctr.ok(args, input);
const runDetached = (...args: string[]) => ctr.runDetached(...args);
const statusOf = (name: string) => ctr.statusOf(name);
const monitorPid = (id: string) => ctr.monitorPid(id);
const containerPid = (id: string) => ctr.containerPid(id);

/** Runs tbuild on a pseudo-terminal, typing `input` at once; what the terminal showed. */
function tbuildOnPty(args: string[], input: string) {
  return ctr.onPty(args, [['send', input]]);
}

describe('kept containers', {
  skip: reason ? `container tests skipped: ${reason}` : false,
  concurrency: 4,
}, () => {
  before(async () => {
    ctr = new ContainerRoot();
    await ctr.setUp('tbuild-ctr-');
  });

  after(async () => {
    const all = (await ok(['ps', '-aq', '--no-trunc'])).split('\n').filter(Boolean);
    if (all.length > 0) await ok(['rm', '-f', ...all]);
    // Every container is gone, and with it everything it had on the host.
    assert.deepEqual(
      (existsSync(join(ctr.dir, 'containers')) ? readdirSync(join(ctr.dir, 'containers')) : []).filter((n) =>
        /^[0-9a-f]{64}$/.test(n),
      ),
      [],
    );
    assert.match(await ok(['fsck']), /\nok\n$/);
    await ctr.tearDown();
  });

  test('run -d prints the id; ps shows it Up with Docker columns, -q, --no-trunc, filters', async () => {
    const id = await runDetached('--name', 'ps-web', '-l', 'tier=front', 'busybox', 'sleep', '300');
    const ps = await ok(['ps', '--filter', 'name=ps-web']);
    const [header, row, extra] = ps.split('\n');
    assert.deepEqual(header?.split(/ {2,}/), [
      'CONTAINER ID',
      'IMAGE',
      'COMMAND',
      'CREATED',
      'STATUS',
      'PORTS',
      'NAMES',
    ]);
    assert.equal(extra, '');
    // Docker pads every column to its widest cell plus three spaces; PORTS is empty here.
    const cells = row?.split(/ {2,}/);
    assert.deepEqual(cells?.slice(0, 3), [id.slice(0, 12), 'busybox', '"sleep 300"']);
    assert.match(cells?.[3] ?? '', /^(Less than a second|\d+ seconds?) ago$/);
    assert.match(cells?.[4] ?? '', /^Up (Less than a second|\d+ seconds?)$/);
    assert.equal(cells?.[5], 'ps-web');
    assert.equal(row?.indexOf(id.slice(0, 12)), header?.indexOf('CONTAINER ID'));
    assert.equal(row?.indexOf('ps-web'), header?.indexOf('NAMES'));
    assert.equal(await ok(['ps', '-q', '--filter', 'label=tier=front']), `${id.slice(0, 12)}\n`);
    assert.equal(await ok(['ps', '-q', '--no-trunc', '--filter', 'name=ps-web']), `${id}\n`);
    assert.equal(await ok(['ps', '-q', '--filter', 'label=tier=back']), '');
    assert.equal(
      await ok(['ps', '--filter', `id=${id.slice(0, 8)}`, '--format', '{{.Names}} {{.Image}} {{.State}}']),
      'ps-web busybox running\n',
    );
    await ok(['rm', '-f', 'ps-web']);
    assert.equal(await ok(['ps', '-aq', '--filter', 'name=ps-web']), '');
  });

  test('logs, logs --tail, logs -f until the exit, and stdout/stderr kept apart', async () => {
    const script = 'for i in 1 2 3 4 5; do echo line$i; done; echo oops >&2; sleep 1; echo late; exit 3';
    await runDetached('--name', 'logs-a', 'busybox', 'sh', '-c', script);
    const follow = await tbuild(['logs', '-f', 'logs-a']);
    assert.equal(follow.code, 0);
    assert.equal(follow.stdout, 'line1\nline2\nline3\nline4\nline5\nlate\n');
    assert.equal(follow.stderr, 'oops\n');
    assert.equal(await ok(['wait', 'logs-a']), '3\n');
    const all = await tbuild(['logs', 'logs-a']);
    assert.equal(all.stdout, follow.stdout);
    assert.equal(all.stderr, 'oops\n');
    const tail = await tbuild(['logs', '--tail', '2', 'logs-a']);
    // --tail counts lines of both streams (the log is one file, as Docker's json-file is).
    assert.equal(tail.stdout, 'late\n');
    assert.equal(tail.stderr, 'oops\n');
    const stamped = await ok(['logs', '-t', '--tail', '1', 'logs-a']);
    assert.match(stamped, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z late\n$/);
    assert.match(await statusOf('logs-a'), /^Exited \(3\) (Less than a second|\d+ seconds?) ago$/);
  });

  test('stop: the stop signal first, SIGKILL after -t; ps -a shows 143 and 137', async () => {
    const trap = 'trap "echo got-TERM; exit 143" TERM; echo ready; while :; do sleep 0.1; done';
    await runDetached('--name', 'stop-term', 'busybox', 'sh', '-c', trap);
    // PID 1 of a container ignores SIGTERM without a handler, so only SIGKILL ends `sleep`.
    await runDetached('--name', 'stop-kill', 'busybox', 'sleep', '300');
    await eventually(async () => (await ok(['logs', 'stop-term'])) === 'ready\n');
    assert.equal(await ok(['stop', '-t', '5', 'stop-term']), 'stop-term\n');
    assert.equal(await ok(['logs', 'stop-term']), 'ready\ngot-TERM\n');
    assert.equal(await ok(['stop', '-t', '1', 'stop-kill']), 'stop-kill\n');
    assert.match(await statusOf('stop-term'), /^Exited \(143\) /);
    assert.match(await statusOf('stop-kill'), /^Exited \(137\) /);
    // Stopping a stopped container succeeds (Docker's answer too).
    assert.equal(await ok(['stop', 'stop-kill']), 'stop-kill\n');
    assert.equal(await ok(['wait', 'stop-kill']), '137\n');
    assert.deepEqual(
      (await ok(['ps', '-a', '--filter', 'exited=137', '--format', '{{.Names}}']))
        .split('\n')
        .includes('stop-kill'),
      true,
    );
  });

  test('kill -s sends a signal; kill sends SIGKILL; a stopped one cannot be killed', async () => {
    const script = 'trap "echo usr1" USR1; echo ready; while :; do sleep 0.1; done';
    const id = await runDetached('--name', 'kill-me', 'busybox', 'sh', '-c', script);
    await eventually(async () => (await ok(['logs', 'kill-me'])) === 'ready\n');
    assert.equal(await ok(['kill', '-s', 'USR1', 'kill-me']), 'kill-me\n');
    await eventually(async () => (await ok(['logs', 'kill-me'])) === 'ready\nusr1\n');
    assert.equal(await ok(['logs', 'kill-me']), 'ready\nusr1\n');
    assert.match(await statusOf('kill-me'), /^Up /);
    assert.equal(await ok(['kill', 'kill-me']), 'kill-me\n');
    assert.match(await statusOf('kill-me'), /^Exited \(137\) /);
    const again = await tbuild(['kill', 'kill-me']);
    assert.equal(again.code, 1);
    assert.equal(again.stderr, `ERROR: Cannot kill container: kill-me: Container ${id} is not running\n`);
    const bad = await tbuild(['kill', '-s', 'NOPE', 'kill-me']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /Invalid signal: NOPE/);
  });

  test('wait prints each exit code; rm refuses a running container, rm -f removes it', async () => {
    await runDetached('--name', 'wait-7', 'busybox', 'sh', '-c', 'exit 7');
    await runDetached('--name', 'wait-0', 'busybox', 'true');
    assert.equal(await ok(['wait', 'wait-7', 'wait-0']), '7\n0\n');
    const id = await runDetached('--name', 'rm-running', 'busybox', 'sleep', '300');
    const pid = containerPid(id);
    const refused = await tbuild(['rm', 'rm-running']);
    assert.equal(refused.code, 1);
    assert.equal(
      refused.stderr,
      `ERROR: You cannot remove a running container ${id}. Stop the container before attempting removal or force remove\n`,
    );
    assert.equal(await ok(['rm', '-f', 'rm-running', 'wait-7']), 'rm-running\nwait-7\n');
    assert.equal(alive(pid), false);
    assert.equal(existsSync(join(ctr.dir, 'containers', id)), false);
    assert.equal(existsSync(join(ctr.dir, 'runc', 'containers', id)), false);
    const gone = await tbuild(['rm', 'rm-running']);
    assert.equal(gone.code, 1);
    assert.equal(gone.stderr, 'ERROR: No such container: rm-running\n');
  });

  test('a taken name gives Docker conflict error (exit 125); --rm -d removes it after the exit', async () => {
    const id = await runDetached('--name', 'taken', 'busybox', 'sleep', '300');
    const conflict = await tbuild(['run', '-d', '--name', 'taken', 'busybox', 'true']);
    assert.equal(conflict.code, 125);
    assert.equal(conflict.stdout, '');
    assert.equal(
      conflict.stderr,
      `ERROR: Conflict. The container name "/taken" is already in use by container "${id}". You have to remove (or rename) that container to be able to reuse that name.\n`,
    );
    await ok(['rm', '-f', 'taken']);
    const auto = await runDetached('--rm', '--name', 'auto-rm', 'busybox', 'sh', '-c', 'echo bye');
    // conmon's exit command (tbuild container-cleanup) removes it: nobody else is asked to.
    await eventually(() => !existsSync(join(ctr.dir, 'containers', auto)));
    assert.equal(existsSync(join(ctr.dir, 'containers', auto)), false);
    assert.equal(await ok(['ps', '-aq', '--filter', 'name=auto-rm']), '');
  });

  test('a kill -9 of the monitor is found: the container is killed and recorded as 137', async () => {
    const id = await runDetached('--name', 'lost-monitor', 'busybox', 'sleep', '300');
    const pid = containerPid(id);
    process.kill(monitorPid(id), 'SIGKILL');
    await eventually(() => !alive(monitorPid(id)));
    // The next command that looks finds the truth: never `Up` without a monitor.
    assert.match(await statusOf('lost-monitor'), /^Exited \(137\) /);
    assert.equal(alive(pid), false);
    assert.equal(existsSync(join(ctr.dir, 'runc', 'containers', id)), false);
    assert.equal(await ok(['wait', 'lost-monitor']), '137\n');
    assert.equal(await ok(['rm', 'lost-monitor']), 'lost-monitor\n');
  });

  test('--restart on-failure:2 restarts a failing container twice, then leaves it exited', async () => {
    await runDetached(
      '--name',
      'restart-fail',
      '--restart',
      'on-failure:2',
      'busybox',
      'sh',
      '-c',
      'echo run; exit 3',
    );
    const info = () => ok(['inspect', '-f', '{{.RestartCount}} {{.State.Status}}', 'restart-fail']);
    // The count is written just before the third start: wait for that run's output too.
    const logs = () => ok(['logs', 'restart-fail']);
    await eventually(
      async () => (await logs()) === 'run\nrun\nrun\n' && (await info()) === '2 exited\n',
      30_000,
    );
    assert.equal(await info(), '2 exited\n');
    assert.equal(await ok(['logs', 'restart-fail']), 'run\nrun\nrun\n');
    assert.match(await statusOf('restart-fail'), /^Exited \(3\) /);
  });

  test('Docker default capabilities and seccomp filter; --security-opt seccomp=unconfined', async () => {
    const show = 'grep -E "^(CapBnd|NoNewPrivs|Seccomp):" /proc/self/status';
    await runDetached('--name', 'sec-default', 'busybox', 'sh', '-c', show);
    await runDetached(
      '--name',
      'sec-off',
      '--security-opt',
      'seccomp=unconfined',
      'busybox',
      'sh',
      '-c',
      show,
    );
    assert.equal(await ok(['wait', 'sec-default', 'sec-off']), '0\n0\n');
    // a80425fb: CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP NET_BIND_SERVICE
    // NET_RAW SYS_CHROOT MKNOD AUDIT_WRITE SETFCAP (moby oci/caps/defaults.go).
    assert.equal(
      await ok(['logs', 'sec-default']),
      'CapBnd:\t00000000a80425fb\nNoNewPrivs:\t0\nSeccomp:\t2\n',
    );
    assert.equal(await ok(['logs', 'sec-off']), 'CapBnd:\t00000000a80425fb\nNoNewPrivs:\t0\nSeccomp:\t0\n');
  });

  test('exec: env, workdir, user, stdin with -i, the exit code passed through, 126 and errors', async () => {
    const id = await runDetached(
      '--name',
      'exec-a',
      '-e',
      'FOO=bar',
      '-w',
      '/tmp',
      'busybox',
      'sleep',
      '300',
    );
    const r = await tbuild([
      'exec',
      'exec-a',
      'sh',
      '-c',
      'echo "$FOO $(pwd) $(id -u)"; echo err >&2; exit 4',
    ]);
    assert.deepEqual(r, { code: 4, stdout: 'bar /tmp 0\n', stderr: 'err\n' });
    // Flags after the container belong to the command (`ls -l` style), as with run.
    assert.equal(
      await ok([
        'exec',
        '-u',
        'nobody',
        '-w',
        '/',
        '-e',
        'FOO=x',
        'exec-a',
        'sh',
        '-c',
        'echo "$FOO $(pwd) $(id -u)"',
      ]),
      'x / 65534\n',
    );
    assert.equal(await ok(['exec', '-i', 'exec-a', 'cat'], 'through stdin\n'), 'through stdin\n');
    // Without -i the process gets no stdin at all.
    assert.equal(await ok(['exec', 'exec-a', 'cat'], 'ignored\n'), '');
    assert.equal(await ok(['exec', 'exec-a', 'grep', 'Seccomp:', '/proc/self/status']), 'Seccomp:\t2\n');
    const missing = await tbuild(['exec', 'exec-a', 'nope']);
    assert.equal(missing.code, 126);
    assert.match(
      missing.stderr,
      /^ERROR: OCI runtime exec failed: .*"nope": executable file not found in \$PATH\n$/,
    );
    await ok(['stop', '-t', '0', 'exec-a']);
    const stopped = await tbuild(['exec', 'exec-a', 'true']);
    assert.equal(stopped.code, 1);
    assert.equal(stopped.stderr, `ERROR: Container ${id} is not running\n`);
  });

  test('run -i feeds stdin; run -t and exec -t get a real pseudo-terminal', async () => {
    assert.equal(await ok(['run', '-i', '--rm', 'busybox', 'cat'], 'hi\n'), 'hi\n');
    assert.equal(await ok(['run', '--rm', 'busybox', 'cat'], 'not read\n'), '');
    const run = await tbuildOnPty(['run', '-it', '--rm', 'busybox', 'sh'], 'tty; echo "T=$TERM"; exit 5\n');
    assert.equal(run.code, 5);
    assert.match(run.output, /\/dev\/pts\/\d+\r\nT=xterm\r\n/);
    await runDetached('--name', 'exec-tty', 'busybox', 'sleep', '300');
    const exec = await tbuildOnPty(['exec', '-it', 'exec-tty', 'sh'], 'tty; exit 3\n');
    assert.equal(exec.code, 3);
    assert.match(exec.output, /\/dev\/pts\/\d+\r\n/);
    const noTty = await tbuild(['exec', '-t', 'exec-tty', 'true']);
    assert.deepEqual([noTty.code, noTty.stderr], [1, 'ERROR: the input device is not a TTY\n']);
  });

  test('commit (-a -m -c, whiteouts, an unchanged container adds no layer), export | import', async () => {
    const script =
      'mkdir -p /data/html; echo page > /data/html/index.html; rm /etc/group; echo ready; sleep 300';
    await runDetached('--name', 'commit-b1', 'busybox', 'sh', '-c', script);
    await eventually(async () => (await ok(['logs', 'commit-b1'])) === 'ready\n');
    const id = await ok([
      'commit',
      '-a',
      'me',
      '-m',
      'msg',
      '-c',
      'CMD ["/bin/cat","/data/html/index.html"]',
      'commit-b1',
      'myhttpd:v1',
    ]);
    assert.match(id, /^sha256:[0-9a-f]{64}\n$/);
    assert.equal(await ok(['run', '--rm', 'myhttpd:v1']), 'page\n');
    assert.doesNotMatch(await ok(['run', '--rm', 'myhttpd:v1', 'ls', '/etc']), /group/);
    const [image] = JSON.parse(await ok(['inspect', 'myhttpd:v1'])) as {
      Id: string;
      Author: string;
      Comment: string;
      Config: { Cmd: string[] };
      RootFS: { Layers: string[] };
      Metadata: {
        History: { author?: string; created_by?: string; comment?: string; empty_layer?: boolean }[];
      };
    }[];
    const [base] = JSON.parse(await ok(['inspect', 'busybox'])) as { RootFS: { Layers: string[] } }[];
    assert.equal(image?.Id, id.trim());
    assert.equal(image?.Author, 'me');
    assert.equal(image?.Comment, 'msg');
    assert.deepEqual(image?.Config.Cmd, ['/bin/cat', '/data/html/index.html']);
    assert.equal(image?.RootFS.Layers.length, (base?.RootFS.Layers.length ?? 0) + 1);
    const { created, ...entry } = (image?.Metadata.History.at(-1) ?? {}) as { created?: string };
    assert.match(created ?? '', /^\d{4}-\d\d-\d\dT/);
    assert.deepEqual(entry, {
      author: 'me',
      created_by: `sh -c ${script}`,
      comment: 'msg',
    });
    // Unchanged (never started): no layer, an empty_layer history entry, as Docker's empty diff.
    await ok(['create', '--name', 'commit-empty', 'busybox', 'true']);
    await ok(['commit', 'commit-empty', 'empty:1']);
    const [empty] = JSON.parse(await ok(['inspect', 'empty:1'])) as (typeof image)[];
    assert.equal(empty?.RootFS.Layers.length, base?.RootFS.Layers.length);
    assert.equal(empty?.Metadata.History.at(-1)?.empty_layer, true);
    // export: the whole filesystem; it imports back as a one-layer image that runs.
    const tar = join(ctr.dir, 'b1.tar');
    assert.equal(await ok(['export', '-o', tar, 'commit-b1']), '');
    const listing = await new Promise<string>((resolve, reject) => {
      const child = spawn('tar', ['-tf', tar], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (s: string) => {
        out += s;
      });
      child.once('error', reject);
      child.once('close', () => resolve(out));
    });
    const names = listing.split('\n');
    assert.ok(names.includes('data/html/index.html'));
    assert.ok(names.includes('bin/busybox'));
    assert.ok(!names.includes('etc/group'));
    await ok(['import', tar, 'flat:1']);
    assert.equal(await ok(['run', '--rm', 'flat:1', 'cat', '/data/html/index.html']), 'page\n');
  });

  test('cp both ways never leaves the container root; inspect; pause/unpause; top; rename; restart', async () => {
    const id = await runDetached(
      '--name',
      'misc-a',
      'busybox',
      'sh',
      '-c',
      'mkdir /data; ln -s / /data/up; echo ready; sleep 300',
    );
    await eventually(async () => (await ok(['logs', 'misc-a'])) === 'ready\n');
    const host = join(ctr.dir, 'host-file');
    await writeFile(host, 'from host\n');
    assert.equal(await ok(['cp', host, 'misc-a:/data/']), '');
    assert.equal(await ok(['exec', 'misc-a', 'cat', '/data/host-file']), 'from host\n');
    // /data/up is a symlink to / inside the container: it leads to the container's /etc.
    await ok(['cp', host, 'misc-a:/data/up/etc/planted']);
    assert.equal(await ok(['exec', 'misc-a', 'cat', '/etc/planted']), 'from host\n');
    assert.equal(existsSync('/etc/planted'), false);
    const out = join(ctr.dir, 'cp-out');
    await ok(['cp', 'misc-a:/data/up/etc/passwd', out]);
    assert.equal(
      readFileSync(out, 'utf8'),
      readFileSync(join(ctr.dir, 'containers', id, 'rootfs', 'etc', 'passwd'), 'utf8'),
    );
    assert.match(readFileSync(out, 'utf8'), /^root:x:0:0:root:\/root:\/bin\/sh\nnobody:/);
    const missing = await tbuild(['cp', 'misc-a:/nope', out]);
    assert.deepEqual(
      [missing.code, missing.stderr],
      [1, 'ERROR: Could not find the file /nope in container misc-a\n'],
    );

    const [doc] = JSON.parse(await ok(['inspect', 'misc-a'])) as {
      Id: string;
      Name: string;
      Path: string;
      Image: string;
      State: { Status: string; Running: boolean; Pid: number };
      Config: { Cmd: string[]; Image: string };
    }[];
    assert.equal(doc?.Id, id);
    assert.equal(doc?.Name, '/misc-a');
    assert.equal(doc?.Path, 'sh');
    assert.deepEqual([doc?.State.Status, doc?.State.Running], ['running', true]);
    assert.equal(doc?.State.Pid, containerPid(id));
    assert.equal(doc?.Config.Image, 'busybox');
    assert.match(doc?.Image ?? '', /^sha256:[0-9a-f]{64}$/);
    assert.equal(
      await ok(['inspect', '-f', '{{.State.Status}} {{.Name}} {{.Config.Tty}}', 'misc-a']),
      'running /misc-a false\n',
    );

    assert.equal(await ok(['pause', 'misc-a']), 'misc-a\n');
    assert.match(await statusOf('misc-a'), /^Up .* \(Paused\)$/);
    const paused = await tbuild(['exec', 'misc-a', 'true']);
    assert.deepEqual(
      [paused.code, paused.stderr],
      [1, `ERROR: Container ${id} is paused, unpause the container before exec\n`],
    );
    assert.equal(await ok(['unpause', 'misc-a']), 'misc-a\n');
    assert.match(await statusOf('misc-a'), /^Up [^(]*$/);

    const top = (await ok(['top', 'misc-a'])).split('\n');
    assert.match(top[0] ?? '', /^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD$/);
    assert.ok(top.some((l) => l.endsWith('sleep 300')));

    assert.equal(await ok(['rename', 'misc-a', 'misc-b']), '');
    assert.equal(await ok(['ps', '-q', '--no-trunc', '--filter', 'name=^misc-b$']), `${id}\n`);
    const before = containerPid(id);
    assert.equal(await ok(['restart', '-t', '0', 'misc-b']), 'misc-b\n');
    assert.notEqual(containerPid(id), before);
    assert.equal(alive(before), false);
    assert.match(await statusOf('misc-b'), /^Up /);
    // The writable layer survives a restart (the cp'd file is still there).
    assert.equal(await ok(['exec', 'misc-b', 'cat', '/data/host-file']), 'from host\n');
  });
});

// Alone on a root of its own: in the suite above, any concurrent `ps -a` may record the exit first.
describe('fsck of containers', { skip: reason ? `container tests skipped: ${reason}` : false }, () => {
  before(async () => {
    ctr = new ContainerRoot();
    await ctr.setUp('tbuild-ctr-fsck-');
  });

  after(() => ctr.tearDown());

  test('fsck records an exit nobody saw and removes what a killed create left', async () => {
    const id = await runDetached('--name', 'fsck-lost', 'busybox', 'sleep', '300');
    process.kill(monitorPid(id), 'SIGKILL');
    await eventually(() => !alive(monitorPid(id)));
    // What `create` leaves when it is killed before the rename into place.
    mkdirSync(join(ctr.dir, 'containers', `.tmp-${'0'.repeat(64)}`));
    const out = await ok(['fsck']);
    assert.match(out, new RegExp(`^recorded the exit of container ${id.slice(0, 12)}$`, 'm'));
    assert.match(out, /^removed 1 half-created containers$/m);
    assert.match(out, /^checked 1 containers$/m);
    assert.match(out, /\nok\n$/);
    assert.equal(existsSync(join(ctr.dir, 'containers', `.tmp-${'0'.repeat(64)}`)), false);
    assert.match(await statusOf('fsck-lost'), /^Exited \(137\) /);
  });
});
