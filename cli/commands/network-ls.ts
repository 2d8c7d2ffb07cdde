import { TbuildError } from '../../errors.ts';
import { formatRows, type TemplateRow } from '../../format/index.ts';
import { listNetworks, type NetworkDefinition } from '../../runtime/index.ts';
import type { Command } from '../command.ts';
import { containerRoot } from '../containers.ts';
import { commandUsageError, parseCommandLine } from '../flags.ts';

const usage = `
Usage:  tbuild network ls [OPTIONS]

List networks

Options:
  -f, --filter filter   Provide filter values (driver=, id=, name=, label=, type=custom|builtin)
      --format string   Pretty-print networks using a Go template
      --no-trunc        Do not truncate the output
  -q, --quiet           Only display network IDs
`;

/** Docker's headers (docker/cli formatter/network.go). */
const headers: Record<string, string> = {
  ID: 'NETWORK ID',
  Name: 'NAME',
  Driver: 'DRIVER',
  Scope: 'SCOPE',
  IPv6: 'IPV6',
  Internal: 'INTERNAL',
  Labels: 'LABELS',
  CreatedAt: 'CREATED AT',
};

const defaultFormat = 'table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}';

function rowOf(n: NetworkDefinition, trunc: boolean): TemplateRow {
  return {
    ID: trunc ? n.Id.slice(0, 12) : n.Id,
    Name: n.Name,
    Driver: n.Driver,
    Scope: n.Scope,
    IPv6: String(n.EnableIPv6),
    Internal: String(n.Internal),
    Labels: Object.entries(n.Labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(','),
    CreatedAt: n.Created,
    Label: (key: string) => n.Labels[key] ?? '',
  };
}

/** Docker's network filters: values of one key are alternatives, different keys must all match. */
function matches(n: NetworkDefinition, filters: [string, string][]): boolean {
  const keys = new Set(filters.map(([k]) => k));
  return [...keys].every((key) =>
    filters
      .filter(([k]) => k === key)
      .some(([, v]) => {
        if (key === 'driver') return n.Driver === v;
        if (key === 'id') return n.Id.startsWith(v);
        if (key === 'name') return n.Name.includes(v);
        if (key === 'type') return (v === 'builtin') === ['bridge', 'host', 'none'].includes(n.Name);
        const eq = v.indexOf('=');
        return eq < 0 ? v in n.Labels : n.Labels[v.slice(0, eq)] === v.slice(eq + 1);
      }),
  );
}

/** `tbuild network ls` (docker network ls): sorted by name. */
export const networkLsCommand: Command = {
  summary: 'List networks',
  async run(ctx) {
    const line = parseCommandLine(ctx, {
      name: 'network ls',
      usage,
      options: {
        filter: { type: 'string', short: 'f', multiple: true },
        format: { type: 'string' },
        'no-trunc': { type: 'boolean' },
        quiet: { type: 'boolean', short: 'q' },
      },
      args: { exactly: 0 },
    });
    if (line === undefined) return 0;
    const { values } = line;
    const filters = (values.filter ?? []).map((entry): [string, string] => {
      const eq = entry.indexOf('=');
      if (eq <= 0) {
        throw commandUsageError(
          'network ls',
          `invalid argument "${entry}" for "-f, --filter" flag: bad format of filter (expected name=value)`,
        );
      }
      const key = entry.slice(0, eq).toLowerCase();
      if (!['driver', 'id', 'name', 'label', 'type'].includes(key))
        throw new TbuildError(`Invalid filter '${key}'`);
      return [key, entry.slice(eq + 1)];
    });
    const networks = (await listNetworks(containerRoot(ctx))).filter((n) => matches(n, filters));
    const rows = networks.map((n) => rowOf(n, values['no-trunc'] !== true));
    const format = values.quiet ? '{{.ID}}' : (values.format ?? defaultFormat);
    ctx.stdout.write(formatRows(rows, { format, headers, structType: '*formatter.networkContext' }));
    return 0;
  },
};
