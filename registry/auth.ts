/**
 * `WWW-Authenticate` challenges (RFC 7235) as registries send them:
 *   Bearer realm="https://auth.example/token",service="registry",scope="repository:x:pull"
 *   Basic realm="registry"
 * Parsed by hand: the grammar is a scheme followed by comma-separated `key=value` or
 * `key="quoted \" value"` pairs (the same subset distribution's `registry/auth/token` emits and
 * containerd's `remotes/docker/auth/parse.go` reads).
 */

/** One challenge: the scheme in lower case and its parameters (keys lower case). */
export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parses the first challenge of a `WWW-Authenticate` header; undefined when there is none. */
export function parseChallenge(header: string | null): Challenge | undefined {
  if (!header) return undefined;
  const text = header.trim();
  const m = /^([A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]*)\s*/.exec(text);
  if (!m) return undefined;
  const scheme = (m[1] as string).toLowerCase();
  const params: Record<string, string> = {};
  let i = m[0].length;
  while (i < text.length) {
    const key = /^\s*,?\s*([A-Za-z0-9_.-]+)\s*=\s*/.exec(text.slice(i));
    if (!key) break;
    i += key[0].length;
    let value = '';
    if (text[i] === '"') {
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === '\\' && i + 1 < text.length) i++;
        value += text[i];
        i++;
      }
      i++;
    } else {
      const bare = /^[^,\s]*/.exec(text.slice(i));
      value = bare ? bare[0] : '';
      i += value.length;
    }
    params[(key[1] as string).toLowerCase()] = value;
  }
  return { scheme, params };
}

/** Parses `Retry-After` (seconds or an HTTP date) into milliseconds from now. */
export function parseRetryAfter(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
