// .dockerignore rules as Docker and BuildKit apply them: reading the file (moby/patternmatcher
// ignorefile.ReadAll) and matching paths (moby/patternmatcher patternmatcher.go). Hand-written
// because no npm library has these semantics: minimatch differs on parent matching, `**` inside
// a segment, `[!a]`, cleaning and last-match-wins (see ../shared/design/dependencies.md §1.5).
import { TbuildError } from '../errors.ts';

/** A .dockerignore pattern that cannot be compiled (Go: filepath.ErrBadPattern, or a lone `!`). */
export class DockerignoreError extends TbuildError {
  /** The offending pattern as it was given to the matcher (after reading the file). */
  readonly pattern: string;
  /** What is wrong with it, without the pattern ("illegal exclusion pattern: \"!\""). */
  readonly reason: string;
  /** The file the pattern came from, when known. */
  readonly file: string | undefined;

  constructor(pattern: string, reason: string, file?: string) {
    const where = file === undefined ? '' : ` in ${file}`;
    super(`invalid .dockerignore pattern ${JSON.stringify(pattern)}${where}: ${reason}`, {
      hint: 'patterns use Go filepath.Match syntax: * ? [a-z] [^a-z] \\x and ** for any number of directories',
    });
    this.pattern = pattern;
    this.reason = reason;
    this.file = file;
  }
}

/**
 * Splits .dockerignore text into lines (a trailing `\r` is dropped, like Go's bufio.ScanLines)
 * and reads them with {@link parseDockerignoreLines}.
 */
export function parseDockerignore(text: string): string[] {
  return parseDockerignoreLines(
    text.split('\n').map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line)),
  );
}

/**
 * Turns the lines of a .dockerignore file into patterns, as ignorefile.ReadAll does: a UTF-8
 * BOM on the first line is dropped; a line whose first character is `#` is a comment (checked
 * before trimming); lines are trimmed and empty ones dropped; after a leading `!` the rest is
 * trimmed again; the pattern is cleaned like a path (Go path.Clean) and loses one leading `/`
 * unless it is just `/`. A bare `!` is kept and rejected later by {@link compileDockerignore}.
 */
export function parseDockerignoreLines(lines: readonly string[]): string[] {
  const patterns: string[] = [];
  lines.forEach((raw, index) => {
    const line = index === 0 && raw.startsWith('\uFEFF') ? raw.slice(1) : raw;
    if (line.startsWith('#')) return;
    let pattern = line.trim();
    if (pattern === '') return;
    const exception = pattern.startsWith('!');
    if (exception) pattern = pattern.slice(1).trim();
    if (pattern.length > 0) {
      pattern = cleanPath(pattern);
      if (pattern.length > 1 && pattern.startsWith('/')) pattern = pattern.slice(1);
    }
    patterns.push(exception ? `!${pattern}` : pattern);
  });
  return patterns;
}

/**
 * Go's path.Clean: collapse `//`, drop `.` segments, resolve `..` against the segment before
 * it (never above `/` in a rooted path), drop a trailing `/`; an empty result is `.`.
 */
export function cleanPath(path: string): string {
  if (path === '') return '.';
  const rooted = path.startsWith('/');
  const out: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
      continue;
    }
    out.push(segment);
  }
  const body = out.join('/');
  if (rooted) return `/${body}`;
  return body === '' ? '.' : body;
}

/** One compiled pattern. `text` is the cleaned pattern without its `!`. */
export interface IgnorePattern {
  readonly text: string;
  /** True for a `!` pattern, which re-includes what earlier patterns excluded. */
  readonly exception: boolean;
  /** Whether the pattern matches this exact slash-separated path (no parent matching). */
  test(path: string): boolean;
}

/**
 * The per-pattern results for a directory, handed to its children by a walker so that parents
 * are not re-tested (moby/patternmatcher MatchInfo). `hits[i]` is true when pattern i matched
 * the directory or, through its own parent, an ancestor.
 */
export interface MatchState {
  readonly excluded: boolean;
  readonly hits: readonly boolean[];
}

/** An ordered list of compiled .dockerignore patterns. */
export interface DockerignoreMatcher {
  readonly patterns: readonly IgnorePattern[];
  /** True when at least one pattern is a `!` exception. */
  readonly hasExceptions: boolean;
  /**
   * Path-level answer (patternmatcher MatchesOrParentMatches): is `path` excluded? Patterns are
   * tried in order; a normal pattern only while not excluded, an exception only while excluded;
   * a pattern hits when it matches the path or any parent directory of it; the last hit wins.
   * `path` is slash-separated, relative to the context root, used as given; `.` is never
   * excluded.
   */
  matches(path: string): boolean;
  /**
   * Incremental answer a context walker uses (patternmatcher MatchesUsingParentResults): like
   * {@link matches}, but parent directories are not re-tested; `parent` carries their results
   * (omit it for a top-level entry, or to fall back to testing parents). This can differ from
   * {@link matches}: with `foo/bar`, `!foo` the path `foo/bar` is kept by `matches` but excluded
   * here, because `!foo` was skipped when `foo` was visited (nothing matched yet). BuildKit's
   * context upload uses this answer, and so does our walker.
   */
  matchIncremental(path: string, parent?: MatchState): MatchState;
}

/**
 * Compiles patterns as patternmatcher.New does (trim, drop empty, path-clean, split off `!`)
 * and checks them. Throws {@link DockerignoreError} for a lone `!`, a malformed character class
 * (`[`, `[]a]`, `[-]`, `[x-]`, `[a-b-c]`), a trailing `\`, or a reversed range like `[l-O]`.
 * Go reports the last one only when matching; we report it here, once.
 */
export function compileDockerignore(patterns: readonly string[]): DockerignoreMatcher {
  const compiled: IgnorePattern[] = [];
  for (const raw of patterns) {
    let text = raw.trim();
    if (text === '') continue;
    text = cleanPath(text);
    const exception = text.startsWith('!');
    if (exception) {
      if (text.length === 1) throw new DockerignoreError(raw, 'illegal exclusion pattern: "!"');
      text = text.slice(1);
    }
    compiled.push({ text, exception, test: compilePattern(text, raw) });
  }
  return createMatcher(compiled);
}

function createMatcher(patterns: readonly IgnorePattern[]): DockerignoreMatcher {
  const hasExceptions = patterns.some((p) => p.exception);

  function hitsSelfOrParent(pattern: IgnorePattern, path: string, parents: readonly string[]): boolean {
    if (pattern.test(path)) return true;
    for (const parent of parents) if (pattern.test(parent)) return true;
    return false;
  }

  return {
    patterns,
    hasExceptions,
    matches(path) {
      if (path === '.') return false; // Docker refuses to exclude the context root.
      const parents = parentPrefixes(path);
      let excluded = false;
      for (const pattern of patterns) {
        if (pattern.exception !== excluded) continue;
        if (hitsSelfOrParent(pattern, path, parents)) excluded = !pattern.exception;
      }
      return excluded;
    },
    matchIncremental(path, parent) {
      const parents = parent === undefined ? parentPrefixes(path) : [];
      const hits: boolean[] = new Array(patterns.length).fill(false);
      let excluded = false;
      patterns.forEach((pattern, i) => {
        // A pattern that hit the parent hits the child, whatever the current state.
        let hit = parent?.hits[i] === true;
        if (!hit) {
          if (pattern.exception !== excluded) return;
          hit = hitsSelfOrParent(pattern, path, parents);
        }
        hits[i] = hit;
        if (hit) excluded = !pattern.exception;
      });
      return { excluded, hits };
    },
  };
}

/**
 * The parent directories of `path` as patternmatcher tries them: Go's path.Dir (which cleans),
 * split at `/`, each prefix of whole segments. `a/b/c` → `a`, `a/b`.
 */
function parentPrefixes(path: string): string[] {
  const slash = path.lastIndexOf('/');
  if (slash < 0) return [];
  let dir = path.slice(0, slash);
  if (dir === '' || uncleanSegments.test(dir)) dir = cleanPath(path.slice(0, slash + 1));
  if (dir === '.') return [];
  const prefixes: string[] = [];
  for (let i = dir.indexOf('/'); i >= 0; i = dir.indexOf('/', i + 1)) prefixes.push(dir.slice(0, i));
  prefixes.push(dir);
  return prefixes;
}

/** A path that path.Clean would change: `//`, a `.` or `..` segment, or a trailing `/`. */
const uncleanSegments = /\/\/|(?:^|\/)\.\.?(?:\/|$)|\/$/;

/**
 * One step of a compiled pattern. Patterns are matched by simulating this small automaton over
 * the path's code points (every live state at once, as RE2 does), not by a JavaScript RegExp:
 * V8's regexps backtrack, so `*a*a*a*ab` against a long name took seconds (a `.dockerignore`
 * could hang a build), where patternmatcher's RE2 is linear. Time is O(path × pattern).
 */
type Step =
  | { kind: 'one'; test: (ch: string) => boolean; next: number }
  | { kind: 'split'; a: number; b: number }
  | { kind: 'done' };

const notSlash = (ch: string) => ch !== '/';
const notNewline = (ch: string) => ch !== '\n';
const isSlash = (ch: string) => ch === '/';

/** What a pattern piece matches: one code point, a run of them, or optional whole segments. */
type Piece =
  | { kind: 'one'; test: (ch: string) => boolean }
  | { kind: 'run'; test: (ch: string) => boolean }
  | { kind: 'segments' };

/** Thompson's construction: the pieces in order, as steps; index 0 is the start. */
function buildSteps(pieces: readonly Piece[]): Step[] {
  const steps: Step[] = [{ kind: 'done' }];
  const add = (step: Step): number => steps.push(step) - 1;
  let next = 0;
  for (let i = pieces.length - 1; i >= 0; i--) {
    const piece = pieces[i] as Piece;
    if (piece.kind === 'one') next = add({ kind: 'one', test: piece.test, next });
    else if (piece.kind === 'run') {
      // loop: either one more matching code point (back to loop) or on to `next`.
      const loop = add({ kind: 'split', a: -1, b: next });
      const body = add({ kind: 'one', test: piece.test, next: loop });
      (steps[loop] as { a: number }).a = body;
      next = loop;
    } else {
      // `(?:[^\n]*/)?`: nothing, or any run that ends with a `/`.
      const loop = add({ kind: 'split', a: -1, b: -1 });
      const any = add({ kind: 'one', test: notNewline, next: loop });
      const slash = add({ kind: 'one', test: isSlash, next });
      Object.assign(steps[loop] as object, { a: any, b: slash });
      next = add({ kind: 'split', a: loop, b: next });
    }
  }
  // Move the start to index 0 so callers need not know it.
  return [...steps, { kind: 'split', a: next, b: next }];
}

function automatonMatcher(pieces: readonly Piece[]): (path: string) => boolean {
  const steps = buildSteps(pieces);
  const start = steps.length - 1;
  const closure = (from: Iterable<number>): Set<number> => {
    const seen = new Set<number>();
    const stack = [...from];
    while (stack.length > 0) {
      const at = stack.pop() as number;
      if (seen.has(at)) continue;
      seen.add(at);
      const step = steps[at] as Step;
      if (step.kind === 'split') stack.push(step.a, step.b);
    }
    return seen;
  };
  return (path) => {
    let live = closure([start]);
    for (const ch of path) {
      const moved: number[] = [];
      for (const at of live) {
        const step = steps[at] as Step;
        if (step.kind === 'one' && step.test(ch)) moved.push(step.next);
      }
      if (moved.length === 0) return false;
      live = closure(moved);
    }
    return live.has(0);
  };
}

/**
 * Compiles one cleaned pattern (without `!`) to a test function, choosing patternmatcher's match
 * types: exact text, prefix (`abc**`), suffix (`**abc`, literal rest) or a general pattern. `*` →
 * any run without `/`; `?` → one code point but `/`; `**` → any number of segments (a `**` that is
 * not last becomes an optional run of whole segments, a final `**` anything at all); `\x` →
 * literal x; `[...]` → a class parsed like Go's filepath.Match (ranges, `^` negation, `\` escapes).
 * Two RE2 quirks are not copied: in Docker `*` and `?` inside `[...]` and escapes like `\d` or
 * `[[:alpha:]]` take RE2 meanings; here they are literal class members, as filepath.Match reads
 * them. (`^` is plain text too: patternmatcher passes it to RE2 unescaped, where it is an
 * anchor, a Docker quirk we skip.)
 */
function compilePattern(text: string, raw: string): (path: string) => boolean {
  const chars = Array.from(text); // code points, like Go's text/scanner
  type Kind = 'exact' | 'prefix' | 'suffix' | 'general';
  let kind: Kind = 'exact';
  const pieces: Piece[] = [];
  const literal = (ch: string): Piece => ({ kind: 'one', test: (c) => c === ch });
  const bad = (reason: string): never => {
    throw new DockerignoreError(raw, reason);
  };

  let pos = 0;
  for (let i = 0; pos < chars.length; i++) {
    const ch = chars[pos++] as string;
    if (ch === '*') {
      if (chars[pos] === '*') {
        pos++;
        if (chars[pos] === '/') pos++; // `**/` is the same as `**`
        if (pos === chars.length) {
          if (kind === 'exact') kind = 'prefix';
          else {
            pieces.push({ kind: 'run', test: notNewline });
            kind = 'general';
          }
        } else {
          pieces.push({ kind: 'segments' });
          kind = 'general';
        }
        if (i === 0) kind = 'suffix';
      } else {
        pieces.push({ kind: 'run', test: notSlash });
        kind = 'general';
      }
    } else if (ch === '?') {
      pieces.push({ kind: 'one', test: notSlash });
      kind = 'general';
    } else if (ch === '\\') {
      if (pos === chars.length) bad('syntax error in pattern (trailing "\\")');
      pieces.push(literal(chars[pos++] as string));
      kind = 'general';
    } else if (ch === '[') {
      const end = parseClass(chars, pos, bad);
      pieces.push({ kind: 'one', test: end.test });
      pos = end.next;
      kind = 'general';
    } else {
      pieces.push(literal(ch));
      if (ch === ']') kind = 'general';
    }
  }

  switch (kind) {
    case 'exact':
      return (path) => path === text;
    case 'prefix': {
      const prefix = text.slice(0, -2);
      return (path) => path.startsWith(prefix);
    }
    case 'suffix': {
      // patternmatcher's fast path compares the rest literally: `**foo` also matches `xfoo`.
      const suffix = text.slice(2);
      const bare = suffix.startsWith('/') ? suffix.slice(1) : undefined;
      return (path) => path.endsWith(suffix) || path === bare;
    }
    case 'general':
      return automatonMatcher(pieces);
  }
}

/**
 * Parses a character class whose `[` has been consumed, with filepath.Match's rules: optional
 * `^`, then one or more `lo` or `lo-hi` items up to `]`; an item may not start with `-` or `]`,
 * `\` escapes the next character. Ranges must ascend (RE2 rejects `[l-O]`). A negated class
 * matches any other code point, `/` included, as the RE2 class it stands for.
 */
function parseClass(
  chars: readonly string[],
  start: number,
  bad: (reason: string) => never,
): { test: (ch: string) => boolean; next: number } {
  let pos = start;
  let negated = false;
  if (chars[pos] === '^') {
    negated = true;
    pos++;
  }
  const readMember = (): number => {
    let ch = chars[pos];
    if (ch === undefined || ch === '-' || ch === ']')
      bad('syntax error in pattern (malformed character class)');
    if (ch === '\\') {
      pos++;
      ch = chars[pos];
      if (ch === undefined) bad('syntax error in pattern (malformed character class)');
    }
    pos++;
    if (pos >= chars.length) bad('syntax error in pattern (unterminated character class)');
    return (ch as string).codePointAt(0) as number;
  };
  const ranges: [number, number][] = [];
  for (;;) {
    if (chars[pos] === ']' && ranges.length > 0) {
      const test = (ch: string) => {
        const code = ch.codePointAt(0) as number;
        return ranges.some(([lo, hi]) => code >= lo && code <= hi) !== negated;
      };
      return { test, next: pos + 1 };
    }
    const lo = readMember();
    let hi = lo;
    if (chars[pos] === '-') {
      pos++;
      hi = readMember();
    }
    if (lo > hi) bad(`invalid character class range ${String.fromCodePoint(lo)}-${String.fromCodePoint(hi)}`);
    ranges.push([lo, hi]);
  }
}
