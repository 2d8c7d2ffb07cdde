// Public surface of remotecache/: the build cache carried outside the root — a local cache layout,
// the inline cache in an image config, a registry cache — imported as the solver's cache sources
// and exported from a build's records (BuildKit's cache/remotecache).
export { type InlineCache, inlineCache, inlineCacheField, openInlineCache } from './inline.ts';
export { exportLocalCache, openLocalCache } from './local.ts';
export { exportRegistryCache, openRegistryCache } from './registry.ts';
export { openCacheSources } from './sources.ts';
export type { CacheFrom, CacheMode, CacheTo } from './types.ts';
