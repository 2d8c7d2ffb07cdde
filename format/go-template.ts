/**
 * The part of Go's text/template that `--format` values use in Docker's documentation: text and
 * `{{…}}` actions (with `{{-`/`-}}` trimming and `{{/* comments *\/}}`), fields `.A.B`, `.`, `$`,
 * variables (`$v := …`, `range $k, $v := …`), pipelines `a | b`, parentheses, string/number/bool
 * literals, `if`/`else if`/`else`, `range` (with `else`), `with`, and the functions of Go's
 * builtins (and, or, not, len, index, print, printf, println, eq, ne, lt, le, gt, ge) plus Docker's
 * (docker/cli templates/templates.go: json, join, split, lower, upper, title, pad, truncate).
 * Written here because no maintained npm package implements Go templates. Values are plain JS
 * data: an object is a struct or a map, a function-valued field a method (`.Label "k"`).
 *
 * Errors are Go's, word for word where Docker users see them (`template: :1: unclosed action`,
 * `template: :1:2: executing "" at <.Foo>: map has no entry for key "Foo"`), with Docker's
 * `template parsing error: ` before them; `TemplateError.phase` tells parsing from executing
 * (`docker inspect` exits 64 for the first, 1 for the second).
 *
 * The parts follow Go's own files: template-lex.ts (lex.go), template-nodes.ts (node.go),
 * template-parse.ts (parse.go), template-exec.ts (exec.go), template-funcs.ts (funcs.go and
 * docker-cli's functions), over template-values.ts (truth and %v) and template-error.ts.
 */
import { Executor, type TemplateOptions } from './template-exec.ts';
import { functionNames } from './template-funcs.ts';
import { Parser } from './template-parse.ts';

export { TemplateError } from './template-error.ts';
export type { TemplateOptions } from './template-exec.ts';
export { printValue } from './template-values.ts';

/** A parsed template. */
export interface Template {
  execute(data: unknown): string;
}

/** Parses `text` (Docker's `\t`/`\n` escapes are the caller's, see `dockerFormat`). */
export function parseTemplate(text: string, options: TemplateOptions = {}): Template {
  const nodes = new Parser(text, functionNames).parse();
  return {
    execute(data: unknown): string {
      const out: string[] = [];
      new Executor(text, options, data).run(nodes, data, out);
      return out.join('');
    },
  };
}
