// Heredoc words on an instruction line (`<<EOF`, `<<-'EOF'`, `3<<EOF`, `<< EOF`).
//
// BuildKit finds them by running its shell lexer over the whole line with quotes and escapes kept
// (parser.go heredocsFromLine), matching each word against `^(\d*)<<(-?)\s*([^<]*)$`, then lexing
// the rest twice, with and without quote removal: the name is the unquoted word, and the body
// expands only if both lexings saw the same number of quote characters (parser.go
// heredocFromMatch). We do the same with our one shell lexer (shell.ts), which like lex.go keeps
// the blanks after `<<` in its word. The escape is always a backslash, whatever `# escape=` says,
// as in BuildKit (`shell.NewLex('\\')`), and unset variables stay as written (`SkipUnsetEnv`).
import { ParseError, SyntaxFault } from './errors.ts';
import { ShellExpansionError, ShellLex } from './shell.ts';
import type { Heredoc } from './types.ts';

const heredocWord = /^(\d*)<<(-?)[\t\n\f\r ]*([^<]*)$/;
const noEnv = (): undefined => undefined;
const lineLexer = new ShellLex({ rawQuotes: true, rawEscapes: true, skipUnsetEnv: true });
const nameLexer = new ShellLex({ skipUnsetEnv: true });
const rawNameLexer = new ShellLex({ rawQuotes: true, skipUnsetEnv: true });

const quoteCount = (s: string): number => {
  let n = 0;
  for (const ch of s) if (ch === "'" || ch === '"') n++;
  return n;
};

/** `rest` split into shell words by `lexer`; a lexing failure is a SyntaxFault with lex.go's reason. */
function nameWords(lexer: ShellLex, rest: string): string[] {
  try {
    return lexer.expandWords(rest, noEnv);
  } catch (error) {
    if (error instanceof ShellExpansionError) throw new SyntaxFault(error.reason);
    throw error;
  }
}

/** The heredoc a single (raw) word opens, or undefined. Throws SyntaxFault on unbalanced quotes. */
export function heredocFromWord(word: string): Omit<Heredoc, 'content'> | undefined {
  const m = heredocWord.exec(word);
  if (m === null) return undefined;
  const rest = m[3] as string;
  if (rest === '') return undefined;
  const plain = nameWords(nameLexer, rest);
  if (plain.length !== 1) return undefined;
  const raw = nameWords(rawNameLexer, rest);
  const name = plain[0] as string;
  return {
    name,
    expand: quoteCount(name) === quoteCount(raw[0] ?? ''),
    chomp: m[2] === '-',
    fd: m[1] === '' ? 0 : Number.parseInt(m[1] as string, 10),
  };
}

/**
 * The line's shell words, quotes and escapes kept. BuildKit ignores lexing errors here (an
 * unterminated quote): such a line simply has no heredocs.
 *
 * `<<- EOF`: lex.go keeps the blanks after `<<` only, so BuildKit splits this into `<<-` and
 * `EOF` and finds no heredoc, although its TestHeredocsFromLine table lists the name EOF for it
 * (the test asserts only over the heredocs found). Our conformance data
 * (parser/heredoc-cases.json, line_cases) holds the table's EOF, so a
 * bare `<<-` word takes the word after it, as the table means.
 */
function lineWords(line: string): string[] {
  let words: string[];
  try {
    words = lineLexer.expandWords(line, noEnv);
  } catch (error) {
    if (error instanceof ShellExpansionError) return [];
    throw error;
  }
  const joined: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i] as string;
    const next = words[i + 1];
    if (/^\d*<<-$/.test(w) && next !== undefined) {
      joined.push(w + next);
      i++;
    } else joined.push(w);
  }
  return joined;
}

/** Heredocs opened on one instruction line, in order. Throws SyntaxFault on a malformed heredoc word. */
export function heredocsFromLine(line: string): Omit<Heredoc, 'content'>[] {
  const docs: Omit<Heredoc, 'content'>[] = [];
  for (const w of lineWords(line)) {
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
