/**
 * `images --filter` values parsed and checked (image/filters.ts applies them): dangling=true|false,
 * reference=PATTERN, before= and since= an image (strictly older / newer), label=KEY or
 * label=KEY=VALUE. A value without `=` is docker-cli's flag error (125); an unknown key or value is
 * the daemon's refusal (exit 1).
 */
import { TbuildError } from '../errors.ts';
import type { ImageFilters } from '../image/index.ts';
import { parseFilterFlag } from './filter-flags.ts';

const keys = ['dangling', 'reference', 'before', 'since', 'label'];

/** The `--filter` values of `command`, checked. */
export function parseImageFilters(command: string, values: string[]): ImageFilters {
  const filters: ImageFilters = parseFilterFlag(command, values, keys);
  const dangling = filters.get('dangling');
  if (dangling && !dangling.every((v) => v === 'true' || v === 'false')) {
    throw new TbuildError(`Invalid filter 'dangling=[${dangling.join(' ')}]'`);
  }
  return filters;
}
