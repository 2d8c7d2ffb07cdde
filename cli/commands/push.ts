import { resolveRoot } from '../../image/index.ts';
import type { Command } from '../command.ts';
import { parseCommandLine } from '../flags.ts';
import { openStore } from '../image-output.ts';
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
    const line = parseCommandLine(ctx, {
      name: 'push',
      usage,
      options: {
        quiet: { type: 'boolean', short: 'q' },
        'insecure-registry': { type: 'string', multiple: true },
      },
      args: { exactly: 1 },
    });
    if (line === undefined) return 0;
    const { values, positionals } = line;
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
