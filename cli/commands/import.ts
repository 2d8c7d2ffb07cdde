import { importRootfs, normalizeTag } from '../../image/index.ts';
import { openInputFile } from '../../user-paths.ts';
import type { Command } from '../command.ts';
import { parseCommandLine } from '../flags.ts';
import { openStore } from '../image-output.ts';

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
    const line = parseCommandLine(ctx, {
      name: 'import',
      usage,
      options: {
        change: { type: 'string', short: 'c', multiple: true },
        message: { type: 'string', short: 'm' },
      },
      args: { min: 1, max: 2 },
    });
    if (line === undefined) return 0;
    const { values, positionals } = line;
    const [source, ref] = positionals as [string, string | undefined];
    const tags = ref === undefined ? [] : [normalizeTag(ref)];
    const file = source === '-' ? undefined : await openInputFile(source, 'a tar archive file (import)');
    const input = (file ?? ctx.stdin) as AsyncIterable<Uint8Array>;
    const store = await openStore(ctx).catch((error: unknown) => {
      file?.destroy();
      throw error;
    });
    try {
      const id = await importRootfs(store, input, {
        changes: values.change ?? [],
        comment: values.message ?? `Imported from ${source}`,
        tags,
      });
      ctx.stdout.write(`${id}\n`);
      return 0;
    } finally {
      // A refused --change stops before the archive is read: its file is closed here, not by GC
      // (which prints a warning on stderr).
      file?.destroy();
      await store.close();
    }
  },
};
