/**
 * Kept containers through the CLI, as a user types them: run -d, ps, logs, stop, kill, wait, rm,
 * a killed monitor, and what is left afterwards (nothing: no runc container, mount or process).
 * One tbuild root for the file, the busybox fixture image loaded into it.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { busyboxArchive, whyNotRunnable } from '../build/helpers.ts';
import { firstReason, needCommands, skipReason } from '../needs.ts';
import { tbuildArgv } from '../tbuild-entry.ts';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const reason = skipReason(firstReason(whyNotRunnable(), needCommands('conmon', 'python3')));

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

let root = '';

/** `tbuild --root ROOT ARGS` (test/tbuild-entry.ts), stdin from `input` (closed when absent). */
export function tbuild(args: string[], input?: string): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, tbuildArgv(['--root', root, ...args]), {
      cwd: repo,
      env: { ...process.env, TBUILD_ROOT: '' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
    });
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
    });
    child.stdin.end(input ?? '');
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function ok(args: string[], input?: string): Promise<string> {
  const r = await tbuild(args, input);
  assert.equal(r.code, 0, `tbuild ${args.join(' ')} failed (${r.code}):\n${r.stderr}`);
  return r.stdout;
}

/** `run -d`: the id it printed, checked to be Docker's 64 hex digits. */
async function runDetached(...args: string[]): Promise<string> {
  const out = await ok(['run', '-d', ...args]);
  assert.match(out, /^[0-9a-f]{64}\n$/);
  return out.trim();
}

/** `ps -a --format` of one container: the Status column (`Up …`, `Exited (143) … ago`). */
async function statusOf(ref: string): Promise<string> {
  return (await ok(['ps', '-a', '--filter', `name=^${ref}$`, '--format', '{{.Status}}'])).trim();
}

/** Waits (bounded) until `check` holds; the assertion after it says what was expected. */
async function eventually(check: () => Promise<boolean> | boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check()) && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
}

function monitorPid(id: string): number {
  return Number(readFileSync(join(root, 'containers', id, 'conmon.pid'), 'utf8').trim());
}

function containerPid(id: string): number {
  return Number(readFileSync(join(root, 'containers', id, 'bundle', 'pidfile'), 'utf8').trim());
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) [ZX]/.test(stat);
  } catch {
    return false;
  }
}

/** What the store root still has running or mounted: runc containers, mounts, conmon processes. */
function leftovers(): { runc: string[]; mounts: string[]; monitors: number[] } {
  const runcRoot = join(root, 'runc', 'containers');
  const runc = existsSync(runcRoot) ? readdirSync(runcRoot) : [];
  const mounts = readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[1] ?? '')
    .filter((m) => m.startsWith(root));
  const monitors = readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        const argv = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
        return (argv[0] ?? '').endsWith('conmon') && argv.some((a) => a.startsWith(root));
      } catch {
        return false;
      }
    })
    .map(Number);
  return { runc, mounts, monitors };
}

/**
 * Runs tbuild on a pseudo-terminal (Python's pty module: node has no pty), writes `input` to it
 * and resolves with everything the terminal showed and the exit code.
 */
function tbuildOnPty(args: string[], input: string): Promise<{ code: number | null; output: string }> {
  const script = [
    'import os, pty, sys',
    'pid, fd = pty.fork()',
    'if pid == 0:',
    '    os.execv(sys.argv[1], sys.argv[1:])',
    'os.write(fd, os.environ["PTY_INPUT"].encode())',
    'out = b""',
    'while True:',
    '    try:',
    '        chunk = os.read(fd, 4096)',
    '    except OSError:',
    '        break',
    '    if not chunk:',
    '        break',
    '    out += chunk',
    'sys.stdout.buffer.write(out)',
    'sys.exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))',
  ].join('\n');
  return new Promise((resolve, reject) => {
    const child = spawn(
      'python3',
      ['-c', script, process.execPath, ...tbuildArgv(['--root', root, ...args])],
      {
        cwd: repo,
        env: { ...process.env, TBUILD_ROOT: '', PTY_INPUT: input },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      output += s;
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
  });
}

describe('kept containers', {
  skip: reason ? `container tests skipped: ${reason}` : false,
  concurrency: 4,
}, () => {
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'tbuild-ctr-'));
    await ok(['load', '-i', await busyboxArchive()]);
  });

  after(async () => {
    try {
      const all = (await ok(['ps', '-aq', '--no-trunc'])).split('\n').filter(Boolean);
      if (all.length > 0) await ok(['rm', '-f', ...all]);
      // Every container is gone, and with it everything it had on the host.
      assert.equal(await ok(['ps', '-aq']), '');
      assert.deepEqual(leftovers(), { runc: [], mounts: [], monitors: [] });
      assert.deepEqual(
        readdirSync(join(root, 'containers')).filter((n) => /^[0-9a-f]{64}$/.test(n)),
        [],
      );
      assert.match(await ok(['fsck']), /\nok\n$/);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
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
    assert.equal(existsSync(join(root, 'containers', id)), false);
    assert.equal(existsSync(join(root, 'runc', 'containers', id)), false);
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
    await eventually(() => !existsSync(join(root, 'containers', auto)));
    assert.equal(existsSync(join(root, 'containers', auto)), false);
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
    assert.equal(existsSync(join(root, 'runc', 'containers', id)), false);
    assert.equal(await ok(['wait', 'lost-monitor']), '137\n');
    assert.equal(await ok(['rm', 'lost-monitor']), 'lost-monitor\n');
  });

  test('Docker default capabilities and seccomp filter; --security-opt seccomp=unconfined', async () => {
    const show = 'grep -E "^(CapBnd|Seccomp):" /proc/self/status';
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
    assert.equal(await ok(['logs', 'sec-default']), 'CapBnd:\t00000000a80425fb\nSeccomp:\t2\n');
    assert.equal(await ok(['logs', 'sec-off']), 'CapBnd:\t00000000a80425fb\nSeccomp:\t0\n');
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
});
