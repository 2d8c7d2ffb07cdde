import { parseArgs } from 'node:util';
import { UsageError } from '../../errors.ts';
import { stopContainer } from '../../runtime/index.ts';
import type { Command } from '../command.ts';
import { containerRoot, forEachContainer } from '../containers.ts';
import { printHelpIfAsked, usageError } from '../image-output.ts';

const usage = `
Usage:  tbuild stop [OPTIONS] CONTAINER [CONTAINER...]

Stop one or more running containers

Options:
  -t, --time int   Seconds to wait for stop before killing it (default: the container's
                   --stop-timeout, else 10)
`;

/** `tbuild stop` (docker stop): the stop signal, then SIGKILL after the timeout. */
export const stopCommand: Command = {
  summary: 'Stop one or more running containers',
  async run(ctx) {
    if (printHelpIfAsked(ctx, usage)) return 0;
    let values: { time?: string };
    let positionals: string[];
    try {
      ({ values, positionals } = parseArgs({
        args: ctx.argv,
        options: { time: { type: 'string', short: 't' } },
        allowPositionals: true,
      }));
    } catch (error) {
      usageError(error, 'stop');
    }
    if (values.time !== undefined && !/^-?\d+$/.test(values.time)) {
      throw new UsageError(
        `invalid argument "${values.time}" for "-t, --time" flag: strconv.ParseInt: parsing "${values.time}": invalid syntax`,
      );
    }
    if (positionals.length === 0) {
      throw new UsageError('"tbuild stop" requires at least 1 argument.', {
        hint: "See 'tbuild stop --help'.",
      });
    }
    const root = containerRoot(ctx);
    const timeout = values.time === undefined ? undefined : Number(values.time);
    return forEachContainer(ctx, positionals, (ref) => stopContainer(root, ref, timeout));
  },
};
