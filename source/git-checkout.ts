import { spawn } from 'node:child_process';
import { lstat, mkdir, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { SourceError } from './errors.ts';
import { type GitRef, redactCredentials } from './git-url.ts';

/**
 * A git repository at one ref, checked out into a directory with Debian's `git` (what BuildKit's
 * source/git does, shelling out to git the same way; a git client is no library's job).
 *
 * What a remote or a ref can do is fenced in (CVE-2019-13139 was a ref read as an option):
 * - A ref (or checksum) starting with `-` is refused, and every user-given value goes after `--`.
 * - Only the http(s), ssh, git and file transports are allowed (`protocol.allow=never` for the
 *   rest: `ext::` runs commands); file only for what the user asked (`protocol.file.allow=user`:
 *   a submodule cannot point at the builder's disk).
 * - No system or user git config is read (BuildKit's GIT_CONFIG_NOSYSTEM and HOME=/dev/null), no
 *   prompt (GIT_TERMINAL_PROMPT=0); files are written with umask 022, as BuildKit's
 *   runWithStandardUmask does, so modes do not depend on the caller's umask.
 * - A subdirectory is followed only through real directories of the checkout, never a symlink.
 */
export interface GitCheckout {
  /** The directory to build from: the checkout, or its subdirectory. */
  dir: string;
  /** The commit checked out (full hash). */
  commit: string;
}

export interface GitCheckoutOptions {
  /** The ssh-agent socket ssh remotes authenticate with (SSH_AUTH_SOCK). */
  sshAuthSock?: string;
  signal?: AbortSignal;
}

const commitHash = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

/** What a checkout needs of a git address (an `ADD` source's graph op carries the same fields). */
export type GitSpec = Pick<GitRef, 'remote' | 'ref' | 'checksum' | 'subdir' | 'keepGitDir' | 'submodules'>;

/** Fetches `ref` and checks it out into `into` (made; must not exist). */
export async function checkoutGit(
  ref: GitSpec,
  into: string,
  options: GitCheckoutOptions = {},
): Promise<GitCheckout> {
  const shown = refuseOptionLike(ref);
  const run = (args: string[]) => runGit(args, into, ref.remote, options);
  await mkdir(into, { recursive: true, mode: 0o755 });
  await run(['-c', 'init.defaultBranch=master', 'init', '-q']);
  const wanted = ref.ref;
  let commit: string;
  if (wanted !== undefined && commitHash.test(wanted)) {
    // A server may refuse a commit it does not advertise: then fetch its branches and tags.
    await fetch(run, [ref.remote, wanted]).catch(() =>
      fetch(run, [ref.remote, '+refs/heads/*:refs/remotes/origin/*', '+refs/tags/*:refs/tags/*'], false),
    );
    commit = (await run(['rev-parse', '--verify', '-q', `${wanted}^{commit}`]).catch(() => '')).trim();
    if (commit === '') throw new SourceError(`repository ${shown} does not contain commit ${wanted}`);
  } else {
    // No ref: the remote's HEAD, its default branch (git fetches HEAD when given no refspec).
    await fetch(run, wanted === undefined ? [ref.remote] : [ref.remote, wanted]);
    commit = (await run(['rev-parse', '--verify', 'FETCH_HEAD^{commit}'])).trim();
  }
  checkChecksum(ref, commit, shown);
  await run(['-c', 'advice.detachedHead=false', 'checkout', '-q', commit]);
  if (ref.submodules !== false && (await exists(join(into, '.gitmodules')))) {
    await run(['submodule', 'update', '--init', '--recursive', '--depth=1']);
  }
  const dir = ref.subdir === undefined ? into : await subdirectory(into, ref.subdir, shown);
  // BuildKit keeps .git only for the whole repository.
  if (ref.keepGitDir && ref.subdir === undefined) {
    await run(['remote', 'add', 'origin', '--', shown]);
    await unlink(join(into, '.git', 'FETCH_HEAD')).catch(() => undefined);
    await run(['reflog', 'expire', '--all', '--expire=now']);
  } else await rm(join(into, '.git'), { recursive: true, force: true });
  return { dir, commit };
}

/**
 * The commit `ref` names now, without fetching it: a full hash is itself; anything else is looked
 * up with `git ls-remote` (one request, as BuildKit's git source resolves a ref for its cache key)
 * by git's own rules for a short name (the name, refs/…, a tag before a branch), an annotated tag
 * peeled to its commit. No ref: the remote's HEAD.
 */
export async function resolveGitCommit(ref: GitSpec, options: GitCheckoutOptions = {}): Promise<string> {
  const shown = refuseOptionLike(ref);
  const wanted = ref.ref;
  let commit: string | undefined;
  if (wanted !== undefined && commitHash.test(wanted)) commit = wanted;
  else {
    const listed = await runGit(
      // A pattern matches the end of a ref's name: `v1^{}` asks for an annotated tag's commit.
      ['ls-remote', '--', ref.remote, ...(wanted === undefined ? ['HEAD'] : [wanted, `${wanted}^{}`])],
      '/',
      ref.remote,
      options,
      // The user asked for the repository, not a listing: BuildKit too says "failed to fetch
      // remote" when its ls-remote fails (source/git resolveMetadata).
      'fetch',
    );
    const refs = new Map<string, string>();
    for (const line of listed.split('\n')) {
      const [hash, name] = line.split('\t');
      if (hash && name) refs.set(name, hash);
    }
    const names =
      wanted === undefined
        ? ['HEAD']
        : [wanted, `refs/${wanted}`, `refs/tags/${wanted}`, `refs/heads/${wanted}`, `refs/remotes/${wanted}`];
    for (const name of names) {
      commit = refs.get(`${name}^{}`) ?? refs.get(name);
      if (commit !== undefined) break;
    }
    if (commit === undefined) {
      // git fetch's own words for it (what fetching the ref would have said).
      throw new SourceError(`failed to fetch ${shown}: fatal: couldn't find remote ref ${wanted ?? 'HEAD'}`);
    }
  }
  checkChecksum(ref, commit, shown);
  return commit;
}

/** The remote as shown (credentials redacted); refuses a ref, checksum or remote that git could read as an option. */
function refuseOptionLike(ref: GitSpec): string {
  const shown = redactCredentials(ref.remote);
  for (const [what, value] of [
    ['ref', ref.ref],
    ['commit', ref.checksum],
  ] as const) {
    if (value?.startsWith('-'))
      throw new SourceError(`invalid git ${what} "${value}" for ${shown}: it must not start with "-"`);
  }
  if (ref.remote.startsWith('-')) throw new SourceError(`invalid git remote "${shown}"`);
  return shown;
}

/** A checksum is a hex prefix of the commit (BuildKit source/git resolveMetadata). */
function checkChecksum(ref: GitSpec, commit: string, shown: string): void {
  if (ref.checksum === undefined) return;
  if (!/^[0-9a-fA-F]+$/.test(ref.checksum)) {
    throw new SourceError(`invalid checksum ${ref.checksum} for Git URL, expected hex commit hash`);
  }
  if (!commit.startsWith(ref.checksum.toLowerCase())) {
    throw new SourceError(
      `expected checksum to match ${ref.checksum}, got ${commit} for ${shown}${ref.ref ? `#${ref.ref}` : ''}`,
    );
  }
}

type Run = (args: string[]) => Promise<string>;

/** `git fetch` of one refspec (or HEAD); shallow first, whole when the server cannot do shallow. */
async function fetch(run: Run, remoteAndRefs: string[], shallow = true): Promise<void> {
  const args = ['fetch', '-q', '--no-tags', '--force'];
  try {
    await run([...args, ...(shallow ? ['--depth=1'] : []), '--', ...remoteAndRefs]);
  } catch (error) {
    // Dumb http and some servers cannot do shallow fetches (BuildKit's argsNoDepth retry).
    if (!shallow || !/depth|shallow/i.test((error as Error).message)) throw error;
    await run([...args, '--', ...remoteAndRefs]);
  }
}

/** `<checkout>/<subdir>`, reached through directories only (a symlink could lead off the checkout). */
async function subdirectory(root: string, subdir: string, shown: string): Promise<string> {
  let dir = root;
  for (const part of subdir.split('/')) {
    dir = join(dir, part);
    const info = await lstat(dir).catch(() => undefined);
    if (!info?.isDirectory()) {
      throw new SourceError(
        `subdirectory ${subdir} of ${shown}: ${info === undefined ? 'no such directory' : `${part} is not a directory`}`,
      );
    }
  }
  return dir;
}

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}

const allowedTransports = ['https', 'http', 'ssh', 'git'];

/** Runs `git args…` in `cwd` with a clean environment; rejects with git's stderr, credentials redacted. */
function runGit(
  args: string[],
  cwd: string,
  remote: string,
  options: GitCheckoutOptions,
  /** What a failure says was being done (default: the git command run). */
  doing?: string,
): Promise<string> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    GIT_TERMINAL_PROMPT: '0',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    HOME: '/dev/null',
    LC_ALL: 'C',
  };
  for (const name of [
    'HTTP_PROXY',
    'HTTPS_PROXY',
    'NO_PROXY',
    'ALL_PROXY',
    'http_proxy',
    'https_proxy',
    'no_proxy',
    'all_proxy',
  ]) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  // The user's own ssh command (a key, a known_hosts file) still applies: tbuild fetches as them.
  if (process.env.GIT_SSH_COMMAND !== undefined) env.GIT_SSH_COMMAND = process.env.GIT_SSH_COMMAND;
  const agent = options.sshAuthSock ?? process.env.SSH_AUTH_SOCK;
  if (agent !== undefined) env.SSH_AUTH_SOCK = agent;
  const config = [
    'protocol.allow=never',
    'protocol.file.allow=user',
    ...allowedTransports.map((name) => `protocol.${name}.allow=always`),
  ].flatMap((setting) => ['-c', setting]);
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', 'umask 022 && exec git "$@"', 'git', ...config, ...args], {
      cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    // git starts helpers (ssh, git-remote-https): the whole group goes on cancel.
    const cancel = () => {
      if (child.pid !== undefined) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {}
      }
    };
    options.signal?.addEventListener('abort', cancel, { once: true });
    child.once('error', (error) => {
      options.signal?.removeEventListener('abort', cancel);
      reject(new SourceError(`git could not be run: ${error.message}`, { hint: 'apt-get install git' }));
    });
    child.once('close', (code) => {
      options.signal?.removeEventListener('abort', cancel);
      if (options.signal?.aborted) return reject(options.signal.reason);
      if (code === 0) return resolve(stdout);
      const shown = redactCredentials(remote);
      const said = stderr
        .split(remote)
        .join(shown)
        .split('\n')
        .filter((line) => line.trim() !== '')
        .slice(-6)
        .join('; ');
      const verb = doing ?? args.find((arg) => !arg.startsWith('-') && !arg.includes('=')) ?? 'git';
      reject(new SourceError(`failed to ${verb} ${shown}: ${said || `git exited with code ${code}`}`));
    });
  });
}
