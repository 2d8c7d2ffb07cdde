// The typed instructions the parser hands the frontend: one kind per instruction, grouped into
// stages. BuildKit: frontend/dockerfile/instructions/commands.go.
import type { Heredoc, Range } from './types.ts';

/** One variant per kind, even where several kinds share a shape, so that `switch (kind)` narrows. */
type Cmd<K extends string, T> = K extends string ? { kind: K; range: Range; source: string } & T : never;

/** A command in shell form (run by the stage's SHELL) or exec form (argv as written in JSON). */
export type ShellOrExec = { form: 'shell'; line: string } | { form: 'exec'; argv: string[] };

/** One `RUN --mount=…`; fields are unexpanded, as written. */
export interface RunMount {
  type: 'bind' | 'cache' | 'tmpfs' | 'secret' | 'ssh';
  target?: string;
  source?: string;
  from?: string;
  readonly: boolean;
  id?: string;
  sharing?: 'shared' | 'private' | 'locked';
  mode?: number;
  uid?: number;
  gid?: number;
  required?: boolean;
  size?: string;
  env?: string;
}

/**
 * A typed instruction. Values are NOT variable-expanded and keep their quotes as written (except
 * JSON-form arguments, which JSON has already decoded): expansion needs the build args and ENV in
 * force, so the frontend does it with shell.ts. `source` is the logical line, `range` its lines.
 * Durations are nanoseconds (Go's time.Duration, as in the image config's Healthcheck).
 */
export type Command =
  | Cmd<
      'run',
      {
        cmd: ShellOrExec;
        mounts: RunMount[];
        network?: 'default' | 'none' | 'host';
        security?: 'sandbox' | 'insecure';
        heredocs: Heredoc[];
      }
    >
  | Cmd<
      'copy',
      {
        sources: string[];
        dest: string;
        from?: string;
        chown?: string;
        chmod?: string;
        link: boolean;
        parents: boolean;
        exclude: string[];
        heredocs: Heredoc[];
      }
    >
  | Cmd<
      'add',
      {
        sources: string[];
        dest: string;
        chown?: string;
        chmod?: string;
        checksum?: string;
        keepGitDir: boolean;
        link: boolean;
        exclude: string[];
        heredocs: Heredoc[];
      }
    >
  | Cmd<
      'env' | 'label',
      {
        pairs: [string, string][];
        /** `ENV key value` without `=` (BuildKit's NoDelim; the LegacyKeyValueFormat check). */
        legacy?: true;
      }
    >
  | Cmd<'arg', { args: { key: string; value?: string }[] }>
  | Cmd<'workdir' | 'user' | 'stopsignal' | 'maintainer', { value: string }>
  | Cmd<'cmd' | 'entrypoint' | 'shell', { cmd: ShellOrExec }>
  | Cmd<'expose' | 'volume', { values: string[] }>
  | Cmd<
      'healthcheck',
      {
        /** `NONE` disables the base image's check; otherwise Docker's Test form: ["CMD", …] or ["CMD-SHELL", line]. */
        test: string[] | 'NONE';
        interval?: number;
        timeout?: number;
        startPeriod?: number;
        startInterval?: number;
        retries?: number;
      }
    >
  | Cmd<'onbuild', { trigger: string; command: Command }>;

export type ArgCommand = Extract<Command, { kind: 'arg' }>;

/** One `FROM` and the instructions up to the next one. `base` is unexpanded (`${BASE}` stays). */
export interface Stage {
  /** 0-based position in the file; `COPY --from=0` refers to it. */
  index: number;
  /** `AS name`, lower-cased (stage names are case-insensitive). */
  name?: string;
  base: string;
  platform?: string;
  commands: Command[];
  /** From the FROM line to the end of the stage's last instruction. */
  range: Range;
}

/** The whole Dockerfile: stages in order and the ARGs before the first FROM (usable in FROM lines). */
export interface Instructions {
  stages: Stage[];
  metaArgs: ArgCommand[];
}
