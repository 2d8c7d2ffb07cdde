// Keeps docs/architecture.md's import table and the code equal: each top-level folder imports only
// the folders its row lists, only through their public surface (index.ts), only types where the row
// says `types`, and every listed edge is used by some file (a stale allowance is an error too).
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';

const root = resolve(import.meta.dirname, '..');

/** Top-level leaf modules every folder may import: they import nothing of ours but each other. */
const sharedModules = ['errors.ts', 'processes.ts', 'locks.ts', 'files.ts', 'user-paths.ts', 'csv-fields.ts'];

/** One allowed edge: `types` = `import type` only, except the value names in `values`. */
interface Edge {
  types: boolean;
  values: string[];
}

/** Reads the table between the architecture-table markers of docs/architecture.md. */
function readTable(): Map<string, Map<string, Edge>> {
  const doc = readFileSync(join(root, 'docs/architecture.md'), 'utf8');
  const start = doc.indexOf('<!-- architecture-table');
  const end = doc.indexOf('<!-- /architecture-table -->');
  assert.ok(start >= 0 && end > start, 'docs/architecture.md has no architecture-table markers');
  const table = new Map<string, Map<string, Edge>>();
  for (const line of doc.slice(start, end).split('\n')) {
    const cells = line.split('|').map((cell) => cell.trim());
    if (cells.length < 4 || cells[1] === 'folder' || /^-+$/.test(cells[1] ?? '')) continue;
    const edges = new Map<string, Edge>();
    // `image (types; and `parseReference`)`: commas inside the parentheses belong to the entry.
    for (const entry of (cells[2] ?? '').match(/[a-z]+(?: \([^)]*\))?/g) ?? []) {
      const [, name, note] = entry.match(/^([a-z]+)(?: \((.*)\))?$/) ?? [];
      assert.ok(name, `unreadable table entry ${entry}`);
      const types = note?.startsWith('types') ?? false;
      const values = [...(note ?? '').matchAll(/`([^`]+)`/g)].map((m) => m[1] as string);
      edges.set(name, { types, values });
    }
    table.set(cells[1] as string, edges);
  }
  return table;
}

function* sourceFiles(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* sourceFiles(path);
    else if (name.endsWith('.ts')) yield path;
  }
}

/** Each relative import or re-export of a file, with the value names it brings in. */
function* importsOf(text: string): Generator<{ spec: string; values: string[] }> {
  const statement = /(?:^|\n)\s*(import|export)\s+(type\s+)?([^;]*?)\s+from\s+'(\.[^']+)'/g;
  for (const m of text.matchAll(statement)) {
    const clause = m[3] as string;
    let values: string[] = [];
    if (!m[2]) {
      const named = clause.match(/\{([^}]*)\}/)?.[1];
      values = (named ?? clause)
        .split(',')
        .map((part) => part.trim())
        .filter((part) => part !== '' && !part.startsWith('type '))
        .map((part) => part.split(/\s+as\s+/)[0] as string);
    }
    yield { spec: m[4] as string, values };
  }
  for (const m of text.matchAll(/import\(\s*'(\.[^']+)'\s*\)/g))
    yield { spec: m[1] as string, values: ['import()'] };
}

test('every folder with a public surface has a row in docs/architecture.md', () => {
  const table = readTable();
  const folders = readdirSync(root).filter(
    (name) =>
      !['node_modules', 'test', 'bench', 'bin', 'scripts'].includes(name) &&
      existsSync(join(root, name, 'index.ts')),
  );
  assert.deepEqual(folders.filter((folder) => !table.has(folder)).sort(), []);
});

test('folders import exactly what docs/architecture.md allows, through index.ts', () => {
  const table = readTable();
  const violations: string[] = [];
  for (const [folder, edges] of table) {
    const used = new Set<string>();
    for (const file of sourceFiles(join(root, folder))) {
      for (const { spec, values } of importsOf(readFileSync(file, 'utf8'))) {
        const target = relative(root, resolve(dirname(file), spec));
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
        const edge = edges.get(top);
        if (!edge) {
          violations.push(`${where}: ${folder} may not import ${top}`);
          continue;
        }
        used.add(top);
        if (target !== `${top}/index.ts`) violations.push(`${where}: import ${top}/index.ts instead`);
        const forbidden = edge.types ? values.filter((name) => !edge.values.includes(name)) : [];
        if (forbidden.length > 0)
          violations.push(`${where}: only types from ${top}, not ${forbidden.join(', ')}`);
      }
    }
    for (const top of edges.keys())
      if (!used.has(top)) violations.push(`${folder} → ${top} is allowed but unused`);
  }
  assert.deepEqual(violations, []);
});
