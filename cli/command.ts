/**
 * The contract every `tbuild <command>` module fulfils. `cli/main.ts` picks the module by name,
 * hands it the remaining arguments, and turns what it throws into a message and an exit code.
 */
export interface CommandContext {
  /** Arguments after the command name. */
  argv: string[];
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
  /** Global flags given before the command (`tbuild --root DIR images`). */
  globals: GlobalOptions;
}

export interface GlobalOptions {
  /** `--root DIR`: the store root; resolved by the store when undefined. */
  root: string | undefined;
  /** `--debug`: print stacks for user errors too. */
  debug: boolean;
}

export interface Command {
  /** One line for `tbuild --help`. */
  summary: string;
  /** Runs the command and resolves to its exit code. Throws `TbuildError`s for user errors. */
  run(ctx: CommandContext): Promise<number>;
}
