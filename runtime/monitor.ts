/**
 * The container monitor: conmon (Podman's, the Debian package `conmon`), one per running
 * container. It runs `runc create` with the container's stdio on pipes (or on the pty that runc
 * hands over runc's console socket for `-t`), writes every line to the container's k8s-file log,
 * keeps an attach socket in the bundle, reaps the container as a subreaper, writes the exit code
 * to `exits/<id>` and then runs the exit command (`tbuild container-cleanup <id>`, which records
 * the exit, unmounts the rootfs and applies `--rm` / `--restart`).
 *
 * Why conmon and not a Node process of ours: a monitor must receive the pty master that runc
 * passes as SCM_RIGHTS over the console socket, and Node cannot receive file descriptors over a
 * unix socket; conmon is also a few hundred KiB of C that stays resident per container, where a
 * Node monitor would cost ~40 MiB each. It is what Podman uses for the same job.
 *
 * Protocol with conmon (conmon's src/conmon.c and Podman's libpod/oci_conmon_linux.go): conmon
 * forks into the background, runs `runc create`, and writes `{"data": PID}` (or a negative
 * number and a `message`) on the fd named by `_OCI_SYNCPIPE`; tbuild then runs `runc start`.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Readable } from 'node:stream';
import { TbuildError } from '../errors.ts';
import { RunError } from './errors.ts';

/** Settings of one conmon launch. */
export interface MonitorLaunch {
  id: string;
  name: string;
  bundle: string;
  runcRoot: string;
  logPath: string;
  exitDir: string;
  containerPidFile: string;
  monitorPidFile: string;
  monitorLogFile: string;
  terminal: boolean;
  stdin: boolean;
  /** Close the container's stdin when an attached client ends its input (Docker's StdinOnce). */
  stdinOnce: boolean;
  /** argv of the exit command conmon runs after the container exits. */
  exitCommand: string[];
}

const conmonHint = 'install conmon (Debian/Ubuntu: apt-get install conmon), or put it in PATH';

/** An executable on PATH, as an absolute path (conmon wants one for `-r`). */
export function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const path = join(dir, name);
    try {
      if (statSync(path).isFile()) return path;
    } catch {}
  }
  return undefined;
}

/**
 * Starts conmon for a created-not-started container and resolves with the container's pid once
 * `runc create` is done. Rejects with a RunError carrying runc's reason when it failed.
 */
export async function launchMonitor(launch: MonitorLaunch): Promise<{ pid: number; monitorPid: number }> {
  const conmon = findOnPath('conmon');
  if (conmon === undefined)
    throw new RunError('conmon is required to run containers but was not found', { hint: conmonHint });
  const runc = findOnPath('runc');
  if (runc === undefined) throw new RunError('runc is required to run containers but was not found');
  const [exitCmd, ...exitArgs] = launch.exitCommand;
  const args = [
    '--api-version',
    '1',
    '-c',
    launch.id,
    '-u',
    launch.id,
    '-n',
    launch.name,
    '-r',
    runc,
    '-b',
    launch.bundle,
    '-p',
    launch.containerPidFile,
    '--exit-dir',
    launch.exitDir,
    '--full-attach',
    '--socket-dir-path',
    launch.bundle,
    '-l',
    `k8s-file:${launch.logPath}`,
    '--log-level',
    'error',
    '--conmon-pidfile',
    launch.monitorPidFile,
    '--runtime-arg',
    `--root=${launch.runcRoot}`,
    ...(exitCmd === undefined
      ? []
      : ['--exit-command', exitCmd, ...exitArgs.flatMap((a) => ['--exit-command-arg', a])]),
    ...(launch.terminal ? ['-t'] : []),
    ...(launch.stdin ? ['-i'] : []),
    ...(launch.stdin && !launch.stdinOnce ? ['--leave-stdin-open'] : []),
  ];
  const logFd = openSync(launch.monitorLogFile, 'a');
  let child: ReturnType<typeof spawn>;
  try {
    child = spawn(conmon, args, {
      stdio: ['ignore', logFd, logFd, 'pipe'],
      detached: true,
      env: { ...process.env, _OCI_SYNCPIPE: '3' },
    });
  } finally {
    closeSync(logFd);
  }
  const sync = child.stdio[3] as Readable;
  const message = await new Promise<{ data: number; message?: string }>((resolve, reject) => {
    let text = '';
    child.once('error', (error) =>
      reject(new RunError(`could not start conmon: ${error.message}`, { hint: conmonHint })),
    );
    sync.setEncoding('utf8');
    sync.on('data', (s: string) => {
      text += s;
      const nl = text.indexOf('\n');
      if (nl < 0) return;
      try {
        resolve(JSON.parse(text.slice(0, nl)) as { data: number; message?: string });
      } catch {
        reject(new RunError(`conmon sent an unreadable message: ${text.slice(0, nl)}`));
      }
    });
    sync.once('end', () => {
      const log = readTail(launch.monitorLogFile);
      reject(new RunError(`conmon exited before the container was created${log ? `: ${log}` : ''}`));
    });
  });
  sync.destroy();
  child.unref();
  if (message.data < 0) throw startError(message.message ?? 'runc create failed');
  const monitorPid = Number(readFileSync(launch.monitorPidFile, 'utf8').trim());
  return { pid: message.data, monitorPid };
}

/**
 * Docker's exit codes for a process that could not start (moby daemon/start.go): 127 when the
 * executable is not found, 126 when it cannot be invoked, 125 otherwise.
 */
export function startError(text: string): RunError {
  const reason = /unable to start container process: (.+?)"?\s*$/m.exec(text)?.[1];
  const message = reason
    ? `failed to start the container process: ${reason.replaceAll('\\"', '"')}`
    : text.trim();
  const exitCode = /not found|no such file or directory/i.test(message)
    ? 127
    : /permission denied|exec format error/i.test(message)
      ? 126
      : 125;
  return new RunError(message, { exitCode });
}

function readTail(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim().split('\n').slice(-3).join(' ');
  } catch {
    return '';
  }
}

/** A process's start time in clock ticks since boot (field 22 of /proc/PID/stat), or undefined. */
export function processStartTicks(pid: number): number | undefined {
  const stat = procStat(pid);
  return stat?.startTicks;
}

function procStat(pid: number): { state: string; startTicks: number } | undefined {
  if (!(pid > 0)) return undefined;
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may itself contain ") ".
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0] ?? '', startTicks: Number(fields[19]) };
}

/** True while the monitor with this pid and start time runs (a zombie or a reused pid is not it). */
export function isMonitorAlive(pid: number, startTicks: number): boolean {
  const stat = procStat(pid);
  return stat !== undefined && stat.state !== 'Z' && stat.state !== 'X' && stat.startTicks === startTicks;
}

/** True while a process with this pid exists and is not a zombie. */
export function isProcessRunning(pid: number): boolean {
  const stat = procStat(pid);
  return stat !== undefined && stat.state !== 'Z' && stat.state !== 'X';
}

/** The exit code conmon wrote, or undefined while there is none. */
export function readExitFile(path: string): { code: number; at: Date } | undefined {
  try {
    const text = readFileSync(path, 'utf8').trim();
    if (text === '') return undefined;
    return { code: Number(text), at: statSync(path).mtime };
  } catch {
    return undefined;
  }
}

/** `runc --root R <args>`; resolves with its exit code and stderr, never rejects for a non-zero exit. */
export function runc(
  runcRoot: string,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('runc', ['--root', runcRoot, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
    });
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
    });
    child.once('error', (error) => reject(new TbuildError(`could not run runc: ${error.message}`)));
    child.once('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** runc's view of the container: its status, or undefined when runc does not know it. */
export async function runcStatus(runcRoot: string, id: string): Promise<string | undefined> {
  if (!existsSync(join(runcRoot, id))) return undefined;
  const r = await runc(runcRoot, ['state', id]);
  if (r.code !== 0) return undefined;
  try {
    return (JSON.parse(r.stdout) as { status: string }).status;
  } catch {
    return undefined;
  }
}

/** Waits until `done()` is true, polling; false when `timeoutMs` passed first. */
export async function pollUntil(done: () => boolean, timeoutMs: number, intervalMs = 25): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() >= end) return false;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  return true;
}
