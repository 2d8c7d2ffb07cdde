/**
 * The scanner behind `ShellLex` (shell.ts): one pass over a word that expands `$` references,
 * removes quotes and escapes and splits words, as lex.go's shellWord does. Failures carry only the
 * reason; `ShellLex.expand` adds the word.
 */
import type { ShellEnvLookup, ShellLexOptions } from './shell.ts';
import { compilePattern, replaceAllLikeGo, trimPrefix, trimSuffix } from './shell-pattern.ts';

export class ExpansionFailure extends Error {}

function fail(reason: string): never {
  throw new ExpansionFailure(reason);
}

/** Deeper `${a:-${b:-...}}` nesting than this is refused instead of overflowing the JS stack. */
const MAX_NESTING = 1000;

const SPECIAL_PARAMETERS = new Set(['@', '*', '#', '?', '-', '$', '!', '0']);

// Go's unicode.IsSpace / IsLetter / IsDigit, which lex.go uses. ASCII is answered without a
// regex: the scanner asks for every character, and whole instruction lines (heredoc detection)
// go through it.
const isSpace = (ch: string): boolean =>
  ch < '\u0080' ? ch === ' ' || (ch >= '\t' && ch <= '\r') : /^\p{White_Space}$/u.test(ch);
const isLetter = (ch: string): boolean =>
  ch < '\u0080' ? (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') : /^\p{L}$/u.test(ch);
const isDigit = (ch: string): boolean => (ch < '\u0080' ? ch >= '0' && ch <= '9' : /^\p{Nd}$/u.test(ch));

export class WordExpander {
  readonly matched = new Set<string>();
  readonly unmatched = new Set<string>();
  private readonly chars: string[];
  private pos: number;
  private depth = 0;
  private readonly env: ShellEnvLookup;
  private readonly options: Readonly<Required<ShellLexOptions>>;

  constructor(word: string, env: ShellEnvLookup, options: Readonly<Required<ShellLexOptions>>) {
    this.chars = Array.from(word);
    // Go's text/scanner, which lex.go reads words with, skips a byte-order mark at the start.
    this.pos = this.chars[0] === '\uFEFF' ? 1 : 0;
    this.env = env;
    this.options = options;
  }

  private peek(): string | undefined {
    return this.chars[this.pos];
  }

  private next(): string | undefined {
    const ch = this.chars[this.pos];
    if (ch !== undefined) this.pos++;
    return ch;
  }

  private lookup(name: string): string | undefined {
    const value = this.env(name);
    (value === undefined ? this.unmatched : this.matched).add(name);
    return value;
  }

  /**
   * Reads up to `stop` (consumed) or the end of input (`stop` undefined). `rawEscapes` keeps the
   * escape character in the text; lex.go turns it on inside pattern words (`#`, `%`, `/`) so that
   * `\*` still reaches the pattern matcher.
   */
  processUntil(stop: string | undefined, rawEscapes: boolean): { text: string; words: string[] } {
    const { escapeChar, skipProcessQuotes } = this.options;
    const words = new WordSplitter();
    let text = '';
    for (let ch = this.peek(); ch !== undefined; ch = this.peek()) {
      if (ch === stop) {
        this.pos++;
        return { text, words: words.finish() };
      }
      if (ch === '$') {
        const value = this.processDollar();
        text += value;
        words.addExpanded(value);
        continue;
      }
      if (ch === '<') {
        const value = this.processPossibleHeredoc();
        text += value;
        words.addLiteral(value);
        continue;
      }
      if (!skipProcessQuotes && (ch === "'" || ch === '"')) {
        const value = ch === "'" ? this.processSingleQuote() : this.processDoubleQuote(rawEscapes);
        text += value;
        words.addLiteral(value);
        continue;
      }
      this.pos++;
      if (ch !== escapeChar) {
        text += ch;
        words.addUnquoted(ch);
        continue;
      }
      if (rawEscapes) {
        text += ch;
        words.addLiteral(ch);
      }
      const escaped = this.next();
      if (escaped === undefined) break; // a trailing lone escape character is dropped
      text += escaped;
      words.addLiteral(escaped);
    }
    if (stop !== undefined) fail(`unexpected end of statement while looking for matching ${stop}`);
    return { text, words: words.finish() };
  }

  /** Like `processUntil`, but a failure that ran into the end of input becomes `atEnd`. */
  private processNested(stop: string, rawEscapes: boolean, atEnd: string): string {
    try {
      return this.processUntil(stop, rawEscapes).text;
    } catch (error) {
      // lex.go reports any failure that stopped at the end of input as the missing terminator.
      if (error instanceof ExpansionFailure && this.peek() === undefined) fail(atEnd);
      throw error;
    }
  }

  /**
   * `<<` keeps the blanks after it in its word, so that `<<  EOF` is one word and the parser's
   * heredoc detection sees it whole (lex.go processPossibleHeredoc, BuildKit #5817). The text is
   * unchanged; only word splitting differs. The blanks are lex.go's isWhitespace: space, tab, CR.
   */
  private processPossibleHeredoc(): string {
    this.pos++;
    if (this.peek() !== '<') return '<';
    this.pos++;
    let text = '<<';
    for (let ch = this.peek(); ch === ' ' || ch === '\t' || ch === '\r'; ch = this.peek()) {
      text += ch;
      this.pos++;
    }
    return text;
  }

  /** Everything between single quotes is literal, including the escape character. */
  private processSingleQuote(): string {
    const raw = this.options.rawQuotes;
    let text = raw ? "'" : '';
    this.pos++;
    for (;;) {
      const ch = this.next();
      if (ch === undefined) fail('unexpected end of statement while looking for matching single-quote');
      if (ch === "'") return raw ? `${text}'` : text;
      text += ch;
    }
  }

  /** Inside double quotes `$` expands and the escape character escapes only `"`, `$` and itself. */
  private processDoubleQuote(rawEscapes: boolean): string {
    const { rawQuotes, escapeChar } = this.options;
    let text = rawQuotes ? '"' : '';
    this.pos++;
    for (;;) {
      const ch = this.peek();
      if (ch === undefined) fail('unexpected end of statement while looking for matching double-quote');
      if (ch === '"') {
        this.pos++;
        return rawQuotes ? `${text}"` : text;
      }
      if (ch === '$') {
        text += this.processDollar();
        continue;
      }
      this.pos++;
      if (ch === escapeChar) {
        // lex.go writes the escape once more for raw escapes, so `"a\b"` becomes `a\\b` there.
        if (rawEscapes) text += ch;
        const following = this.peek();
        if (following === undefined) continue;
        if (following === '"' || following === '$' || following === escapeChar) {
          this.pos++;
          text += following;
          continue;
        }
      }
      text += ch;
    }
  }

  private processDollar(): string {
    if (++this.depth > MAX_NESTING) fail(`substitutions nested more than ${MAX_NESTING} deep`);
    try {
      return this.expandDollar();
    } finally {
      this.depth--;
    }
  }

  private expandDollar(): string {
    this.pos++; // '$'
    const skipUnset = this.options.skipUnsetEnv;
    if (this.peek() !== '{') {
      const name = this.readName();
      if (name === '') return '$'; // `$.`, `$'…'`, a trailing `$`: a literal dollar
      const value = this.lookup(name);
      if (value === undefined && skipUnset) return `$${name}`;
      return value ?? '';
    }
    this.pos++; // '{'
    const first = this.peek();
    if (first === undefined) fail("syntax error: missing '}'");
    if (first === '{' || first === '}' || first === ':') fail('syntax error: bad substitution');
    const name = this.readName();
    const op = this.next();
    if (op === undefined) fail("syntax error: missing '}'");
    if (op === '}') {
      const value = this.lookup(name);
      if (value === undefined && skipUnset) return `\${${name}}`;
      return value ?? '';
    }
    if (op === '/') return this.expandReplace(name);
    if (op !== ':' && !'+-?#%'.includes(op)) fail(`unsupported modifier (${op}) in substitution`);

    // `${V:…}` treats an empty value like an unset one; the character after `:` is the modifier.
    const colon = op === ':';
    const modifier = colon ? (this.next() ?? '') : op;
    const spelled = colon ? `:${modifier}` : modifier;
    const isPattern = modifier === '#' || modifier === '%';
    const word = this.processNested('}', isPattern, "syntax error: missing '}'");
    const value = this.lookup(name);
    if (value === undefined && skipUnset) return `\${${name}${spelled}${word}}`;
    const unset = value === undefined || (colon && value === '');

    switch (modifier) {
      case '-':
        return unset ? word : (value ?? '');
      case '+':
        return unset ? '' : word;
      case '?':
        if (value === undefined) fail(`${name}: ${word || 'is not allowed to be unset'}`);
        if (unset) fail(`${name}: ${word || 'is not allowed to be empty'}`);
        return value;
      case '#':
      case '%': {
        // `#`/`%` remove the shortest match, `##`/`%%` the longest; lex.go also accepts `:#`, `:%`.
        const greedy = word.startsWith(modifier);
        const pattern = greedy ? word.slice(1) : word;
        return modifier === '#'
          ? trimPrefix(value ?? '', pattern, greedy)
          : trimSuffix(value ?? '', pattern, greedy);
      }
      default:
        return fail(`unsupported modifier (${spelled}) in substitution`);
    }
  }

  /** `${V/pattern/replacement}` (first match) and `${V//pattern/replacement}` (all matches). */
  private expandReplace(name: string): string {
    const all = this.peek() === '/';
    if (all) this.pos++;
    // biome-ignore lint/suspicious/noTemplateCurlyInString: BuildKit's message names the ${} syntax
    const pattern = this.processNested('/', true, "syntax error: missing '/' in ${}");
    const replacement = this.processNested('}', true, "syntax error: missing '}'");
    const value = this.lookup(name);
    // lex.go writes a single `/` back here even for `//`; we keep what was written.
    if (value === undefined && this.options.skipUnsetEnv) {
      return `\${${name}${all ? '//' : '/'}${pattern}/${replacement}}`;
    }
    const regex = compilePattern(pattern, { greedy: true, anchored: false });
    const subject = value ?? '';
    if (all) return replaceAllLikeGo(subject, regex, replacement);
    const match = regex.exec(subject);
    if (match === null) return subject;
    return subject.slice(0, match.index) + replacement + subject.slice(match.index + match[0].length);
  }

  /**
   * A name is a run of digits (`$999aaa` is `$999` then `aaa`), one special parameter
   * (`@ * # ? - $ ! 0`), or letters, digits and `_`. Empty when none of these follows.
   */
  private readName(): string {
    let name = '';
    for (let ch = this.peek(); ch !== undefined; ch = this.peek()) {
      if (name === '' && isDigit(ch)) {
        for (let d: string | undefined = ch; d !== undefined && isDigit(d); d = this.peek()) {
          name += d;
          this.pos++;
        }
        return name;
      }
      if (name === '' && SPECIAL_PARAMETERS.has(ch)) {
        this.pos++;
        return ch;
      }
      if (!isLetter(ch) && !isDigit(ch) && ch !== '_') break;
      name += ch;
      this.pos++;
    }
    return name;
  }
}

/**
 * Builds the word list: unquoted whitespace (literal or from an unquoted `$` expansion) ends a
 * word; quoted and escaped text never does. Empty words are dropped, so `""` alone yields none.
 */
class WordSplitter {
  private readonly words: string[] = [];
  private current = '';

  addUnquoted(ch: string): void {
    if (!isSpace(ch)) this.current += ch;
    else if (this.current !== '') {
      this.words.push(this.current);
      this.current = '';
    }
  }

  addExpanded(text: string): void {
    for (const ch of text) this.addUnquoted(ch);
  }

  addLiteral(text: string): void {
    this.current += text;
  }

  finish(): string[] {
    if (this.current !== '') this.words.push(this.current);
    this.current = '';
    return this.words;
  }
}
