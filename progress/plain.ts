import type { ProgressEvent, WarningEvent } from './events.ts';
import type { Renderer } from './renderer.ts';
import { formatWarningSummary } from './warnings.ts';

interface PlainVertex {
  number: number;
  name: string;
  started?: number;
  done: boolean;
}

/**
 * BuildKit's `--progress=plain` format (util/progress/progressui/printer.go): each vertex gets a
 * number in order of first appearance; `#N name` when it starts, its log lines as
 * `#N 0.215 text` (seconds since the vertex started), then `#N DONE 0.3s`, `#N CACHED` or
 * `#N ERROR: reason`. A blank line separates output of different vertices. Warnings are listed
 * after the last step, as buildx does.
 */
export function createPlainRenderer(write: (text: string) => void): Renderer {
  const vertices = new Map<string, PlainVertex>();
  const partialLines = new Map<string, string>();
  const warnings: WarningEvent[] = [];
  let last: string | undefined;

  function switchTo(digest: string): void {
    if (last !== undefined && last !== digest) write('\n');
    last = digest;
  }

  function vertexFor(digest: string, name: string): PlainVertex {
    let vertex = vertices.get(digest);
    if (!vertex) {
      vertex = { number: vertices.size + 1, name, done: false };
      vertices.set(digest, vertex);
    }
    return vertex;
  }

  function writeLog(digest: string, vertex: PlainVertex, data: string, time: number): void {
    const text = (partialLines.get(digest) ?? '') + data;
    const lines = text.split('\n');
    partialLines.set(digest, lines.pop() ?? '');
    const elapsed = ((time - (vertex.started ?? time)) / 1000).toFixed(3);
    for (const line of lines) write(`#${vertex.number} ${elapsed} ${line.replace(/\r$/, '')}\n`);
  }

  function flushPartial(digest: string, vertex: PlainVertex, time: number): void {
    const rest = partialLines.get(digest);
    if (rest) writeLog(digest, vertex, '\n', time);
    partialLines.delete(digest);
  }

  function handle(event: ProgressEvent): void {
    switch (event.type) {
      case 'vertex': {
        const isNew = !vertices.has(event.digest);
        const vertex = vertexFor(event.digest, event.name);
        if (vertex.done) return;
        switchTo(event.digest);
        if (isNew || (event.started !== undefined && vertex.started === undefined)) {
          if (isNew) write(`#${vertex.number} ${event.name}\n`);
          vertex.started = event.started ?? vertex.started;
        }
        if (event.completed === undefined) return;
        flushPartial(event.digest, vertex, event.completed);
        vertex.done = true;
        if (event.cached) write(`#${vertex.number} CACHED\n`);
        else if (event.error !== undefined) write(`#${vertex.number} ERROR: ${event.error}\n`);
        else {
          const seconds = (event.completed - (vertex.started ?? event.completed)) / 1000;
          write(`#${vertex.number} DONE ${seconds.toFixed(1)}s\n`);
        }
        return;
      }
      case 'log': {
        const vertex = vertices.get(event.digest);
        if (!vertex) return;
        switchTo(event.digest);
        writeLog(event.digest, vertex, event.data, event.time);
        return;
      }
      case 'status': {
        const vertex = vertices.get(event.digest);
        if (!vertex) return;
        switchTo(event.digest);
        const total = event.total === undefined ? '' : ` / ${event.total}`;
        write(`#${vertex.number} ${event.id} ${event.current}${total}\n`);
        return;
      }
      case 'warning':
        warnings.push(event);
        return;
    }
  }

  return {
    sink: handle,
    close() {
      for (const [digest, vertex] of vertices) flushPartial(digest, vertex, Date.now());
      write(formatWarningSummary(warnings, false));
      warnings.length = 0;
    },
  };
}
