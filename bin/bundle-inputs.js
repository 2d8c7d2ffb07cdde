// Whether dist/tbuild.cjs is fresh: newer than every file it was made from. scripts/bundle.mjs
// writes the list beside the bundle (`<bundle>.inputs.json`: esbuild's metafile inputs outside
// node_modules, repository-relative), so no folder list here can miss one (a hand-kept list of
// source folders left out format/, and an edit there ran a stale bundle). The scripts that make
// the bundle count too: one made by an older scripts/bundle.mjs lacks what that script now does
// (issue 11: one without the lowering of import() failed every push).
const { readdirSync, readFileSync, statSync } = require('node:fs');
const { join } = require('node:path');

/** The file listing a bundle's inputs. */
function inputsFile(bundle) {
  return `${bundle}.inputs.json`;
}

/**
 * The newest mtime (ms) among `bundle`'s inputs and `root`/scripts/*.mjs, or Infinity when the
 * list is missing or unreadable or an input is gone (the bundle cannot be trusted then).
 */
function newestInput(root, bundle) {
  let newest = 0;
  try {
    for (const path of JSON.parse(readFileSync(inputsFile(bundle), 'utf8'))) {
      newest = Math.max(newest, statSync(join(root, path)).mtimeMs);
    }
  } catch {
    return Number.POSITIVE_INFINITY;
  }
  for (const entry of readdirSync(join(root, 'scripts'))) {
    if (entry.endsWith('.mjs')) newest = Math.max(newest, statSync(join(root, 'scripts', entry)).mtimeMs);
  }
  return newest;
}

/** True when `bundle` exists and is at least as new as everything it was made from. */
function bundleIsFresh(root, bundle) {
  let bundleTime;
  try {
    bundleTime = statSync(bundle).mtimeMs;
  } catch {
    return false;
  }
  return bundleTime >= newestInput(root, bundle);
}

module.exports = { bundleIsFresh, inputsFile, newestInput };
