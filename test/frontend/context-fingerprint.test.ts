// The find(1) fingerprint of context paths (frontend/context-fingerprint.ts) on real trees: what
// changes it, what does not, when it cannot be taken, and when it counts as settled.
import assert from 'node:assert/strict';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { compileDockerignore, fingerprintContextPath, type PathFingerprint } from '../../frontend/index.ts';

const none = compileDockerignore([]);

function makeTempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'tbuild-fp-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function writeFiles(root: string, files: Record<string, string>): void {
  for (const [path, content] of Object.entries(files)) {
    const abs = join(root, path);
    mkdirSync(dirname(abs), { recursive: true });
    writeFileSync(abs, content);
  }
}

/** Several top-level directories (so the names are split over several finds) and nested files. */
const tree = {
  'a/one.txt': 'one',
  'a/deep/er/two.txt': 'two',
  'b/three.txt': 'three',
  'c/x/four.txt': 'four',
  'd/five.txt': 'five',
  'top.txt': 'top',
};

async function print(
  dir: string,
  path = '',
  ignore = none,
  settleMs = 60_000,
): Promise<PathFingerprint | undefined> {
  return fingerprintContextPath(dir, ignore, path, settleMs);
}

async function digest(dir: string, path = '', ignore = none): Promise<string> {
  const result = await print(dir, path, ignore);
  assert.ok(result, `a fingerprint of ${JSON.stringify(path)} in ${dir}`);
  assert.match(result.digest, /^sha256:[0-9a-f]{64}$/);
  return result.digest;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('the digest is stable without changes and changes with every kind of change', async (t) => {
  const dir = makeTempDir(t);
  writeFiles(dir, tree);
  symlinkSync('aaa', join(dir, 'b/link'));
  const old = new Date('2020-01-01T00:00:00Z');
  utimesSync(join(dir, 'a/deep/er/two.txt'), old, old);
  let last = await digest(dir);
  assert.equal(await digest(dir), last, 'nothing changed');
  const changes: [string, () => void][] = [
    [
      'same-size content change with the mtime restored',
      () => {
        const file = join(dir, 'a/deep/er/two.txt');
        writeFileSync(file, 'TWO');
        utimesSync(file, old, old);
        assert.equal(statSync(file).mtimeMs, old.getTime());
        assert.equal(statSync(file).size, 3);
      },
    ],
    ['chmod', () => chmodSync(join(dir, 'c/x/four.txt'), 0o600)],
    ['a new file', () => writeFileSync(join(dir, 'd/new.txt'), 'new')],
    ['a removed file', () => unlinkSync(join(dir, 'b/three.txt'))],
    ['a rename', () => renameSync(join(dir, 'a/one.txt'), join(dir, 'a/uno.txt'))],
    [
      "a symlink's target (same length)",
      () => {
        unlinkSync(join(dir, 'b/link'));
        symlinkSync('bbb', join(dir, 'b/link'));
      },
    ],
    ['a new empty directory', () => mkdirSync(join(dir, 'c/x/empty'))],
  ];
  const seen = new Set([last]);
  for (const [what, change] of changes) {
    change();
    const next = await digest(dir);
    assert.notEqual(next, last, what);
    assert.ok(!seen.has(next), `${what}: a digest not seen before`);
    seen.add(next);
    assert.equal(await digest(dir), next, `${what}: stable afterwards`);
    last = next;
  }
});

test('names that look like find options or operators are fingerprinted, never acted on', async (t) => {
  const dir = makeTempDir(t);
  writeFiles(dir, { '-delete': 'd', '-exec': 'e', '(': 'p', '!': 'b', 'sub/-delete': 'nested', z: 'z' });
  const first = await digest(dir);
  for (const name of ['-delete', '-exec', '(', '!', 'sub/-delete', 'z']) {
    assert.ok(existsSync(join(dir, name)), `${name} is still there`);
  }
  assert.equal(await digest(dir), first);
  renameSync(join(dir, '-delete'), join(dir, '-deletf'));
  const second = await digest(dir);
  assert.notEqual(second, first);
  renameSync(join(dir, '('), join(dir, ')'));
  const third = await digest(dir);
  assert.notEqual(third, second);
  assert.notEqual(third, first);
  assert.ok(existsSync(join(dir, '-exec')) && existsSync(join(dir, 'sub/-delete')));
  // A subdirectory's own path of that kind, too.
  mkdirSync(join(dir, '-exec-dir'));
  writeFileSync(join(dir, '-exec-dir/f'), 'f');
  const sub = await digest(dir, '-exec-dir');
  writeFileSync(join(dir, '-exec-dir/g'), 'g');
  assert.notEqual(await digest(dir, '-exec-dir'), sub);
  assert.ok(existsSync(join(dir, '-exec-dir/f')));
});

test('undefined for a missing path, a symlink on the way or at the end, and a path under a file', async (t) => {
  const dir = makeTempDir(t);
  writeFiles(dir, { 'real/f.txt': 'f', 'file.txt': 'x' });
  symlinkSync('real', join(dir, 'link'));
  symlinkSync('file.txt', join(dir, 'flink'));
  assert.equal(await print(dir, 'missing'), undefined);
  assert.equal(await print(dir, 'real/missing'), undefined);
  assert.equal(await print(dir, 'link/f.txt'), undefined, 'through a symlinked directory');
  assert.equal(await print(dir, 'link'), undefined, 'a symlink to a directory');
  assert.equal(await print(dir, 'flink'), undefined, 'a symlink to a file');
  assert.equal(await print(dir, 'file.txt/x'), undefined, 'ENOTDIR');
  assert.equal(await print(join(dir, 'nowhere')), undefined, 'a missing context');
  // The same paths without the symlink work.
  assert.ok(await print(dir, 'real/f.txt'));
  assert.ok(await print(dir, 'real'));
});

test('a plain file path and an empty directory are fingerprinted', async (t) => {
  const dir = makeTempDir(t);
  writeFiles(dir, { 'src/a.c': 'int a;', 'src/b.c': 'int b;' });
  mkdirSync(join(dir, 'empty'));
  const file = await digest(dir, 'src/a.c');
  assert.equal(await digest(dir, 'src/a.c'), file);
  // A sibling is not part of it...
  writeFileSync(join(dir, 'src/b.c'), 'int bb;');
  assert.equal(await digest(dir, 'src/a.c'), file);
  // ...the file itself is.
  chmodSync(join(dir, 'src/a.c'), 0o600);
  assert.notEqual(await digest(dir, 'src/a.c'), file);

  const empty = await digest(dir, 'empty');
  assert.equal(await digest(dir, 'empty'), empty);
  assert.notEqual(empty, await digest(dir, 'src'));
  writeFileSync(join(dir, 'empty/now'), '');
  assert.notEqual(await digest(dir, 'empty'), empty);
});

test('a literal .dockerignore pattern prunes its subtree unless an exception exists', async (t) => {
  const dir = makeTempDir(t);
  writeFiles(dir, { ...tree, 'big/keep': 'k', 'big/x/y': 'y', 'sub/big/z': 'z', 'sub/f': 'f' });
  const pruned = compileDockerignore(['big']);
  const withException = compileDockerignore(['big', '!big/keep']);
  const nested = compileDockerignore(['sub/big']);
  const before = {
    pruned: await digest(dir, '', pruned),
    withException: await digest(dir, '', withException),
    nested: await digest(dir, 'sub', nested),
    all: await digest(dir),
  };
  writeFileSync(join(dir, 'big/new'), 'new');
  writeFileSync(join(dir, 'big/x/y'), 'Y');
  chmodSync(join(dir, 'big/keep'), 0o600);
  assert.equal(await digest(dir, '', pruned), before.pruned, 'changes under big/ are pruned');
  assert.notEqual(await digest(dir, '', withException), before.withException, 'an exception: no prune');
  assert.notEqual(await digest(dir), before.all, 'without patterns big/ counts');
  // `sub/big` below `sub`: pruned for `sub/big`, not for `big` (patterns match from the root).
  writeFileSync(join(dir, 'sub/big/z'), 'Z');
  assert.equal(await digest(dir, 'sub', nested), before.nested, 'sub/big pruned below sub');
  assert.notEqual(await digest(dir, '', pruned), before.pruned, 'sub/big is not big');
  writeFileSync(join(dir, 'sub/f'), 'F');
  assert.notEqual(await digest(dir, 'sub', nested), before.nested, 'the rest of sub counts');
  // The pruned digest still sees everything else.
  const now = await digest(dir, '', pruned);
  writeFileSync(join(dir, 'b/three.txt'), 'THREE');
  assert.notEqual(await digest(dir, '', pruned), now);
  // A path the pattern excludes itself is left to the walk.
  assert.equal(await print(dir, 'big', pruned), undefined);
  assert.equal(await print(dir, 'big/x', pruned), undefined);
});

test('settled: false on fresh files, true with the threshold after them, false after a ctime change', async (t) => {
  const dir = makeTempDir(t);
  writeFiles(dir, tree);
  const fresh = await print(dir, '', none, 60_000);
  assert.equal(fresh?.settled, false, 'everything changed within the last minute');
  const future = await print(dir, '', none, -60_000);
  assert.equal(future?.settled, true, 'a threshold after every change');
  assert.equal(future?.digest, fresh?.digest, 'settled does not change the digest');
  // A threshold between the tree's creation and a later change of one nested file (its ctime
  // only: the mtime is set back to an old one). Filesystem timestamps are coarser than
  // Date.now(), so leave 200 ms either side.
  await sleep(200);
  const mark = Date.now();
  await sleep(200);
  assert.equal((await print(dir, '', none, Date.now() - mark))?.settled, true, 'all before the mark');
  assert.equal((await print(dir, 'a/deep', none, Date.now() - mark))?.settled, true);
  const file = join(dir, 'a/deep/er/two.txt');
  utimesSync(file, new Date('2001-01-01'), new Date('2001-01-01'));
  assert.ok(statSync(file).ctimeMs > mark && statSync(file).mtimeMs < mark);
  assert.equal((await print(dir, '', none, Date.now() - mark))?.settled, false, 'a newer ctime');
  assert.equal((await print(dir, 'a/deep', none, Date.now() - mark))?.settled, false);
  assert.equal((await print(dir, 'a/deep/er/two.txt', none, Date.now() - mark))?.settled, false);
  // Other paths are still settled.
  assert.equal((await print(dir, 'b', none, Date.now() - mark))?.settled, true);
  assert.equal((await print(dir, 'c', none, Date.now() - mark))?.settled, true);
});

test('undefined when find(1) cannot be run', async (t) => {
  const dir = makeTempDir(t);
  writeFiles(dir, tree);
  const empty = join(dir, 'no-tools');
  mkdirSync(empty);
  assert.ok(await print(dir, 'a'));
  const saved = process.env.PATH;
  process.env.PATH = empty;
  try {
    assert.equal(await print(dir, 'a'), undefined);
    assert.equal(await print(dir), undefined);
  } finally {
    process.env.PATH = saved;
  }
  assert.ok(await print(dir, 'a'), 'works again with PATH restored');
});

// A directory of a few files and no subdirectory is stat'ed in-process, a bigger one by find: the
// same changes must show in both.
for (const [kind, count] of [
  ['a small directory of files only (stat in-process)', 4],
  ['a directory of many files (find)', 40],
] as const) {
  test(`${kind}: every kind of change shows, names that look like options are safe`, async (t) => {
    const dir = makeTempDir(t);
    const files: Record<string, string> = { 'flat/-delete': 'dd', 'flat/(': 'pp' };
    for (let i = 0; i < count - 2; i++) files[`flat/f${i}`] = `content ${i}`;
    writeFiles(dir, files);
    writeFiles(dir, { 'elsewhere/x': 'x' });
    symlinkSync('aaa', join(dir, 'flat/link'));
    const old = new Date('2020-01-01T00:00:00Z');
    utimesSync(join(dir, 'flat/f0'), old, old);
    let last = await digest(dir, 'flat');
    assert.equal(await digest(dir, 'flat'), last);
    assert.ok(existsSync(join(dir, 'flat/-delete')) && existsSync(join(dir, 'flat/(')));
    const changes: [string, () => void][] = [
      [
        'same-size content, mtime restored',
        () => {
          writeFileSync(join(dir, 'flat/f0'), 'CONTENT 0');
          utimesSync(join(dir, 'flat/f0'), old, old);
        },
      ],
      ['chmod', () => chmodSync(join(dir, 'flat/f1'), 0o600)],
      ['a new file', () => writeFileSync(join(dir, 'flat/new'), 'n')],
      ['a removed file', () => unlinkSync(join(dir, 'flat/new'))],
      ['a rename', () => renameSync(join(dir, 'flat/-delete'), join(dir, 'flat/-deletf'))],
      [
        "a symlink's target",
        () => {
          unlinkSync(join(dir, 'flat/link'));
          symlinkSync('bbb', join(dir, 'flat/link'));
        },
      ],
    ];
    for (const [what, change] of changes) {
      change();
      const next = await digest(dir, 'flat');
      assert.notEqual(next, last, what);
      last = next;
    }
    // Outside the path: no change.
    writeFileSync(join(dir, 'elsewhere/x'), 'changed');
    assert.equal(await digest(dir, 'flat'), last);
    // Settled on both paths.
    assert.equal((await print(dir, 'flat', none, -60_000))?.settled, true);
    assert.equal((await print(dir, 'flat', none, 60_000))?.settled, false);
    // Which of the two it was: only the bigger one needs find(1).
    const empty = join(dir, 'no-tools');
    mkdirSync(empty);
    const saved = process.env.PATH;
    process.env.PATH = empty;
    try {
      const without = await print(dir, 'flat');
      if (count < 32) assert.equal(without?.digest, last, 'no find needed');
      else assert.equal(without, undefined, 'find needed');
    } finally {
      process.env.PATH = saved;
    }
  });
}

test('a folder with more names than fit on command lines goes to one find over "."', async (t) => {
  const dir = makeTempDir(t);
  // ~300 KB of top-level names (the split hands names to find as arguments up to 256 KB).
  const names = Array.from({ length: 5000 }, (_, i) => `${'n'.repeat(50)}-${String(i).padStart(5, '0')}`);
  for (const name of names) writeFileSync(join(dir, name), name);
  mkdirSync(join(dir, 'sub'));
  writeFileSync(join(dir, 'sub', 'deep'), 'deep');
  const first = await digest(dir);
  assert.equal(await digest(dir), first);
  writeFileSync(join(dir, 'sub', 'deep'), 'DEEP');
  const afterDeep = await digest(dir);
  assert.notEqual(afterDeep, first, 'an entry below a subdirectory is covered');
  writeFileSync(join(dir, names[4321] as string), 'changed');
  assert.notEqual(await digest(dir), afterDeep, 'a top-level file is covered');
});
