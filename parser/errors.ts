import { TbuildError } from '../errors.ts';
import type { Pos, Range } from './types.ts';

/**
 * A Dockerfile that cannot be parsed. `message` reads `FILE:LINE:COL: reason` (like a compiler);
 * the CLI prints it, then `sourceLine` (the offending physical line, quoted), then `hint`.
 */
export class ParseError extends TbuildError {
  readonly file: string;
  /** 1-based line of the error. */
  readonly line: number;
  /** 1-based column of the error. */
  readonly col: number;
  /** The reason without the location prefix. */
  readonly reason: string;
  /** The physical source line the error points into ('' when there is none, e.g. an empty file). */
  readonly sourceLine: string;
  /** The instruction's range when the error concerns a whole instruction. */
  readonly range: Range | undefined;

  constructor(
    reason: string,
    where: { file: string; pos: Pos; sourceLine: string; range?: Range; hint?: string; cause?: unknown },
  ) {
    super(`${where.file}:${where.pos.line}:${where.pos.col}: ${reason}`, {
      hint: where.hint,
      exitCode: 1,
      cause: where.cause,
    });
    this.file = where.file;
    this.line = where.pos.line;
    this.col = where.pos.col;
    this.reason = reason;
    this.sourceLine = where.sourceLine;
    this.range = where.range;
  }
}

/**
 * Thrown by the argument-level helpers, which know no line numbers; the caller that knows where the
 * text came from turns it into a ParseError (BuildKit likewise adds locations at the boundary).
 */
export class SyntaxFault extends Error {
  readonly hint: string | undefined;
  /** Offset into the text handed to the helper, when it can tell. */
  readonly offset: number | undefined;
  constructor(message: string, options: { hint?: string; offset?: number } = {}) {
    super(message);
    this.name = 'SyntaxFault';
    this.hint = options.hint;
    this.offset = options.offset;
  }
}
