/**
 * Opening the tbuild root for a command: first the root and its top-level directories are made
 * private to their owner (issue 12, finding 1: another user must never reach a setuid file in a
 * snapshot; cache/root-modes.ts), then what dead tbuild processes left behind is swept
 * (issue 12, finding 8: a build killed with SIGKILL leaves its runc container, overlay mounts and
 * scratch directories; a killed prune its trash, a killed save its temp archive), in this order —
 * containers (they keep mounts busy), then mounts and scratch (cache/sweep.ts), then the network
 * namespaces, addresses and forwarders of containers that are not running (runtime/network/sweep.ts). The store's own
 * temp files (image/tmp, named by owner too) are removed by `fsck` and the store's GC as before.
 * The logic lives in those modules; this only composes them.
 */
import { join } from 'node:path';
import { formatMode, secureRoot, sweepDeadOwners } from '../cache/index.ts';
import { sweepStaleContainers } from '../executor/index.ts';
import { ImageStore, resolveRoot } from '../image/index.ts';
import { sweepNetworkLeftovers } from '../runtime/index.ts';

/**
 * Makes `root` private (created if missing) and sweeps the leftovers of dead processes under it;
 * a failure of either is a warning, not the command's.
 */
export async function sweepRoot(root: string, stderr: NodeJS.WritableStream): Promise<void> {
  // A missing root that cannot be made is the command's error, named when it first writes there.
  const secured = await secureRoot(root).catch(() => undefined);
  for (const dir of secured?.failed ?? [])
    stderr.write(
      `WARNING: ${dir.path} is mode ${formatMode(dir.mode)}, open to other users, and could not be made private (${dir.reason}): chmod 700 it\n`,
    );
  try {
    await sweepStaleContainers(join(root, 'runc'));
    await sweepDeadOwners(root);
    await sweepNetworkLeftovers(root);
  } catch (error) {
    stderr.write(
      `WARNING: could not clean up after a killed tbuild process in ${root}: ${(error as Error).message}\n`,
    );
  }
}

/** The image store under `root` (`--root` or its defaults), opened after a sweep. */
export async function openRoot(root: string | undefined, stderr: NodeJS.WritableStream): Promise<ImageStore> {
  const resolved = resolveRoot(root);
  await sweepRoot(resolved, stderr);
  return ImageStore.open(resolved);
}
