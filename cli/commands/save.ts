import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { noteOutsideTemp } from '../../cache/index.ts';
import { UsageError } from '../../errors.ts';
import { type ArchiveFormat, resolveRoot, selectImages, writeArchive } from '../../image/index.ts';
import { ownerToken } from '../../processes.ts';
import type { Command } from '../command.ts';
import { openStore, printHelpIfAsked, usageError } from '../image-output.ts';

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
    if (printHelpIfAsked(ctx, usage)) return 0;
    let values: { output?: string; format?: string };
    let positionals: string[];
    try {
      ({ values, positionals } = parseArgs({
        args: ctx.argv,
        options: { output: { type: 'string', short: 'o' }, format: { type: 'string', default: 'docker' } },
        allowPositionals: true,
      }));
    } catch (error) {
      usageError(error, 'save');
    }
    if (positionals.length === 0) throw new UsageError('"tbuild save" requires at least 1 argument.');
    if (values.format !== 'docker' && values.format !== 'oci') {
      throw new UsageError(`invalid --format "${values.format}": use "docker" or "oci"`);
    }
    const format = values.format as ArchiveFormat;
    const output = values.output;
    if ((output === undefined || output === '-') && (ctx.stdout as { isTTY?: boolean }).isTTY) {
      throw new UsageError('cowardly refusing to save to a terminal. Use the -o flag or redirect');
    }
    const store = await openStore(ctx);
    try {
      const requests = await selectImages(store, positionals);
      if (output === undefined || output === '-') {
        await writeArchive(store, requests, format, ctx.stdout);
        return 0;
      }
      // Written beside the target and renamed, so a failed save never leaves a half archive. The
      // temp name says whose it is and a note in the root names it, so that after a kill the next
      // command on the root removes it (cache/sweep.ts).
      const tmp = `${output}.tmp-${ownerToken()}`;
      const forget = await noteOutsideTemp(resolveRoot(ctx.globals.root), tmp);
      try {
        const file = createWriteStream(tmp);
        await writeArchive(store, requests, format, file);
        await finished(file);
        await rename(tmp, output);
      } catch (error) {
        await rm(tmp, { force: true });
        throw error;
      } finally {
        await forget();
      }
      return 0;
    } finally {
      await store.close();
    }
  },
};
