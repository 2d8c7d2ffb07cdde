/**
 * The project's named error classes. Every error a user can cause is one of these; the CLI
 * (`cli/main.ts`) is the only place that prints them and picks exit codes. Anything else that
 * reaches the CLI is a bug and is printed with its stack.
 */

/** A 1-based position in a source file; `col` counts characters from 1. */
export interface Position {
  line: number;
  col: number;
}

/** A source range, inclusive of both ends' lines. */
export interface SourceRange {
  start: Position;
  end: Position;
}

/** Base class: a user-facing failure with a one-line `message` and an optional hint. */
export class TbuildError extends Error {
  /** Process exit code the CLI uses for this error. */
  readonly exitCode: number;
  /** A short suggestion printed under the message ("did you mean …?"). */
  readonly hint: string | undefined;

  constructor(message: string, options: { hint?: string; exitCode?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.exitCode = options.exitCode ?? 1;
    this.hint = options.hint;
  }
}

/** Wrong command-line usage; Docker's CLI exits 125 for these (like `docker build` with bad flags). */
export class UsageError extends TbuildError {
  constructor(message: string, options: { hint?: string } = {}) {
    super(message, { ...options, exitCode: 125 });
  }
}

/**
 * True when `error` or one of its causes is a full disk (ENOSPC) or an exhausted quota (EDQUOT).
 * Node says `ENOSPC: no space left on device, copyfile '…' -> '…/tmp/snap-…'`, naming tbuild's
 * internal paths; {@link noSpaceMessage} says it in the user's terms (issue 12, finding 9).
 */
export function isNoSpaceError(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC' || code === 'EDQUOT') return true;
  }
  return false;
}

/** A full disk under the tbuild root, as one line: `no space left on device: the device holding <root> is full`. */
export function noSpaceMessage(root: string): string {
  return `no space left on device: the device holding ${root} is full`;
}
