import { createReadStream } from 'node:fs';
import { parseArgs } from 'node:util';
import { UsageError } from '../../errors.ts';
import { importRootfs, normalizeTag } from '../../image/index.ts';
import type { Command } from '../command.ts';
import { openStore, printHelpIfAsked, usageError } from '../image-output.ts';

const usage = `
Usage:  tbuild import [OPTIONS] FILE|- [REPOSITORY[:TAG]]

Import the contents from a tarball to create a filesystem image

Options:
  -c, --change list      Apply Dockerfile instruction to the created image
                         (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR)
  -m, --message string   Set commit message for imported image
`;

/** `tbuild import FILE|- [REF]` (docker import): a rootfs tarball becomes a one-layer image. */
export const importCommand: Command = {
  summary: 'Import the contents from a tarball to create a filesystem image',
  async run(ctx) {
    if (printHelpIfAsked(ctx, usage)) return 0;
    let values: { change?: string[]; message?: string };
    let positionals: string[];
    try {
      ({ values, positionals } = parseArgs({
        args: ctx.argv,
        options: {
          change: { type: 'string', short: 'c', multiple: true },
          message: { type: 'string', short: 'm' },
        },
        allowPositionals: true,
      }));
    } catch (error) {
      usageError(error, 'import');
    }
    const [source, ref, ...extra] = positionals;
    if (source === undefined || extra.length > 0) {
      throw new UsageError('"tbuild import" requires at least 1 and at most 2 arguments.');
    }
    const tags = ref === undefined ? [] : [normalizeTag(ref)];
    const input = (
      source === '-' ? ctx.stdin : createReadStream(source, { highWaterMark: 1 << 20 })
    ) as AsyncIterable<Uint8Array>;
    const store = await openStore(ctx);
    try {
      const id = await importRootfs(store, input, {
        changes: values.change ?? [],
        comment: values.message ?? `Imported from ${source}`,
        tags,
      });
      ctx.stdout.write(`${id}\n`);
      return 0;
    } finally {
      await store.close();
    }
  },
};
