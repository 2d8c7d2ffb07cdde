import { createVolume, VolumeError } from '../../runtime/index.ts';
import type { Command } from '../command.ts';
import { parseLabels } from '../container-flags.ts';
import { containerRoot } from '../containers.ts';
import { parseCommandLine } from '../flags.ts';

const usage = `
Usage:  tbuild volume create [OPTIONS] [VOLUME]

Create a volume (a directory under the tbuild root; a 64-hex name when none is given)

Options:
  -d, --driver string   Specify volume driver name (default "local", the only one)
      --label list      Set metadata for a volume
`;

/** `tbuild volume create` (docker volume create): prints the volume's name. */
export const volumeCreateCommand: Command = {
  summary: 'Create a volume',
  async run(ctx) {
    const line = parseCommandLine(ctx, {
      name: 'volume create',
      usage,
      options: { driver: { type: 'string', short: 'd' }, label: { type: 'string', multiple: true } },
      args: { max: 1 },
    });
    if (line === undefined) return 0;
    const driver = line.values.driver ?? 'local';
    if (driver !== 'local') {
      throw new VolumeError(`create: plugin "${driver}" not found`, {
        hint: 'tbuild has the local driver only',
      });
    }
    const volume = await createVolume(
      containerRoot(ctx),
      line.positionals[0],
      parseLabels(line.values.label),
    );
    ctx.stdout.write(`${volume.Name}\n`);
    return 0;
  },
};
