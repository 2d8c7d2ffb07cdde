// Keeps the folder boundaries of ../shared/design/README.md true: each top-level folder may
// import only the folders listed for it, and only through their public surface (index.ts).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';

const root = resolve(import.meta.dirname, '..');

/** Top-level leaf modules every folder may import: they import nothing of ours but each other. */
const sharedModules = ['errors.ts', 'processes.ts', 'locks.ts', 'files.ts', 'user-paths.ts'];

/** Which project folders each folder may import. The top-level shared modules are open to all. */
const allowed: Record<string, string[]> = {
  parser: [],
  executor: [],
  cache: [],
  progress: [],
  format: [],
  frontend: ['parser', 'solver', 'image'],
  solver: ['executor', 'cache', 'image', 'registry', 'progress', 'parser'],
  image: ['cache'],
  registry: ['image'],
  runtime: ['executor', 'image', 'cache'],
  exporter: ['image', 'cache', 'registry', 'frontend', 'solver'],
  remotecache: ['image', 'cache', 'registry', 'solver'],
  source: ['executor', 'image'],
  cli: [
    'parser',
    'frontend',
    'solver',
    'executor',
    'cache',
    'image',
    'registry',
    'runtime',
    'progress',
    'format',
    'exporter',
    'remotecache',
    'source',
  ],
};

function* sourceFiles(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* sourceFiles(path);
    else if (name.endsWith('.ts')) yield path;
  }
}

test('folders import only what the design allows, through index.ts', () => {
  const violations: string[] = [];
  for (const folder of Object.keys(allowed)) {
    let files: string[];
    try {
      files = [...sourceFiles(join(root, folder))];
    } catch {
      continue; // folder not written yet
    }
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      for (const match of text.matchAll(/(?:from|import\()\s*'(\.[^']+)'/g)) {
        const target = relative(root, resolve(dirname(file), match[1] as string));
        const [top] = target.split('/');
        // package.json: the version `tbuild --version` prints (cli/version.ts).
        if (
          top === undefined ||
          top === folder ||
          sharedModules.includes(target) ||
          target === 'package.json'
        )
          continue;
        const where = `${relative(root, file)} imports ${target}`;
        if (!allowed[folder]?.includes(top)) violations.push(`${where}: ${folder} may not import ${top}`);
        else if (target !== `${top}/index.ts`) violations.push(`${where}: import ${top}/index.ts instead`);
      }
    }
  }
  assert.deepEqual(violations, []);
});
