import { formatRows, type TemplateRow } from '../../format/index.ts';
import type { History } from '../../image/index.ts';
import type { Command } from '../command.ts';
import { parseCommandLine } from '../flags.ts';
import { humanSince, humanSize, layerSizes, openStore, shortId } from '../image-output.ts';

const usage = `
Usage:  tbuild history [OPTIONS] IMAGE

Show the history of an image

Options:
  -H, --human      Print sizes and dates in human readable format (default true)
      --format string   Pretty-print history using a Go template ("table …", "json" = "{{json .}}")
      --no-trunc   Don't truncate output
  -q, --quiet      Only show image IDs
`;

/** docker/cli formatter/history.go: the default table and each field's header. */
const defaultFormat = 'table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}';
const headers: Record<string, string> = {
  ID: 'IMAGE',
  CreatedSince: 'CREATED',
  CreatedAt: 'CREATED AT',
  CreatedBy: 'CREATED BY',
  Size: 'SIZE',
  Comment: 'COMMENT',
};

/** Go's time.RFC3339, as historyContext.CreatedAt prints it (whole seconds). */
function rfc3339(created: string | undefined): string {
  const t = Date.parse(created ?? '');
  return Number.isNaN(t) ? '' : `${new Date(t).toISOString().slice(0, 19)}Z`;
}

/** docker/cli's stringutils.Ellipsis: at most `max` characters, the last one "…". */
function ellipsis(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

/** `tbuild history IMAGE` (docker history): newest step first; empty_layer steps show 0B. */
export const historyCommand: Command = {
  summary: 'Show the history of an image',
  async run(ctx) {
    const line = parseCommandLine(ctx, {
      name: 'history',
      usage,
      options: {
        'no-trunc': { type: 'boolean' },
        quiet: { type: 'boolean', short: 'q' },
        format: { type: 'string' },
        human: { type: 'boolean', short: 'H', default: true },
      },
      args: { exactly: 1 },
    });
    if (line === undefined) return 0;
    const { values, positionals } = line;
    const store = await openStore(ctx);
    try {
      const image = await store.resolve(positionals[0] as string);
      const layers = await layerSizes(store, image);
      // Without history (some imported images), each layer is one anonymous step.
      const history: History[] =
        image.config.history && image.config.history.length > 0
          ? image.config.history
          : layers.map(() => ({ created: image.config.created }));
      let next = 0;
      const steps = history.map((h) => {
        const size = h.empty_layer ? 0 : (layers[next++] ?? 0);
        return { h, size };
      });
      steps.reverse();
      const id = values['no-trunc'] ? image.id : shortId(image.id);
      if (values.quiet) {
        ctx.stdout.write(`${id}\n`);
        return 0;
      }
      const human = values.human !== false;
      const contexts: TemplateRow[] = steps.map(({ h, size }, i) => {
        const createdBy = (h.created_by ?? '').replace(/\t/g, ' ');
        // In docker-cli's MarshalJSON order (sorted), which `{{json .}}` shows.
        return {
          Comment: h.comment ?? '',
          CreatedAt: rfc3339(h.created),
          CreatedBy: values['no-trunc'] ? createdBy : ellipsis(createdBy.replace(/\n/g, ' '), 45),
          CreatedSince: human ? humanSince(h.created) : rfc3339(h.created),
          ID: i === 0 ? id : '<missing>',
          Size: human ? humanSize(size) : String(size),
        };
      });
      let format = values.format ?? '';
      if (format === 'json') format = '{{json .}}';
      if (format === '' || format === 'table') format = defaultFormat;
      ctx.stdout.write(formatRows(contexts, { format, headers, structType: '*image.historyContext' }));
      return 0;
    } finally {
      await store.close();
    }
  },
};
