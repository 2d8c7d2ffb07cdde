// `--flag[=value]` validation per instruction (BuildKit: instructions/bflag.go and the AddString /
// AddBool / AddStrings calls at the top of each parse function in instructions/parse.go).
import { SyntaxFault } from './errors.ts';
import { suggest } from './suggest.ts';

type FlagKind = 'string' | 'bool' | 'strings';

/** The flags each instruction accepts; every other instruction accepts none. */
const flagSpecs: Record<string, Record<string, FlagKind>> = {
  FROM: { platform: 'string' },
  RUN: { mount: 'strings', network: 'string', security: 'string' },
  COPY: {
    from: 'string',
    chown: 'string',
    chmod: 'string',
    link: 'bool',
    exclude: 'strings',
    parents: 'bool',
  },
  ADD: {
    chown: 'string',
    chmod: 'string',
    checksum: 'string',
    'keep-git-dir': 'bool',
    link: 'bool',
    exclude: 'strings',
  },
  HEALTHCHECK: {
    interval: 'string',
    timeout: 'string',
    'start-period': 'string',
    'start-interval': 'string',
    retries: 'string',
  },
};

/** Parsed flags: string flags map to their value, bool flags to true/false, repeatable ones to a list. */
export interface FlagValues {
  strings: Map<string, string>;
  bools: Map<string, boolean>;
  lists: Map<string, string[]>;
}

/**
 * Validates `flags` (raw, with leading `--`) for `keyword`. Throws SyntaxFault whose `offset` is the
 * index of the offending flag in `flags`.
 */
export function parseFlags(keyword: string, flags: string[]): FlagValues {
  const spec = flagSpecs[keyword] ?? {};
  const out: FlagValues = { strings: new Map(), bools: new Map(), lists: new Map() };
  flags.forEach((raw, index) => {
    const body = raw.slice(2);
    const eq = body.indexOf('=');
    const name = eq < 0 ? body : body.slice(0, eq);
    const value = eq < 0 ? undefined : body.slice(eq + 1);
    const kind = Object.hasOwn(spec, name) ? spec[name] : undefined;
    if (kind === undefined) {
      const names = Object.keys(spec);
      const close = suggest(name, names);
      const hint =
        close !== undefined
          ? `did you mean ${close}?`
          : names.length > 0
            ? `${keyword} accepts --${names.join(', --')}`
            : `${keyword} takes no flags`;
      throw new SyntaxFault(`unknown flag: ${name}`, { hint, offset: index });
    }
    if (kind !== 'strings' && (out.strings.has(name) || out.bools.has(name))) {
      throw new SyntaxFault(`duplicate flag specified: ${name}`, {
        hint: `give --${name} once`,
        offset: index,
      });
    }
    if (kind === 'bool') {
      const v = value === undefined ? 'true' : value.toLowerCase();
      if (v !== 'true' && v !== 'false') {
        throw new SyntaxFault(`expecting boolean value for flag ${name}, not: ${value}`, {
          hint: `write --${name} or --${name}=false`,
          offset: index,
        });
      }
      out.bools.set(name, v === 'true');
      return;
    }
    if (value === undefined) {
      throw new SyntaxFault(`missing a value on flag: ${name}`, {
        hint: `write --${name}=<value>`,
        offset: index,
      });
    }
    if (kind === 'string') out.strings.set(name, value);
    else out.lists.set(name, [...(out.lists.get(name) ?? []), value]);
  });
  return out;
}
