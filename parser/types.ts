/**
 * The Dockerfile AST: what `parseDockerfile` produces and `toInstructions`/`dumpDockerfile` consume.
 * It mirrors BuildKit's `parser.Node` (frontend/dockerfile/parser/parser.go) closely enough that
 * `dumpDockerfile` reproduces BuildKit's `Node.Dump()` byte for byte, but with one object per
 * instruction instead of a linked list.
 */
import type { Position, SourceRange } from '../errors.ts';

/** A 1-based line and 1-based column (in UTF-16 code units of the decoded line). */
export type Pos = Position;
/** From an instruction's first character to the end of the last physical line it consumed. */
export type Range = SourceRange;

/** A heredoc body attached to RUN, COPY or ADD (`<<EOF` … `EOF`). */
export interface Heredoc {
  /** The terminator word with quotes removed (`<<"EOF"` → `EOF`). */
  name: string;
  /**
   * The body exactly as written, each line with its line ending. With `chomp` the leading tabs are
   * still there: like BuildKit, they are removed at build time (see `chompHeredoc`).
   */
  content: string;
  /** False as soon as any part of the terminator word was quoted (`<<'EOF'`, `<<E"O"F`). */
  expand: boolean;
  /** True for `<<-WORD`. */
  chomp: boolean;
  /** The file descriptor digits before `<<` (`3<<EOF`); 0 when absent. */
  fd: number;
}

/** One instruction as written, after continuations are joined and arguments split per instruction shape. */
export interface Node {
  /** The instruction word upper-cased (`RUN`); unknown words are kept (`FNTRYPOINT`). */
  keyword: string;
  /** The instruction word exactly as written (`run`, `Run`); the dump prints it lower-cased. */
  word: string;
  /** Raw flags as written after quote removal, each with its leading `--` (`--mount=type=cache,target=/x`). */
  flags: string[];
  /** Where each flag starts in the source, parallel to `flags`. */
  flagPositions: Pos[];
  /**
   * The arguments, split the way BuildKit splits them for this instruction (see the parser README):
   * JSON form gives the array elements; ENV/LABEL give `key, value, sep` triples; HEALTHCHECK gives
   * the type word then the command. Values are unexpanded and keep their quotes (except JSON).
   */
  args: string[];
  /** Where the argument text starts (the position right after the keyword when there is none). */
  argsPosition: Pos;
  /** True when the arguments were a JSON array (exec form). */
  json: boolean;
  /** ONBUILD only: the nested instruction. */
  sub?: Node;
  /** Heredoc bodies in the order their words appear on the instruction line. */
  heredocs: Heredoc[];
  /** The logical line: physical lines joined with continuations removed, leading whitespace trimmed. */
  original: string;
  range: Range;
  /** Comment lines directly above the instruction, `#` and surrounding whitespace removed. */
  comments: string[];
}

/** A non-fatal finding, e.g. an empty line inside a continuation (BuildKit warns about those). */
export interface Warning {
  message: string;
  range: Range;
}

/** The result of `parseDockerfile`. */
export interface ParsedDockerfile {
  /** Instructions in file order; never empty (a file with no instruction is a ParseError). */
  nodes: Node[];
  /** The escape character in force (`# escape=` directive), default backslash. */
  escape: '\\' | '`';
  /** Parser directives found at the top (`syntax`, `escape`, `check`), keys lower-cased. */
  directives: Record<string, string>;
  warnings: Warning[];
  /** The file name used in error messages and ranges (`Dockerfile` unless told otherwise). */
  file: string;
  /** The physical lines, line endings removed: `lines[0]` is line 1. Error messages quote them. */
  lines: string[];
}
