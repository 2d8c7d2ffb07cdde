/**
 * How a template fails: Go's text/template error texts carry `template: :LINE:` positions, and
 * Docker puts `template parsing error: ` before them. Shared by the lexer, parser and executor.
 */
import { TbuildError } from '../errors.ts';

/** A template that did not parse, or failed while executing (exit 1 unless the caller decides). */
export class TemplateError extends TbuildError {
  readonly phase: 'parse' | 'exec';

  constructor(phase: 'parse' | 'exec', detail: string) {
    super(`template parsing error: template: ${detail}`);
    this.phase = phase;
  }
}

/** The 1-based line of `pos` in `src`, as Go's positions name it. */
export function lineOf(src: string, pos: number): number {
  let line = 1;
  for (let i = 0; i < pos && i < src.length; i++) if (src[i] === '\n') line++;
  return line;
}
