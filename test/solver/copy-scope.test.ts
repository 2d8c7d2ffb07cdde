// copySourceScope (solver/ops/copy.ts): the context paths a COPY's sources can select from.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { copySourceScope, resolveCopySources } from '../../solver/ops/copy-sources.ts';
import type { SourceEntry } from '../../solver/ops/types.ts';

const cases: [string[], string[]][] = [
  [['a.txt'], ['a.txt']],
  [
    ['src/', './src/x'],
    ['src', 'src/x'],
  ],
  [
    ['./src/x', 'src/', 'src'],
    ['src', 'src/x'],
  ],
  [['*.txt'], ['']],
  [['src/*/x.c'], ['src']],
  [
    ['src/lib/*.c', 'docs/?.md'],
    ['docs', 'src/lib'],
  ],
  [['src/[ab]/x.c'], ['src']],
  [['a\\b/*.c'], ['']],
  [['a/b\\c/*.c'], ['a']],
  [['a\\b'], ['a\\b']],
  [['../x'], ['x']],
  [['/abs/x'], ['abs/x']],
  [['a/b/../../..'], ['']],
  [['a/../b/c'], ['b/c']],
  [['.'], ['']],
  [['./'], ['']],
  [['dir/', '.'], ['']],
  [
    ['z', 'a', 'm/n'],
    ['a', 'm/n', 'z'],
  ],
];

for (const [sources, scope] of cases) {
  test(`copySourceScope(${JSON.stringify(sources)}) is ${JSON.stringify(scope)}`, () => {
    assert.deepEqual(copySourceScope(sources), scope);
  });
}

/** A tree in walk order (directories before their contents, names sorted). */
function treeOf(paths: string[]): SourceEntry[] {
  const stat = { mode: 0o100644, uid: 0, gid: 0, size: 1, mtimeMs: 1, ctimeMs: 1, ino: 1, dev: 1 };
  const all = new Set<string>();
  for (const path of paths) {
    const parts = path.split('/');
    for (let i = 1; i <= parts.length; i++) all.add(parts.slice(0, i).join('/'));
  }
  const files = new Set(paths);
  const sorted = [...all].sort((a, b) => {
    const x = a.split('/');
    const y = b.split('/');
    for (let i = 0; i < Math.min(x.length, y.length); i++) {
      if (x[i] !== y[i]) return (x[i] as string) < (y[i] as string) ? -1 : 1;
    }
    return x.length - y.length;
  });
  return sorted.map((path) => ({
    path,
    type: files.has(path) ? 'file' : 'dir',
    stat: { ...stat, mode: files.has(path) ? 0o100644 : 0o40755 },
  }));
}

test('resolving over just the scope (and the dirs on the way) selects what the whole tree does', () => {
  const tree = treeOf([
    'a.txt',
    'b.txt',
    'src/x',
    'src/one/x.c',
    'src/two/x.c',
    'src/two/y.c',
    'src/lib/m.c',
    'srcs/one/x.c',
    'docs/a.md',
    'docs/ab.md',
    'other/x.c',
  ]);
  const sourceSets = [['a.txt'], ['src/', './src/x'], ['*.txt'], ['src/*/x.c'], ['src/lib/*.c', 'docs/?.md']];
  for (const sources of sourceSets) {
    const scope = copySourceScope(sources);
    const part = tree.filter((e) =>
      scope.some((p) => p === '' || e.path === p || e.path.startsWith(`${p}/`) || p.startsWith(`${e.path}/`)),
    );
    const vertex = { name: `COPY ${sources.join(' ')}` };
    const whole = resolveCopySources(tree, sources, () => false, vertex);
    assert.deepEqual(
      resolveCopySources(part, sources, () => false, vertex),
      whole,
      sources.join(' '),
    );
    assert.ok(whole.length > 0);
    if (!scope.includes('')) assert.ok(part.length < tree.length, `${sources.join(' ')}: a smaller tree`);
  }
});
