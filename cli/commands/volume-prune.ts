import { pruneVolumes } from '../../runtime/index.ts';
import type { Command } from '../command.ts';
import { confirm } from '../confirm.ts';
import { containerRoot } from '../containers.ts';
import { labelFilter, parseFilterFlag } from '../filter-flags.ts';
import { parseCommandLine } from '../flags.ts';
import { humanSize } from '../image-output.ts';

const usage = `
Usage:  tbuild volume prune [OPTIONS]

Remove unused local volumes: anonymous ones (made for a container), or all with -a

Options:
  -a, --all             Remove all unused volumes, not just anonymous ones
      --filter filter   Provide filter values (e.g. "label=<label>", "label!=<label>")
  -f, --force           Do not prompt for confirmation
`;

/** `tbuild volume prune` (docker volume prune, API 1.42+: anonymous volumes only unless -a). */
export const volumePruneCommand: Command = {
  summary: 'Remove unused local volumes',
  async run(ctx) {
    const line = parseCommandLine(ctx, {
      name: 'volume prune',
      usage,
      options: {
        all: { type: 'boolean', short: 'a' },
        filter: { type: 'string', multiple: true },
        force: { type: 'boolean', short: 'f' },
      },
      args: { exactly: 0 },
    });
    if (line === undefined) return 0;
    const { values } = line;
    const filters = parseFilterFlag('volume prune', values.filter, ['label', 'label!']);
    const labels = [...filters].flatMap(([key, list]) =>
      list.map((v) => ({ ...labelFilter(v), negate: key === 'label!' })),
    );
    const all = values.all === true;
    // docker/cli cli/command/volume/prune.go: the two warnings, the question on a second line.
    const warning = all
      ? 'WARNING! This will remove all local volumes not used by at least one container.'
      : 'WARNING! This will remove anonymous local volumes not used by at least one container.';
    if (!values.force && !(await confirm(ctx, `${warning}\nAre you sure you want to continue?`))) return 0;
    const { removed, bytes } = await pruneVolumes(containerRoot(ctx), { all, labels });
    if (removed.length > 0) ctx.stdout.write(`Deleted Volumes:\n${removed.map((n) => `${n}\n`).join('')}\n`);
    // go-units HumanSize: four significant digits.
    ctx.stdout.write(`Total reclaimed space: ${humanSize(bytes, 4)}\n`);
    return 0;
  },
};
