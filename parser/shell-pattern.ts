// The patterns of `${V#p}`, `${V%p}` and `${V/p/r}` for the scanner (shell-word.ts). lex.go (`convertShellPatternToRegex`) turns the shell pattern
// into a Go regexp: `*` is any run of characters (lazy for the shortest match, greedy for the
// longest), `?` one character, `\` escapes `*`, `?` and `\` (and is dropped before `}` and `/`),
// no bracket expressions. Its escape is always `\`, whatever the Dockerfile's escape character.
// A JS RegExp has the same leftmost-first backtracking semantics for these constructs; `.` in Go
// does not match `\n`, hence `[^\n]`.

/** A pattern lex.go refuses; the expander reports it as the expansion's failure. */
export class PatternError extends Error {}

const REGEX_SYNTAX = new Set(['[', ']', '{', '}', '.', '+', '(', ')', '|', '^', '$']);

export function compilePattern(pattern: string, how: { greedy: boolean; anchored: boolean }): RegExp {
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
        throw new PatternError(
          `invalid pattern (${pattern}) in substitution: invalid escape '\\${next ?? ''}'`,
        );
      }
      source += `\\${next}`;
      i++;
    } else source += REGEX_SYNTAX.has(ch) ? `\\${ch}` : ch;
  }
  return new RegExp(source, 'gu');
}

export function trimPrefix(value: string, pattern: string, greedy: boolean): string {
  const match = compilePattern(pattern, { greedy, anchored: true }).exec(value);
  return match === null ? value : value.slice(match[0].length);
}

/** The shortest/longest suffix match is found as a prefix match of the reversed value and pattern. */
export function trimSuffix(value: string, pattern: string, greedy: boolean): string {
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
export function replaceAllLikeGo(subject: string, regex: RegExp, template: string): string {
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
