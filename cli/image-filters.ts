/**
 * `images --filter` as moby's daemon/images/images.go Images applies it: values of one key are
 * alternatives, different keys must all match. dangling=true|false, reference=PATTERN (path.Match
 * against the familiar `name:tag` or the familiar name, moby's reference.FamiliarMatch), before=
 * and since= an image (strictly older / newer), label=KEY or label=KEY=VALUE. A value without `=`
 * is docker-cli's flag error (125); an unknown key or value is the daemon's refusal (exit 1).
 */
import { TbuildError } from '../errors.ts';
import type { StoredImage } from '../image/index.ts';
import { commandUsageError } from './flags.ts';

export type ImageFilters = Map<string, string[]>;

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

/** Go's path.Match as a RegExp: `*` and `?` stop at `/`, `[…]` classes, `\` escapes. */
export function pathMatchRegExp(pattern: string): RegExp {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end < 0) return /(?!)/; // path.ErrBadPattern: matches nothing
      let body = pattern.slice(i + 1, end);
      if (body.startsWith('^')) body = `^${body.slice(1)}`;
      out += `[${body.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else if (c === '\\' && i + 1 < pattern.length) {
      out += (pattern[++i] as string).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    } else out += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}

/** moby reference.FamiliarMatch: the pattern against `name:tag`, else against `name`. */
export function familiarMatch(pattern: string, familiarTag: string): boolean {
  const re = pathMatchRegExp(pattern);
  if (re.test(familiarTag)) return true;
  const colon = familiarTag.lastIndexOf(':');
  const name = colon > familiarTag.lastIndexOf('/') ? familiarTag.slice(0, colon) : familiarTag;
  return re.test(name);
}

/** The image-level filters (dangling is decided per row by the caller). */
export function matchesImage(
  image: StoredImage,
  filters: ImageFilters,
  bounds: { before?: number; since?: number },
): boolean {
  const created = Date.parse(image.config.created ?? '') || 0;
  if (bounds.before !== undefined && !(created < bounds.before)) return false;
  if (bounds.since !== undefined && !(created > bounds.since)) return false;
  const labels = image.config.config?.Labels ?? {};
  const wanted = filters.get('label');
  if (wanted) {
    // moby filters.MatchKVList: every label filter must match.
    for (const v of wanted) {
      const eq = v.indexOf('=');
      if (eq < 0 ? !(v in labels) : labels[v.slice(0, eq)] !== v.slice(eq + 1)) return false;
    }
  }
  return true;
}
