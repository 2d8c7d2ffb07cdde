import { findVolume, VolumeError } from '../../runtime/index.ts';
import type { Command } from '../command.ts';
import { containerRoot } from '../containers.ts';
import { parseCommandLine } from '../flags.ts';
import { inspectTemplate, writeInspected } from '../inspect-output.ts';

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
    const template = inspectTemplate(line.values.format);
    const found: unknown[] = [];
    const errors: string[] = [];
    for (const name of line.positionals) {
      try {
        found.push(findVolume(containerRoot(ctx), name));
      } catch (error) {
        if (!(error instanceof VolumeError)) throw error;
        errors.push(`No such volume: ${name}`);
      }
    }
    writeInspected(ctx, found, template);
    for (const e of errors) ctx.stderr.write(`Error: ${e}\n`);
    return errors.length > 0 ? 1 : 0;
  },
};
