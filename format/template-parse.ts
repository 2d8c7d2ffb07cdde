/**
 * The parser (Go's text/template/parse parse.go): lexed actions into a tree of text, actions and
 * if/with/range nodes with their pipelines; an unknown function is a parse error, as in Go.
 */
import { lineOf, TemplateError } from './template-error.ts';
import { type Piece, splitPieces, type Token } from './template-lex.ts';
import type { Command, Node, Operand, Pipeline } from './template-nodes.ts';

/** Parses one template; `functions` are the names a command may call (Go's funcs maps). */
export class Parser {
  #pieces: Piece[];
  #at = 0;
  readonly #src: string;
  readonly #functions: ReadonlySet<string>;

  constructor(src: string, functions: ReadonlySet<string>) {
    this.#src = src;
    this.#functions = functions;
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
          if (!this.#functions.has(t.name)) throw this.#error(t.pos, `function "${t.name}" not defined`);
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
