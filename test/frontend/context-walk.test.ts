// The context walker on real trees (symlinks, unreadable directories, ordering) and the
// .dockerignore lookup next to the Dockerfile.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import {
  type ContextEntry,
  compareCodePoints,
  DockerignoreError,
  readDockerignore,
  scanContext,
} from '../../frontend/index.ts';

const repoRoot = resolve(import.meta.dirname, '../..');

function makeTempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'tbuild-ctx-'));
  t.after(() => {
    chmodAllWritable(dir);
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

function chmodAllWritable(dir: string): void {
  spawnSync('chmod', ['-R', 'u+rwx', dir]);
}

function writeFiles(root: string, files: Record<string, string>): void {
  for (const [path, content] of Object.entries(files)) {
    const abs = join(root, path);
    mkdirSync(resolve(abs, '..'), { recursive: true });
    writeFileSync(abs, content);
  }
}

function collect(entries: ContextEntry[]): string[] {
  return entries.map((e) => `${e.type} ${e.path}`);
}

test('symlinks are emitted as symlinks and never followed', async (t) => {
  const root = makeTempDir(t);
  writeFiles(root, { 'd/f': 'f', 'd/sub/g': 'g', 'x/secret': 's' });
  symlinkSync('d', join(root, 'ld'));
  symlinkSync('nowhere', join(root, 'dangling'));
  symlinkSync('..', join(root, 'd/up')); // a loop if it were followed
  symlinkSync('../d', join(root, 'x/link'));
  const entries = collect(scanContext(root, ['x', '!x/link']));
  assert.deepEqual(entries, [
    'dir d',
    'file d/f',
    'dir d/sub',
    'file d/sub/g',
    'symlink d/up',
    'symlink dangling',
    'symlink ld',
    'dir x',
    'symlink x/link',
  ]);
});

test('a pattern that names a symlink excludes the link, not its target', async (t) => {
  const root = makeTempDir(t);
  writeFiles(root, { 'd/f': 'f' });
  symlinkSync('d', join(root, 'ld'));
  assert.deepEqual(collect(scanContext(root, ['ld'])), ['dir d', 'file d/f']);
  assert.deepEqual(collect(scanContext(root, ['d'])), ['symlink ld']);
});

test('entries come in walk order, names sorted by code point (UTF-8 byte order)', async (t) => {
  const root = makeTempDir(t);
  const names = ['\u{1F600}', '\uE000', 'a.c', 'a-b', 'a/x', 'B'];
  writeFiles(root, Object.fromEntries(names.map((n) => [n, n])));
  const entries = collect(scanContext(root));
  assert.deepEqual(entries, [
    'file B',
    'dir a',
    'file a/x',
    'file a-b',
    'file a.c',
    'file \uE000',
    'file \u{1F600}',
  ]);
  assert.ok(compareCodePoints('\uE000', '\u{1F600}') < 0);
  assert.ok('\uE000' > '\u{1F600}', 'plain JS comparison orders UTF-16 units the other way');
});

test('excluded directories: entered only when an exception can reach below them', async (t) => {
  const root = makeTempDir(t);
  writeFiles(root, {
    'build/out.o': 'o',
    'build/keep/me.txt': 'k',
    'build/deep/a/b.txt': 'b',
    'src/main.c': 'c',
  });
  // A literal exception under build/: build/ is entered and emitted before its kept child.
  assert.deepEqual(collect(scanContext(root, ['build', '!build/keep'])), [
    'dir build',
    'dir build/keep',
    'file build/keep/me.txt',
    'dir src',
    'file src/main.c',
  ]);
  // A wildcard exception makes the walker enter every excluded directory.
  assert.deepEqual(collect(scanContext(root, ['build', '!**/b.txt'])), [
    'dir build',
    'dir build/deep',
    'dir build/deep/a',
    'file build/deep/a/b.txt',
    'dir src',
    'file src/main.c',
  ]);
  // No exception reaches build/: nothing below it, and it is not emitted.
  assert.deepEqual(collect(scanContext(root, ['build', '!src/main.c'])), ['dir src', 'file src/main.c']);
});

/** Sets a directory's atime far in the past; with relatime, reading it moves the atime forward. */
function markUnread(dir: string): void {
  utimesSync(dir, 1e9, 1e9);
}
function wasRead(dir: string): boolean {
  return statSync(dir).atimeMs > 1e12;
}

test('an excluded directory no exception can reach is not even read', async (t) => {
  const root = makeTempDir(t);
  writeFiles(root, { 'build/out.o': 'o', 'control/x': 'x', 'src/main.c': 'c' });
  markUnread(join(root, 'control'));
  readdirSync(join(root, 'control'));
  if (!wasRead(join(root, 'control'))) {
    t.skip('this filesystem does not update atime on readdir (noatime), so reads cannot be observed');
    return;
  }
  markUnread(join(root, 'build'));
  collect(scanContext(root, ['build', '!src/main.c']));
  assert.equal(wasRead(join(root, 'build')), false, 'literal exception elsewhere: build/ not read');
  collect(scanContext(root, ['build', '!build/none']));
  assert.equal(wasRead(join(root, 'build')), true, 'literal exception below build/: read');
  markUnread(join(root, 'build'));
  collect(scanContext(root, ['build', '!*.c']));
  assert.equal(wasRead(join(root, 'build')), true, 'wildcard exception: every excluded directory is read');
});

/**
 * Runs the walker in a child process that cannot read mode-000 directories: as `nobody` when
 * we are root (root reads anything), else as ourselves. One child runs every scenario.
 */
function walkUnprivileged(root: string, scenarios: string[][]): { entries?: string[]; error?: string }[] {
  const script = join(root, '..', `${root.split('/').pop()}-walk.mjs`);
  const moduleUrl = pathToFileURL(join(repoRoot, 'frontend/index.ts')).href;
  writeFileSync(
    script,
    `import { scanContext } from ${JSON.stringify(moduleUrl)};
const [root, scenarios] = [process.argv[2], JSON.parse(process.argv[3])];
const results = [];
for (const patterns of scenarios) {
  try {
    const entries = [];
    for (const e of scanContext(root, patterns)) entries.push(e.type + ' ' + e.path);
    results.push({ entries });
  } catch (e) {
    results.push({ error: e.name + ': ' + e.message });
  }
}
process.stdout.write(JSON.stringify(results));
`,
  );
  try {
    const asRoot = process.getuid?.() === 0;
    const child = spawnSync(process.execPath, ['--import', 'tsx', script, root, JSON.stringify(scenarios)], {
      cwd: repoRoot,
      encoding: 'utf8',
      env: { ...process.env, HOME: tmpdir() },
      ...(asRoot ? { uid: 65534, gid: 65534 } : {}),
    });
    assert.equal(child.status, 0, child.stderr);
    return JSON.parse(child.stdout) as { entries?: string[]; error?: string }[];
  } finally {
    rmSync(script, { force: true });
  }
}

test('an unreadable excluded directory is skipped without error; an unreadable kept one fails', (t) => {
  const root = makeTempDir(t);
  writeFiles(root, { 'keep.txt': 'k', 'open/a.txt': 'a', 'secret/inner.txt': 's' });
  chmodSync(root, 0o755);
  chmodSync(join(root, 'secret'), 0o000);
  const kept = ['dir open', 'file keep.txt', 'file open/a.txt'].sort(); // compared sorted below
  const results = walkUnprivileged(root, [
    ['secret'], // no exceptions: never entered
    ['secret', '!open/a.txt'], // literal exception elsewhere: never entered
    ['secret', '!secret/inner.txt'], // literal exception below: entered, EACCES ignored
    ['secret', '!**/*.txt'], // wildcard exception: entered, EACCES ignored
    [], // kept and unreadable: error
  ]);
  assert.equal(results.length, 5);
  for (const [i, r] of results.slice(0, 4).entries()) {
    assert.equal(r.error, undefined, `scenario ${i}`);
    assert.deepEqual([...(r.entries ?? [])].sort(), kept, `scenario ${i}`);
  }
  assert.match(
    results[4]?.error ?? '',
    /^BuildContextError: error from sender: open .*secret: .*permission denied/,
  );
});

test('readDockerignore: <Dockerfile>.dockerignore beats <context>/.dockerignore', async (t) => {
  const dir = makeTempDir(t);
  const context = join(dir, 'ctx');
  writeFiles(dir, {
    'ctx/.dockerignore': '\uFEFFfrom-context\r\n',
    'ctx/Dockerfile': 'FROM scratch\n',
    'ctx/Dockerfile.dockerignore': '# comment\n/from-dockerfile-dir/\n',
    'ctx/Dockerfile2': 'FROM scratch\n',
    'elsewhere/app.Dockerfile': 'FROM scratch\n',
    'elsewhere/app.Dockerfile.dockerignore': '!keep\nfoo\n',
    'bare/Dockerfile': 'FROM scratch\n',
  });

  const main = await readDockerignore(context, join(context, 'Dockerfile'));
  assert.equal(main.file, join(context, 'Dockerfile.dockerignore'));
  assert.deepEqual(main.patterns, ['from-dockerfile-dir']);
  assert.equal(main.matcher.matches('from-dockerfile-dir/x'), true);

  // Dockerfile2 has no Dockerfile2.dockerignore: the context's file applies (BOM and CRLF read).
  const second = await readDockerignore(context, join(context, 'Dockerfile2'));
  assert.equal(second.file, join(context, '.dockerignore'));
  assert.deepEqual(second.patterns, ['from-context']);

  // A Dockerfile outside the context: its own ignore file, by full file name.
  const outside = await readDockerignore(context, join(dir, 'elsewhere/app.Dockerfile'));
  assert.equal(outside.file, join(dir, 'elsewhere/app.Dockerfile.dockerignore'));
  assert.deepEqual(outside.patterns, ['!keep', 'foo']);

  // Neither file: nothing is excluded.
  const none = await readDockerignore(join(dir, 'bare'), join(dir, 'bare/Dockerfile'));
  assert.equal(none.file, undefined);
  assert.deepEqual(none.patterns, []);
  assert.equal(none.matcher.matches('anything'), false);
});

test('readDockerignore: a bad pattern is a DockerignoreError naming the file and pattern', async (t) => {
  const dir = makeTempDir(t);
  writeFiles(dir, { '.dockerignore': 'ok\n!\n' });
  await assert.rejects(readDockerignore(dir, join(dir, 'Dockerfile')), (error: unknown) => {
    assert.ok(error instanceof DockerignoreError);
    assert.equal(error.pattern, '!');
    assert.equal(error.file, join(dir, '.dockerignore'));
    assert.match(
      error.message,
      /invalid \.dockerignore pattern "!" in .*\.dockerignore: illegal exclusion pattern/,
    );
    return true;
  });
  writeFiles(dir, { '.dockerignore': 'a[\n' });
  await assert.rejects(readDockerignore(dir, join(dir, 'Dockerfile')), /"a\[".*syntax error in pattern/);
});

test('scanContext lists each kept entry with its own lstat, an excluded parent included', (t) => {
  const root = makeTempDir(t);
  writeFiles(root, { 'a.txt': 'aa', 'build/keep': 'kkk', 'build/drop': 'd' });
  symlinkSync('a.txt', join(root, 'ln'));
  chmodSync(join(root, 'build/keep'), 0o640);
  const entries = scanContext(root, ['build', '!build/keep']);
  assert.deepEqual(
    entries.map((e) => `${e.type} ${e.path}`),
    ['file a.txt', 'dir build', 'file build/keep', 'symlink ln'],
  );
  for (const entry of entries) {
    const info = lstatSync(join(root, entry.path));
    assert.deepEqual(entry.stat, {
      mode: info.mode,
      uid: info.uid,
      gid: info.gid,
      size: info.size,
      mtimeMs: info.mtimeMs,
      ctimeMs: info.ctimeMs,
      ino: info.ino,
      dev: info.dev,
    });
  }
  assert.equal((entries[2]?.stat.mode ?? 0) & 0o7777, 0o640);
});
