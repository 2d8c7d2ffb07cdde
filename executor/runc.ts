import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { lstat, readdir, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { isOwnerAlive, ownerToken } from '../processes.ts';
import { ExecError } from './errors.ts';
import { createLoopbackNetns, type LoopbackNetns } from './netns.ts';
import { isMissing, resolveInRoot } from './rootpath.ts';
import { capabilitiesInMask, hostsFileContent, resolvConfContent, runtimeSpec, specJson } from './spec.ts';
import { recordMountStubs } from './stubs.ts';
import type { ExecMeta, Executor, NetworkMode, ProcessIds, ProcessIO } from './types.ts';
import { resolveUser } from './user.ts';

/** Settings for {@link createRuncExecutor}. */
export interface RuncExecutorOptions {
  /**
   * A directory the executor owns: `bundles/<id>/` (config.json, hosts, resolv.conf; removed
   * after each run) and `runc/` (runc's `--root` state). Created when missing.
   */
  stateDir: string;
  /** The runc binary; `runc` from PATH by default. */
  runc?: string;
  /** The host's resolver config; defaults to /etc/resolv.conf (or systemd-resolved's upstream file). */
  hostResolvConf?: string;
  /**
   * `network: 'none'` processes join one loopback-only namespace made on first use (netns.ts)
   * instead of each getting a fresh one: ~20 ms less per run. Call `close()` when done.
   */
  shareNoneNetwork?: boolean;
}

/** A runc executor; `close()` releases what runs shared (the `none` network namespace). */
export interface RuncExecutor extends Executor {
  close(): Promise<void>;
}

const installHint =
  'install runc (Debian/Ubuntu: apt-get install runc; Fedora: dnf install runc), or put it in PATH';

/** How long to wait between `runc kill` attempts while the container is still being created. */
const killRetryMs = 50;

/** Keep this much of stderr to explain a failed sandbox start. */
const stderrTailBytes = 4096;

/**
 * An {@link Executor} on runc, the way BuildKit's executor/runcexecutor/executor.go runs a step:
 * resolve the user, write the bundle, create the working directory, `runc run` in the
 * foreground with the output piped (no terminal), then remove the bundle and any mount-point
 * stubs runc created. On abort the container is killed with SIGKILL and deleted, and the
 * promise rejects with `signal.reason`. Requires root (runc rootless mode is not set up here).
 */
export function createRuncExecutor(options: RuncExecutorOptions): RuncExecutor {
  const runc = options.runc ?? 'runc';
  const stateDir = resolve(options.stateDir);
  const runcRoot = join(stateDir, 'runc');
  let sharedNetns: Promise<LoopbackNetns> | undefined;
  /** The shared namespace for `network: 'none'`, made on first use; undefined when not shared. */
  const sharedNoneNetwork = (network: NetworkMode): Promise<LoopbackNetns> | undefined => {
    if (network !== 'none' || !options.shareNoneNetwork) return undefined;
    sharedNetns ??= createLoopbackNetns();
    return sharedNetns;
  };

  return {
    async close() {
      const netns = sharedNetns;
      sharedNetns = undefined;
      (await netns?.catch(() => undefined))?.release();
    },
    prepare(network) {
      sharedNoneNetwork(network)?.catch(() => {}); // a failure is reported by the run that needs it
    },
    async run(rootfs, mounts, meta, io, signal) {
      signal.throwIfAborted();
      // No `runc --version` first (~20 ms a build): a missing runc is reported when `runc run`
      // cannot be spawned, with the same hint (runContainer).
      validateMeta(meta);
      const root = resolve(rootfs);
      const resolved = await resolveUser(root, meta.user);
      const ids = meta.primaryGroupSupplementary
        ? { ...resolved, additionalGids: [resolved.gid, ...resolved.additionalGids] }
        : resolved;
      // The id says whose container it is, so that once this process is killed the next command
      // on the root can delete it and its bundle (sweepStaleContainers).
      const id = `tbuild-${ownerToken()}-${randomBytes(8).toString('hex')}`;
      const bundle = join(stateDir, 'bundles', id);
      // Small files, synchronous: thread-pool round trips cost more than these calls.
      mkdirSync(bundle, { recursive: true, mode: 0o700 });
      let cleanupStubs: (() => Promise<void>) | undefined;
      try {
        const files = { hostsPath: join(bundle, 'hosts'), resolvConfPath: join(bundle, 'resolv.conf') };
        writeFileSync(files.hostsPath, hostsFileContent(meta.hostname ?? '', meta.extraHosts), {
          mode: 0o644,
        });
        const hostResolv = readHostResolvConf(options.hostResolvConf, meta.network);
        writeFileSync(files.resolvConfPath, resolvConfContent(hostResolv, meta.network), { mode: 0o644 });
        const netns = sharedNoneNetwork(meta.network);
        const networkNamespacePath = netns === undefined ? undefined : (await netns).path;
        const spec = runtimeSpec(root, mounts, meta, ids, {
          ...files,
          hostNofileHard: readNofileHard(),
          ...(meta.security === 'insecure' ? { hostCapabilities: readBoundingCapabilities() } : {}),
          ...(networkNamespacePath === undefined ? {} : { networkNamespacePath }),
        });
        cleanupStubs = await recordMountStubs(
          root,
          spec.mounts.map((m) => m.destination),
        );
        ensureWorkdir(root, spec.process.cwd, ids);
        writeFileSync(join(bundle, 'config.json'), specJson(spec));
        signal.throwIfAborted();
        return await runContainer({ runc, runcRoot, bundle, id, io, signal });
      } finally {
        await cleanupStubs?.();
        rmSync(bundle, { recursive: true, force: true });
      }
    },
  };
}

/**
 * Deletes the runc containers and bundles of tbuild processes that are no longer running: a build
 * or run killed with SIGKILL never reaches its `finally`, and its `runc run` (and the container's
 * process) may still be running. `runc delete --force` kills what is left of the container and
 * removes its state; then the bundle goes. Containers of live owners and ids tbuild did not make
 * are left alone. Returns the ids deleted.
 */
export async function sweepStaleContainers(stateDir: string, runc = 'runc'): Promise<string[]> {
  const runcRoot = join(stateDir, 'runc');
  const bundles = join(stateDir, 'bundles');
  const ids = new Set([
    ...(await readdir(runcRoot).catch(() => [] as string[])),
    ...(await readdir(bundles).catch(() => [] as string[])),
  ]);
  const stale = [...ids].filter((id) => id.startsWith('tbuild-') && isOwnerAlive(id.slice(7)) === false);
  for (const id of stale) {
    if (await exists(join(runcRoot, id))) {
      const r = await runQuiet(runc, ['--root', runcRoot, 'delete', '--force', id]).catch(() => undefined);
      if (r && r.code !== 0 && !/does not exist|not exist/.test(r.stderr))
        throw new ExecError(`could not delete the stale container ${id}: ${r.stderr.trim()}`);
    }
    await rm(join(bundles, id), { recursive: true, force: true });
  }
  return stale;
}

function validateMeta(meta: ExecMeta): void {
  if (meta.args.length === 0) throw new ExecError('no command to run');
  if (meta.cwd !== '' && !meta.cwd.startsWith('/'))
    throw new ExecError(`working directory must be absolute: ${meta.cwd}`);
}

interface ContainerRun {
  runc: string;
  runcRoot: string;
  bundle: string;
  id: string;
  io: ProcessIO;
  signal: AbortSignal;
}

async function runContainer(r: ContainerRun): Promise<{ exitCode: number }> {
  const pidFile = join(r.bundle, 'pid');
  const child = spawn(
    r.runc,
    ['--root', r.runcRoot, 'run', '--pid-file', pidFile, '--bundle', r.bundle, r.id],
    {
      stdio: r.io.inheritStdio ? 'inherit' : [r.io.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    },
  );
  if (r.io.stdin && child.stdin) {
    const stdin = child.stdin;
    // The process may exit before reading all of it: EPIPE is not an error of the run.
    stdin.on('error', () => {});
    r.io.stdin.pipe(stdin);
  }
  let tail = Buffer.alloc(0);
  // runc's stderr is also the process's. Until the pid file exists (runc writes it once the
  // process has been started), stderr is held back: if the process never starts, what was held is
  // runc's own error and becomes tbuild's message instead of a raw `time=… level=error
  // msg="runc run failed: …"` line on the user's terminal. The process may already have written
  // in the moment before runc writes the pid file, so the hold is checked every few ms and passed
  // on in order.
  let held: Buffer[] | undefined = [];
  let holdCheck: NodeJS.Timeout | undefined;
  const started = () => {
    if (held !== undefined && existsSync(pidFile)) {
      for (const chunk of held) r.io.stderr(chunk);
      held = undefined;
      clearInterval(holdCheck);
    }
    return held === undefined;
  };
  child.stdout?.on('data', (chunk: Buffer) => {
    started();
    r.io.stdout(chunk);
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    if (started()) r.io.stderr(chunk);
    else {
      held?.push(chunk);
      holdCheck ??= setInterval(started, 5);
    }
    tail = Buffer.concat([tail, chunk]).subarray(-stderrTailBytes);
  });
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res, rej) => {
    child.once('error', rej);
    child.once('close', (code, sig) => res({ code, signal: sig }));
  });

  let done = false;
  let aborted = false;
  const onAbort = () => {
    aborted = true;
    void killUntilGone(r, () => done);
  };
  r.signal.addEventListener('abort', onAbort, { once: true });
  let result: { code: number | null; signal: NodeJS.Signals | null };
  try {
    result = await closed;
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    throw new ExecError(
      missing
        ? `runc is required to run RUN steps but ${r.runc} could not be executed`
        : `could not start ${r.runc}: ${(err as Error).message}`,
      { hint: installHint, cause: err },
    );
  } finally {
    done = true;
    clearInterval(holdCheck);
    if (r.io.stdin && child.stdin) {
      r.io.stdin.unpipe(child.stdin);
      r.io.stdin.pause();
    }
    r.signal.removeEventListener('abort', onAbort);
  }

  // `runc run` deletes the container when the process exits; after a kill or a runc crash the
  // state may remain, so delete it then.
  if (aborted || (await exists(join(r.runcRoot, r.id)))) {
    await runQuiet(r.runc, ['--root', r.runcRoot, 'delete', '--force', r.id]).catch(() => undefined);
  }
  if (aborted) throw r.signal.reason;
  if (result.code === null) throw new ExecError(`runc was killed by ${result.signal ?? 'a signal'}`);
  if (result.code !== 0 && !(await exists(pidFile))) {
    // No pid file: the container never started, so this is runc's own error, not the process's exit code.
    throw new ExecError(`the sandbox could not start the process: ${tail.toString('utf8').trim()}`);
  }
  started();
  return { exitCode: result.code };
}

/** `runc kill <id> KILL`, retried while `runc run` is still creating the container. */
async function killUntilGone(r: ContainerRun, finished: () => boolean): Promise<void> {
  while (!finished()) {
    const res = await runQuiet(r.runc, ['--root', r.runcRoot, 'kill', r.id, 'KILL']).catch(() => undefined);
    if (res?.code === 0 || finished()) return;
    await new Promise((res) => setTimeout(res, killRetryMs));
  }
}

/** BuildKit (runcexecutor) creates a missing working directory owned by the process user. */
function ensureWorkdir(root: string, cwd: string, ids: ProcessIds): void {
  const target = resolveInRoot(root, cwd);
  const missing: string[] = [];
  let p = target;
  while (p !== root) {
    try {
      const st = statSync(p);
      if (!st.isDirectory()) throw new ExecError(`working directory ${cwd} is not a directory in the rootfs`);
      break;
    } catch (err) {
      if (!isMissing(err)) throw err;
      missing.unshift(p);
      p = dirname(p);
    }
  }
  for (const dir of missing) {
    mkdirSync(dir, { mode: 0o755 });
    chownSync(dir, ids.uid, ids.gid);
  }
}

/**
 * The host resolver file, as libnetwork's resolvconf.Path picks it: when /etc/resolv.conf only
 * points at systemd-resolved's stub (127.0.0.53), its upstream list is used instead, except
 * with host networking where the stub is reachable (BuildKit resolvconf.go).
 */
function readHostResolvConf(path: string | undefined, network: NetworkMode): string | undefined {
  const read = (p: string) => {
    try {
      return readFileSync(p, 'utf8');
    } catch {
      return undefined;
    }
  };
  if (path !== undefined) return read(path);
  const main = read('/etc/resolv.conf');
  if (network !== 'host' && main !== undefined && /^\s*nameserver\s+127\.0\.0\.53\b/m.test(main)) {
    return read('/run/systemd/resolve/resolv.conf') ?? main;
  }
  return main;
}

/** This process's bounding capabilities (`CapBnd` of /proc/self/status); undefined if unreadable. */
function readBoundingCapabilities(): string[] | undefined {
  let text = '';
  try {
    text = readFileSync('/proc/self/status', 'utf8');
  } catch {}
  const m = /^CapBnd:\s*([0-9a-f]+)/m.exec(text);
  return m?.[1] ? capabilitiesInMask(m[1]) : undefined;
}

/** Node has no getrlimit; /proc/self/limits has "Max open files  <soft>  <hard>  files". */
export function readNofileHard(): number | undefined {
  let text = '';
  try {
    text = readFileSync('/proc/self/limits', 'utf8');
  } catch {}
  const m = /^Max open files\s+\S+\s+(\d+|unlimited)/m.exec(text);
  if (!m?.[1]) return undefined;
  return m[1] === 'unlimited' ? undefined : Number(m[1]);
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

/** Runs a short command and collects its output. Rejects only when it cannot be spawned. */
function runQuiet(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res, rej) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
    });
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
    });
    child.once('error', rej);
    child.once('close', (code) => res({ code: code ?? -1, stdout, stderr }));
  });
}
