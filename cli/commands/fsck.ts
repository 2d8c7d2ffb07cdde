import type { Command } from '../command.ts';
import { parseCommandLine } from '../flags.ts';
import { openStore } from '../image-output.ts';

const usage = `
Usage:  tbuild fsck

Verify the image store: every blob against its digest, every reference from index.json.
Removes stale temp files and unreferenced blobs. Exits 1 when the store is damaged.
`;

/** `tbuild fsck`. */
export const fsckCommand: Command = {
  summary: 'Verify the image store and clean up after interrupted operations',
  async run(ctx) {
    if (parseCommandLine(ctx, { name: 'fsck', usage, options: {}, args: { exactly: 0 } }) === undefined)
      return 0;
    const store = await openStore(ctx);
    try {
      const report = await store.fsck();
      ctx.stdout.write(`checked ${report.blobs} blobs, ${report.images} images in ${store.dir}\n`);
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
