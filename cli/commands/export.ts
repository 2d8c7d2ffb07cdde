import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { TbuildError } from '../../errors.ts';
import { exportContainer } from '../../runtime/index.ts';
import type { Command } from '../command.ts';
import { containerRoot } from '../containers.ts';
import { parseCommandLine } from '../flags.ts';

const usage = `
Usage:  tbuild export [OPTIONS] CONTAINER

Export a container's filesystem as a tar archive

Options:
  -o, --output string   Write to a file, instead of STDOUT
`;

/** `tbuild export` (docker export): the container's filesystem as an uncompressed tar. */
export const exportCommand: Command = {
  summary: "Export a container's filesystem as a tar archive",
  async run(ctx) {
    const line = parseCommandLine(ctx, {
      name: 'export',
      usage,
      options: { output: { type: 'string', short: 'o' } },
      args: { exactly: 1 },
    });
    if (line === undefined) return 0;
    const ref = line.positionals[0] as string;
    const output = line.values.output;
    if (output === undefined) {
      if (process.stdout.isTTY) {
        // docker-cli export.go refuses the same way.
        throw new TbuildError('cowardly refusing to save to a terminal. Use the -o flag or redirect', {
          exitCode: 1,
        });
      }
      await exportContainer(containerRoot(ctx), ref, ctx.stdout as Writable);
      return 0;
    }
    // Written aside and renamed: a failed export leaves no half tar under the name asked for.
    const tmp = `${output}.tmp-${process.pid}`;
    const file = createWriteStream(tmp);
    try {
      await exportContainer(containerRoot(ctx), ref, file);
      await new Promise<void>((resolve, reject) =>
        file.end((error?: Error | null) => (error ? reject(error) : resolve())),
      );
      await rename(tmp, output);
    } catch (error) {
      file.destroy();
      await rm(tmp, { force: true });
      throw error;
    }
    return 0;
  },
};
