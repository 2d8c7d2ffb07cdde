import { type ChildProcess, spawn } from 'node:child_process';
import { ExecError } from './errors.ts';

/**
 * A network namespace with only `lo` (up), kept alive by a small holder process so that many
 * containers can join it by path instead of each creating its own.
 *
 * Why: creating and tearing down a fresh network namespace is ~20 ms of every `runc run` on a
 * typical kernel (a third of a small RUN step). BuildKit creates one per step for
 * `--network=none`; sharing one per build keeps the same guarantee (no interface but loopback)
 * at the cost of steps of the same build seeing each other's loopback while they run side by side.
 */
export interface LoopbackNetns {
  /** The namespace file to put in the runtime spec: `{ type: 'network', path }`. */
  readonly path: string;
  /** Lets the holder go; the namespace goes with its last user. Returns at once. */
  release(): void;
}

/**
 * The holder: util-linux `unshare --net` runs a shell in a new namespace (no fork, so the
 * namespace is `/proc/<pid>/ns/net` of the process we spawned), which brings `lo` up with
 * iproute2's `ip` (or busybox's applet), says so, and then waits for its standard input to
 * close. That happens on release or when this process ends in any way, kill -9 included: nothing
 * is mounted and nothing is left to clean up (a namespace bound to a file, as this used to be,
 * outlived a killed build and cost an `umount` per build).
 */
const holderScript =
  '{ ip link set lo up 2>/dev/null || busybox ip link set lo up; } || exit 1; echo ready; read -r _';

/** Makes a loopback-only network namespace held by a child process. */
export function createLoopbackNetns(): Promise<LoopbackNetns> {
  return new Promise((resolve, reject) => {
    const child = spawn('unshare', ['--net', 'sh', '-c', holderScript], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const fail = (reason: string) =>
      reject(
        new ExecError(`could not create a network namespace: ${reason}`, {
          hint: 'tbuild needs util-linux unshare and iproute2 (apt-get install util-linux iproute2)',
        }),
      );
    child.stderr?.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
    });
    child.stdout?.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
      if (stdout !== 'ready\n' || child.pid === undefined) return;
      child.removeAllListeners('exit');
      resolve(holdNamespace(child, child.pid));
    });
    child.once('error', (error) => fail(error.message));
    child.once('exit', () => fail(stderr.trim() || `the namespace holder exited (${stdout.trim()})`));
  });
}

function holdNamespace(child: ChildProcess, pid: number): LoopbackNetns {
  // The holder must not keep this process alive, nor outlive it.
  child.unref();
  for (const stream of [child.stdin, child.stdout, child.stderr]) {
    (stream as { unref?: () => void } | null)?.unref?.();
  }
  return {
    get path() {
      // Never hand out the path of a holder that is gone: its pid may be someone else's now.
      if (child.exitCode !== null || child.signalCode !== null)
        throw new ExecError('the loopback network namespace of this build has gone away');
      return `/proc/${pid}/ns/net`;
    },
    release() {
      child.stdin?.end();
    },
  };
}
