/**
 * What the container tests share: a tbuild root of their own with the busybox fixture loaded,
 * the CLI run through the shipped entry point (test/tbuild-entry.ts), waiting for a condition,
 * what a root still has running or mounted, and tbuild driven through a pseudo-terminal.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { busyboxArchive, whyNotRunnable } from '../build/helpers.ts';
import { firstReason, needCommands, skipReason } from '../needs.ts';
import { runTbuild, type TbuildResult, tbuildArgv } from '../tbuild-entry.ts';

const repo = fileURLToPath(new URL('../..', import.meta.url));

/** Why the container tests cannot run here (false when they can). */
export function containerSkipReason(): string | false {
  return skipReason(firstReason(whyNotRunnable(), needCommands('conmon', 'python3')));
}

/** Waits (bounded) until `check` holds; the assertion after it says what was expected. */
export async function eventually(check: () => Promise<boolean> | boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check()) && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
}

export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) [ZX]/.test(stat);
  } catch {
    return false;
  }
}

/**
 * One step of a terminal session: type text, wait for output matching a pattern (searched after
 * what the previous wait matched), or change the window size (the terminal's SIGWINCH).
 */
export type PtyStep = ['send', string] | ['wait', string] | ['resize', number, number];

/**
 * Runs `argv` (node's) on a pseudo-terminal of `rows`×`columns` (Python's pty module: node has
 * none), plays `steps`, and resolves with everything the terminal showed and the exit code. A
 * wait that times out (20 s) ends the steps; a command still running 60 s after them is killed.
 */
export function onPty(
  argv: string[],
  steps: PtyStep[],
  size: { rows: number; columns: number } = { rows: 24, columns: 80 },
): Promise<{ code: number | null; output: string }> {
  const script = [
    'import fcntl, json, os, pty, re, select, struct, sys, termios, time',
    'steps = json.loads(os.environ["PTY_STEPS"])',
    'pid, fd = pty.fork()',
    'if pid == 0:',
    '    size = struct.pack("HHHH", int(os.environ["PTY_ROWS"]), int(os.environ["PTY_COLS"]), 0, 0)',
    '    fcntl.ioctl(0, termios.TIOCSWINSZ, size)',
    '    os.execv(sys.argv[1], sys.argv[1:])',
    'out = b""',
    'def read(timeout):',
    '    global out',
    '    ready, _, _ = select.select([fd], [], [], timeout)',
    '    if not ready:',
    '        return True',
    '    try:',
    '        chunk = os.read(fd, 4096)',
    '    except OSError:',
    '        return False',
    '    out += chunk',
    '    return len(chunk) > 0',
    'mark = 0',
    'for step in steps:',
    '    if step[0] == "send":',
    '        os.write(fd, step[1].encode())',
    '    elif step[0] == "resize":',
    '        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", step[1], step[2], 0, 0))',
    '        os.kill(pid, 28)',
    '    else:',
    '        end = time.time() + 20',
    '        found = None',
    '        while found is None and time.time() < end:',
    '            found = re.search(step[1].encode(), out[mark:])',
    '            if found is None and not read(0.1):',
    '                break',
    '        if found is None:',
    '            break',
    '        mark += found.end()',
    'end = time.time() + 60',
    'while time.time() < end and read(1):',
    '    pass',
    'if time.time() >= end:',
    '    os.kill(pid, 9)',
    '    out += b"\\n[killed: still running 60 s after the last step]"',
    'sys.stdout.buffer.write(out)',
    'sys.exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))',
  ].join('\n');
  return new Promise((resolve, reject) => {
    const child = spawn('python3', ['-c', script, process.execPath, ...argv], {
      cwd: repo,
      env: {
        ...process.env,
        TBUILD_ROOT: '',
        PTY_STEPS: JSON.stringify(steps),
        PTY_ROWS: String(size.rows),
        PTY_COLS: String(size.columns),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      output += s;
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
  });
}

/** A tbuild root for one test file and the CLI on it. */
export class ContainerRoot {
  dir = '';

  /** Makes the root and loads busybox into it. */
  async setUp(prefix: string): Promise<void> {
    this.dir = await mkdtemp(join(tmpdir(), prefix));
    await this.ok(['load', '-i', await busyboxArchive()]);
  }

  /** Removes every container, checks nothing is left on the host, removes the root. */
  async tearDown(): Promise<void> {
    if (this.dir === '') return;
    try {
      const all = (await this.ok(['ps', '-aq', '--no-trunc'])).split('\n').filter(Boolean);
      if (all.length > 0) await this.ok(['rm', '-f', ...all]);
      assert.equal(await this.ok(['ps', '-aq']), '');
      // A monitor outlives its container by its exit command's run (conmon waits for it).
      const none = { runc: [], mounts: [], monitors: [] };
      await eventually(() => JSON.stringify(this.leftovers()) === JSON.stringify(none));
      assert.deepEqual(this.leftovers(), none);
    } finally {
      await rm(this.dir, { recursive: true, force: true });
    }
  }

  /** `tbuild --root ROOT ARGS`, stdin from `input` (closed when absent). */
  tbuild(args: string[], input?: string, env?: Record<string, string>): Promise<TbuildResult> {
    return runTbuild(['--root', this.dir, ...args], {
      ...(input === undefined ? {} : { stdin: input }),
      ...(env === undefined ? {} : { env }),
    });
  }

  /** `tbuild ARGS` that must exit 0; its stdout. */
  async ok(args: string[], input?: string, env?: Record<string, string>): Promise<string> {
    const r = await this.tbuild(args, input, env);
    assert.equal(r.code, 0, `tbuild ${args.join(' ')} failed (${r.code}):\n${r.stderr}`);
    return r.stdout;
  }

  /** `run -d`: the id it printed, checked to be Docker's 64 hex digits. */
  async runDetached(...args: string[]): Promise<string> {
    const out = await this.ok(['run', '-d', ...args]);
    assert.match(out, /^[0-9a-f]{64}\n$/);
    return out.trim();
  }

  /** `ps -a --format` of one container: the Status column (`Up …`, `Exited (143) … ago`). */
  async statusOf(name: string): Promise<string> {
    return (await this.ok(['ps', '-a', '--filter', `name=^${name}$`, '--format', '{{.Status}}'])).trim();
  }

  /** `tbuild --root ROOT ARGS` on a pseudo-terminal (see onPty). */
  onPty(args: string[], steps: PtyStep[], size?: { rows: number; columns: number }) {
    return onPty(tbuildArgv(['--root', this.dir, ...args]), steps, size);
  }

  monitorPid(id: string): number {
    return Number(readFileSync(join(this.dir, 'containers', id, 'conmon.pid'), 'utf8').trim());
  }

  containerPid(id: string): number {
    return Number(readFileSync(join(this.dir, 'containers', id, 'bundle', 'pidfile'), 'utf8').trim());
  }

  /** What the root still has running or mounted: runc containers, mounts, conmon processes. */
  leftovers(): { runc: string[]; mounts: string[]; monitors: number[] } {
    const runcRoot = join(this.dir, 'runc', 'containers');
    const runc = existsSync(runcRoot) ? readdirSync(runcRoot) : [];
    const mounts = readFileSync('/proc/self/mounts', 'utf8')
      .split('\n')
      .map((line) => line.split(' ')[1] ?? '')
      .filter((m) => m.startsWith(this.dir));
    const monitors = readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p))
      .filter((p) => {
        try {
          const argv = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
          return (argv[0] ?? '').endsWith('conmon') && argv.some((a) => a.startsWith(this.dir));
        } catch {
          return false;
        }
      })
      .map(Number);
    return { runc, mounts, monitors };
  }
}
