import { spawn } from 'node:child_process';
import { mkdir, rm, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { secretScratchPath } from '../cache/index.ts';
import { SourceError } from './errors.ts';

/**
 * The ssh agents a build forwards to `RUN --mount=type=ssh` (`--ssh ID[=SOCKET|KEY[,KEY…]]`), as
 * buildx's sshprovider gives them: no path is the caller's own agent ($SSH_AUTH_SOCK); a socket
 * path is that agent; key files are loaded into an agent of the build's own. That one is Debian's
 * `ssh-agent` (openssh-client; BuildKit keeps keys in an in-process agent, which would mean an
 * ssh key parser and signer of our own): the keys go from the files into it with `ssh-add` and
 * never pass through tbuild, its logs or the build's layers.
 *
 * The agent is watched by a shell that holds a pipe from tbuild and kills the agent when the pipe
 * closes, so it ends with tbuild even after a kill -9; its socket lives in a private directory on
 * a memory filesystem that the next sweep removes if tbuild could not.
 */
export interface SshSpec {
  id: string;
  /** Sockets or key files; empty: $SSH_AUTH_SOCK. */
  paths: string[];
}

export interface SshAgents {
  /** The host socket of each id's agent. */
  readonly sockets: ReadonlyMap<string, string>;
  /** Stops the agents tbuild started. Never throws. */
  close(): Promise<void>;
}

/** buildx's `--ssh` value: `ID[=PATH[,PATH…]]`. */
export function parseSshSpec(value: string): SshSpec {
  const eq = value.indexOf('=');
  const id = eq < 0 ? value : value.slice(0, eq);
  const paths =
    eq < 0
      ? []
      : value
          .slice(eq + 1)
          .split(',')
          .filter((path) => path !== '');
  return { id, paths };
}

/** Finds or starts the agent of every spec; on failure, those started are stopped. */
export async function openSshAgents(specs: readonly SshSpec[]): Promise<SshAgents> {
  const sockets = new Map<string, string>();
  const stops: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const stop of stops.splice(0)) await stop().catch(() => undefined);
  };
  try {
    for (const spec of specs) {
      const paths = spec.paths.length > 0 ? spec.paths.map(expandHome) : [process.env.SSH_AUTH_SOCK ?? ''];
      if (paths[0] === '') {
        throw new SourceError(
          `invalid empty ssh agent socket: make sure SSH_AUTH_SOCK is set (--ssh ${spec.id})`,
        );
      }
      const kinds = await Promise.all(paths.map((path) => kindOf(path, spec.id)));
      if (kinds.includes('socket')) {
        if (paths.length > 1) {
          throw new SourceError(
            `--ssh ${spec.id}: ${kinds.every((k) => k === 'socket') ? 'only single socket allowed' : 'invalid combination of keys and sockets'}`,
          );
        }
        sockets.set(spec.id, paths[0] as string);
        continue;
      }
      const agent = await startAgent(spec.id);
      stops.push(agent.stop);
      await addKeys(agent.socket, paths, spec.id);
      sockets.set(spec.id, agent.socket);
    }
  } catch (error) {
    await close();
    throw error;
  }
  return { sockets, close };
}

function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? join(homedir(), path.slice(1)) : path;
}

async function kindOf(path: string, id: string): Promise<'socket' | 'key'> {
  const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
    throw new SourceError(
      `--ssh ${id}: ${path}: ${error.code === 'ENOENT' ? 'no such file or directory' : error.message}`,
    );
  });
  if (info.isSocket()) return 'socket';
  if (info.isFile()) return 'key';
  throw new SourceError(`--ssh ${id}: ${path}: expected an ssh agent socket or a private key file`);
}

const watchdog = [
  'command -v ssh-agent >/dev/null || exit 127',
  'ssh-agent -D -a "$1" >/dev/null 2>&1 & agent=$!',
  // Our end of stdin closes when tbuild stops or dies: then so does the agent.
  'read -r _',
  'kill "$agent" 2>/dev/null',
  'wait "$agent"',
].join('\n');

async function startAgent(id: string): Promise<{ socket: string; stop(): Promise<void> }> {
  const dir = secretScratchPath();
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const socket = join(dir, 'agent.sock');
  const child = spawn('sh', ['-c', watchdog, 'sh', socket], { stdio: ['pipe', 'ignore', 'ignore'] });
  child.stdin.on('error', () => undefined);
  let exited: number | null | undefined;
  const gone = new Promise<void>((resolve) => {
    child.once('exit', (code) => {
      exited = code;
      resolve();
    });
    child.once('error', () => {
      exited = 127;
      resolve();
    });
  });
  const stop = async () => {
    child.stdin.end();
    await gone;
    await rm(dir, { recursive: true, force: true });
  };
  for (let waited = 0; ; waited += 20) {
    if (
      await stat(socket).then(
        (s) => s.isSocket(),
        () => false,
      )
    )
      return { socket, stop };
    if (exited !== undefined || waited > 10_000) {
      await stop();
      throw new SourceError(`--ssh ${id}: ssh-agent could not be started`, {
        hint: "tbuild runs Debian's ssh-agent for key files: apt-get install openssh-client",
      });
    }
    await sleep(20);
  }
}

/** `ssh-add` without a terminal: a key with a passphrase cannot be asked for and fails. */
function addKeys(socket: string, keys: string[], id: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('ssh-add', ['-q', '--', ...keys], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', SSH_AUTH_SOCK: socket, SSH_ASKPASS_REQUIRE: 'never' },
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true,
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.once('error', (error) =>
      reject(
        new SourceError(`--ssh ${id}: ssh-add could not be run: ${error.message}`, {
          hint: 'apt-get install openssh-client',
        }),
      ),
    );
    child.once('close', (code) => {
      if (code === 0) return resolve();
      const said = stderr
        .trim()
        .split('\n')
        .filter((line) => !/^Enter passphrase/.test(line))
        .join('; ');
      reject(
        new SourceError(
          `--ssh ${id}: could not load ${keys.join(', ')} into an ssh agent: ${said || `ssh-add exited with code ${code}`}`,
          {
            hint: 'a key with a passphrase: add it to your own agent (ssh-add KEY) and pass --ssh default',
          },
        ),
      );
    });
  });
}
