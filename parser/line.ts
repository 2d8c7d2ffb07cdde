// One logical line → instruction word, flags and arguments split per instruction shape.
// The shapes are BuildKit's dispatch table (parser/parser.go `dispatch`, line_parsers.go).
import { SyntaxFault } from './errors.ts';
import { parseJsonArray, splitFlags, splitHealth, splitWords } from './grammar.ts';
import { fromByteString, isAscii, toByteString, trimGo, trimLeftGo } from './text.ts';

/** What one logical line holds; offsets index into the line handed to `parseLine`. */
export interface LineParts {
  word: string;
  wordOffset: number;
  flags: string[];
  flagOffsets: number[];
  args: string[];
  argsOffset: number;
  json: boolean;
  sub?: LineParts;
}

type Shape = (
  text: string,
  esc: '\\' | '`',
  offset: number,
) => { args: string[]; json: boolean; sub?: LineParts };

const keywordEnd = /[\t\v\f\r ]+/;
const splitBlanks = /[\t\v\f\r ]+/;

/** Parses one logical line. Throws SyntaxFault (with an offset into `line`) on malformed arguments. */
export function parseLine(line: string, esc: '\\' | '`', base = 0): LineParts {
  const leftTrimmed = trimLeftGo(line);
  const wordOffset = base + line.length - leftTrimmed.length;
  const trimmed = trimGo(leftTrimmed);
  const m = keywordEnd.exec(trimmed);
  const word = m === null ? trimmed : trimmed.slice(0, m.index);
  const flags: string[] = [];
  const flagOffsets: number[] = [];
  let rest = '';
  let restOffset = wordOffset + trimmed.length;
  if (m !== null) {
    const afterOffset = wordOffset + m.index + m[0].length;
    const after = trimmed.slice(m.index + m[0].length);
    if (after[0] !== '-' || after[1] !== '-') {
      // No flag can start here, so the flag grammar would return the whole text as its rest.
      return finish(word, wordOffset, flags, flagOffsets, after, afterOffset, esc);
    }
    const ascii = isAscii(after);
    const head = splitFlags(ascii ? after : toByteString(after));
    const toChars = (o: number): number =>
      ascii ? o : fromByteString(toByteString(after).slice(0, o)).length;
    for (const f of head.flags) {
      const value = unquoteFlag(f.text);
      if (value === '--') continue;
      flags.push(value);
      flagOffsets.push(afterOffset + toChars(f.offset));
    }
    if (head.rest !== undefined) {
      rest = ascii ? head.rest.text : fromByteString(head.rest.text);
      restOffset = afterOffset + toChars(head.rest.offset);
    }
  }
  return finish(word, wordOffset, flags, flagOffsets, rest, restOffset, esc);
}

function finish(
  word: string,
  wordOffset: number,
  flags: string[],
  flagOffsets: number[],
  rest: string,
  restOffset: number,
  esc: '\\' | '`',
): LineParts {
  const argsText = trimGo(rest);
  const argsOffset = restOffset + rest.length - trimLeftGo(rest).length;
  const shape = shapes.get(word.toLowerCase()) ?? ignored;
  return { word, wordOffset, flags, flagOffsets, argsOffset, ...shape(argsText, esc, argsOffset) };
}

/** Removes quotes and backslash escapes from a flag word, the way extractBuilderFlags builds it. */
function unquoteFlag(image: string): string {
  let out = '';
  let quote = '';
  for (let i = 0; i < image.length; i++) {
    const ch = image[i] as string;
    if (quote !== '' && ch === quote) quote = '';
    else if (quote === '' && (ch === "'" || ch === '"')) quote = ch;
    else if (ch === '\\') {
      if (i + 1 < image.length) out += image[++i];
    } else out += ch;
  }
  return out;
}

const none = { args: [] as string[], json: false };

const ignored: Shape = () => ({ args: [''], json: false });

const oneString: Shape = (text) => (text === '' ? none : { args: [text], json: false });

const whitespaceSplit: Shape = (text) =>
  text === '' ? none : { args: text.split(splitBlanks), json: false };

function asJson(text: string, offset: number): string[] | undefined {
  if (text[0] !== '[') return undefined;
  try {
    return parseJsonArray(text);
  } catch (e) {
    if (e instanceof SyntaxFault) throw new SyntaxFault(e.message, { hint: e.hint, offset });
    throw e;
  }
}

const maybeJson: Shape = (text, _escape, offset) => {
  if (text === '') return none;
  const argv = asJson(text, offset);
  return argv === undefined ? { args: [text], json: false } : { args: argv, json: true };
};

const maybeJsonList: Shape = (text, esc, offset) => {
  const argv = asJson(text, offset);
  return argv === undefined ? whitespaceSplit(text, esc, offset) : { args: argv, json: true };
};

const nameOrNameVal: Shape = (text, esc) => ({
  args: splitWords(text, esc).map((w) => w.text),
  json: false,
});

function nameVal(keyword: string): Shape {
  return (text, esc, offset) => {
    const words = splitWords(text, esc);
    if (words.length === 0) return none;
    if (!(words[0] as { text: string }).text.includes('=')) {
      // Legacy `ENV key value`: everything after the key is one value, verbatim.
      const m = splitBlanks.exec(text);
      if (m === null) {
        throw new SyntaxFault(`${keyword} must have two arguments`, {
          hint: `write ${keyword} ${text}=<value>`,
          offset,
        });
      }
      return { args: [text.slice(0, m.index), text.slice(m.index + m[0].length), ''], json: false };
    }
    const args: string[] = [];
    for (const w of words) {
      const eq = w.text.indexOf('=');
      if (eq < 0) {
        throw new SyntaxFault(
          `Syntax error - can't find = in ${JSON.stringify(w.text)}. Must be of the form: name=value`,
          {
            hint: `write ${w.text}=<value>`,
            offset: offset + w.offset,
          },
        );
      }
      args.push(w.text.slice(0, eq), w.text.slice(eq + 1), '=');
    }
    return { args, json: false };
  };
}

const health: Shape = (text, esc, offset) => {
  if (text === '') return none;
  const ascii = isAscii(text);
  const head = splitHealth(ascii ? text : toByteString(text));
  const type = head.flags[0];
  if (type === undefined) return none;
  const typeText = ascii ? type.text : fromByteString(type.text);
  if (head.rest === undefined) return { args: [typeText], json: false };
  const restText = ascii ? head.rest.text : fromByteString(head.rest.text);
  const restOffset = offset + text.length - restText.length;
  const cmd = maybeJson(restText, esc, restOffset);
  return { args: [typeText, ...cmd.args], json: cmd.json };
};

const onbuild: Shape = (text, esc, offset) => {
  if (text === '') return none;
  return { args: [], json: false, sub: parseLine(text, esc, offset) };
};

const shapes = new Map<string, Shape>(
  Object.entries({
    add: maybeJsonList,
    arg: nameOrNameVal,
    cmd: maybeJson,
    copy: maybeJsonList,
    entrypoint: maybeJson,
    env: nameVal('ENV'),
    expose: whitespaceSplit,
    from: whitespaceSplit,
    healthcheck: health,
    label: nameVal('LABEL'),
    maintainer: oneString,
    onbuild,
    run: maybeJson,
    shell: maybeJson,
    stopsignal: oneString,
    user: oneString,
    volume: maybeJsonList,
    workdir: oneString,
  }),
);
