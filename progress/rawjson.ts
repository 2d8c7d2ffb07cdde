import type { Renderer } from './renderer.ts';

/** `--progress=rawjson`: every event as one JSON line, for tools and tests. */
export function createRawJsonRenderer(write: (text: string) => void): Renderer {
  return {
    sink: (event) => write(`${JSON.stringify(event)}\n`),
    close() {},
  };
}
