import type { ProgressEvent, WarningEvent } from './events.ts';
import type { Renderer } from './renderer.ts';
import { formatWarningSummary } from './warnings.ts';

interface TtyVertex {
  name: string;
  started?: number;
  completed?: number;
  cached: boolean;
  error?: string;
  logTail: string[];
  partial: string;
}

export interface TtyOptions {
  /** Terminal width and height; lines are cut to the width and the frame to the height. */
  columns: number;
  rows: number;
  /** Milliseconds between redraws. */
  interval?: number;
  now?: () => number;
}

const liveLogLines = 6;

/**
 * BuildKit's interactive display (util/progress/progressui/display.go), redrawn in place:
 *
 *     [+] Building 3.2s (4/6)
 *      => CACHED [1/3] FROM docker.io/library/busybox:latest        0.0s
 *      => [2/3] RUN make                                             1.2s
 *      => => # cc -o app main.c
 *
 * Running steps show a timer and the last few lines of their output; a finished step collapses to
 * one line. The frame is cut to the terminal's height, keeping the newest lines.
 */
export function createTtyRenderer(write: (text: string) => void, options: TtyOptions): Renderer {
  const now = options.now ?? Date.now;
  const start = now();
  const vertices = new Map<string, TtyVertex>();
  const warnings: WarningEvent[] = [];
  let drawnLines = 0;
  let finished = false;

  function frame(): string[] {
    const all = [...vertices.values()];
    const done = all.filter((v) => v.completed !== undefined).length;
    const elapsed = ((now() - start) / 1000).toFixed(1);
    const lines = [`[+] Building ${elapsed}s (${done}/${all.length})${finished ? ' FINISHED' : ''}`];
    for (const vertex of all) {
      const end = vertex.completed ?? now();
      const seconds = vertex.started === undefined ? 0 : (end - vertex.started) / 1000;
      const prefix = vertex.cached ? ' => CACHED ' : vertex.error !== undefined ? ' => ERROR ' : ' => ';
      lines.push(alignRight(`${prefix}${vertex.name}`, `${seconds.toFixed(1)}s`, options.columns));
      if (vertex.completed === undefined || vertex.error !== undefined) {
        const tail = vertex.partial ? [...vertex.logTail, vertex.partial] : vertex.logTail;
        for (const line of tail.slice(-liveLogLines)) lines.push(cut(` => => # ${line}`, options.columns));
      }
    }
    const room = Math.max(options.rows - 1, 2);
    return lines.length > room ? [lines[0] as string, ...lines.slice(lines.length - room + 1)] : lines;
  }

  function redraw(): void {
    const lines = frame();
    // Move to the top of the previous frame and clear down, then draw the new one.
    const up = drawnLines > 0 ? `\x1b[${drawnLines}A\r\x1b[J` : '';
    write(`${up}${lines.join('\n')}\n`);
    drawnLines = lines.length;
  }

  function handle(event: ProgressEvent): void {
    if (event.type === 'warning') {
      warnings.push(event);
      return;
    }
    if (event.type === 'vertex') {
      let vertex = vertices.get(event.digest);
      if (!vertex) {
        vertex = { name: event.name, cached: false, logTail: [], partial: '' };
        vertices.set(event.digest, vertex);
      }
      vertex.started ??= event.started;
      if (event.completed !== undefined) vertex.completed = event.completed;
      if (event.cached) vertex.cached = true;
      if (event.error !== undefined) vertex.error = event.error;
      return;
    }
    if (event.type === 'log') {
      const vertex = vertices.get(event.digest);
      if (!vertex) return;
      const lines = (vertex.partial + event.data).split('\n');
      vertex.partial = lines.pop() ?? '';
      vertex.logTail.push(...lines.map((line) => line.replace(/\r$/, '')));
      if (vertex.logTail.length > liveLogLines)
        vertex.logTail.splice(0, vertex.logTail.length - liveLogLines);
    }
  }

  const timer = setInterval(redraw, options.interval ?? 100);
  timer.unref();

  return {
    sink: handle,
    close() {
      clearInterval(timer);
      finished = true;
      redraw();
      // Below the final frame, not part of it: buildx prints them once the display has stopped.
      write(formatWarningSummary(warnings, true));
      warnings.length = 0;
    },
  };
}

function cut(line: string, columns: number): string {
  return line.length > columns ? line.slice(0, Math.max(columns - 1, 1)) : line;
}

function alignRight(left: string, right: string, columns: number): string {
  const room = columns - right.length - 1;
  const text = left.length > room ? `${left.slice(0, Math.max(room - 3, 1))}...` : left;
  return `${text}${' '.repeat(Math.max(room - text.length, 0) + 1)}${right}`;
}
