import type { Command } from '../command.ts';
import { parseCommandLine } from '../flags.ts';
import { openStore } from '../image-output.ts';

const usage = `
Usage:  tbuild tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]

Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE
`;

/** `tbuild tag SRC DST` (docker tag). */
export const tagCommand: Command = {
  summary: 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE',
  async run(ctx) {
    const line = parseCommandLine(ctx, { name: 'tag', usage, options: {}, args: { exactly: 2 } });
    if (line === undefined) return 0;
    const [source, target] = line.positionals as [string, string];
    const store = await openStore(ctx);
    try {
      await store.tag(source, target);
      return 0;
    } finally {
      await store.close();
    }
  },
};
