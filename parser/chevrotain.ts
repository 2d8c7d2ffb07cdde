// Chevrotain, loaded from the single-file ES bundle the package ships (lib/chevrotain.mjs) instead
// of its package entry (lib/src/api.js). The entry imports ~650 lodash-es modules one by one, which
// costs ~0.9 s per CLI start under the tsx loader (every module goes through its resolve/load
// hooks); the bundle is the same library in one file and loads in ~0.1 s. The package's `exports`
// hides the bundle, so its path is taken relative to the resolved entry.
type Chevrotain = typeof import('chevrotain');

const entry = import.meta.resolve('chevrotain');
const chevrotain = (await import(new URL('../chevrotain.mjs', entry).href)) as Chevrotain;

export const { createToken, EmbeddedActionsParser, Lexer } = chevrotain;
