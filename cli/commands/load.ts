import { familiarString, loadArchive, parseReference, StoreError } from '../../image/index.ts';
import { openInputFile } from '../../user-paths.ts';
import type { Command } from '../command.ts';
import { parseCommandLine } from '../flags.ts';
import { openStore } from '../image-output.ts';

const usage = `
Usage:  tbuild load [OPTIONS]

Load an image from a tar archive (docker save or OCI layout, optionally gzipped) or STDIN

Options:
  -i, --input string   Read from tar archive file, instead of STDIN
  -q, --quiet          Suppress the load output
`;

/** `tbuild load [-i FILE]`: adds the images of an archive to the store (docker load). */
export const loadCommand: Command = {
  summary: 'Load an image from a tar archive or STDIN',
  async run(ctx) {
    const line = parseCommandLine(ctx, {
      name: 'load',
      usage,
      options: { input: { type: 'string', short: 'i' }, quiet: { type: 'boolean', short: 'q' } },
      args: { exactly: 0 },
    });
    if (line === undefined) return 0;
    const { values } = line;
    const file = values.input;
    if (file === undefined && (ctx.stdin as { isTTY?: boolean }).isTTY) {
      throw new StoreError('requested load from stdin, but stdin is empty');
    }
    const input = (
      file === undefined || file === '-'
        ? ctx.stdin
        : await openInputFile(file, 'a tar archive file (load -i)')
    ) as AsyncIterable<Uint8Array>;
    const store = await openStore(ctx);
    try {
      const images = await loadArchive(store, input, file ?? 'stdin');
      if (!values.quiet) {
        for (const image of images) {
          if (image.tags.length === 0) ctx.stdout.write(`Loaded image ID: ${image.id}\n`);
          for (const tag of image.tags)
            ctx.stdout.write(`Loaded image: ${familiarString(parseReference(tag))}\n`);
        }
      }
      return 0;
    } finally {
      await store.close();
    }
  },
};
