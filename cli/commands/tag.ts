import { UsageError } from '../../errors.ts';
import type { Command } from '../command.ts';
import { openStore, printHelpIfAsked } from '../image-output.ts';

const usage = `
Usage:  tbuild tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]

Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE
`;

/** `tbuild tag SRC DST` (docker tag). */
export const tagCommand: Command = {
  summary: 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE',
  async run(ctx) {
    if (printHelpIfAsked(ctx, usage)) return 0;
    const [source, target, ...extra] = ctx.argv;
    if (source === undefined || target === undefined || extra.length > 0) {
      throw new UsageError('"tbuild tag" requires exactly 2 arguments.', {
        hint: "See 'tbuild tag --help'.",
      });
    }
    const store = await openStore(ctx);
    try {
      await store.tag(source, target);
      return 0;
    } finally {
      await store.close();
    }
  },
};
