/**
 * The lexer (Go's text/template/parse lex.go, in spirit): a template's text split into text pieces
 * and `{{…}}` actions, with `{{-`/`-}}` trimming and `{{/* comments *\/}}` dropped, and each action
 * into tokens (fields, variables, identifiers, literals, punctuation).
 */
import { lineOf, TemplateError } from './template-error.ts';

/** One word of an action; a field chain after `$x` or `)` rides on the token (`$x.A.B`, `(…).A`). */
export type Token =
  | { t: 'field'; names: string[]; pos: number }
  | { t: 'var'; name: string; names: string[]; pos: number }
  | { t: 'ident'; name: string; pos: number }
  | { t: 'string' | 'number' | 'bool' | 'nil'; value: unknown; pos: number }
  | { t: '|' | '(' | ')' | ':=' | '=' | ','; pos: number; names?: string[] };

interface Action {
  tokens: Token[];
  pos: number;
}

/** The template's text between actions, or one action. */
export type Piece = { kind: 'text'; text: string } | { kind: 'action'; action: Action };

const fieldChain = /^(?:\.[A-Za-z_][A-Za-z0-9_]*)+/;

/** Splits `src` into text and actions, trimming around `{{-`/`-}}` and dropping comments. */
export function splitPieces(src: string): Piece[] {
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
