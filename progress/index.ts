// Public surface of progress/: the event types every stage may emit, and the renderers.
import { createPlainRenderer } from './plain.ts';
import { createRawJsonRenderer } from './rawjson.ts';
import type { ProgressMode, Renderer } from './renderer.ts';
import { createTtyRenderer } from './tty.ts';

export type {
  LogEvent,
  ProgressEvent,
  ProgressSink,
  StatusEvent,
  VertexEvent,
  WarningEvent,
} from './events.ts';
export type { ProgressMode, Renderer } from './renderer.ts';
export { createPlainRenderer, createRawJsonRenderer, createTtyRenderer };

/**
 * Picks the renderer for `--progress`: `auto` is tty on a terminal and plain otherwise, as in
 * `docker buildx build`. `quiet` (for `-q`) shows nothing.
 */
export function createRenderer(mode: ProgressMode, out: NodeJS.WriteStream): Renderer {
  const write = (text: string) => void out.write(text);
  const chosen = mode === 'auto' ? (out.isTTY ? 'tty' : 'plain') : mode;
  switch (chosen) {
    case 'tty':
      return createTtyRenderer(write, { columns: out.columns || 80, rows: out.rows || 24 });
    case 'rawjson':
      return createRawJsonRenderer(write);
    case 'quiet':
      return { sink: () => {}, close() {} };
    default:
      return createPlainRenderer(write);
  }
}
