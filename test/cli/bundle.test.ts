// What only the bundled CLI does (scripts/bundle.mjs, run by `npm ci`): it is the TypeScript
// sources' behaviour plus the parsed-Dockerfile memo keyed by the bundle's source digest.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { parseDockerfile } from '../../parser/index.ts';
import { setupBuildTests } from '../build/helpers.ts';

const repo = resolve(import.meta.dirname, '../..');
const h = setupBuildTests();
// Inside the checkout, so the bundle finds its one external package (@napi-rs/xattr) in node_modules.
mkdirSync(join(repo, 'node_modules', '.cache'), { recursive: true });
const work = mkdtempSync(join(repo, 'node_modules', '.cache', 'tbuild-bundle-'));
const bundle = join(work, 'tbuild.cjs');
after(() => rmSync(work, { recursive: true, force: true }));
before(() => {
  const made = spawnSync(process.execPath, [join(repo, 'scripts/bundle.mjs'), '--outfile', bundle], {
    encoding: 'utf8',
  });
  assert.equal(made.status, 0, made.stderr);
});

function bundled(args: string[]) {
  const r = spawnSync(process.execPath, [bundle, '--root', h.root(), ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('the bundle prints its usage and exits 0 on --help', () => {
  const r = bundled(['--help']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /build/);
});

test('a rebuild takes the Dockerfile syntax tree from its memo; a changed Dockerfile is parsed again', {
  skip: h.skip,
}, async () => {
  const dir = await h.testdir({ Dockerfile: 'FROM busybox\nCOPY a.txt /a.txt\n', 'a.txt': 'a' });
  const first = bundled(['build', '--progress', 'plain', '-t', 'memo1', dir]);
  assert.equal(first.code, 0, first.stderr);
  const memoDir = join(h.root(), 'cache', 'parsed');
  const memos = readdirSync(memoDir);
  assert.equal(memos.length, 1);
  const memo = join(memoDir, memos[0] as string);
  assert.deepEqual(
    JSON.parse(readFileSync(memo, 'utf8')),
    JSON.parse(
      JSON.stringify(parseDockerfile(readFileSync(join(dir, 'Dockerfile')), { file: 'Dockerfile' })),
    ),
  );
  // Proof that the memo is what a rebuild uses: a different tree put in its place is built.
  const other = parseDockerfile('FROM busybox\nCOPY a.txt /elsewhere.txt\n', { file: 'Dockerfile' });
  writeFileSync(memo, JSON.stringify(other));
  const second = bundled(['build', '--progress', 'plain', '-t', 'memo2', dir]);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stderr, /COPY a\.txt \/elsewhere\.txt/);
  // A torn memo is parsed again, not an error.
  writeFileSync(memo, '{"nodes": [');
  const third = bundled(['build', '--progress', 'plain', '-t', 'memo3', dir]);
  assert.equal(third.code, 0, third.stderr);
  assert.match(third.stderr, /COPY a\.txt \/a\.txt/);
  // Different bytes, different key: the edit is seen, and a second memo appears.
  writeFileSync(join(dir, 'Dockerfile'), 'FROM busybox\nCOPY a.txt /b.txt\n');
  const fourth = bundled(['build', '--progress', 'plain', '-t', 'memo4', dir]);
  assert.equal(fourth.code, 0, fourth.stderr);
  assert.match(fourth.stderr, /COPY a\.txt \/b\.txt/);
  assert.equal(readdirSync(memoDir).length, 2);
});

test('bin/run-bundle.js keeps a code cache beside the bundle that later runs load, not rewrite', () => {
  const run = () =>
    spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { runBundle } from ${JSON.stringify(join(repo, 'bin/run-bundle.js'))}; runBundle(process.argv[1], 'help');`,
        bundle,
        '--help',
      ],
      { encoding: 'utf8' },
    );
  const caches = () => readdirSync(work).filter((name) => name.endsWith('.help.v8cache'));
  const first = run();
  assert.equal(first.status, 0, first.stderr);
  assert.match(first.stdout, /Usage: {2}tbuild/);
  assert.equal(caches().length, 1);
  const cache = join(work, caches()[0] as string);
  const made = statSync(cache).mtimeMs;
  const second = run();
  assert.equal(second.status, 0, second.stderr);
  assert.equal(second.stdout, first.stdout);
  // Accepted by V8 (a rejected cache is written again at exit).
  assert.equal(statSync(cache).mtimeMs, made);
});
