import { formatRows, type TemplateRow } from '../../format/index.ts';
import {
  type Container,
  type ContainerStats,
  containerStats,
  inspectContainer,
  listContainers,
  syncState,
} from '../../runtime/index.ts';
import type { Command, CommandContext } from '../command.ts';
import { containerRoot } from '../containers.ts';
import { parseCommandLine } from '../flags.ts';
import { bytesSize, humanSize } from '../image-output.ts';

const usage = `
Usage:  tbuild stats [OPTIONS] [CONTAINER...]

Display a live stream of container(s) resource usage statistics

Options:
  -a, --all             Show all containers (default shows just running)
      --format string   Pretty-print stats using a Go template
      --no-stream       Disable streaming stats and only pull the first result
      --no-trunc        Do not truncate output
`;

/** docker-cli formatter_stats.go defaultStatsTableFormat and its headers. */
const defaultFormat =
  'table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}';
const headers: Record<string, string> = {
  Container: 'CONTAINER',
  ID: 'CONTAINER ID',
  Name: 'NAME',
  CPUPerc: 'CPU %',
  MemUsage: 'MEM USAGE / LIMIT',
  MemPerc: 'MEM %',
  NetIO: 'NET I/O',
  BlockIO: 'BLOCK I/O',
  PIDs: 'PIDS',
};

/** `tbuild stats` (docker stats): one table with --no-stream, else one a second until Ctrl-C. */
export const statsCommand: Command = {
  summary: 'Display a live stream of container(s) resource usage statistics',
  async run(ctx) {
    const line = parseCommandLine(ctx, {
      name: 'stats',
      usage,
      options: {
        all: { type: 'boolean', short: 'a' },
        format: { type: 'string' },
        'no-stream': { type: 'boolean' },
        'no-trunc': { type: 'boolean' },
      },
    });
    if (line === undefined) return 0;
    const { values, positionals } = line;
    const root = containerRoot(ctx);
    const show = async () => {
      const containers = await pick(root, positionals, values.all === true);
      const stats = await containerStats(root, containers);
      const rows = stats.map((s, i) =>
        rowOf(s, positionals[i] ?? s.id.slice(0, 12), values['no-trunc'] !== true),
      );
      return formatRows(rows, { format: values.format ?? defaultFormat, headers });
    };
    if (values['no-stream']) {
      ctx.stdout.write(await show());
      return 0;
    }
    return stream(ctx, show);
  },
};

/** The named containers (each must exist), else the running ones (all with -a). */
async function pick(root: string, refs: string[], all: boolean): Promise<Container[]> {
  if (refs.length > 0) return Promise.all(refs.map((ref) => inspectContainer(root, ref)));
  const out: Container[] = [];
  for (const c of await listContainers(root)) {
    const now = await syncState(root, c);
    if (all || now.state.Status === 'running' || now.state.Status === 'paused') out.push(now);
  }
  return out;
}

function rowOf(s: ContainerStats, asGiven: string, trunc: boolean): TemplateRow {
  return {
    Container: asGiven,
    ID: trunc ? s.id.slice(0, 12) : s.id,
    Name: s.name,
    CPUPerc: `${s.cpuPercent.toFixed(2)}%`,
    MemUsage: `${bytesSize(s.memoryUsage)} / ${bytesSize(s.memoryLimit)}`,
    MemPerc: `${s.memoryPercent.toFixed(2)}%`,
    NetIO: `${humanSize(s.networkRx)} / ${humanSize(s.networkTx)}`,
    BlockIO: `${humanSize(s.blockRead)} / ${humanSize(s.blockWrite)}`,
    PIDs: String(s.pids),
  };
}

/** Docker's stream: the screen cleared and the table printed again each second, until a signal. */
async function stream(ctx: CommandContext, show: () => Promise<string>): Promise<number> {
  let stopped = false;
  const stop = () => {
    stopped = true;
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    while (!stopped) ctx.stdout.write(`\x1b[2J\x1b[H${await show()}`);
    return 0;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
