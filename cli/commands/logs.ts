import {
  formatLogTime,
  inspectContainer,
  type LogEntry,
  parseLogTime,
  readLog,
  readLogFrom,
  selectLogEntries,
  syncState,
} from '../../runtime/index.ts';
import type { Command } from '../command.ts';
import { containerRoot } from '../containers.ts';
import { parseCommandLine } from '../flags.ts';

const usage = `
Usage:  tbuild logs [OPTIONS] CONTAINER

Fetch the logs of a container

Options:
  -f, --follow         Follow log output
      --since string   Show logs since timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)
  -n, --tail string    Number of lines to show from the end of the logs (default "all")
  -t, --timestamps     Show timestamps
      --until string   Show logs before a timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)
`;

/** How often `-f` looks for new lines and for the container's end. */
const followPollMs = 100;

/** `tbuild logs` (docker logs): stdout lines on stdout, stderr lines on stderr. */
export const logsCommand: Command = {
  summary: 'Fetch the logs of a container',
  async run(ctx) {
    const line = parseCommandLine(ctx, {
      name: 'logs',
      usage,
      options: {
        follow: { type: 'boolean', short: 'f' },
        timestamps: { type: 'boolean', short: 't' },
        tail: { type: 'string', short: 'n' },
        since: { type: 'string' },
        until: { type: 'string' },
      },
      args: { exactly: 1 },
    });
    if (line === undefined) return 0;
    const { values, positionals } = line;
    const root = containerRoot(ctx);
    let container = await inspectContainer(root, positionals[0] as string);
    // Docker: a negative or unparsable --tail means all.
    const tail =
      values.tail === undefined || values.tail === 'all' || !/^\d+$/.test(values.tail)
        ? undefined
        : Number(values.tail);
    const since = values.since === undefined ? undefined : parseLogTime(values.since, 'since');
    const until = values.until === undefined ? undefined : parseLogTime(values.until, 'until');
    const write = (entries: LogEntry[]) => {
      for (const e of entries) {
        const text = values.timestamps ? `${formatLogTime(e.time)} ${e.text}` : e.text;
        (e.stream === 'stderr' && !container.record.Config.Tty ? ctx.stderr : ctx.stdout).write(text);
      }
    };
    const logPath = `${container.dir}/ctr.log`;
    const first = await readLog(logPath);
    write(
      selectLogEntries(first.entries, {
        ...(since === undefined ? {} : { since }),
        ...(until === undefined ? {} : { until }),
        ...(tail === undefined ? {} : { tail }),
      }),
    );
    if (!values.follow) return 0;
    let offset = first.offset;
    for (;;) {
      container = await syncState(root, container);
      const running = ['running', 'paused', 'restarting'].includes(container.state.Status);
      const next = await readLogFrom(logPath, offset);
      offset = next.offset;
      const shown = next.entries.filter(
        (e) => (since === undefined || e.time >= since) && (until === undefined || e.time <= until),
      );
      write(shown);
      if (!running) return 0;
      if (until !== undefined && BigInt(Date.now()) * 1_000_000n > until) return 0;
      await new Promise((resolve) => setTimeout(resolve, followPollMs));
    }
  },
};
