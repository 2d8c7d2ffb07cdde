// Heredoc words on an instruction line (`<<EOF`, `<<-'EOF'`, `3<<EOF`, `<< EOF`).
//
// BuildKit finds them by running its shell lexer over the whole line with quotes and escapes kept
// (parser.go heredocsFromLine), matching each word against `^(\d*)<<(-?)\s*([^<]*)$`, then lexing
// the rest twice, with and without quote removal: the name is the unquoted word, and the body
// expands only if both lexings saw the same number of quote characters (parser.go
// heredocFromMatch). Our shell expander (shell.ts) is a separate piece of work, so this file
// carries the small subset of word splitting that the detection needs; it is hand-written because
// quote state, not a grammar, decides everything here. The escape is always a backslash, whatever
// `# escape=` says, as in BuildKit (`shell.NewLex('\\')`).
import { ParseError, SyntaxFault } from './errors.ts';
import type { Heredoc } from './types.ts';

const heredocWord = /^(\d*)<<(-?)[\t\n\f\r ]*([^<]*)$/;
const isBlank = (ch: string): boolean => ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n';

/**
 * Splits a line into shell words keeping quotes and escapes (BuildKit: RawQuotes + RawEscapes).
 * `<<` (or `<<-`) swallows the blanks after it so `<< EOF` stays one word. Returns undefined on an unterminated
 * quote: BuildKit ignores lexing errors here, so such a line simply has no heredocs.
 */
function rawWords(line: string): string[] | undefined {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i] as string;
    if (isBlank(ch)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      continue;
    }
    inWord = true;
    if (ch === '\\') {
      word += line.slice(i, i + 2);
      i++;
    } else if (ch === "'" || ch === '"') {
      const end = findClosingQuote(line, i);
      if (end < 0) return undefined;
      word += line.slice(i, end + 1);
      i = end;
    } else if (ch === '<' && line[i + 1] === '<') {
      let j = i + 2;
      if (line[j] === '-') j++;
      while (j < line.length && isBlank(line[j] as string)) j++;
      word += line.slice(i, j);
      i = j - 1;
    } else word += ch;
  }
  if (inWord) words.push(word);
  return words;
}

/** Index of the quote closing the one at `start`, honouring backslashes inside double quotes; -1 if none. */
function findClosingQuote(s: string, start: number): number {
  const q = s[start];
  for (let i = start + 1; i < s.length; i++) {
    const ch = s[i];
    if (q === '"' && ch === '\\') i++;
    else if (ch === q) return i;
  }
  return -1;
}

/** Shell words of `s` with quotes removed (or kept, with `rawQuotes`), escapes resolved. */
function shellWords(s: string, rawQuotes: boolean): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i] as string;
    if (isBlank(ch)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      continue;
    }
    inWord = true;
    if (ch === '\\') {
      if (i + 1 < s.length) word += s[++i];
    } else if (ch === "'" || ch === '"') {
      const end = findClosingQuote(s, i);
      if (end < 0) {
        const what = ch === "'" ? 'single-quote' : 'double-quote';
        throw new SyntaxFault(`unexpected end of statement while looking for matching ${what}`);
      }
      let inner = s.slice(i + 1, end);
      if (ch === '"') inner = inner.replace(/\\([\\"$`])/g, '$1');
      word += rawQuotes ? ch + inner + ch : inner;
      i = end;
    } else word += ch;
  }
  if (inWord) words.push(word);
  return words;
}

const quoteCount = (s: string): number => {
  let n = 0;
  for (const ch of s) if (ch === "'" || ch === '"') n++;
  return n;
};

/** The heredoc a single (raw) word opens, or undefined. Throws SyntaxFault on unbalanced quotes. */
export function heredocFromWord(word: string): Omit<Heredoc, 'content'> | undefined {
  const m = heredocWord.exec(word);
  if (m === null) return undefined;
  const rest = m[3] as string;
  if (rest === '') return undefined;
  const plain = shellWords(rest, false);
  if (plain.length !== 1) return undefined;
  const raw = shellWords(rest, true);
  const name = plain[0] as string;
  return {
    name,
    expand: quoteCount(name) === quoteCount(raw[0] ?? ''),
    chomp: m[2] === '-',
    fd: m[1] === '' ? 0 : Number.parseInt(m[1] as string, 10),
  };
}

/** Heredocs opened on one instruction line, in order. Throws SyntaxFault on a malformed heredoc word. */
export function heredocsFromLine(line: string): Omit<Heredoc, 'content'>[] {
  const words = rawWords(line);
  if (words === undefined) return [];
  const docs: Omit<Heredoc, 'content'>[] = [];
  for (const w of words) {
    const doc = heredocFromWord(w);
    if (doc !== undefined) docs.push(doc);
  }
  return docs;
}

/**
 * Public form of `heredocFromWord` for callers outside the parser (e.g. COPY sources): the heredoc a
 * word such as `<<-"EOF"` opens, or undefined when it opens none. Throws ParseError on bad quoting.
 */
export function parseHeredocWord(word: string): Omit<Heredoc, 'content'> | undefined {
  try {
    return heredocFromWord(word);
  } catch (e) {
    if (!(e instanceof SyntaxFault)) throw e;
    throw new ParseError(e.message, { file: 'heredoc', pos: { line: 1, col: 1 }, sourceLine: word });
  }
}

/** Removes leading tabs from every line of a `<<-` body, as BuildKit does at build time. */
export function chompHeredoc(content: string): string {
  return content.replace(/^\t+/gm, '');
}
