// Runs the bundled CLI (dist/tbuild.cjs, a classic script) with V8's code cache: the first run
// saves the compiled code next to the bundle, later runs load it instead of compiling ~0.9 MB of
// JavaScript again (~40-60 ms of every `tbuild` command here). Node 20 has no code cache for ES
// modules or for require() (module.enableCompileCache is Node 22), so the bundle is loaded as a
// vm.Script with cachedData; v8-compile-cache does the same for many required files through
// Module hooks, more than this single file needs.
const { readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const { basename, dirname, join } = require('node:path');
const { Script } = require('node:vm');

/**
 * Runs `file` as the CLI's entry script (with process.argv as it is). `cacheName` picks one of
 * several caches: each holds what one kind of run compiled (a build compiles far more than
 * `--help`), so the command about to run should name its own.
 */
function runBundle(file, cacheName = 'default') {
  const { size, mtimeMs } = statSync(file);
  const dir = dirname(file);
  // `.tbuild.cjs.<size>-<mtime>.<name>.v8cache`: named by the bundle's size and mtime, so a
  // rebuilt bundle never meets an old cache (V8's own check of cached data is by length only).
  const prefix = `.${basename(file)}.`;
  const stamped = `${prefix}${size}-${Math.trunc(mtimeMs)}.`;
  const cacheFile = join(dir, `${stamped}${cacheName}.v8cache`);
  const code = readFileSync(file, 'utf8');
  let cachedData;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {}
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${code}\n})`, {
    filename: file,
    cachedData,
  });
  if (cachedData === undefined || script.cachedDataRejected) {
    // Saved after the run, so it holds the functions the command compiled, not just the top level.
    process.once('beforeExit', () => {
      try {
        const temp = `${cacheFile}.${process.pid}.tmp`;
        writeFileSync(temp, script.createCachedData());
        renameSync(temp, cacheFile);
        for (const name of readdirSync(dir)) {
          if (name.startsWith(prefix) && name.endsWith('.v8cache') && !name.startsWith(stamped))
            rmSync(join(dir, name), { force: true });
        }
      } catch {
        // A read-only install runs without the cache.
      }
    });
  }
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(file), module, file, dir);
}

module.exports = { runBundle };
