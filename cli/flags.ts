/**
 * The one command-line parser every `tbuild <command>` uses: flags and positionals as Docker's CLI
 * (cobra + pflag) reads them, and its usage errors, word for word, with exit 125:
 *
 *   unknown flag: --frobnicate                 unknown shorthand flag: 'x' in -x
 *   flag needs an argument: --file             flag needs an argument: 'f' in -f
 *   invalid argument "x" for "-q, --quiet" flag: strconv.ParseBool: parsing "x": invalid syntax
 *
 * each followed by `See 'tbuild CMD --help'.`. A wrong number of arguments (`"tbuild tag" requires
 * exactly 2 arguments.`) exits 1, as Docker's: docker-cli's cli/required.go returns a plain error
 * for those (only FlagErrorFunc's flag errors are a StatusError 125). node's parseArgs does the tokenising (strict mode
 * off, so that it never throws its own messages); the checks and the values are made here from
 * its tokens. Booleans take `--flag=true|false` as pflag's do.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { TbuildError, UsageError } from '../errors.ts';
import type { CommandContext } from './command.ts';

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

/** What a command accepts: its name (for messages), its help text, flags and positional count. */
export interface CommandLineSpec<O extends OptionsConfig> {
  /** As the user types it after `tbuild`: `build`, `images`. */
  name: string;
  /** The text `--help` prints. */
  usage: string;
  options: O;
  /** How many positional arguments: exactly, at least, at most. Default: any number. */
  args?: { exactly: number } | { min?: number; max?: number };
  /** Stop reading flags at the first positional (`run IMAGE CMD -x`: `-x` is the command's). */
  stopAtPositional?: boolean;
}

/** The values and positionals, typed from the spec's options as parseArgs types them. */
export type CommandLine<O extends OptionsConfig> = Pick<
  ReturnType<typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>>,
  'values' | 'positionals'
>;

/** `See 'tbuild build --help'.`: the line Docker prints under a usage error. */
export function seeHelp(name: string): string {
  return `See 'tbuild ${name} --help'.`;
}

/** A usage error of command `name` (exit 125), with the line pointing at its help. */
export function commandUsageError(name: string, message: string): UsageError {
  return new UsageError(message, { hint: seeHelp(name) });
}

/**
 * A wrong argument count (exit 1, not 125: docker-cli cli/required.go RequiresMinArgs and its
 * siblings return errors.Errorf, which docker's main exits 1 for).
 */
export function argumentCountError(name: string, message: string): TbuildError {
  return new TbuildError(message, { hint: seeHelp(name) });
}

/**
 * The value of an int flag, or pflag's error for one that is not (`invalid argument "x" for
 * "-t, --time" flag: strconv.ParseInt: parsing "x": invalid syntax`, exit 125).
 */
export function intFlag(name: string, flag: { long: string; short?: string }, value: string): number {
  // pflag's int flags use strconv.ParseInt(s, 0, 64): decimal, 0x hex, 0o/0 octal, 0b binary.
  const n = /^[-+]?(0[xX][0-9a-fA-F]+|0[oO]?[0-7]+|0[bB][01]+|[1-9][0-9]*|0)$/.test(value)
    ? parseGoInt(value)
    : Number.NaN;
  if (!Number.isSafeInteger(n)) {
    throw commandUsageError(
      name,
      `invalid argument "${value}" for "${flagLabel(flag.long, flag.short)}" flag: strconv.ParseInt: parsing "${value}": invalid syntax`,
    );
  }
  return n;
}

function parseGoInt(text: string): number {
  const sign = text.startsWith('-') ? -1 : 1;
  const digits = text.replace(/^[-+]/, '');
  if (/^0[xX]/.test(digits)) return sign * Number.parseInt(digits.slice(2), 16);
  if (/^0[bB]/.test(digits)) return sign * Number.parseInt(digits.slice(2), 2);
  if (/^0[oO]/.test(digits)) return sign * Number.parseInt(digits.slice(2), 8);
  if (digits.length > 1 && digits.startsWith('0')) return sign * Number.parseInt(digits.slice(1), 8);
  return sign * Number.parseInt(digits, 10);
}

const trueWords = new Set(['1', 't', 'T', 'true', 'TRUE', 'True']);
const falseWords = new Set(['0', 'f', 'F', 'false', 'FALSE', 'False']);

function flagLabel(long: string, short: string | undefined): string {
  return short === undefined ? `--${long}` : `-${short}, --${long}`;
}

function plural(n: number): string {
  return n === 1 ? 'argument' : 'arguments';
}

/**
 * Parses `ctx.argv` against `spec`. Prints the usage and returns undefined for `-h`/`--help`
 * (the command then exits 0); throws a `UsageError` for anything Docker would reject.
 */
export function parseCommandLine<O extends OptionsConfig>(
  ctx: Pick<CommandContext, 'argv' | 'stdout'>,
  spec: CommandLineSpec<O>,
): CommandLine<O> | undefined {
  let argv = ctx.argv;
  let rest: string[] = [];
  if (spec.stopAtPositional) ({ flags: argv, rest } = splitAtPositional(argv, spec.options));
  const terminator = argv.indexOf('--');
  argv = argv.map((arg, i) => (terminator >= 0 && i > terminator ? arg : shortWithValue(arg, spec.options)));
  const { tokens } = parseArgs({
    args: argv,
    options: spec.options,
    allowPositionals: true,
    strict: false,
    tokens: true,
  });
  const values: Record<string, unknown> = {};
  const positionals: string[] = [];
  let help = false;
  for (const token of tokens) {
    if (token.kind === 'positional') {
      positionals.push(token.value);
      continue;
    }
    if (token.kind === 'option-terminator') continue;
    const option = spec.options[token.name];
    const short = token.rawName.startsWith('--') ? undefined : token.rawName.slice(1);
    if (option === undefined) {
      if (token.name === 'help' || token.name === 'h') {
        help = true;
        continue;
      }
      throw commandUsageError(
        spec.name,
        short === undefined
          ? `unknown flag: --${token.name}`
          : `unknown shorthand flag: '${short}' in ${token.rawName}`,
      );
    }
    let value: string | boolean;
    if (option.type === 'string') {
      if (token.value === undefined) {
        throw commandUsageError(
          spec.name,
          short === undefined
            ? `flag needs an argument: --${token.name}`
            : `flag needs an argument: '${short}' in ${token.rawName}`,
        );
      }
      value = token.value;
    } else if (token.value === undefined) value = true;
    else if (trueWords.has(token.value)) value = true;
    else if (falseWords.has(token.value)) value = false;
    else {
      throw commandUsageError(
        spec.name,
        `invalid argument "${token.value}" for "${flagLabel(token.name, option.short)}" flag: strconv.ParseBool: parsing "${token.value}": invalid syntax`,
      );
    }
    if (option.multiple) values[token.name] = [...((values[token.name] as unknown[]) ?? []), value];
    else values[token.name] = value;
  }
  if (help) {
    ctx.stdout.write(`${spec.usage.trim()}\n`);
    return undefined;
  }
  for (const [name, option] of Object.entries(spec.options)) {
    if (values[name] === undefined && option.default !== undefined) values[name] = option.default;
  }
  positionals.push(...rest);
  checkCount(spec, positionals.length);
  return { values, positionals } as CommandLine<O>;
}

function checkCount(spec: CommandLineSpec<OptionsConfig>, n: number): void {
  const args = spec.args;
  if (args === undefined) return;
  const what = `"tbuild ${spec.name}"`;
  if ('exactly' in args) {
    if (n === args.exactly) return;
    throw argumentCountError(
      spec.name,
      args.exactly === 0
        ? `${what} accepts no arguments.`
        : `${what} requires exactly ${args.exactly} ${plural(args.exactly)}.`,
    );
  }
  if (args.min !== undefined && n < args.min) {
    throw argumentCountError(
      spec.name,
      args.max !== undefined && args.max !== args.min
        ? `${what} requires at least ${args.min} and at most ${args.max} ${plural(args.max)}.`
        : `${what} requires at least ${args.min} ${plural(args.min)}.`,
    );
  }
  if (args.max !== undefined && n > args.max) {
    throw argumentCountError(
      spec.name,
      args.max === 0
        ? `${what} accepts no arguments.`
        : args.min !== undefined
          ? `${what} requires at least ${args.min} and at most ${args.max} ${plural(args.max)}.`
          : `${what} requires at most ${args.max} ${plural(args.max)}.`,
    );
  }
}

/**
 * pflag reads `-H=false` and `-t=5` as the short flag with a value; parseArgs would read `-=`
 * and `-f` as more short flags, so such a word becomes `--long=value` first. Up to `--` only.
 */
function shortWithValue(arg: string, options: OptionsConfig): string {
  const m = /^-([A-Za-z0-9])=(.*)$/s.exec(arg);
  if (!m) return arg;
  const long = Object.entries(options).find(([, o]) => o.short === m[1])?.[0];
  return long === undefined ? arg : `--${long}=${m[2]}`;
}

/**
 * Splits argv at the first positional word: what comes before is flags (a string flag's value
 * included), the rest belongs to the positional (`tbuild run -e A=1 IMAGE ls -l`).
 */
function splitAtPositional(argv: string[], options: OptionsConfig): { flags: string[]; rest: string[] } {
  const takesValue = new Set<string>();
  for (const [long, o] of Object.entries(options)) {
    if (o.type !== 'string') continue;
    takesValue.add(`--${long}`);
    if (o.short !== undefined) takesValue.add(`-${o.short}`);
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') return { flags: argv.slice(0, i), rest: argv.slice(i + 1) };
    if (!arg.startsWith('-') || arg === '-') return { flags: argv.slice(0, i), rest: argv.slice(i) };
    if (arg.includes('=')) continue;
    // `-it`, `-de K=V`: only the last letter of a group of short flags can take a value.
    const last = arg.startsWith('--') ? arg : `-${arg.slice(-1)}`;
    if (takesValue.has(arg) || takesValue.has(last)) i++;
  }
  return { flags: argv, rest: [] };
}
