import { UsageError } from '../../errors.ts';
import { writeFileOutput } from '../../exporter/index.ts';
import { type ArchiveFormat, resolveRoot, selectImages, writeArchive } from '../../image/index.ts';
import { requireWritablePath } from '../../user-paths.ts';
import type { Command } from '../command.ts';
import { commandUsageError, parseCommandLine } from '../flags.ts';
import { openStore } from '../image-output.ts';

const usage = `
Usage:  tbuild save [OPTIONS] IMAGE [IMAGE...]

Save one or more images to a tar archive (streamed to STDOUT by default)

Options:
      --format string   Archive format: "docker" (docker load) or "oci" (OCI image layout) (default "docker")
  -o, --output string   Write to a file, instead of STDOUT
`;

/** `tbuild save [-o FILE] [--format docker|oci] IMAGE...` (docker save). */
export const saveCommand: Command = {
  summary: 'Save one or more images to a tar archive',
  async run(ctx) {
    const line = parseCommandLine(ctx, {
      name: 'save',
      usage,
      options: { output: { type: 'string', short: 'o' }, format: { type: 'string', default: 'docker' } },
      args: { min: 1 },
    });
    if (line === undefined) return 0;
    const { values, positionals } = line;
    if (values.format !== 'docker' && values.format !== 'oci') {
      throw commandUsageError('save', `invalid --format "${values.format}": use "docker" or "oci"`);
    }
    const format = values.format as ArchiveFormat;
    const output = values.output;
    if ((output === undefined || output === '-') && (ctx.stdout as { isTTY?: boolean }).isTTY) {
      throw new UsageError('cowardly refusing to save to a terminal. Use the -o flag or redirect');
    }
    const expected = 'a file name for the archive (save -o)';
    if (output !== undefined && output !== '-') await requireWritablePath(output, expected);
    const store = await openStore(ctx);
    try {
      const requests = await selectImages(store, positionals);
      if (output === undefined || output === '-') {
        await writeArchive(store, requests, format, ctx.stdout);
        return 0;
      }
      await writeFileOutput(resolveRoot(ctx.globals.root), output, expected, (out) =>
        writeArchive(store, requests, format, out),
      );
      return 0;
    } finally {
      await store.close();
    }
  },
};
