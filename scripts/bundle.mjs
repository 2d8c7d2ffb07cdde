#!/usr/bin/env node
// Bundles the CLI into dist/tbuild.cjs with esbuild (already installed as tsx's engine), so
// `tbuild` starts without compiling TypeScript on every run: ~0.1-0.2 s instead of ~0.5 s.
// bin/tbuild.js uses the bundle only while it is newer than every source file. A classic script
// (CommonJS), not an ES module: bin/run-bundle.js can then give it V8's code cache.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { bundleProblems } from './bundle-check.mjs';

const { inputsFile } = createRequire(import.meta.url)('../bin/bundle-inputs.js');

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');

// Chevrotain goes into the bundle from its single-file ES build (parser/chevrotain.ts loads that
// file with a top-level await in development; in the bundle it is a plain import, one file less
// to read and compile at start-up).
const chevrotainFile = fileURLToPath(new URL('../chevrotain.mjs', import.meta.resolve('chevrotain')));
const bundledChevrotain = {
  name: 'bundled-chevrotain',
  setup(b) {
    b.onResolve({ filter: /^\.\/chevrotain\.ts$/ }, () => ({ path: 'chevrotain', namespace: 'tbuild' }));
    b.onLoad({ filter: /^chevrotain$/, namespace: 'tbuild' }, () => ({
      contents: `export { createToken, EmbeddedActionsParser, Lexer } from ${JSON.stringify(chevrotainFile)};`,
      resolveDir: repo,
      loader: 'js',
    }));
  },
};

/** A digest of every source the bundle is made from: caches of derived data key on it. */
function sourceDigest() {
  const hash = createHash('sha256');
  const visit = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
      a.name < b.name ? -1 : 1,
    )) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!['node_modules', 'dist', 'test', 'bench', 'fixtures', '.git', 'examples'].includes(entry.name))
          visit(path);
      } else if (entry.name.endsWith('.ts')) hash.update(`${path}\0`).update(readFileSync(path));
    }
  };
  visit(repo);
  hash.update(readFileSync(join(repo, 'package-lock.json')));
  return hash.digest('hex').slice(0, 16);
}

// `--outfile FILE` bundles elsewhere (the tests of the bundle-only behaviour use a temp dir);
// `--entry FILE` bundles another entry with the same options and checks (the tests of the checks).
const option = (name, fallback) => {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : fallback;
};
const outfile = option('--outfile', join(repo, 'dist', 'tbuild.cjs'));
const entry = option('--entry', join(repo, 'cli', 'main.ts'));

const result = await build({
  entryPoints: [entry],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // The native xattr binding stays in node_modules.
  external: ['@napi-rs/xattr'],
  plugins: [bundledChevrotain],
  define: { __TBUILD_BUILD_ID__: JSON.stringify(sourceDigest()) },
  // The bundle is a classic script (see bin/run-bundle.js), which cannot run import(): esbuild
  // turns each one into `Promise.resolve().then(() => require(...))`, so lazily loaded modules
  // (registry/client.ts loads node:http(s) only to upload) stay lazy and work.
  supported: { 'dynamic-import': false },
  metafile: true,
  // Warnings are refused below with the other problems (bundle-check.mjs).
  logLevel: 'error',
  // Whitespace and syntax only (~0.95 -> 0.68 MB, ~3 ms less to load per command); names are
  // kept, so `--debug` stack traces still name the functions.
  minifyWhitespace: true,
  minifySyntax: true,
});

const problems = bundleProblems({
  metafile: result.metafile,
  outfile,
  code: readFileSync(outfile, 'utf8'),
  warnings: result.warnings,
});
if (problems.length > 0) {
  console.error(`scripts/bundle.mjs: ${outfile} cannot ship, its code could not load what it needs:`);
  for (const problem of problems) console.error(`  ${problem}`);
  rmSync(outfile, { force: true });
  process.exit(1);
}

// What the bundle was made from, for bin/bundle-inputs.js to compare with the bundle's mtime:
// esbuild's inputs outside node_modules (the dependencies change only with package-lock.json),
// relative to the repository. Written after the bundle; a bundle without it counts as stale.
const inputs = Object.keys(result.metafile.inputs)
  .map((input) => resolve(input))
  .filter((path) => path.startsWith(`${repo}/`) && !path.includes('/node_modules/') && existsSync(path))
  .map((path) => relative(repo, path))
  .sort();
const inputsPath = inputsFile(outfile);
writeFileSync(`${inputsPath}.tmp`, `${JSON.stringify(inputs, null, 1)}\n`);
renameSync(`${inputsPath}.tmp`, inputsPath);
