/**
 * The outside programs the network layer drives, found once, and one way to run them.
 *
 * netavark and aardvark-dns are Podman's (Debian packages `netavark`, `aardvark-dns`); Debian
 * installs them under /usr/lib/podman, Fedora under /usr/libexec/podman, neither on PATH.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { findOnPath } from '../monitor.ts';
import { NetworkError } from './errors.ts';

const helperDirs = [
  '/usr/lib/podman',
  '/usr/libexec/podman',
  '/usr/local/lib/podman',
  '/usr/local/libexec/podman',
];

const packages: Record<string, string> = {
  netavark: 'netavark',
  'aardvark-dns': 'aardvark-dns',
  slirp4netns: 'slirp4netns',
  nsenter: 'util-linux',
  unshare: 'util-linux',
  iptables: 'iptables',
  ip: 'iproute2',
};

/** The absolute path of a tool the network layer needs, or a NetworkError naming its package. */
export function networkTool(name: keyof typeof packages | string): string {
  const found =
    findOnPath(name) ?? helperDirs.map((dir) => `${dir}/${name}`).find((path) => existsSync(path));
  if (found !== undefined) return found;
  throw new NetworkError(`${name} is required for container networks but was not found`, {
    hint: `install it (Debian/Ubuntu: apt-get install ${packages[name] ?? name})`,
  });
}

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs argv to its end; never rejects for a non-zero exit (the caller reads `code`). */
export function runTool(
  argv: readonly string[],
  options: { stdin?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<ToolResult> {
  const [command, ...args] = argv as [string, ...string[]];
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: [options.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      env: options.env ?? process.env,
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
    });
    child.stderr?.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
    });
    child.once('error', (error) => reject(new NetworkError(`could not run ${command}: ${error.message}`)));
    child.once('close', (code, signal) => resolve({ code: code ?? 128 + (signal ? 9 : 0), stdout, stderr }));
    if (options.stdin !== undefined) child.stdin?.end(options.stdin);
  });
}

/** Runs argv and throws a NetworkError with its stderr when it fails. */
export async function mustRunTool(
  what: string,
  argv: readonly string[],
  options: { stdin?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<string> {
  const result = await runTool(argv, options);
  if (result.code !== 0) {
    const reason = (result.stderr.trim() || result.stdout.trim()).split('\n').slice(-3).join(' ');
    throw new NetworkError(`${what}: ${reason || `exit code ${result.code}`}`);
  }
  return result.stdout;
}
