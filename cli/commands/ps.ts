import { TbuildError } from '../../errors.ts';
import {
  alignTabs,
  renderTemplate,
  splitTableFormat,
  type TemplateRow,
  templateHeader,
} from '../../format/index.ts';
import {
  type Container,
  listContainers,
  portsText,
  publishedPorts,
  syncState,
  writableLayerSize,
} from '../../runtime/index.ts';
import type { Command, CommandContext } from '../command.ts';
import { containerRoot, keepPortsServed } from '../containers.ts';
import { commandUsageError, intFlag, parseCommandLine } from '../flags.ts';
import { formatTable, humanDuration, humanSize, imageSize, openStore } from '../image-output.ts';

const usage = `
Usage:  tbuild ps [OPTIONS]

List containers

Options:
  -a, --all             Show all containers (default shows just running)
  -f, --filter filter   Filter output based on conditions provided (status=, name=, id=,
                        ancestor=, label=, exited=)
      --format string   Pretty-print containers using a Go template
  -n, --last int        Show n last created containers (includes all states)
  -l, --latest          Show the latest created container (includes all states)
      --no-trunc        Don't truncate output
  -q, --quiet           Only display container IDs
  -s, --size            Display total file sizes
`;

/** Docker's header for each field of a `table` format (docker/cli formatter/container.go). */
const headers: Record<string, string> = {
  ID: 'CONTAINER ID',
  Image: 'IMAGE',
  Command: 'COMMAND',
  CreatedAt: 'CREATED AT',
  RunningFor: 'CREATED',
  Ports: 'PORTS',
  State: 'STATE',
  Status: 'STATUS',
  Size: 'SIZE',
  Names: 'NAMES',
  Labels: 'LABELS',
  Mounts: 'MOUNTS',
  Networks: 'NETWORKS',
};

const statuses = new Set(['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead']);

/** Docker's container State.String() (moby container/state.go). */
export function statusText(c: Container, now = Date.now()): string {
  const s = c.state;
  const since = (t: string) => humanDuration(now - Date.parse(t));
  switch (s.Status) {
    case 'running':
      return `Up ${since(s.StartedAt)}`;
    case 'paused':
      return `Up ${since(s.StartedAt)} (Paused)`;
    case 'restarting':
      return `Restarting (${s.ExitCode}) ${since(s.FinishedAt)} ago`;
    case 'removing':
      return 'Removal In Progress';
    case 'dead':
      return 'Dead';
    case 'created':
      return 'Created';
    default:
      return s.FinishedAt.startsWith('0001') ? '' : `Exited (${s.ExitCode}) ${since(s.FinishedAt)} ago`;
  }
}

/** moby daemon/list.go: Path then Args, an argument with a space in single quotes. */
function commandText(c: Container): string {
  const args = c.record.Args.map((a) => (a.includes(' ') ? `'${a}'` : a));
  return args.length > 0 ? `${c.record.Path} ${args.join(' ')}` : c.record.Path;
}

/** docker/cli formatter Ellipsis: at most `width` characters, the last one `…` when cut. */
function ellipsis(text: string, width: number): string {
  const chars = [...text];
  return chars.length <= width ? text : `${chars.slice(0, width - 1).join('')}…`;
}

/** Go's time.Time String() layout, as `--format {{.CreatedAt}}` prints it. */
function goTime(iso: string): string {
  return `${new Date(iso).toISOString().slice(0, 19).replace('T', ' ')} +0000 UTC`;
}

function rowOf(root: string, c: Container, trunc: boolean): TemplateRow {
  const labels = c.record.Config.Labels;
  // Docker's Created is whole seconds (the API's Unix time).
  const created = Math.trunc(Date.parse(c.record.Created) / 1000) * 1000;
  return {
    ID: trunc ? c.record.Id.slice(0, 12) : c.record.Id,
    Image: c.record.Image,
    Command: JSON.stringify(trunc ? ellipsis(commandText(c), 20) : commandText(c)),
    CreatedAt: goTime(c.record.Created),
    RunningFor: `${humanDuration(Date.now() - created)} ago`,
    Ports: portsText(publishedPorts(root, c.record.Id), []),
    State: c.state.Status,
    Status: statusText(c),
    Size: '',
    Names: c.record.Name,
    Labels: Object.entries(labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(','),
    // Docker's MOUNTS: a volume by its name, a bind by its source.
    Mounts: c.record.HostConfig.Mounts.map((m) => {
      const shown = m.volume?.name ?? m.source;
      return trunc ? ellipsis(shown, 15) : shown;
    }).join(','),
    Networks: c.record.HostConfig.NetworkMode,
    Label: (key: string) => labels[key] ?? '',
  };
}

/**
 * Docker's ps filters: values of one key are alternatives, different keys must all match. A value
 * without `=` is a flag error (125); an unknown key or value is the daemon's refusal (exit 1).
 */
function parseFilters(values: string[]): Map<string, string[]> {
  const filters = new Map<string, string[]>();
  for (const entry of values) {
    const eq = entry.indexOf('=');
    // docker-cli opts.FilterOpt.Set: a flag value error, so pflag's wording and exit 125.
    if (eq <= 0) {
      throw commandUsageError(
        'ps',
        `invalid argument "${entry}" for "-f, --filter" flag: bad format of filter (expected name=value)`,
      );
    }
    const key = entry.slice(0, eq).toLowerCase();
    const value = entry.slice(eq + 1);
    if (!['status', 'name', 'id', 'ancestor', 'label', 'exited'].includes(key)) {
      throw new TbuildError(`invalid filter '${key}'`);
    }
    if (key === 'status' && !statuses.has(value)) {
      throw new TbuildError(`invalid filter 'status=${value}': Invalid filter 'status=${value}'`);
    }
    if (key === 'exited' && !/^-?\d+$/.test(value)) throw new TbuildError(`invalid filter 'exited=${value}'`);
    filters.set(key, [...(filters.get(key) ?? []), value]);
  }
  return filters;
}

function matches(c: Container, filters: Map<string, string[]>): boolean {
  const test = (key: string, one: (value: string) => boolean) => {
    const values = filters.get(key);
    return values === undefined || values.some(one);
  };
  return (
    test('status', (v) => c.state.Status === v) &&
    test('name', (v) => new RegExp(v).test(c.record.Name)) &&
    test('id', (v) => c.record.Id.startsWith(v)) &&
    test('ancestor', (v) => {
      const bare = v.replace(/^sha256:/, '');
      return (
        c.record.Image === v ||
        c.record.Image === `${v}:latest` ||
        `${c.record.Image}:latest` === v ||
        (bare.length >= 4 &&
          /^[0-9a-f]+$/.test(bare) &&
          c.record.ImageId.replace(/^sha256:/, '').startsWith(bare))
      );
    }) &&
    test('label', (v) => {
      const eq = v.indexOf('=');
      const labels = c.record.Config.Labels;
      return eq < 0 ? v in labels : labels[v.slice(0, eq)] === v.slice(eq + 1);
    }) &&
    test('exited', (v) => c.state.Status === 'exited' && c.state.ExitCode === Number(v))
  );
}

/** `tbuild ps` (docker ps). */
export const psCommand: Command = {
  summary: 'List containers',
  async run(ctx) {
    const line = parseCommandLine(ctx, {
      name: 'ps',
      usage,
      options: {
        all: { type: 'boolean', short: 'a' },
        quiet: { type: 'boolean', short: 'q' },
        latest: { type: 'boolean', short: 'l' },
        last: { type: 'string', short: 'n' },
        'no-trunc': { type: 'boolean' },
        filter: { type: 'string', short: 'f', multiple: true },
        format: { type: 'string' },
        size: { type: 'boolean', short: 's' },
      },
      args: { exactly: 0 },
    });
    if (line === undefined) return 0;
    const { values } = line;
    const last =
      values.last === undefined ? undefined : intFlag('ps', { long: 'last', short: 'n' }, values.last);
    const filters = parseFilters(values.filter ?? []);
    const limit = values.latest ? 1 : (last ?? -1);
    const all = values.all === true || limit > 0 || filters.has('status');
    const root = containerRoot(ctx);
    let containers: Container[] = [];
    for (const c of await listContainers(root)) containers.push(await syncState(root, c));
    containers = containers.filter(
      (c) =>
        (all ||
          c.state.Status === 'running' ||
          c.state.Status === 'paused' ||
          c.state.Status === 'restarting') &&
        matches(c, filters),
    );
    if (limit > 0) containers = containers.slice(0, limit);
    for (const c of containers) {
      if (c.state.Status === 'running') await keepPortsServed(ctx, c.record.Id, c.record.Name);
    }
    const trunc = values['no-trunc'] !== true;
    const rows = containers.map((c) => rowOf(root, c, trunc));
    // Docker computes sizes for -s, or a --format that shows them.
    if (values.size || /\.Size\b/.test(values.format ?? '')) {
      const sizes = await sizeTexts(ctx, root, containers);
      rows.forEach((row, i) => {
        row.Size = sizes[i];
      });
    }
    if (values.quiet) {
      for (const row of rows) ctx.stdout.write(`${row.ID as string}\n`);
      return 0;
    }
    if (values.format !== undefined && values.format !== 'table') {
      const { table, template } = splitTableFormat(values.format);
      const lines = rows.map((row) => renderTemplate(template, row));
      if (table) ctx.stdout.write(alignTabs([templateHeader(template, headers), ...lines]));
      else for (const line of lines) ctx.stdout.write(`${line}\n`);
      return 0;
    }
    const header = ['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'];
    if (values.size) header.push('SIZE');
    const table = [header];
    for (const row of rows) {
      const cells = [
        row.ID,
        row.Image,
        row.Command,
        row.RunningFor,
        row.Status,
        row.Ports,
        row.Names,
        ...(values.size ? [row.Size] : []),
      ] as string[];
      table.push(cells);
    }
    ctx.stdout.write(formatTable(table));
    return 0;
  },
};

/**
 * docker-cli's SIZE: the writable layer's size, and with the image's the virtual size
 * (`86B (virtual 1.98MB)`), each in go-units' three digits.
 */
async function sizeTexts(ctx: CommandContext, root: string, containers: Container[]): Promise<string[]> {
  const store = await openStore(ctx);
  try {
    const imageSizes = new Map<string, number>();
    const out: string[] = [];
    for (const c of containers) {
      const rw = await writableLayerSize(root, c);
      let image = imageSizes.get(c.record.ImageId);
      if (image === undefined) {
        image = await store.resolve(c.record.ImageId).then(
          (found) => imageSize(store, found),
          () => 0,
        );
        imageSizes.set(c.record.ImageId, image);
      }
      const virtual = rw + image;
      out.push(virtual > 0 ? `${humanSize(rw)} (virtual ${humanSize(virtual)})` : humanSize(rw));
    }
    return out;
  } finally {
    await store.close();
  }
}
