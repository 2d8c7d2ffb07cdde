/**
 * A private dockerd 20.10 (Debian's docker.io) for tests that check tbuild against Docker: its own
 * socket, data and exec roots under a test folder, no bridge, no iptables, no address or route
 * changes in the host. A shell watchdog between the test process and dockerd stops it when the
 * test process dies, even by SIGKILL. Needs root, dockerd and a docker client older than 23 (newer
 * ones build only through buildx, which Debian 12 does not package).
 */
import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { findExecutable, findExecutables, needCommands } from './needs.ts';

const exec = promisify(execFile);
// Debian's docker.io: dockerd 20.10 and its own client. A machine may also have a newer client
// first on PATH (CI's has Docker 28's in /usr/local/bin): from 23 on, `docker build` hands BuildKit
// builds to the buildx plugin, which Debian 12 does not package, and refuses without it. So the
// client is the first one on PATH (or Debian's /usr/bin/docker) older than 23.
const dockerClient = dockerClientWithBuiltinBuildkit();
const dockerBin = dockerClient ?? 'docker';
const dockerdBin = findExecutable('dockerd') ?? 'dockerd';

/** Why a private dockerd cannot run here, or false. */
export function whyNoDocker(): string | false {
  const missing = needCommands('dockerd:docker.io', 'docker:docker.io');
  if (missing) return missing;
  return dockerClient === undefined
    ? 'needs a docker client older than 23 (Debian 12 docker.io, /usr/bin/docker): newer ones build only through buildx'
    : false;
}

function dockerClientWithBuiltinBuildkit(): string | undefined {
  for (const path of [...findExecutables('docker'), '/usr/bin/docker']) {
    const version = spawnSync(path, ['--version'], { encoding: 'utf8' }).stdout ?? '';
    const major = Number(/version (\d+)\./.exec(version)?.[1]);
    if (major > 0 && major < 23) return path;
  }
  return undefined;
}

export interface PrivateDockerd {
  /** `docker -H unix://SOCKET ...args` with BuildKit on; rejects with docker's stderr. */
  docker(args: string[]): Promise<{ stdout: string; stderr: string }>;
  /** `docker -H unix://SOCKET ...args` to its end, failing or not: its exit code and output. */
  dockerResult(args: string[], stdin?: string): Promise<{ code: number; stdout: string; stderr: string }>;
  /** Stops dockerd and unmounts what it left under its folder (the caller removes the folder). */
  stop(): Promise<void>;
}

/**
 * Starts dockerd with everything under `dir` (made by the caller) and its API on `socket` (a path
 * no other test uses, so two test files can each run one). Resolves once it answers.
 */
export async function startPrivateDockerd(dir: string, socket: string): Promise<PrivateDockerd> {
  const docker = async (args: string[]) => {
    try {
      return await exec(dockerBin, ['-H', `unix://${socket}`, ...args], {
        env: { ...process.env, DOCKER_BUILDKIT: '1' },
        maxBuffer: 64 << 20,
      });
    } catch (error) {
      const failed = error as Error & { stderr?: string };
      throw new Error(`docker ${args.join(' ')} failed:\n${failed.stderr ?? failed.message}`);
    }
  };
  const dockerResult = (args: string[], stdin?: string) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(dockerBin, ['-H', `unix://${socket}`, ...args], {
        env: { ...process.env, DOCKER_BUILDKIT: '1' },
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
      child.stdin.on('error', () => undefined);
      child.stdin.end(stdin ?? '');
      child.once('error', reject);
      child.once('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    });
  if (existsSync(socket)) {
    // A socket left by a dockerd that died is removed; a live one belongs to another run.
    const alive = await exec(dockerBin, ['-H', `unix://${socket}`, 'info']).then(
      () => true,
      () => false,
    );
    if (alive) throw new Error(`${socket} answers: another test run's dockerd is up`);
    await rm(socket, { force: true });
  }
  const child = spawnDockerd(join(dir, 'docker'), socket);
  const stop = async () => {
    await stopDockerd(child);
    await unmountUnder(dir);
  };
  try {
    await waitForDockerd(socket, `${join(dir, 'docker')}.log`);
  } catch (error) {
    await stop();
    throw error;
  }
  return { docker, dockerResult, stop };
}

function spawnDockerd(dir: string, socket: string): ChildProcess {
  const args = [
    '-H',
    `unix://${socket}`,
    '--data-root',
    join(dir, 'data'),
    '--exec-root',
    join(dir, 'exec'),
    '--pidfile',
    join(dir, 'dockerd.pid'),
    '--bridge=none',
    '--iptables=false',
    '--ip6tables=false',
    '--ip-forward=false',
    '--ip-masq=false',
  ];
  const watchdog = [
    `"${dockerdBin}" "$@" >"${dir}.log" 2>&1 </dev/null & pid=$!`,
    "trap 'kill -TERM $pid; wait $pid; exit 0' TERM",
    `while kill -0 ${process.pid} 2>/dev/null && kill -0 $pid 2>/dev/null; do sleep 1 & wait $!; done`,
    'kill -TERM $pid 2>/dev/null; wait $pid',
  ].join('\n');
  const child = spawn('bash', ['-c', watchdog, 'dockerd-watchdog', ...args], { stdio: 'ignore' });
  // Never what keeps this process alive: node:test skips the later after() hooks once one throws,
  // and a referenced child left running then held the file's process (and CI) open forever.
  // Unreferenced, the process exits and the watchdog stops dockerd within a second.
  child.unref();
  return child;
}

async function waitForDockerd(socket: string, log: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await exec(dockerBin, ['-H', `unix://${socket}`, 'info']);
      return;
    } catch (error) {
      if (Date.now() > deadline) {
        const text = await readFile(log, 'utf8').catch(() => '');
        throw new Error(`dockerd did not start: ${(error as Error).message}\n${text.slice(-2000)}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

async function stopDockerd(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  // Referenced again while we wait for it to go, or the event loop could end first.
  child.ref();
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

/** Lazily unmounts anything dockerd left mounted under `dir` (deepest first), so rm stays inside. */
async function unmountUnder(dir: string): Promise<void> {
  const mounts = (await readFile('/proc/self/mountinfo', 'utf8'))
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .filter((point) => point.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const point of mounts) await exec('umount', ['-l', point]).catch(() => undefined);
}
