// The argument grammar of one instruction, in Chevrotain: a multi-mode lexer and one parser.
//
// The line scanner (dockerfile.ts) has already joined continuations and cut heredoc bodies, so the
// text seen here is one logical line. Modes:
//   flags  `--flag` words at the start (quote and backslash aware), `--` ends them, then the rest
//   json   a JSON array; anything that does not lex or parse as one is "not JSON" (shell form)
//   words  quote-aware words of ENV/LABEL/ARG, one mode per esc character
//   health the HEALTHCHECK type word, then the rest
// Token patterns follow BuildKit's hand-written scanners (parser/split_command.go,
// line_parsers.go parseWords/parseJSON/parseHealthConfig); each quirk is noted where it is encoded.
import type { Lexer as LexerType, TokenType } from 'chevrotain';
import { createToken, EmbeddedActionsParser, Lexer } from './chevrotain.ts';
import { SyntaxFault } from './errors.ts';
import { goSpaceClass, replaceLoneSurrogates } from './text.ts';

// Byte-level unicode.IsSpace: the flag and HEALTHCHECK scanners look at single bytes, where only
// these (including the UTF-8 continuation bytes 0x85 and 0xA0) count as space.
const byteSpace = '\\t\\n\\v\\f\\r \\x85\\xa0';
const endOfInput = '(?![\\s\\S])';

const ByteSpace = createToken({
  name: 'ByteSpace',
  pattern: new RegExp(`[${byteSpace}]+`),
  group: Lexer.SKIPPED,
  line_breaks: true,
});
const Rest = createToken({
  name: 'Rest',
  pattern: new RegExp(`[^${byteSpace}][\\s\\S]*`),
  line_breaks: true,
});
// A word whose value is exactly `--` ends flag parsing (`COPY -- foo bar`); empty quotes vanish.
const EndOfFlags = createToken({
  name: 'EndOfFlags',
  pattern: new RegExp(`--(?:''|"")*(?=[${byteSpace}]|${endOfInput})`),
  push_mode: 'rest',
});
// Inside flags the esc is always a backslash, whatever `# esc=` says (extractBuilderFlags).
const Flag = createToken({
  name: 'Flag',
  pattern: new RegExp(
    `--(?:[^${byteSpace}'"\\\\]|\\\\[\\s\\S]?|'(?:[^'\\\\]|\\\\[\\s\\S]?)*'?|"(?:[^"\\\\]|\\\\[\\s\\S]?)*"?)*`,
  ),
  line_breaks: true,
});
const HealthType = createToken({
  name: 'HealthType',
  pattern: new RegExp(`[^${byteSpace}]+`),
  push_mode: 'rest',
});

const JsonSpace = createToken({
  name: 'JsonSpace',
  pattern: /[ \t\n\r]+/,
  group: Lexer.SKIPPED,
  line_breaks: true,
});
const LBracket = createToken({ name: 'LBracket', pattern: /\[/ });
const RBracket = createToken({ name: 'RBracket', pattern: /]/ });
const LCurly = createToken({ name: 'LCurly', pattern: /{/ });
const RCurly = createToken({ name: 'RCurly', pattern: /}/ });
const Comma = createToken({ name: 'Comma', pattern: /,/ });
const Colon = createToken({ name: 'Colon', pattern: /:/ });
const JsonString = createToken({
  name: 'JsonString',
  // biome-ignore lint/suspicious/noControlCharactersInRegex: JSON forbids raw control characters in strings
  pattern: /"(?:[^"\\\x00-\x1f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/,
});
const JsonNumber = createToken({
  name: 'JsonNumber',
  pattern: /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/,
});
const JsonLiteral = createToken({ name: 'JsonLiteral', pattern: /true|false|null/ });

function wordTokens(esc: '\\' | '`', suffix: string): TokenType[] {
  const e = esc === '\\' ? '\\\\' : '`';
  const space = createToken({
    name: `WordSpace${suffix}`,
    pattern: new RegExp(`[${goSpaceClass}]+`),
    group: Lexer.SKIPPED,
    line_breaks: true,
  });
  // An esc character as the very last character is dropped (parseWords: "just skip").
  const escEnd = createToken({
    name: `WordEscEnd${suffix}`,
    pattern: new RegExp(`${e}${endOfInput}`),
    group: Lexer.SKIPPED,
  });
  // Quotes and escapes stay in the word; the esc keeps the next character too. Inside single
  // quotes the esc is an ordinary character.
  const word = createToken({
    name: `Word${suffix}`,
    pattern: new RegExp(`(?:[^${goSpaceClass}'"${e}]|${e}[\\s\\S]|'[^']*'?|"(?:[^"${e}]|${e}[\\s\\S])*"?)+`),
    line_breaks: true,
    categories: [Word],
  });
  return [space, escEnd, word];
}

const Word = createToken({ name: 'Word', pattern: Lexer.NA });
const wordsBackslash = wordTokens('\\', 'Backslash');
const wordsBacktick = wordTokens('`', 'Backtick');

const modes = {
  flags: [ByteSpace, EndOfFlags, Flag, Rest],
  rest: [ByteSpace, Rest],
  health: [ByteSpace, HealthType],
  json: [JsonSpace, LBracket, RBracket, LCurly, RCurly, Comma, Colon, JsonString, JsonNumber, JsonLiteral],
  wordsBackslash,
  wordsBacktick,
};
const allTokens = [...new Set([...Object.values(modes).flat(), Word])];
// Validations are skipped (they cost ~20 ms of every `tbuild` run and the grammar is fixed);
// test/parser runs them through validateGrammar().

function createLexer(skipValidations: boolean): LexerType {
  return new Lexer({ modes, defaultMode: 'flags' }, { positionTracking: 'onlyOffset', skipValidations });
}

/** Builds the lexer and parser with Chevrotain's grammar validations on; throws on a defect. */
export function validateGrammar(): void {
  const checked = createLexer(false);
  if (checked.lexerDefinitionErrors.length > 0)
    throw new Error(checked.lexerDefinitionErrors.map((e) => e.message).join('\n'));
  new InstructionParser(false);
}

/** A token's text and where it starts in the text handed to the grammar. */
export interface Piece {
  text: string;
  offset: number;
}
interface HeadResult {
  flags: Piece[];
  rest: Piece | undefined;
}
/** `undefined` marks a JSON value that is not a string. */
type JsonElement = string | undefined;

class InstructionParser extends EmbeddedActionsParser {
  constructor(skipValidations = true) {
    super(allTokens, { recoveryEnabled: false, maxLookahead: 1, skipValidations });
    this.performSelfAnalysis();
  }

  head = this.RULE('head', (): HeadResult => {
    const flags: Piece[] = [];
    let rest: Piece | undefined;
    this.MANY(() => {
      const t = this.CONSUME(Flag);
      flags.push({ text: t.image, offset: t.startOffset });
    });
    this.OPTION(() => this.CONSUME(EndOfFlags));
    this.OPTION2(() => {
      const t = this.CONSUME(Rest);
      rest = { text: t.image, offset: t.startOffset };
    });
    return { flags, rest };
  });

  health = this.RULE('health', (): HeadResult => {
    const t = this.CONSUME(HealthType);
    let rest: Piece | undefined;
    this.OPTION(() => {
      const r = this.CONSUME(Rest);
      rest = { text: r.image, offset: r.startOffset };
    });
    return { flags: [{ text: t.image, offset: t.startOffset }], rest };
  });

  words = this.RULE('words', (): Piece[] => {
    const out: Piece[] = [];
    this.MANY(() => {
      const t = this.CONSUME(Word);
      out.push({ text: t.image, offset: t.startOffset });
    });
    return out;
  });

  jsonArray = this.RULE('jsonArray', (): JsonElement[] => {
    const out: JsonElement[] = [];
    this.CONSUME(LBracket);
    this.OPTION(() => {
      out.push(this.SUBRULE(this.jsonValue));
      this.MANY(() => {
        this.CONSUME(Comma);
        out.push(this.SUBRULE2(this.jsonValue));
      });
    });
    this.CONSUME(RBracket);
    return out;
  });

  jsonValue = this.RULE('jsonValue', (): JsonElement => {
    return this.OR([
      {
        ALT: () => {
          const t = this.CONSUME(JsonString);
          return this.ACTION(() => replaceLoneSurrogates(JSON.parse(t.image) as string));
        },
      },
      { ALT: () => void this.CONSUME(JsonNumber) },
      { ALT: () => void this.CONSUME(JsonLiteral) },
      { ALT: () => void this.SUBRULE(this.jsonObject) },
      { ALT: () => void this.SUBRULE(this.jsonArray) },
    ]);
  });

  jsonObject = this.RULE('jsonObject', (): void => {
    this.CONSUME(LCurly);
    this.OPTION(() => {
      this.CONSUME(JsonString);
      this.CONSUME(Colon);
      this.SUBRULE(this.jsonValue);
      this.MANY(() => {
        this.CONSUME(Comma);
        this.CONSUME2(JsonString);
        this.CONSUME2(Colon);
        this.SUBRULE2(this.jsonValue);
      });
    });
    this.CONSUME(RCurly);
  });
}

/**
 * The lexer and parser, made on first use: building them costs ~15-20 ms, which a build whose
 * Dockerfile comes from the parse cache (cli/parse-cache.ts) never pays.
 */
let grammar: { lexer: LexerType; parser: InstructionParser } | undefined;
function getGrammar(): { lexer: LexerType; parser: InstructionParser } {
  grammar ??= { lexer: createLexer(true), parser: new InstructionParser() };
  return grammar;
}

/**
 * Splits the text after the instruction word into its leading `--flags` and the rest (untrimmed).
 * `text` must be the byte view of the line (see text.ts `toByteString`); offsets index into it.
 */
export function splitFlags(text: string): HeadResult {
  return run(text, 'flags', (parser) => parser.head()) ?? { flags: [], rest: undefined };
}

/** HEALTHCHECK: the first word (as the only "flag") and the rest after the whitespace. Byte view. */
export function splitHealth(text: string): HeadResult {
  return run(text, 'health', (parser) => parser.health()) ?? { flags: [], rest: undefined };
}

/** Quote-aware words (ENV, LABEL, ARG); quotes and escapes are kept as written. */
export function splitWords(text: string, esc: '\\' | '`'): Piece[] {
  return run(text, esc === '\\' ? 'wordsBackslash' : 'wordsBacktick', (parser) => parser.words()) ?? [];
}

/**
 * Parses `text` as a JSON array of strings. Returns undefined when it is not a JSON array at all
 * (the caller falls back to shell form) and throws when it is valid JSON with a non-string element.
 */
export function parseJsonArray(text: string): string[] | undefined {
  const elements = run(text, 'json', (parser) => parser.jsonArray());
  if (elements === undefined) return undefined;
  const strings: string[] = [];
  for (const e of elements) {
    if (e === undefined)
      throw new SyntaxFault('JSON array must contain only strings', {
        hint: 'quote each element: ["a", "b"]',
      });
    strings.push(e);
  }
  return strings;
}

function run<T>(text: string, mode: string, rule: (parser: InstructionParser) => T): T | undefined {
  const { lexer, parser } = getGrammar();
  const lexed = lexer.tokenize(text, mode);
  if (lexed.errors.length > 0) return undefined;
  parser.input = lexed.tokens;
  const result = rule(parser);
  if (parser.errors.length > 0) return undefined;
  return result;
}
