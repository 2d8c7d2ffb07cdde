import { findVolume, VolumeError } from '../../runtime/index.ts';
import type { Command } from '../command.ts';
import { containerRoot } from '../containers.ts';
import { parseCommandLine } from '../flags.ts';
import { inspectEach } from '../inspect-output.ts';

const usage = `
Usage:  tbuild volume inspect [OPTIONS] VOLUME [VOLUME...]

Display detailed information on one or more volumes

Options:
  -f, --format string   Format the output using a Go template
`;

/** `tbuild volume inspect` (docker volume inspect): Docker's Volume fields. */
export const volumeInspectCommand: Command = {
  summary: 'Display detailed information on one or more volumes',
  async run(ctx) {
    const line = parseCommandLine(ctx, {
      name: 'volume inspect',
      usage,
      options: { format: { type: 'string', short: 'f' } },
      args: { min: 1 },
    });
    if (line === undefined) return 0;
    return inspectEach(
      ctx,
      line.positionals,
      line.values.format,
      'volume',
      (name) => findVolume(containerRoot(ctx), name),
      (error) => error instanceof VolumeError,
    );
  },
};
