import { statfs } from 'node:fs/promises';
import { noSpaceMessage } from '../../errors.ts';
import { StepError } from '../errors.ts';
import type { ExecOp, Vertex } from '../graph.ts';
import type { JobContext } from '../solve.ts';
import { errorText, rootfsError } from './failures.ts';
import { type MountState, prepareMounts } from './mounts.ts';
import { commitWritable, discardWritable, mountWritable } from './rootfs.ts';
import type { FsResult, RunnerDeps } from './types.ts';

/** How many trailing output lines a failed step shows. */
const logTailLines = 10;

/**
 * Runs a RUN step: its command in a container over a writable layer on its input's root
 * filesystem, with its mounts; the layer it leaves is the result. A failure names the step and
 * shows the last lines it printed.
 */
export async function runExec(
  deps: RunnerDeps,
  mountState: MountState,
  vertex: Vertex,
  op: ExecOp,
  inputs: FsResult[],
  job: JobContext,
): Promise<FsResult> {
  const base = inputs[0] as FsResult;
  const mounts = await prepareMounts(deps, mountState, vertex, op, inputs);
  const rootfs = await mountWritable(deps.root, deps.store, base).catch(async (error: unknown) => {
    await mounts.release();
    throw rootfsError(vertex, error, deps.root);
  });
  const tail = createTail(logTailLines);
  try {
    const network = stepNetwork(op, deps.defaultNetwork);
    const decoders = { out: new TextDecoder(), err: new TextDecoder() };
    const env = [...op.env, ...(op.proxyEnv ?? []), ...mounts.env];
    const { exitCode } = await deps.executor.run(
      rootfs.path,
      mounts.mounts,
      {
        args: op.args,
        env,
        cwd: op.cwd,
        user: op.user,
        network,
        ...(op.security === 'insecure' ? { security: 'insecure' as const } : {}),
        ...(op.extraHosts ? { extraHosts: op.extraHosts } : {}),
        ...(op.shmSize ? { shmSize: op.shmSize } : {}),
        ...(op.ulimits ? { ulimits: op.ulimits } : {}),
      },
      {
        stdout: (chunk) => {
          const text = decoders.out.decode(chunk, { stream: true });
          tail.push(text);
          job.log(1, text);
        },
        stderr: (chunk) => {
          const text = decoders.err.decode(chunk, { stream: true });
          tail.push(text);
          job.log(2, text);
        },
      },
      job.signal,
    );
    if (exitCode !== 0) {
      // Looked at before the upper is discarded (that frees the space): a process that filled
      // the disk says so only in its own output, which the user may not read as the cause.
      const full = (await isDiskFull(deps.root)) ? `: ${noSpaceMessage(deps.root)}` : '';
      throw new StepError(
        vertex.name,
        vertex.location,
        `process "${op.args.join(' ')}" did not complete successfully: exit code: ${exitCode}${full}`,
        tail.lines(),
      );
    }
    await mounts.release();
    // Quiescent: `runc run` returns once the container's init exited, and the kernel kills
    // and reaps every other process of its pid namespace before that exit is reported.
    return await commitWritable(deps.root, deps.store, rootfs, base, vertex.digest, {
      quiescent: true,
      ...(deps.epoch !== undefined ? { epoch: deps.epoch } : {}),
    });
  } catch (error) {
    // Before the upper is discarded: runc itself can be the one that hits the full disk (its
    // pid file), and then says so only in its own words.
    const full = !(error instanceof StepError) && (await isDiskFull(deps.root));
    await mounts.release();
    await discardWritable(rootfs);
    if (error instanceof StepError || job.signal.aborted) throw error;
    const text = full ? noSpaceMessage(deps.root) : errorText(error, deps.root);
    throw new StepError(vertex.name, vertex.location, text, tail.lines(), error);
  }
}

/**
 * The network a RUN gets: its own `--network` over the build's default, except that `tbuild build
 * --network none` always wins, so a Dockerfile cannot reach out of a build its user shut off
 * (BuildKit lets `RUN --network=host` override a forced mode when network.host is granted; a
 * command-line `none` is the stronger promise). `default` is the host's until containers get
 * networks of their own.
 */
export function stepNetwork(op: ExecOp, defaultNetwork: 'host' | 'none'): 'host' | 'none' {
  if (defaultNetwork === 'none' || op.network === 'default') return defaultNetwork;
  return op.network;
}

function createTail(max: number) {
  let text = '';
  return {
    push(chunk: string) {
      text += chunk;
      if (text.length > 64 * 1024) text = text.slice(-32 * 1024);
    },
    lines: () =>
      text
        .split('\n')
        .filter((line, i, all) => line !== '' || i < all.length - 1)
        .slice(-max),
  };
}

/** Less than this free on the root's filesystem after a failed RUN: the disk is what failed it. */
const fullDiskSlack = 1 << 20;

async function isDiskFull(root: string): Promise<boolean> {
  const fs = await statfs(root).catch(() => undefined);
  // As root, writes go on into the reserved blocks (bfree); others stop at bavail.
  const free =
    fs === undefined
      ? Number.POSITIVE_INFINITY
      : (process.getuid?.() === 0 ? fs.bfree : fs.bavail) * fs.bsize;
  return free < fullDiskSlack;
}
