/**
 * What `--cache-to` and `--cache-from` ask of the remote cache, as plain data (the CLI parses the
 * flags into these; BuildKit's cache exporters and importers take the same attributes).
 */

/** `--cache-to`: where and how much to export. */
export type CacheTo =
  | { type: 'local'; dest: string; mode: CacheMode }
  | { type: 'inline' }
  | { type: 'registry'; ref: string; mode: CacheMode };

/** `--cache-from`: a local layout, an image (inline cache) in the store, or a registry cache. */
export type CacheFrom =
  | { type: 'local'; src: string }
  | { type: 'image'; ref: string }
  | { type: 'registry'; ref: string };

/**
 * `max`: every step of the build (all stages). `min`: only the final image's own chain (BuildKit's
 * min mode exports only the layers of the result).
 */
export type CacheMode = 'min' | 'max';
