// What scripts/bundle.mjs refuses to ship: bundled code that cannot load a module it needs. The
// bundle runs as a classic script (bin/run-bundle.js compiles it as a vm.Script, for V8's code
// cache), and a classic script has no module loader: an `import()` left in it fails at run time
// with "A dynamic import callback was not specified" (issue 11: every `push` through bin/tbuild.js
// failed so, while every test ran the sources, where it works).
import { createRequire, isBuiltin } from 'node:module';

/**
 * The problems of a bundle, one line each (empty when it can ship): `import()` calls left in the
 * output, externals that do not resolve from the bundle's folder, and esbuild's warnings (such as
 * `import.meta` emptied in CommonJS output, which breaks `new URL(..., import.meta.url)` lookups).
 * `metafile` is esbuild's, `outfile` the bundle's path, `code` its text.
 */
export function bundleProblems({ metafile, outfile, code, warnings }) {
  const problems = [];
  const outputs = Object.values(metafile.outputs);
  const importers = (path) =>
    Object.entries(metafile.inputs)
      .filter(([, input]) => input.imports.some((i) => i.path === path && i.kind === 'dynamic-import'))
      .map(([file]) => file);
  const require = createRequire(outfile);
  for (const output of outputs) {
    for (const entry of output.imports) {
      if (!entry.external) continue;
      if (entry.kind === 'dynamic-import') {
        problems.push(
          `import(${JSON.stringify(entry.path)}) (in ${importers(entry.path).join(', ') || 'a bundled file'}) stays in the bundle, a classic script where import() fails`,
        );
      }
      if (!isBuiltin(entry.path)) {
        try {
          require.resolve(entry.path);
        } catch {
          problems.push(`external module ${JSON.stringify(entry.path)} does not resolve from ${outfile}`);
        }
      }
    }
  }
  // An import() with a computed name is not in the metafile; esbuild lowers every import() to
  // require() under bundle.mjs's `supported: { 'dynamic-import': false }`, so any left is one of
  // those (or the option is gone). A string holding "import(" would trip this too: rare, and the
  // message says where.
  for (const match of code.matchAll(/\bimport\s*\(/g)) {
    const at = match.index ?? 0;
    const around = code.slice(Math.max(0, at - 60), at + 40).replace(/\s+/g, ' ');
    problems.push(`import() call left in the bundle at offset ${at}: …${around}…`);
  }
  for (const warning of warnings) {
    const where = warning.location ? `${warning.location.file}:${warning.location.line}: ` : '';
    problems.push(`esbuild warning: ${where}${warning.text}`);
  }
  return problems;
}
