import { parseArgs } from 'node:util';
import { UsageError } from '../../errors.ts';
import { resolveRoot } from '../../image/index.ts';
import type { Command } from '../command.ts';
import { openStore, printHelpIfAsked, usageError } from '../image-output.ts';
import { pushReference } from '../registry-actions.ts';

const usage = `
Usage:  tbuild push [OPTIONS] NAME[:TAG]

Upload an image to a registry

Options:
      --insecure-registry stringArray   Allow plain http for this registry host
  -q, --quiet                           Suppress verbose output
`;

/** `tbuild push REF` (docker push; one tag, `latest` when none is given). */
export const pushCommand: Command = {
  summary: 'Upload an image to a registry',
  async run(ctx) {
    if (printHelpIfAsked(ctx, usage)) return 0;
    let parsed: { values: { quiet?: boolean; 'insecure-registry'?: string[] }; positionals: string[] };
    try {
      parsed = parseArgs({
        args: ctx.argv,
        options: {
          quiet: { type: 'boolean', short: 'q' },
          'insecure-registry': { type: 'string', multiple: true },
        },
        allowPositionals: true,
      });
    } catch (error) {
      usageError(error, 'push');
    }
    const { values, positionals } = parsed;
    if (positionals.length !== 1) {
      throw new UsageError('"tbuild push" requires exactly 1 argument.', {
        hint: "See 'tbuild push --help'.",
      });
    }
    const store = await openStore(ctx);
    try {
      await pushReference(
        store,
        positionals[0] as string,
        {
          root: resolveRoot(ctx.globals.root),
          insecureRegistries: values['insecure-registry'] ?? [],
          quiet: values.quiet ?? false,
        },
        ctx.stdout,
      );
      return 0;
    } finally {
      await store.close();
    }
  },
};
