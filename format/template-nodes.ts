/**
 * The parsed tree (Go's text/template/parse node.go): what the parser hands the executor.
 * Positions are offsets into the template's text, for Go's `:LINE:COL` error positions.
 */

/** One word of a command: a field chain, a variable (with fields), a literal, a function, `(…)`. */
export type Operand =
  | { k: 'field'; names: string[]; pos: number }
  | { k: 'var'; name: string; names: string[]; pos: number }
  | { k: 'literal'; value: unknown; pos: number }
  | { k: 'func'; name: string; pos: number }
  | { k: 'pipe'; pipe: Pipeline; names: string[]; pos: number };

/** A function or value and its arguments, one stage of a pipeline. */
export interface Command {
  operands: Operand[];
  pos: number;
}

/** `$a, $b := c | d`: commands, each fed the last one's value; `assign` for `=` over `:=`. */
export interface Pipeline {
  decl: string[];
  assign: boolean;
  commands: Command[];
  pos: number;
}

/** `if`/`with`/`range`: `otherwise` is the `{{else}}` branch (an `else if` is an if inside it). */
export interface ControlNode {
  k: 'if' | 'with' | 'range';
  pipe: Pipeline;
  body: Node[];
  otherwise: Node[];
}

/** What the executor runs: text, an action (printed unless it declares), or a control node. */
export type Node = { k: 'text'; text: string } | { k: 'action'; pipe: Pipeline } | ControlNode;
