/**
 * `exec`: one more process in a running container, through `runc exec` in the foreground. The
 * process is the container's own (bundle/config.json: capabilities, rlimits, no-new-privileges;
 * seccomp and namespaces come from runc's state of the container) with the argv, environment,
 * working directory, user and terminal of the exec. runc waits for it and exits with its code.
 *
 * With a terminal, runc gets our stdio and makes the pty itself, relaying it on the user's
 * terminal with window resizing (runc's foreground console handling); no monitor is involved,
 * so nothing has to receive the pty master (which Node cannot do).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ProcessIO, resolveUser } from '../executor/index.ts';
import type { Container } from './container.ts';
import { containerPaths, containersRuncRoot } from './container-store.ts';
import { ContainerError, RunError } from './errors.ts';
import { inspectContainer } from './lifecycle.ts';
import { applyEnv, daemonEnvironment } from './process.ts';

export interface ExecRequest {
  args: string[];
  /** `-e` and `--env-file`: `K=V` entries over the container's environment; `K` alone as run's. */
  env: string[];
  workdir?: string;
  user?: string;
  tty: boolean;
  /** `-d`: started and left running, its output discarded (the io is not used). */
  detach?: boolean;
  io: ProcessIO;
}

/** Runs the process and resolves with its exit code (Docker's 126/127 when it cannot start). */
export async function execInContainer(root: string, ref: string, request: ExecRequest): Promise<number> {
  const container = await inspectContainer(root, ref);
  const { record, state } = container;
  if (state.Status === 'paused') {
    throw new ContainerError(`Container ${record.Id} is paused, unpause the container before exec`);
  }
  if (state.Status !== 'running') throw new ContainerError(`Container ${record.Id} is not running`);
  if (request.detach && request.tty) {
    // runc can only detach a terminal's process by handing its pty to a console socket.
    throw new ContainerError('exec -d with -t is not supported by tbuild');
  }
  const paths = containerPaths(container.dir, record.Id);
  const processFile = join(paths.bundle, `exec-${randomBytes(6).toString('hex')}.json`);
  const pidFile = `${processFile}.pid`;
  try {
    writeFileSync(processFile, JSON.stringify(await execProcess(container, request)));
    if (request.detach) return await runDetachedExec(containersRuncRoot(root), record.Id, processFile);
    return await runExec(containersRuncRoot(root), record.Id, processFile, pidFile, request.io);
  } finally {
    rmSync(processFile, { force: true });
    rmSync(pidFile, { force: true });
  }
}

/** The OCI process of the exec: the container's, with the exec's argv, env, cwd, user, terminal. */
async function execProcess(container: Container, request: ExecRequest): Promise<Record<string, unknown>> {
  const { record } = container;
  const paths = containerPaths(container.dir, record.Id);
  const spec = JSON.parse(readFileSync(join(paths.bundle, 'config.json'), 'utf8')) as {
    process: Record<string, unknown>;
  };
  const user = request.user ?? record.Config.User;
  const ids = await resolveUser(paths.rootfs, user);
  // moby daemon/exec.go: the daemon's environment with the exec's own tty, then its -e values.
  // The primary gid is listed among the groups (as at start).
  const env = applyEnv(daemonEnvironment(record.Config, request.tty), request.env, process.env);
  return {
    ...spec.process,
    terminal: request.tty,
    args: request.args,
    env,
    cwd: request.workdir ?? (record.Config.WorkingDir || '/'),
    user: { uid: ids.uid, gid: ids.gid, additionalGids: [ids.gid, ...ids.additionalGids] },
  };
}

function runExec(
  runcRoot: string,
  id: string,
  processFile: string,
  pidFile: string,
  io: ProcessIO,
): Promise<number> {
  const child = spawn(
    'runc',
    ['--root', runcRoot, 'exec', '--process', processFile, '--pid-file', pidFile, id],
    {
      stdio: io.inheritStdio ? 'inherit' : [io.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    },
  );
  if (io.stdin && child.stdin) {
    child.stdin.on('error', () => {});
    io.stdin.pipe(child.stdin);
  }
  // runc's own error (the command is missing) comes on the same stderr before the process
  // starts: held back until the pid file exists, so it can become one tbuild line instead.
  let held: Buffer[] | undefined = [];
  const flush = () => {
    if (held !== undefined && existsSync(pidFile)) {
      for (const chunk of held) io.stderr(chunk);
      held = undefined;
    }
  };
  child.stdout?.on('data', (chunk: Buffer) => io.stdout(chunk));
  child.stderr?.on('data', (chunk: Buffer) => {
    flush();
    if (held === undefined) io.stderr(chunk);
    else held.push(chunk);
  });
  return new Promise((resolve, reject) => {
    child.once('error', (error) => reject(new RunError(`could not run runc: ${error.message}`)));
    child.once('close', (code) => {
      if (io.stdin && child.stdin) {
        io.stdin.unpipe(child.stdin);
        io.stdin.pause();
      }
      if (code !== 0 && !existsSync(pidFile) && held !== undefined) {
        resolve(Promise.reject(execStartError(Buffer.concat(held).toString('utf8'))));
        return;
      }
      flush();
      if (held !== undefined) for (const chunk of held) io.stderr(chunk);
      resolve(code ?? 137);
    });
  });
}

/**
 * `exec -d`: `runc exec --detach` returns once the process runs. The process gets /dev/null for
 * its stdio (Docker discards a detached exec's output); runc's own error, if it could not start
 * it, is read from runc's log file, because a pipe on runc's stderr would be inherited by the
 * detached process and stay open as long as it runs.
 */
async function runDetachedExec(runcRoot: string, id: string, processFile: string): Promise<number> {
  const log = `${processFile}.log`;
  try {
    const code = await new Promise<number>((resolve, reject) => {
      const child = spawn(
        'runc',
        [
          '--root',
          runcRoot,
          '--log',
          log,
          '--log-format',
          'json',
          'exec',
          '--detach',
          '--process',
          processFile,
          id,
        ],
        { stdio: 'ignore' },
      );
      child.once('error', (error) => reject(new RunError(`could not run runc: ${error.message}`)));
      child.once('close', (exitCode) => resolve(exitCode ?? 1));
    });
    if (code === 0) return 0;
    const messages = readFileSync(log, 'utf8')
      .split('\n')
      .flatMap((line) => {
        try {
          const entry = JSON.parse(line) as { level?: string; msg?: string };
          return entry.level === 'error' && entry.msg ? [entry.msg] : [];
        } catch {
          return [];
        }
      });
    throw execStartError(messages.join('\n') || `runc exec exited with ${code}`);
  } finally {
    rmSync(log, { force: true });
  }
}

/**
 * Docker's exec start failure: the daemon records exit code 126 whatever the reason (moby
 * daemon/exec.go ContainerExecStart: "OCI runtime exec failed"), and the CLI exits with it.
 */
function execStartError(text: string): RunError {
  const reason = /exec failed: (.+?)"?\s*$/m.exec(text)?.[1] ?? text.trim();
  return new RunError(`OCI runtime exec failed: ${reason.replaceAll('\\"', '"')}`, { exitCode: 126 });
}
