import type { ProgressSink } from './events.ts';

/** A display of a build's progress. `close` flushes what is pending and stops any timer. */
export interface Renderer {
  sink: ProgressSink;
  close(): void;
}

export type ProgressMode = 'auto' | 'plain' | 'tty' | 'rawjson' | 'quiet';
