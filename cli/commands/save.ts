import { createWriteStream, openSync } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import { noteOutsideTemp } from '../../cache/index.ts';
import { UsageError } from '../../errors.ts';
import { type ArchiveFormat, resolveRoot, selectImages, writeArchive } from '../../image/index.ts';
import { ownerToken } from '../../processes.ts';
import { pathError, requireWritablePath } from '../../user-paths.ts';
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
      // A device or a pipe (-o /dev/null) is written as it is: a temp file beside it renamed
      // over it would replace the device.
      if (
        await stat(output).then(
          (s) => !s.isFile(),
          () => false,
        )
      ) {
        const file = createWriteStream(output, { fd: openSync(output, 'w') });
        try {
          await writeArchive(store, requests, format, file);
          await finished(file);
        } catch (error) {
          file.destroy();
          throw pathError(error, output, expected);
        }
        return 0;
      }
      // Written beside the target and renamed, so a failed save never leaves a half archive. The
      // temp name says whose it is and a note in the root names it, so that after a kill the next
      // command on the root removes it (cache/sweep.ts).
      const tmp = `${output}.tmp-${ownerToken()}`;
      const forget = await noteOutsideTemp(resolveRoot(ctx.globals.root), tmp);
      try {
        // Opened first: a failed open throws here instead of as a stream 'error' event.
        const file = createWriteStream(tmp, { fd: openSync(tmp, 'w', 0o644) });
        await writeArchive(store, requests, format, file);
        await finished(file);
        await rename(tmp, output);
      } catch (error) {
        await rm(tmp, { force: true });
        // A full disk or a folder we may not write to is about the user's -o, not our temp name.
        throw pathError(error, output, expected);
      } finally {
        await forget();
      }
      return 0;
    } finally {
      await store.close();
    }
  },
};
