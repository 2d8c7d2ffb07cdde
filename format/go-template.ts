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
 * One file over the usual size on purpose: the lexer, parser and executor share the node types
 * and nothing else uses them; split, they would only export internals to each other.
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

/** What a missing field or key does: Go's default prints `<no value>`; Docker's inspect errors. */
export interface TemplateOptions {
  /** `error`: Go's missingkey=error for maps (docker inspect). Default: `<no value>`. */
  missingKey?: 'zero' | 'error';
  /**
   * The Go type of `.` when it is a struct (`*formatter.imageContext`): an unknown field of it is
   * Go's "can't evaluate field X in type T" instead of a map lookup.
   */
  structType?: string;
  /**
   * Docker's table header run (docker-cli templates.HeaderFunctions): json, join, split, lower,
   * upper, title, pad and truncate hand their first argument back unchanged, so a header cell is
   * the field's header whatever the row's cell does to its value.
   */
  header?: boolean;
}

const headerFunctions = new Set(['json', 'join', 'split', 'lower', 'upper', 'title', 'pad', 'truncate']);

/** A parsed template. */
export interface Template {
  execute(data: unknown): string;
}

// ---- lexing ----------------------------------------------------------------------------------

type Token =
  | { t: 'field'; names: string[]; pos: number }
  | { t: 'var'; name: string; names: string[]; pos: number }
  | { t: 'ident'; name: string; pos: number }
  | { t: 'string' | 'number' | 'bool' | 'nil'; value: unknown; pos: number }
  | { t: '|' | '(' | ')' | ':=' | '=' | ','; pos: number; names?: string[] };

interface Action {
  tokens: Token[];
  pos: number;
}

type Piece = { kind: 'text'; text: string } | { kind: 'action'; action: Action };

const fieldChain = /^(?:\.[A-Za-z_][A-Za-z0-9_]*)+/;

function lineOf(src: string, pos: number): number {
  let line = 1;
  for (let i = 0; i < pos && i < src.length; i++) if (src[i] === '\n') line++;
  return line;
}

function splitPieces(src: string): Piece[] {
  const pieces: Piece[] = [];
  let at = 0;
  while (at < src.length) {
    const open = src.indexOf('{{', at);
    if (open < 0) {
      pieces.push({ kind: 'text', text: src.slice(at) });
      break;
    }
    let text = src.slice(at, open);
    let start = open + 2;
    if (/^-\s/.test(src.slice(start, start + 2))) {
      text = text.replace(/\s+$/, '');
      start += 1;
    }
    if (text !== '') pieces.push({ kind: 'text', text });
    if (src.startsWith('/*', start) || /^\s+\/\*/.test(src.slice(start))) {
      const end = src.indexOf('*/', start);
      const close = end < 0 ? -1 : src.indexOf('}}', end);
      if (close < 0) throw new TemplateError('parse', `:${lineOf(src, open)}: unclosed comment`);
      at = close + 2;
      continue;
    }
    const { tokens, end, trimAfter } = lexAction(src, start, open);
    pieces.push({ kind: 'action', action: { tokens, pos: start } });
    at = end;
    if (trimAfter) while (at < src.length && /\s/.test(src[at] as string)) at++;
  }
  return pieces;
}

function lexAction(
  src: string,
  from: number,
  open: number,
): { tokens: Token[]; end: number; trimAfter: boolean } {
  const tokens: Token[] = [];
  let i = from;
  const unclosed = () => new TemplateError('parse', `:${lineOf(src, open)}: unclosed action`);
  for (;;) {
    if (i >= src.length) throw unclosed();
    const c = src[i] as string;
    if (src.startsWith(' -}}', i) || src.startsWith('\t-}}', i) || src.startsWith('\n-}}', i)) {
      return { tokens, end: i + 4, trimAfter: true };
    }
    if (src.startsWith('}}', i)) return { tokens, end: i + 2, trimAfter: false };
    if (c === '\n' && !src.slice(from, i).includes('/*')) {
      // Go allows newlines inside actions only in comments and raw strings; Docker's formats are one line.
      i++;
      continue;
    }
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const rest = src.slice(i);
    if (c === '"') {
      const m = /^"(?:[^"\\\n]|\\.)*"/.exec(rest);
      if (!m) throw new TemplateError('parse', `:${lineOf(src, i)}: unterminated quoted string`);
      tokens.push({ t: 'string', value: JSON.parse(m[0]) as string, pos: i });
      i += m[0].length;
    } else if (c === '`') {
      const end = src.indexOf('`', i + 1);
      if (end < 0) throw new TemplateError('parse', `:${lineOf(src, i)}: unterminated raw quoted string`);
      tokens.push({ t: 'string', value: src.slice(i + 1, end), pos: i });
      i = end + 1;
    } else if (c === '.' && !/^\.[A-Za-z_]/.test(rest)) {
      tokens.push({ t: 'field', names: [], pos: i });
      i++;
    } else if (c === '.') {
      const m = fieldChain.exec(rest) as RegExpExecArray;
      tokens.push({ t: 'field', names: m[0].slice(1).split('.'), pos: i });
      i += m[0].length;
    } else if (c === '$') {
      const m = /^\$[A-Za-z0-9_]*/.exec(rest) as RegExpExecArray;
      const chain = fieldChain.exec(rest.slice(m[0].length));
      tokens.push({ t: 'var', name: m[0], names: chain ? chain[0].slice(1).split('.') : [], pos: i });
      i += m[0].length + (chain ? chain[0].length : 0);
    } else if (rest.startsWith(':=')) {
      tokens.push({ t: ':=', pos: i });
      i += 2;
    } else if (c === '|' || c === '(' || c === ',' || c === '=') {
      tokens.push({ t: c, pos: i });
      i++;
    } else if (c === ')') {
      const chain = fieldChain.exec(rest.slice(1));
      tokens.push({ t: ')', pos: i, names: chain ? chain[0].slice(1).split('.') : [] });
      i += 1 + (chain ? chain[0].length : 0);
    } else if (/[-+0-9]/.test(c)) {
      const m = /^[-+]?(?:0[xX][0-9a-fA-F]+|\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)/.exec(rest);
      if (!m) throw new TemplateError('parse', `:${lineOf(src, i)}: bad number syntax: "${c}"`);
      tokens.push({ t: 'number', value: Number(m[0]), pos: i });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(rest) as RegExpExecArray;
      const word = m[0];
      if (word === 'true' || word === 'false') tokens.push({ t: 'bool', value: word === 'true', pos: i });
      else if (word === 'nil') tokens.push({ t: 'nil', value: null, pos: i });
      else tokens.push({ t: 'ident', name: word, pos: i });
      i += word.length;
    } else {
      throw new TemplateError('parse', `:${lineOf(src, i)}: unexpected "${c}" in command`);
    }
  }
}

// ---- parsing ---------------------------------------------------------------------------------

type Operand =
  | { k: 'field'; names: string[]; pos: number }
  | { k: 'var'; name: string; names: string[]; pos: number }
  | { k: 'literal'; value: unknown; pos: number }
  | { k: 'func'; name: string; pos: number }
  | { k: 'pipe'; pipe: Pipeline; names: string[]; pos: number };

interface Command {
  operands: Operand[];
  pos: number;
}

interface Pipeline {
  decl: string[];
  assign: boolean;
  commands: Command[];
  pos: number;
}

interface ControlNode {
  k: 'if' | 'with' | 'range';
  pipe: Pipeline;
  body: Node[];
  otherwise: Node[];
}

type Node = { k: 'text'; text: string } | { k: 'action'; pipe: Pipeline } | ControlNode;

const builtins = new Set([
  'and',
  'or',
  'not',
  'len',
  'index',
  'print',
  'printf',
  'println',
  'eq',
  'ne',
  'lt',
  'le',
  'gt',
  'ge',
  'json',
  'join',
  'split',
  'lower',
  'upper',
  'title',
  'pad',
  'truncate',
  'slice',
]);

class Parser {
  #pieces: Piece[];
  #at = 0;
  readonly #src: string;

  constructor(src: string) {
    this.#src = src;
    this.#pieces = splitPieces(src);
  }

  #error(pos: number, message: string): TemplateError {
    return new TemplateError('parse', `:${lineOf(this.#src, pos)}: ${message}`);
  }

  parse(): Node[] {
    const { nodes, end } = this.#list();
    if (end !== undefined) throw this.#error(end.pos, `unexpected {{${end.word}}}`);
    return nodes;
  }

  /** Nodes up to an `{{end}}`/`{{else …}}` (returned) or the end of the template. */
  #list(): { nodes: Node[]; end?: { word: 'end' | 'else'; pos: number; rest: Token[] } } {
    const nodes: Node[] = [];
    while (this.#at < this.#pieces.length) {
      const piece = this.#pieces[this.#at++] as Piece;
      if (piece.kind === 'text') {
        nodes.push({ k: 'text', text: piece.text });
        continue;
      }
      const [first, ...rest] = piece.action.tokens;
      if (first === undefined) throw this.#error(piece.action.pos, 'missing value for command');
      if (first.t === 'ident' && (first.name === 'end' || first.name === 'else')) {
        return { nodes, end: { word: first.name, pos: first.pos, rest } };
      }
      if (first.t === 'ident' && (first.name === 'if' || first.name === 'with' || first.name === 'range')) {
        nodes.push(this.#control(first.name, rest, first.pos));
        continue;
      }
      if (first.t === 'ident' && ['define', 'template', 'block', 'break', 'continue'].includes(first.name)) {
        throw this.#error(first.pos, `{{${first.name}}} is not supported by tbuild's templates`);
      }
      nodes.push({ k: 'action', pipe: this.#pipeline(piece.action.tokens, piece.action.pos) });
    }
    return { nodes };
  }

  #control(kind: 'if' | 'with' | 'range', tokens: Token[], pos: number): Node {
    const pipe = this.#pipeline(tokens, pos);
    const { nodes: body, end } = this.#list();
    if (end === undefined) throw this.#error(pos, 'unexpected EOF');
    let otherwise: Node[] = [];
    if (end.word === 'else') {
      const [next, ...rest] = end.rest;
      if (next?.t === 'ident' && (next.name === 'if' || next.name === 'with') && kind !== 'range') {
        // `{{else if …}}`: an if inside the else branch, sharing the outer {{end}}.
        otherwise = [this.#control(next.name, rest, next.pos)];
        return { k: kind, pipe, body, otherwise };
      }
      const after = this.#list();
      if (after.end?.word !== 'end') throw this.#error(end.pos, 'expected end; found EOF');
      otherwise = after.nodes;
    }
    return { k: kind, pipe, body, otherwise };
  }

  #pipeline(tokens: Token[], pos: number): Pipeline {
    let decl: string[] = [];
    let assign = false;
    let rest = tokens;
    const declEnd = tokens.findIndex((t) => t.t === ':=' || t.t === '=');
    if (declEnd > 0 && tokens.slice(0, declEnd).every((t) => t.t === 'var' || t.t === ',')) {
      decl = tokens.slice(0, declEnd).flatMap((t) => (t.t === 'var' ? [t.name] : []));
      assign = (tokens[declEnd] as Token).t === '=';
      rest = tokens.slice(declEnd + 1);
    }
    const commands: Command[] = [];
    let i = 0;
    const parseCommand = (): Command => {
      const operands: Operand[] = [];
      const start = rest[i]?.pos ?? pos;
      while (i < rest.length && rest[i]?.t !== '|' && rest[i]?.t !== ')') operands.push(operand());
      if (operands.length === 0) throw this.#error(start, 'missing value for command');
      return { operands, pos: start };
    };
    const operand = (): Operand => {
      const t = rest[i++] as Token;
      switch (t.t) {
        case 'field':
          return { k: 'field', names: t.names, pos: t.pos };
        case 'var':
          return { k: 'var', name: t.name, names: t.names, pos: t.pos };
        case 'string':
        case 'number':
        case 'bool':
        case 'nil':
          return { k: 'literal', value: t.value, pos: t.pos };
        case 'ident':
          if (!builtins.has(t.name)) throw this.#error(t.pos, `function "${t.name}" not defined`);
          return { k: 'func', name: t.name, pos: t.pos };
        case '(': {
          const inner: Command[] = [parseCommand()];
          while (rest[i]?.t === '|') {
            i++;
            inner.push(parseCommand());
          }
          const close = rest[i++];
          if (close?.t !== ')') throw this.#error(t.pos, 'unclosed left paren');
          return {
            k: 'pipe',
            pipe: { decl: [], assign: false, commands: inner, pos: t.pos },
            names: close.names ?? [],
            pos: t.pos,
          };
        }
        default:
          throw this.#error(t.pos, `unexpected "${t.t}" in operand`);
      }
    };
    commands.push(parseCommand());
    while (i < rest.length) {
      const t = rest[i++] as Token;
      if (t.t !== '|') throw this.#error(t.pos, `unexpected "${t.t}" in command`);
      commands.push(parseCommand());
    }
    return { decl, assign, commands, pos };
  }
}

// ---- executing -------------------------------------------------------------------------------

const noValue = Symbol('no value');

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Go's truth: false, 0, "", nil and empty collections are false. */
function truthy(v: unknown): boolean {
  if (v === noValue || v === undefined || v === null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (isObject(v)) return Object.keys(v).length > 0;
  return true;
}

/** fmt's %v of a value. */
export function printValue(v: unknown): string {
  if (v === noValue || v === undefined) return '<no value>';
  if (v === null) return '<nil>';
  if (Array.isArray(v)) return `[${v.map(printValue).join(' ')}]`;
  if (isObject(v)) {
    const keys = Object.keys(v).sort();
    return `map[${keys.map((k) => `${k}:${printValue(v[k])}`).join(' ')}]`;
  }
  return String(v);
}

/** Go's encoding/json as Docker's `json` function uses it: HTML characters escaped. */
function toJson(v: unknown): string {
  const text = JSON.stringify(v === noValue ? null : (v ?? null)) ?? 'null';
  return text
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** A small fmt.Sprintf: %s %v %d %q %t %%, with optional width (`%-10s`). */
function sprintf(format: string, args: unknown[]): string {
  let n = 0;
  return format.replace(/%(-?)(\d*)([svdqtx%])/g, (_, left: string, width: string, verb: string) => {
    if (verb === '%') return '%';
    const arg = args[n++];
    let text: string;
    if (arg === undefined && n > args.length) text = `%!${verb}(MISSING)`;
    else if (verb === 'q') text = JSON.stringify(String(arg));
    else if (verb === 'x')
      text = typeof arg === 'number' ? arg.toString(16) : Buffer.from(String(arg)).toString('hex');
    else text = printValue(arg);
    const w = Number(width || 0);
    return left ? text.padEnd(w) : text.padStart(w);
  });
}

function compare(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  throw new Error('incompatible types for comparison');
}

function callBuiltin(name: string, args: unknown[]): unknown {
  const arg = (i: number) => (args[i] === noValue ? undefined : args[i]);
  switch (name) {
    case 'and':
      return args.find((a) => !truthy(a)) ?? args.at(-1);
    case 'or':
      return args.find((a) => truthy(a)) ?? args.at(-1);
    case 'not':
      return !truthy(arg(0));
    case 'len': {
      const v = arg(0);
      if (typeof v === 'string' || Array.isArray(v)) return v.length;
      if (isObject(v)) return Object.keys(v).length;
      throw new Error(`len of type ${typeof v}`);
    }
    case 'index': {
      let v = arg(0);
      for (const key of args.slice(1)) {
        if (Array.isArray(v) && typeof key === 'number') {
          if (key < 0 || key >= v.length) throw new Error(`error calling index: index out of range: ${key}`);
          v = v[key];
        } else if (isObject(v)) v = Object.hasOwn(v, String(key)) ? v[String(key)] : undefined;
        else if (v === undefined || v === null) return undefined;
        else throw new Error(`error calling index: cannot index slice/array with type ${typeof key}`);
      }
      return v;
    }
    case 'print':
      // fmt.Sprint: spaces only between operands when neither is a string.
      return args.reduce<string>((out, a, i) => {
        const sep = i > 0 && typeof args[i - 1] !== 'string' && typeof a !== 'string' ? ' ' : '';
        return out + sep + printValue(a);
      }, '');
    case 'println':
      return `${args.map(printValue).join(' ')}\n`;
    case 'printf':
      return sprintf(String(arg(0)), args.slice(1));
    case 'eq':
      return args.slice(1).some((b) => arg(0) === b);
    case 'ne':
      return arg(0) !== arg(1);
    case 'lt':
      return compare(arg(0), arg(1)) < 0;
    case 'le':
      return compare(arg(0), arg(1)) <= 0;
    case 'gt':
      return compare(arg(0), arg(1)) > 0;
    case 'ge':
      return compare(arg(0), arg(1)) >= 0;
    case 'json':
      return toJson(args[0]);
    case 'join': {
      const list = arg(0);
      if (!Array.isArray(list)) throw new Error('wrong type for value; expected []string');
      return list.map(printValue).join(String(arg(1)));
    }
    case 'split':
      return String(arg(0)).split(String(arg(1)));
    case 'lower':
      return printValue(arg(0)).toLowerCase();
    case 'upper':
      return printValue(arg(0)).toUpperCase();
    case 'title':
      return printValue(arg(0)).replace(
        /(^|[^\p{L}\p{N}])(\p{L})/gu,
        (_, a: string, b: string) => a + b.toUpperCase(),
      );
    case 'pad': {
      // docker/cli templates.go padWithSpace(source, prefix, suffix)
      const s = printValue(arg(0));
      return s === '' ? s : `${' '.repeat(Number(arg(1)))}${s}${' '.repeat(Number(arg(2)))}`;
    }
    case 'truncate': {
      // docker/cli templates.go truncateWithLength
      const s = printValue(arg(0));
      const n = Number(arg(1));
      return [...s].length <= n ? s : [...s].slice(0, n).join('');
    }
    case 'slice': {
      const v = arg(0);
      const from = Number(arg(1) ?? 0);
      if (typeof v === 'string' || Array.isArray(v))
        return v.slice(from, arg(2) === undefined ? undefined : Number(arg(2)));
      throw new Error("can't slice item");
    }
    default:
      throw new Error(`function "${name}" not defined`);
  }
}

class Executor {
  readonly #src: string;
  readonly #options: TemplateOptions;
  readonly #root: unknown;
  #vars: Map<string, unknown>[] = [];

  constructor(src: string, options: TemplateOptions, root: unknown) {
    this.#src = src;
    this.#options = options;
    this.#root = root;
    this.#vars.push(new Map([['$', root]]));
  }

  #error(pos: number, what: string, message: string): TemplateError {
    const before = this.#src.slice(0, pos);
    const line = lineOf(this.#src, pos);
    const col = pos - (before.lastIndexOf('\n') + 1);
    return new TemplateError('exec', `:${line}:${col}: executing "" at <${what}>: ${message}`);
  }

  run(nodes: Node[], dot: unknown, out: string[]): void {
    for (const node of nodes) {
      if (node.k === 'text') out.push(node.text);
      else if (node.k === 'action') {
        const v = this.#pipeline(node.pipe, dot);
        if (node.pipe.decl.length === 0) out.push(printValue(v));
      } else if (node.k === 'if') {
        const v = this.#scoped(() => this.#pipeline(node.pipe, dot));
        this.run(truthy(v) ? node.body : node.otherwise, dot, out);
      } else if (node.k === 'with') {
        this.#vars.push(new Map());
        try {
          const v = this.#pipeline(node.pipe, dot);
          if (truthy(v)) this.run(node.body, v, out);
          else this.run(node.otherwise, dot, out);
        } finally {
          this.#vars.pop();
        }
      } else {
        this.#range(node, dot, out);
      }
    }
  }

  #scoped<T>(fn: () => T): T {
    this.#vars.push(new Map());
    try {
      return fn();
    } finally {
      this.#vars.pop();
    }
  }

  #range(node: ControlNode, dot: unknown, out: string[]): void {
    const pipe = { ...node.pipe, decl: [] };
    const v = this.#pipeline(pipe, dot);
    const entries: [unknown, unknown][] = Array.isArray(v)
      ? v.map((e, i) => [i, e])
      : isObject(v)
        ? Object.keys(v)
            .sort()
            .map((k) => [k, v[k]])
        : typeof v === 'number'
          ? Array.from({ length: v }, (_, i) => [i, i])
          : [];
    if (
      v !== undefined &&
      v !== null &&
      v !== noValue &&
      !Array.isArray(v) &&
      !isObject(v) &&
      typeof v !== 'number'
    ) {
      throw this.#error(node.pipe.pos, 'range', `range can't iterate over ${printValue(v)}`);
    }
    if (entries.length === 0) {
      this.run(node.otherwise, dot, out);
      return;
    }
    for (const [key, elem] of entries) {
      const scope = new Map<string, unknown>();
      const decl = node.pipe.decl;
      if (decl.length === 1) scope.set(decl[0] as string, elem);
      if (decl.length === 2) {
        scope.set(decl[0] as string, key);
        scope.set(decl[1] as string, elem);
      }
      this.#vars.push(scope);
      try {
        this.run(node.body, elem, out);
      } finally {
        this.#vars.pop();
      }
    }
  }

  #pipeline(pipe: Pipeline, dot: unknown): unknown {
    let value: unknown = noValue;
    let piped = false;
    for (const cmd of pipe.commands) {
      value = this.#command(cmd, dot, piped ? value : noValue, piped);
      piped = true;
    }
    if (pipe.decl.length > 0) {
      const name = pipe.decl[0] as string;
      if (pipe.assign) {
        const scope = [...this.#vars].reverse().find((s) => s.has(name));
        if (!scope) throw this.#error(pipe.pos, name, `undefined variable: ${name}`);
        scope.set(name, value);
      } else (this.#vars.at(-1) as Map<string, unknown>).set(name, value);
    }
    return value;
  }

  #command(cmd: Command, dot: unknown, input: unknown, piped: boolean): unknown {
    const [head, ...rest] = cmd.operands as [Operand, ...Operand[]];
    const args = () => {
      const list = rest.map((o) => this.#operand(o, dot, []));
      if (piped) list.push(input);
      return list;
    };
    if (head.k === 'func') {
      try {
        const values = args();
        if (this.#options.header && headerFunctions.has(head.name)) return values[0];
        return callBuiltin(head.name, values);
      } catch (error) {
        if (error instanceof TemplateError) throw error;
        throw this.#error(head.pos, head.name, `error calling ${head.name}: ${(error as Error).message}`);
      }
    }
    if (rest.length > 0 || piped) {
      // A method (`.Label "k"`): the field is a function taking the arguments.
      if (head.k === 'field' || head.k === 'var') {
        const method = this.#operand(head, dot, args());
        return method;
      }
      throw this.#error(
        head.pos,
        printValue(this.#operand(head, dot, [])),
        "can't give argument to non-function",
      );
    }
    return this.#operand(head, dot, []);
  }

  #operand(op: Operand, dot: unknown, args: unknown[]): unknown {
    switch (op.k) {
      case 'literal':
        return op.value;
      case 'func':
        return callBuiltin(op.name, []);
      case 'field':
        return this.#fields(dot, op.names, op.pos, args, true);
      case 'var': {
        const scope = [...this.#vars].reverse().find((s) => s.has(op.name));
        if (!scope) throw this.#error(op.pos, op.name, `undefined variable: ${op.name}`);
        return this.#fields(scope.get(op.name), op.names, op.pos, args, op.name === '$');
      }
      case 'pipe':
        return this.#fields(this.#pipeline(op.pipe, dot), op.names, op.pos, args, false);
    }
  }

  #fields(value: unknown, names: string[], at: number, args: unknown[], fromRoot: boolean): unknown {
    let v = value;
    // Go places a chain of fields (`.Config.Cmd`) at its second element.
    const pos = names.length > 1 ? at + 1 + (names[0] as string).length : at;
    const path = names.map((n) => `.${n}`).join('');
    names.forEach((name, i) => {
      const last = i === names.length - 1;
      if (v === noValue || v === undefined || v === null) {
        if (this.#options.missingKey === 'error') {
          throw this.#error(pos, path, `nil pointer evaluating interface {}.${name}`);
        }
        v = undefined;
        return;
      }
      if (!isObject(v)) {
        throw this.#error(pos, path, `can't evaluate field ${name} in type ${goType(v)}`);
      }
      if (!Object.hasOwn(v, name)) {
        if (i === 0 && fromRoot && v === this.#root && this.#options.structType !== undefined) {
          throw this.#error(pos, path, `can't evaluate field ${name} in type ${this.#options.structType}`);
        }
        if (this.#options.missingKey === 'error') {
          throw this.#error(pos, path, `map has no entry for key "${name}"`);
        }
        v = noValue;
        return;
      }
      const field = v[name];
      if (typeof field === 'function') {
        const callArgs = last ? args : [];
        v = (field as (...a: unknown[]) => unknown)(...callArgs);
        return;
      }
      if (last && args.length > 0) {
        throw this.#error(pos, path, `${name} has arguments but cannot be invoked as function`);
      }
      v = field;
    });
    if (names.length === 0 && args.length > 0) {
      throw this.#error(pos, '.', "can't give argument to non-function .");
    }
    return v;
  }
}

function goType(v: unknown): string {
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float64';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return '[]interface {}';
  return 'interface {}';
}

/** Parses `text` (Docker's `\t`/`\n` escapes are the caller's, see `dockerFormat`). */
export function parseTemplate(text: string, options: TemplateOptions = {}): Template {
  const nodes = new Parser(text).parse();
  return {
    execute(data: unknown): string {
      const out: string[] = [];
      new Executor(text, options, data).run(nodes, data, out);
      return out.join('');
    },
  };
}
