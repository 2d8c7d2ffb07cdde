import { findOpenDirectories, formatMode, type OpenDirectory } from '../../cache/index.ts';
import { resolveRoot } from '../../image/index.ts';
import { fsckContainers } from '../../runtime/index.ts';
import type { Command } from '../command.ts';
import { parseCommandLine } from '../flags.ts';
import { openStore } from '../image-output.ts';

const usage = `
Usage:  tbuild fsck

Verify the image store: every blob against its digest, every reference from index.json.
Removes stale temp files and unreferenced blobs. Checks every container (readable, its layer
snapshots and writable layer present, a dead monitor recorded as an exit) and removes
half-created ones. Makes the root private again when its
mode lets other users in (as every command does on opening it). Exits 1 when the store is
damaged or the root could not be made private.
`;

/**
 * Modes are repaired, not only reported: dockerd resets its data root's mode at every start
 * (moby daemon/daemon_unix.go setupDaemonRoot) and every tbuild command does so on opening the
 * root (cli/open-root.ts), so fsck looks before opening and says what was open; what opening could
 * not repair (a root not ours to chmod) is damage.
 */
function reportModes(
  stderr: NodeJS.WritableStream,
  before: OpenDirectory[],
  after: OpenDirectory[],
): string[] {
  const problems: string[] = [];
  const repaired = before.filter((dir) => !after.some((d) => d.path === dir.path));
  if (repaired.length > 0)
    stderr.write(
      `WARNING: open to other users (a setuid file in a snapshot would give them root), made private: ${repaired.map((d) => `${d.path} (was ${formatMode(d.mode)})`).join(', ')}. Hint: tbuild keeps its root 0700, check what changed it\n`,
    );
  for (const dir of after)
    problems.push(
      `${dir.path} is mode ${formatMode(dir.mode)}, open to other users (a setuid file in a snapshot would give them root). Hint: chmod 700 ${dir.path}`,
    );
  return problems;
}

/** `tbuild fsck`. */
export const fsckCommand: Command = {
  summary: 'Verify the image store and clean up after interrupted operations',
  async run(ctx) {
    if (parseCommandLine(ctx, { name: 'fsck', usage, options: {}, args: { exactly: 0 } }) === undefined)
      return 0;
    const root = resolveRoot(ctx.globals.root);
    const open = await findOpenDirectories(root);
    const store = await openStore(ctx);
    try {
      const report = await store.fsck();
      report.problems.push(...reportModes(ctx.stderr, open, await findOpenDirectories(root)));
      const containers = await fsckContainers(root);
      report.problems.push(...containers.problems);
      ctx.stdout.write(`checked ${report.blobs} blobs, ${report.images} images in ${store.dir}\n`);
      if (containers.containers > 0) ctx.stdout.write(`checked ${containers.containers} containers\n`);
      for (const id of containers.recordedExits)
        ctx.stdout.write(`recorded the exit of container ${id.slice(0, 12)}\n`);
      if (containers.removedTempDirs > 0)
        ctx.stdout.write(`removed ${containers.removedTempDirs} half-created containers\n`);
      if (report.removedTempFiles > 0)
        ctx.stdout.write(`removed ${report.removedTempFiles} stale temp files\n`);
      if (report.removedBlobs.length > 0)
        ctx.stdout.write(`removed ${report.removedBlobs.length} unreferenced blobs\n`);
      for (const p of report.problems) ctx.stderr.write(`damaged: ${p}\n`);
      if (report.problems.length > 0) {
        ctx.stderr.write(`${report.problems.length} problems found\n`);
        return 1;
      }
      ctx.stdout.write(`ok${report.blobs > 0 ? '' : ' (empty store)'}\n`);
      return 0;
    } finally {
      await store.close();
    }
  },
};
