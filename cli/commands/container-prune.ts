import { TbuildError } from '../../errors.ts';
import { ContainerError, type PruneFilters, parseLogTime, pruneContainers } from '../../runtime/index.ts';
import type { Command } from '../command.ts';
import { confirm } from '../confirm.ts';
import { containerRoot } from '../containers.ts';
import { commandUsageError, parseCommandLine } from '../flags.ts';
import { humanSize } from '../image-output.ts';

const usage = `
Usage:  tbuild container prune [OPTIONS]

Remove all stopped containers

Options:
      --filter filter   Provide filter values (e.g. 'until=<timestamp>')
  -f, --force           Do not prompt for confirmation
`;

/** `tbuild container prune` (docker container prune). */
export const containerPruneCommand: Command = {
  summary: 'Remove all stopped containers',
  async run(ctx) {
    const line = parseCommandLine(ctx, {
      name: 'container prune',
      usage,
      options: {
        filter: { type: 'string', multiple: true },
        force: { type: 'boolean', short: 'f' },
      },
      args: { exactly: 0 },
    });
    if (line === undefined) return 0;
    const { values } = line;
    const filters = parseFilters(values.filter ?? []);
    const warning = 'WARNING! This will remove all stopped containers.\nAre you sure you want to continue?';
    let reclaimed = 0;
    if (values.force || (await confirm(ctx, warning))) {
      const report = await pruneContainers(containerRoot(ctx), filters);
      if (report.deleted.length > 0) {
        ctx.stdout.write(`Deleted Containers:\n${report.deleted.map((id) => `${id}\n`).join('')}\n`);
      }
      reclaimed = report.reclaimed;
    }
    // docker-cli prints the total even when the prompt was declined.
    ctx.stdout.write(`Total reclaimed space: ${humanSize(reclaimed)}\n`);
    return 0;
  },
};

/**
 * The filters dockerd's ContainersPrune accepts (until, label, label!), with its errors; a value
 * without `=` is the CLI's flag error (125).
 */
function parseFilters(values: string[]): PruneFilters {
  const filters: PruneFilters = { labels: [], notLabels: [] };
  const until: string[] = [];
  for (const entry of values) {
    const eq = entry.indexOf('=');
    if (eq <= 0) {
      throw commandUsageError(
        'container prune',
        `invalid argument "${entry}" for "--filter" flag: bad format of filter (expected name=value)`,
      );
    }
    const key = entry.slice(0, eq).toLowerCase();
    const value = entry.slice(eq + 1);
    if (key === 'until') until.push(value);
    else if (key === 'label') filters.labels.push(value);
    else if (key === 'label!') filters.notLabels.push(value);
    else throw new TbuildError(`Invalid filter '${key}'`);
  }
  if (until.length > 1) throw new TbuildError('more than one until filter specified');
  if (until[0] !== undefined) {
    try {
      filters.until = parseLogTime(until[0], 'until');
    } catch (error) {
      if (!(error instanceof ContainerError)) throw error;
      throw new TbuildError(`failed to parse value as time or duration: "${until[0]}"`);
    }
  }
  return filters;
}
