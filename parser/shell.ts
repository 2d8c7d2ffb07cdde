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
import { PatternError } from './shell-pattern.ts';
import { ExpansionFailure, WordExpander } from './shell-word.ts';

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
      if (error instanceof ExpansionFailure || error instanceof PatternError) {
        throw new ShellExpansionError(word, error.message);
      }
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
