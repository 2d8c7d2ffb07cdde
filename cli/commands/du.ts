import type { Command } from '../command.ts';
import { formatTable, humanSize, openStore, printHelpIfAsked } from '../image-output.ts';

const usage = `
Usage:  tbuild du

Show the disk usage of the image store (like docker system df, for images)
`;

/** `tbuild du`: the store's size, what is referenced and what gc would reclaim. */
export const duCommand: Command = {
  summary: 'Show image store disk usage',
  async run(ctx) {
    if (printHelpIfAsked(ctx, usage)) return 0;
    const store = await openStore(ctx);
    try {
      const u = await store.diskUsage();
      const pct = (n: number) => (u.bytes === 0 ? '0%' : `${Math.round((n / u.bytes) * 100)}%`);
      ctx.stdout.write(`Store: ${store.dir}\n`);
      ctx.stdout.write(
        formatTable([
          ['TYPE', 'TOTAL', 'ACTIVE', 'SIZE', 'RECLAIMABLE'],
          ['Images', String(u.images), String(u.images), humanSize(u.bytes - u.unreferencedBytes), '0B (0%)'],
          [
            'Blobs',
            String(u.blobs),
            String(u.blobs - u.unreferencedBlobs),
            humanSize(u.bytes),
            `${humanSize(u.unreferencedBytes)} (${pct(u.unreferencedBytes)})`,
          ],
          ['Temp files', String(u.tempFiles), '0', humanSize(u.tempBytes), humanSize(u.tempBytes)],
        ]),
      );
      return 0;
    } finally {
      await store.close();
    }
  },
};
