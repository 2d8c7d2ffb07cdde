/**
 * `--filter KEY=VALUE` values as docker-cli and the daemon check them: a value without `=` is the
 * CLI's flag error (125), an unknown key the daemon's refusal (exit 1, "Invalid filter 'KEY'").
 * Values of one key are alternatives; the caller decides what different keys mean together.
 */
import { TbuildError } from '../errors.ts';
import { commandUsageError } from './flags.ts';

export type FilterValues = Map<string, string[]>;

export function parseFilterFlag(command: string, values: string[] | undefined, keys: string[]): FilterValues {
  const filters: FilterValues = new Map();
  for (const entry of values ?? []) {
    const eq = entry.indexOf('=');
    if (eq <= 0) {
      throw commandUsageError(
        command,
        `invalid argument "${entry}" for "-f, --filter" flag: bad format of filter (expected name=value)`,
      );
    }
    const key = entry.slice(0, eq).toLowerCase();
    if (!keys.includes(key)) throw new TbuildError(`Invalid filter '${key}'`);
    filters.set(key, [...(filters.get(key) ?? []), entry.slice(eq + 1)]);
  }
  return filters;
}

/** A `label` filter's value, `KEY` or `KEY=VALUE`. */
export function labelFilter(text: string): { key: string; value?: string } {
  const eq = text.indexOf('=');
  return eq < 0 ? { key: text } : { key: text.slice(0, eq), value: text.slice(eq + 1) };
}
