import { TbuildError } from '../../errors.ts';
import { formatRows, type TemplateRow } from '../../format/index.ts';
import { listVolumesInUse, type VolumeInUse, volumeLabelMatches } from '../../runtime/index.ts';
import type { Command } from '../command.ts';
import { containerRoot } from '../containers.ts';
import { type FilterValues, labelFilter, parseFilterFlag } from '../filter-flags.ts';
import { parseCommandLine } from '../flags.ts';

const usage = `
Usage:  tbuild volume ls [OPTIONS]

List volumes

Aliases:
  ls, list

Options:
  -f, --filter filter   Provide filter values (dangling=true|false, driver=, label=KEY[=VALUE], name=)
      --format string   Pretty-print volumes using a Go template
  -q, --quiet           Only display volume names
`;

/** Docker's headers (docker/cli cli/command/formatter/volume.go). */
const headers: Record<string, string> = {
  Name: 'VOLUME NAME',
  Driver: 'DRIVER',
  Scope: 'SCOPE',
  Mountpoint: 'MOUNTPOINT',
  Labels: 'LABELS',
  Links: 'LINKS',
};

const defaultFormat = 'table {{.Driver}}\t{{.Name}}';

function rowOf({ volume, users }: VolumeInUse): TemplateRow {
  return {
    Name: volume.Name,
    Driver: volume.Driver,
    Scope: volume.Scope,
    Mountpoint: volume.Mountpoint,
    Labels: Object.entries(volume.Labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(','),
    Links: String(users.length),
    Label: (key: string) => volume.Labels[key] ?? '',
  };
}

/** The daemon's filters (moby volume/service/convert.go): one key's values are alternatives. */
function matches({ volume, users }: VolumeInUse, filters: FilterValues): boolean {
  return [...filters].every(([key, values]) =>
    values.some((v) => {
      if (key === 'dangling') return (users.length === 0) === (v === 'true' || v === '1');
      if (key === 'driver') return volume.Driver === v;
      if (key === 'name') return volume.Name.includes(v);
      return volumeLabelMatches(volume.Labels, labelFilter(v));
    }),
  );
}

/** `tbuild volume ls` (docker volume ls): sorted by name. */
export const volumeLsCommand: Command = {
  summary: 'List volumes',
  async run(ctx) {
    const line = parseCommandLine(ctx, {
      name: 'volume ls',
      usage,
      options: {
        filter: { type: 'string', short: 'f', multiple: true },
        format: { type: 'string' },
        quiet: { type: 'boolean', short: 'q' },
      },
      args: { exactly: 0 },
    });
    if (line === undefined) return 0;
    const { values } = line;
    const filters = parseFilterFlag('volume ls', values.filter, ['dangling', 'driver', 'label', 'name']);
    for (const v of filters.get('dangling') ?? []) {
      if (!['true', 'false', '1', '0'].includes(v)) throw new TbuildError(`Invalid filter 'dangling=${v}'`);
    }
    const volumes = (await listVolumesInUse(containerRoot(ctx))).filter((v) => matches(v, filters));
    const format = values.quiet ? '{{.Name}}' : (values.format ?? defaultFormat);
    ctx.stdout.write(
      formatRows(volumes.map(rowOf), { format, headers, structType: '*formatter.volumeContext' }),
    );
    return 0;
  },
};
