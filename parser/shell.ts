/**
 * Shell-word expansion for Dockerfile instructions: `$VAR` / `${VAR...}` substitution, quote and
 * escape removal, and word splitting, with the semantics of BuildKit's
 * `frontend/dockerfile/shell/lex.go` (`Lex.ProcessWord`, `ProcessWords`, `ProcessWordWithMatches`).
 *
 * Hand-written rather than taken from a shell-parsing library: Dockerfile expansion is not a POSIX
 * shell (no command substitution, no globbing, `${V:=w}` is an error, the escape character is
 * configurable, unset variables expand to ""), and BuildKit's exact quirks are what builds rely on.
 */
import { TbuildError } from '../errors.ts';

/** Options of the expander; names follow BuildKit's `shell.Lex` fields. All default to off / `\`. */
export interface ShellLexOptions {
  /** The Dockerfile's escape character (`# escape=` directive): `\` (default) or `` ` ``. */
  readonly escapeChar?: '\\' | '`';
  /** Keep the quote characters in the result; quoted text is still taken literally (`RawQuotes`). */
  readonly rawQuotes?: boolean;
  /** Keep escape characters in the result; the escaped character is still literal (`RawEscapes`). */
  readonly rawEscapes?: boolean;
  /** Treat `'` and `"` as ordinary characters (`SkipProcessQuotes`). */
  readonly skipProcessQuotes?: boolean;
  /** Leave references to unset variables as written, `$X` or `${X...}` (`SkipUnsetEnv`). */
  readonly skipUnsetEnv?: boolean;
}

/** Looks a variable up by its exact (case-sensitive) name; `undefined` means unset. */
export type ShellEnvLookup = (name: string) => string | undefined;

/**
 * The variables an expansion sees: an ordered `KEY=VALUE` list (a later entry for the same key
 * wins; an entry without `=` sets the key to ""), a map, or a lookup function.
 */
export type ShellEnv = readonly string[] | ReadonlyMap<string, string> | ShellEnvLookup;

/** Everything one expansion produces (BuildKit's `ProcessWordResult`). */
export interface ShellExpansion {
  /** The word with variables expanded and quotes/escapes removed, not split (`ProcessWord`). */
  readonly word: string;
  /** The same text split at unquoted whitespace (`ProcessWords`); empty words are dropped. */
  readonly words: readonly string[];
  /**
   * Names that were looked up and set. The frontend uses these to decide which build args a
   * step depends on (and so which belong in its cache key).
   */
  readonly matched: ReadonlySet<string>;
  /** Names that were looked up and unset (positional/special parameters such as `1` or `@` too). */
  readonly unmatched: ReadonlySet<string>;
}

/**
 * An expansion failed: a syntax error (`${}`, missing `}`, unterminated quote, unsupported
 * modifier such as `${V:=w}`), a `${V?msg}` / `${V:?msg}` check, or an invalid pattern. The
 * message reads like BuildKit's (`failed to process "<word>": <reason>`); callers add the
 * Dockerfile location.
 */
export class ShellExpansionError extends TbuildError {
  /** The word being expanded, as written. */
  readonly word: string;
  /** What went wrong, without the word (e.g. `FOO: is not allowed to be empty`). */
  readonly reason: string;

  constructor(word: string, reason: string) {
    // A reason can quote the word's own characters (a modifier, a `${V?message}` text): line
    // breaks in it are shown escaped, so the error stays one line.
    const oneLine = reason.replace(/[\n\r]/g, (c) => (c === '\n' ? '\\n' : '\\r'));
    super(`failed to process ${JSON.stringify(word)}: ${oneLine}`);
    this.word = word;
    this.reason = oneLine;
  }
}

/** A configured expander, like BuildKit's `shell.Lex`; it holds no state between calls. */
export class ShellLex {
  readonly options: Readonly<Required<ShellLexOptions>>;

  constructor(options: ShellLexOptions = {}) {
    this.options = {
      escapeChar: options.escapeChar ?? '\\',
      rawQuotes: options.rawQuotes ?? false,
      rawEscapes: options.rawEscapes ?? false,
      skipProcessQuotes: options.skipProcessQuotes ?? false,
      skipUnsetEnv: options.skipUnsetEnv ?? false,
    };
  }

  /** Expands `word` and reports both forms plus the variables used. Throws `ShellExpansionError`. */
  expand(word: string, env: ShellEnv): ShellExpansion {
    const expander = new WordExpander(word, toLookup(env), this.options);
    try {
      const result = expander.processUntil(undefined, this.options.rawEscapes);
      return {
        word: result.text,
        words: result.words,
        matched: expander.matched,
        unmatched: expander.unmatched,
      };
    } catch (error) {
      if (error instanceof ExpansionFailure) throw new ShellExpansionError(word, error.message);
      throw error;
    }
  }

  /** One word: expanded, quotes and escapes removed, not split (BuildKit `ProcessWord`). */
  expandWord(word: string, env: ShellEnv): string {
    return this.expand(word, env).word;
  }

  /** Expanded and split into words at unquoted whitespace (BuildKit `ProcessWords`). */
  expandWords(word: string, env: ShellEnv): string[] {
    return [...this.expand(word, env).words];
  }
}

/** One word: expanded, quotes and escapes removed, not split. Throws `ShellExpansionError`. */
export function expandWord(word: string, env: ShellEnv, options?: ShellLexOptions): string {
  return new ShellLex(options).expandWord(word, env);
}

/** Expanded and split at unquoted whitespace. Throws `ShellExpansionError`. */
export function expandWords(word: string, env: ShellEnv, options?: ShellLexOptions): string[] {
  return new ShellLex(options).expandWords(word, env);
}

/** Expanded, with the names used (set) and unset. Throws `ShellExpansionError`. */
export function expandWordWithMatches(
  word: string,
  env: ShellEnv,
  options?: ShellLexOptions,
): ShellExpansion {
  return new ShellLex(options).expand(word, env);
}

// ---------------------------------------------------------------------------------------------
// The scanner. Internal failures carry only the reason; `ShellLex.expand` adds the word.

class ExpansionFailure extends Error {}

function fail(reason: string): never {
  throw new ExpansionFailure(reason);
}

/** Deeper `${a:-${b:-...}}` nesting than this is refused instead of overflowing the JS stack. */
const MAX_NESTING = 1000;

const SPECIAL_PARAMETERS = new Set(['@', '*', '#', '?', '-', '$', '!', '0']);

// Go's unicode.IsSpace / IsLetter / IsDigit, which lex.go uses.
const isSpace = (ch: string): boolean => /^\p{White_Space}$/u.test(ch);
const isLetter = (ch: string): boolean => /^\p{L}$/u.test(ch);
const isDigit = (ch: string): boolean => /^\p{Nd}$/u.test(ch);

class WordExpander {
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

function toLookup(env: ShellEnv): ShellEnvLookup {
  if (typeof env === 'function') return env;
  if (!isList(env)) return (name) => env.get(name);
  const values = new Map<string, string>();
  for (const entry of env) {
    const eq = entry.indexOf('=');
    if (eq < 0) values.set(entry, '');
    else values.set(entry.slice(0, eq), entry.slice(eq + 1));
  }
  return (name) => values.get(name);
}

function isList(env: readonly string[] | ReadonlyMap<string, string>): env is readonly string[] {
  return Array.isArray(env);
}

// ---------------------------------------------------------------------------------------------
// Patterns for `#`, `%` and `/`. lex.go (`convertShellPatternToRegex`) turns the shell pattern
// into a Go regexp: `*` is any run of characters (lazy for the shortest match, greedy for the
// longest), `?` one character, `\` escapes `*`, `?` and `\` (and is dropped before `}` and `/`),
// no bracket expressions. Its escape is always `\`, whatever the Dockerfile's escape character.
// A JS RegExp has the same leftmost-first backtracking semantics for these constructs; `.` in Go
// does not match `\n`, hence `[^\n]`.

const REGEX_SYNTAX = new Set(['[', ']', '{', '}', '.', '+', '(', ')', '|', '^', '$']);

function compilePattern(pattern: string, how: { greedy: boolean; anchored: boolean }): RegExp {
  const chars = Array.from(pattern);
  let source = how.anchored ? '^' : '';
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i] as string;
    if (ch === '*') source += how.greedy ? '[^\\n]*' : '[^\\n]*?';
    else if (ch === '?') source += '[^\\n]';
    else if (ch === '\\') {
      const next = chars[i + 1];
      if (next === '}' || next === '/') continue; // escaped so it did not end the ${…}
      if (next !== '*' && next !== '?' && next !== '\\') {
        fail(`invalid pattern (${pattern}) in substitution: invalid escape '\\${next ?? ''}'`);
      }
      source += `\\${next}`;
      i++;
    } else source += REGEX_SYNTAX.has(ch) ? `\\${ch}` : ch;
  }
  return new RegExp(source, 'gu');
}

function trimPrefix(value: string, pattern: string, greedy: boolean): string {
  const match = compilePattern(pattern, { greedy, anchored: true }).exec(value);
  return match === null ? value : value.slice(match[0].length);
}

/** The shortest/longest suffix match is found as a prefix match of the reversed value and pattern. */
function trimSuffix(value: string, pattern: string, greedy: boolean): string {
  return reverseString(trimPrefix(reverseString(value), reversePattern(pattern), greedy));
}

function reverseString(text: string): string {
  return Array.from(text).reverse().join('');
}

/** Reverses a pattern keeping each `\x` escape pair in order: `a\*c` becomes `c\*a`. */
function reversePattern(pattern: string): string {
  const chars = Array.from(pattern);
  const tokens: string[] = [];
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i] as string;
    const next = chars[i + 1];
    if (ch === '\\' && next !== undefined) {
      tokens.push(ch + next);
      i++;
    } else tokens.push(ch);
  }
  return tokens.reverse().join('');
}

/**
 * Go's `Regexp.ReplaceAllString`, which lex.go uses for `${V//p/r}`: an empty match right after
 * the previous match is not replaced, and the replacement is a Go template (see below). `regex`
 * must have the `g` flag.
 */
function replaceAllLikeGo(subject: string, regex: RegExp, template: string): string {
  let out = '';
  let lastMatchEnd = 0;
  let searchPos = 0;
  while (searchPos <= subject.length) {
    regex.lastIndex = searchPos;
    const match = regex.exec(subject);
    if (match === null) break;
    const start = match.index;
    const end = start + match[0].length;
    out += subject.slice(lastMatchEnd, start);
    if (end > lastMatchEnd || start === 0) out += expandGoTemplate(template, match[0]);
    lastMatchEnd = end;
    // Always advance by at least one character.
    const width =
      searchPos < subject.length ? String.fromCodePoint(subject.codePointAt(searchPos) ?? 0).length : 0;
    if (searchPos + width > end) searchPos += width;
    else if (searchPos + 1 > end) searchPos++;
    else searchPos = end;
  }
  return out + subject.slice(lastMatchEnd);
}

/**
 * Go's `Regexp.Expand` for a pattern without groups: `$$` is `$`, `$0`/`${0}` the whole match,
 * any other well-formed `$name`/`${name}` is empty, a malformed `$` stays literal.
 */
function expandGoTemplate(template: string, match: string): string {
  return template.replace(
    /\$(?:(\$)|\{([\p{L}\p{Nd}_]+)\}|([\p{L}\p{Nd}_]+))/gu,
    (_all, dollar, braced, bare) => {
      if (dollar !== undefined) return '$';
      return (braced ?? bare) === '0' ? match : '';
    },
  );
}
