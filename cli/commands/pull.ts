import { UsageError } from '../../errors.ts';
import { resolveRoot } from '../../image/index.ts';
import { parsePlatform } from '../../registry/index.ts';
import type { Command } from '../command.ts';
import { parseCommandLine } from '../flags.ts';
import { openStore } from '../image-output.ts';
import { pullReference } from '../registry-actions.ts';

const usage = `
Usage:  tbuild pull [OPTIONS] NAME[:TAG|@DIGEST]

Download an image from a registry

Options:
      --insecure-registry stringArray   Allow plain http for this registry host
      --platform string                 Set platform if server is multi-platform capable (default: the host's)
  -q, --quiet                           Suppress verbose output
`;

/** `tbuild pull REF` (docker pull). */
export const pullCommand: Command = {
  summary: 'Download an image from a registry',
  async run(ctx) {
    const line = parseCommandLine(ctx, {
      name: 'pull',
      usage,
      options: {
        platform: { type: 'string' },
        quiet: { type: 'boolean', short: 'q' },
        'insecure-registry': { type: 'string', multiple: true },
      },
      args: { exactly: 1 },
    });
    if (line === undefined) return 0;
    const { values, positionals } = line;
    let platform: ReturnType<typeof parsePlatform> | undefined;
    if (values.platform !== undefined) {
      try {
        platform = parsePlatform(values.platform);
      } catch (error) {
        throw new UsageError((error as Error).message);
      }
    }
    const store = await openStore(ctx);
    try {
      await pullReference(
        store,
        positionals[0] as string,
        {
          root: resolveRoot(ctx.globals.root),
          insecureRegistries: values['insecure-registry'] ?? [],
          ...(platform ? { platform } : {}),
          quiet: values.quiet ?? false,
        },
        ctx.stdout,
      );
      if (values.quiet) ctx.stdout.write(`${positionals[0]}\n`);
      return 0;
    } finally {
      await store.close();
    }
  },
};
