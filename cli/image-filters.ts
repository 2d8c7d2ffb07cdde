/**
 * `images --filter` values parsed and checked (image/filters.ts applies them): dangling=true|false,
 * reference=PATTERN, before= and since= an image (strictly older / newer), label=KEY or
 * label=KEY=VALUE. A value without `=` is docker-cli's flag error (125); an unknown key or value is
 * the daemon's refusal (exit 1).
 */
import { TbuildError } from '../errors.ts';
import type { ImageFilters } from '../image/index.ts';
import { commandUsageError } from './flags.ts';

const keys = new Set(['dangling', 'reference', 'before', 'since', 'label']);

/** The `--filter` values of `command`, checked. */
export function parseImageFilters(command: string, values: string[]): ImageFilters {
  const filters: ImageFilters = new Map();
  for (const entry of values) {
    const eq = entry.indexOf('=');
    if (eq <= 0) {
      throw commandUsageError(
        command,
        `invalid argument "${entry}" for "-f, --filter" flag: bad format of filter (expected name=value)`,
      );
    }
    const key = entry.slice(0, eq).toLowerCase();
    if (!keys.has(key)) throw new TbuildError(`Invalid filter '${key}'`);
    filters.set(key, [...(filters.get(key) ?? []), entry.slice(eq + 1)]);
  }
  const dangling = filters.get('dangling');
  if (dangling && !dangling.every((v) => v === 'true' || v === 'false')) {
    throw new TbuildError(`Invalid filter 'dangling=[${dangling.join(' ')}]'`);
  }
  return filters;
}
