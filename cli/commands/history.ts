import type { History } from '../../image/index.ts';
import type { Command } from '../command.ts';
import { parseCommandLine } from '../flags.ts';
import { formatTable, humanSince, humanSize, layerSizes, openStore, shortId } from '../image-output.ts';

const usage = `
Usage:  tbuild history [OPTIONS] IMAGE

Show the history of an image

Options:
  -H, --human      Print sizes and dates in human readable format (default true)
      --no-trunc   Don't truncate output
  -q, --quiet      Only show image IDs
`;

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
      const rows = [['IMAGE', 'CREATED', 'CREATED BY', 'SIZE', 'COMMENT']];
      steps.forEach(({ h, size }, i) => {
        const createdBy = (h.created_by ?? '').replace(/\t/g, ' ').replace(/\n/g, ' ');
        rows.push([
          i === 0 ? id : '<missing>',
          values.human === false ? (h.created ?? '') : humanSince(h.created),
          values['no-trunc'] ? createdBy : ellipsis(createdBy, 45),
          values.human === false ? String(size) : humanSize(size),
          h.comment ?? '',
        ]);
      });
      ctx.stdout.write(formatTable(rows));
      return 0;
    } finally {
      await store.close();
    }
  },
};
