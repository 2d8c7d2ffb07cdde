// The line scanner: bytes → logical lines → Nodes. What is not a grammar lives here: the BOM, line
// endings, parser directives at the top, continuation lines with the escape character in force,
// comments inside continuations, and heredoc bodies, which are raw lines that no grammar sees.
// Each logical line is then handed to line.ts (Chevrotain) for its flags and arguments.
// BuildKit: frontend/dockerfile/parser/parser.go Parse, directives.go.
import { ParseError, SyntaxFault } from './errors.ts';
import { heredocsFromLine } from './heredoc.ts';
import { type LineParts, parseLine } from './line.ts';
import { decodeBytes, trimLeftGo } from './text.ts';
import type { Heredoc, Node, ParsedDockerfile, Pos, Warning } from './types.ts';

/** Options for `parseDockerfile`. */
export interface ParseOptions {
  /** Name used in error messages (`Dockerfile:3:1: …`); default `Dockerfile`. */
  file?: string;
}

const maxLineBytes = 65535;
const directivePattern = /^#[\t\n\f\r ]*([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*(.+?)[\t\n\f\r ]*$/;
const knownDirectives = new Set(['syntax', 'escape', 'check']);
const heredocKeywords = new Set(['RUN', 'COPY', 'ADD']);

/** A piece of a logical line: where its first character came from. */
interface Segment {
  offset: number;
  line: number;
  col: number;
}

/**
 * Parses Dockerfile text (a string, or raw bytes so that invalid UTF-8 is kept) into Nodes.
 * Strict: throws ParseError (never anything else) with a location for anything BuildKit rejects.
 */
export function parseDockerfile(input: string | Uint8Array, options: ParseOptions = {}): ParsedDockerfile {
  const file = options.file ?? 'Dockerfile';
  let text = typeof input === 'string' ? input : decodeBytes(input);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const physical = (n: number): string => stripLineEnd(lines[n - 1] ?? '');
  const fail = (reason: string, pos: Pos, extra: { hint?: string; endLine?: number } = {}): never => {
    throw new ParseError(reason, {
      file,
      pos,
      sourceLine: physical(pos.line),
      hint: extra.hint,
      range: extra.endLine === undefined ? undefined : { start: pos, end: { line: extra.endLine, col: 1 } },
    });
  };

  let esc: '\\' | '`' = '\\';
  let directivesDone = false;
  const directives: Record<string, string> = {};
  const nodes: Node[] = [];
  const warnings: Warning[] = [];
  let comments: string[] = [];

  let i = 0;
  while (i < lines.length) {
    const lineNo = i + 1;
    const line = stripLineEnd(lines[i] as string);
    i++;
    checkLength(line, lineNo, fail);
    const trimmed = trimLeftGo(line);
    if (!directivesDone) {
      const m = directivePattern.exec(trimmed);
      const name = m?.[1]?.toLowerCase();
      if (m === null || name === undefined || !knownDirectives.has(name)) directivesDone = true;
      else {
        const col = line.length - trimmed.length + 1;
        if (name in directives) {
          fail(
            `only one ${name} parser directive can be used`,
            { line: lineNo, col },
            { hint: 'remove the repeated directive' },
          );
        }
        const value = m[2] as string;
        if (name === 'escape') {
          if (value !== '`' && value !== '\\') {
            fail(
              `invalid escape token '${value}' does not match \` or \\`,
              { line: lineNo, col },
              {
                hint: 'use # escape=\\ or # escape=`',
              },
            );
          }
          esc = value as '\\' | '`';
        }
        directives[name] = value;
      }
    }
    if (trimmed[0] === '#') {
      const comment = trimmed.slice(1).trim();
      comments.push(comment);
      continue;
    }
    let [logical, done] = trimContinuation(trimmed, esc);
    if (done && logical === '') {
      comments = [];
      continue;
    }
    const segments: Segment[] = [{ offset: 0, line: lineNo, col: line.length - trimmed.length + 1 }];
    let emptyContinuation = false;
    while (!done && i < lines.length) {
      const next = stripLineEnd(lines[i] as string);
      i++;
      checkLength(next, i, fail);
      const t = trimLeftGo(next);
      if (t[0] === '#') continue;
      if (t === '') {
        emptyContinuation = true;
        continue;
      }
      const [piece, ended] = trimContinuation(next, esc);
      segments.push({ offset: logical.length, line: i, col: 1 });
      logical += piece;
      done = ended;
    }
    const endOfLine = i;
    const posAt = (offset: number): Pos => positionOf(segments, offset);

    let parts: LineParts;
    try {
      parts = parseLine(logical, esc);
    } catch (e) {
      if (!(e instanceof SyntaxFault)) throw e;
      return fail(e.message, posAt(e.offset ?? 0), { hint: e.hint, endLine: endOfLine });
    }

    const heredocs: Heredoc[] = [];
    const target = parts.sub ?? parts;
    if (heredocKeywords.has(target.word.toUpperCase()) && !target.json && logical.includes('<<')) {
      let docs: Omit<Heredoc, 'content'>[];
      try {
        docs = heredocsFromLine(logical);
      } catch (e) {
        if (!(e instanceof SyntaxFault)) throw e;
        return fail(e.message, posAt(target.argsOffset), { endLine: endOfLine });
      }
      for (const doc of docs) {
        let content = '';
        let terminated = false;
        while (i < lines.length) {
          const raw = lines[i] as string;
          i++;
          checkLength(stripLineEnd(raw), i, fail);
          let candidate = stripLineEnd(raw);
          if (doc.chomp) candidate = candidate.replace(/^\t+/, '');
          if (candidate === doc.name) {
            terminated = true;
            break;
          }
          content += i < lines.length || text.endsWith('\n') ? `${raw}\n` : raw;
        }
        if (!terminated) {
          fail(`unterminated heredoc ${doc.name}`, posAt(0), {
            hint: `end the heredoc with a line that reads exactly ${doc.name}`,
            endLine: i,
          });
        }
        heredocs.push({ ...doc, content });
      }
    }

    if (emptyContinuation) {
      warnings.push({
        message: `Empty continuation line found in: ${logical}`,
        range: { start: posAt(0), end: { line: endOfLine, col: 1 } },
      });
    }
    const lastLine = physical(i);
    const end: Pos = { line: i, col: Math.max(1, lastLine.length) };
    nodes.push(toNode(parts, logical, posAt, end, heredocs, comments));
    comments = [];
  }

  if (nodes.length === 0) {
    const line = Math.max(1, lines.length);
    fail(
      'file with no instructions',
      { line, col: 1 },
      { hint: 'a Dockerfile needs at least a FROM instruction' },
    );
  }
  return { nodes, escape: esc, directives, warnings, file, lines: lines.map(stripLineEnd) };
}

function toNode(
  parts: LineParts,
  logical: string,
  posAt: (offset: number) => Pos,
  end: Pos,
  heredocs: Heredoc[],
  comments: string[],
): Node {
  const node: Node = {
    keyword: parts.word.toUpperCase(),
    word: parts.word,
    flags: parts.flags,
    flagPositions: parts.flagOffsets.map(posAt),
    args: parts.args,
    argsPosition: posAt(parts.argsOffset),
    json: parts.json,
    heredocs: parts.sub === undefined ? heredocs : [],
    original: logical,
    range: { start: posAt(parts.wordOffset), end },
    comments,
  };
  if (parts.sub !== undefined) {
    const sub = toNode(parts.sub, logical.slice(parts.sub.wordOffset), posAt, end, heredocs, []);
    sub.range = { start: posAt(parts.sub.wordOffset), end };
    node.sub = sub;
  }
  return node;
}

function positionOf(segments: Segment[], offset: number): Pos {
  let seg = segments[0] as Segment;
  for (const s of segments) {
    if (s.offset <= offset) seg = s;
    else break;
  }
  return { line: seg.line, col: seg.col + offset - seg.offset };
}

/** Removes every trailing CR and LF (BuildKit trimNewline), so CRLF files read like LF files. */
function stripLineEnd(line: string): string {
  const last = line.charCodeAt(line.length - 1);
  if (last !== 13 && last !== 10) return line;
  return line.replace(/[\r\n]+$/, '');
}

/**
 * Cuts a continuation: the escape character followed only by blanks, unless the escape is itself
 * escaped. Returns the line without it and whether the logical line ends here. BuildKit's regex
 * (`([^\\])\\[ \t]*$|^\\[ \t]*$`) cannot see that three escapes end in a live one; neither do we.
 */
function trimContinuation(line: string, esc: string): [string, boolean] {
  let j = line.length;
  while (j > 0 && (line[j - 1] === ' ' || line[j - 1] === '\t')) j--;
  if (j > 0 && line[j - 1] === esc && (j === 1 || line[j - 2] !== esc)) return [line.slice(0, j - 1), false];
  return [line, true];
}

function checkLength(line: string, lineNo: number, fail: (reason: string, pos: Pos) => never): void {
  if (line.length > maxLineBytes / 3 && Buffer.byteLength(line, 'utf8') > maxLineBytes) {
    fail(`dockerfile line greater than max allowed size of ${maxLineBytes}`, { line: lineNo, col: 1 });
  }
}
