/**
 * What a build reports while it runs. The solver emits these; renderers (plain, tty, rawjson)
 * consume them and know nothing about the build. Every event is plain data so a stream of them can
 * be written as JSON lines and read back.
 *
 * A vertex is one step (`[build 2/4] RUN make`), identified by its digest. Its lifecycle is
 * `vertex` with `started`, then any number of `log`/`status` events, then `vertex` with
 * `completed` (and `cached` or `error`). A cached vertex may arrive with `started`, `completed` and
 * `cached` in one event.
 */
export type ProgressEvent = VertexEvent | LogEvent | StatusEvent | WarningEvent;

export interface VertexEvent {
  type: 'vertex';
  digest: string;
  /** The display name, e.g. `[build 2/4] RUN make` or `[internal] load build context`. */
  name: string;
  /** Milliseconds since the epoch. */
  started?: number;
  completed?: number;
  /** The step's result came from the cache; nothing ran. */
  cached?: boolean;
  /** Set when the step failed; a one-line reason. */
  error?: string;
}

export interface LogEvent {
  type: 'log';
  digest: string;
  /** 1 = stdout, 2 = stderr. */
  stream: 1 | 2;
  /** The bytes as the process wrote them (UTF-8 text in JSON form). */
  data: string;
  time: number;
}

/** Progress of a sub-task of a vertex: bytes transferred, files copied. */
export interface StatusEvent {
  type: 'status';
  digest: string;
  id: string;
  current: number;
  total?: number;
  time: number;
}

/**
 * A warning about the build definition: a build check (BuildKit's lint warnings) or another
 * frontend note. Renderers list them at the end of the build, as buildx does.
 */
export interface WarningEvent {
  type: 'warning';
  /**
   * One line. For a check it is BuildKit's short form, `Rule: message (line N)`
   * (linter.LintFormatShort), which the summary prints after ` - `.
   */
  message: string;
  /** `Dockerfile:LINE` where the warning points, when it has a place. */
  location?: string;
  /** For a build check: the rule's name, description, documentation page, and the bare message. */
  rule?: string;
  description?: string;
  url?: string;
  detail?: string;
}

/** Where events go. Synchronous on purpose: renderers buffer, emitters never wait. */
export type ProgressSink = (event: ProgressEvent) => void;
