/**
 * The functions a template may call (Go's text/template funcs.go builtins, and docker/cli
 * templates/templates.go's basicFunctions), and which of them a table header run hands its
 * argument back from (templates.HeaderFunctions).
 */
import { isObject, noValue, printValue, truthy } from './template-values.ts';

/** docker/cli templates.go's basicFunctions; a table header run hands each its first argument back. */
export const headerFunctions: ReadonlySet<string> = new Set([
  'json',
  'join',
  'split',
  'lower',
  'upper',
  'title',
  'pad',
  'truncate',
]);

/** Every function name a template may call; anything else is Go's `function "x" not defined`. */
export const functionNames: ReadonlySet<string> = new Set([
  ...['and', 'or', 'not', 'len', 'index', 'print', 'printf', 'println', 'slice'],
  ...['eq', 'ne', 'lt', 'le', 'gt', 'ge'],
  ...headerFunctions,
]);

/**
 * Go's encoding/json as docker-cli's `json` template function uses it (templates/templates.go):
 * an Encoder with SetEscapeHTML(false), so `<`, `>` and `&` stay as they are (docker 20.10's
 * client prints `sh -c "a && b > f"` unescaped; test/conformance/containers-docker.test.ts);
 * U+2028 and U+2029 are escaped always.
 */
function toJson(v: unknown): string {
  const text = JSON.stringify(v === noValue ? null : (v ?? null)) ?? 'null';
  return text.replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** A small fmt.Sprintf: %s %v %d %q %t %%, with optional width (`%-10s`). */
function sprintf(format: string, args: unknown[]): string {
  let n = 0;
  return format.replace(/%(-?)(\d*)([svdqtx%])/g, (_, left: string, width: string, verb: string) => {
    if (verb === '%') return '%';
    const arg = args[n++];
    let text: string;
    if (arg === undefined && n > args.length) text = `%!${verb}(MISSING)`;
    else if (verb === 'q') text = JSON.stringify(String(arg));
    else if (verb === 'x')
      text = typeof arg === 'number' ? arg.toString(16) : Buffer.from(String(arg)).toString('hex');
    else text = printValue(arg);
    const w = Number(width || 0);
    return left ? text.padEnd(w) : text.padStart(w);
  });
}

function compare(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  throw new Error('incompatible types for comparison');
}

/** Calls function `name`; a plain Error's message becomes Go's `error calling name: …`. */
export function callBuiltin(name: string, args: unknown[]): unknown {
  const arg = (i: number) => (args[i] === noValue ? undefined : args[i]);
  switch (name) {
    case 'and':
      return args.find((a) => !truthy(a)) ?? args.at(-1);
    case 'or':
      return args.find((a) => truthy(a)) ?? args.at(-1);
    case 'not':
      return !truthy(arg(0));
    case 'len': {
      const v = arg(0);
      if (typeof v === 'string' || Array.isArray(v)) return v.length;
      if (isObject(v)) return Object.keys(v).length;
      throw new Error(`len of type ${typeof v}`);
    }
    case 'index': {
      let v = arg(0);
      for (const key of args.slice(1)) {
        if (Array.isArray(v) && typeof key === 'number') {
          if (key < 0 || key >= v.length) throw new Error(`error calling index: index out of range: ${key}`);
          v = v[key];
        } else if (isObject(v)) v = Object.hasOwn(v, String(key)) ? v[String(key)] : undefined;
        else if (v === undefined || v === null) return undefined;
        else throw new Error(`error calling index: cannot index slice/array with type ${typeof key}`);
      }
      return v;
    }
    case 'print':
      // fmt.Sprint: spaces only between operands when neither is a string.
      return args.reduce<string>((out, a, i) => {
        const sep = i > 0 && typeof args[i - 1] !== 'string' && typeof a !== 'string' ? ' ' : '';
        return out + sep + printValue(a);
      }, '');
    case 'println':
      return `${args.map(printValue).join(' ')}\n`;
    case 'printf':
      return sprintf(String(arg(0)), args.slice(1));
    case 'eq':
      return args.slice(1).some((b) => arg(0) === b);
    case 'ne':
      return arg(0) !== arg(1);
    case 'lt':
      return compare(arg(0), arg(1)) < 0;
    case 'le':
      return compare(arg(0), arg(1)) <= 0;
    case 'gt':
      return compare(arg(0), arg(1)) > 0;
    case 'ge':
      return compare(arg(0), arg(1)) >= 0;
    case 'json':
      return toJson(args[0]);
    case 'join': {
      const list = arg(0);
      if (!Array.isArray(list)) throw new Error('wrong type for value; expected []string');
      return list.map(printValue).join(String(arg(1)));
    }
    case 'split':
      return String(arg(0)).split(String(arg(1)));
    case 'lower':
      return printValue(arg(0)).toLowerCase();
    case 'upper':
      return printValue(arg(0)).toUpperCase();
    case 'title':
      return printValue(arg(0)).replace(
        /(^|[^\p{L}\p{N}])(\p{L})/gu,
        (_, a: string, b: string) => a + b.toUpperCase(),
      );
    case 'pad': {
      // docker/cli templates.go padWithSpace(source, prefix, suffix)
      const s = printValue(arg(0));
      return s === '' ? s : `${' '.repeat(Number(arg(1)))}${s}${' '.repeat(Number(arg(2)))}`;
    }
    case 'truncate': {
      // docker/cli templates.go truncateWithLength
      const s = printValue(arg(0));
      const n = Number(arg(1));
      return [...s].length <= n ? s : [...s].slice(0, n).join('');
    }
    case 'slice': {
      const v = arg(0);
      const from = Number(arg(1) ?? 0);
      if (typeof v === 'string' || Array.isArray(v))
        return v.slice(from, arg(2) === undefined ? undefined : Number(arg(2)));
      throw new Error("can't slice item");
    }
    default:
      throw new Error(`function "${name}" not defined`);
  }
}
