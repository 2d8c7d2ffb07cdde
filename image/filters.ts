/**
 * Which images `images --filter` keeps, as moby's daemon/images/images.go Images decides it: values
 * of one key are alternatives, different keys must all match; reference=PATTERN is path.Match
 * against the familiar `name:tag` or name (moby's reference.FamiliarMatch). cli/image-filters.ts
 * parses the flag values into an {@link ImageFilters}.
 */
import type { StoredImage } from './store-lookup.ts';

/** Filter key → its values (the flag's `key=value` entries, grouped). */
export type ImageFilters = Map<string, string[]>;

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
