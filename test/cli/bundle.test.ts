// What only the bundled CLI does (scripts/bundle.mjs, run by `npm ci`): it is the TypeScript
// sources' behaviour plus the parsed-Dockerfile memo keyed by the bundle's source digest.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
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
// Entries of the tests of bundle.mjs's checks: outside node_modules, where esbuild keeps its warnings.
const entries = mkdtempSync(join(tmpdir(), 'tbuild-bundle-entries-'));
after(() => {
  rmSync(work, { recursive: true, force: true });
  rmSync(entries, { recursive: true, force: true });
});
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

/** Runs `file` the way bin/tbuild.js runs the bundle: bin/run-bundle.js, a classic vm.Script. */
function runAsBundle(file: string, args: string[] = []) {
  return spawnSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import { runBundle } from ${JSON.stringify(join(repo, 'bin/run-bundle.js'))}; runBundle(process.argv[1], 'test');`,
      file,
      ...args,
    ],
    { encoding: 'utf8' },
  );
}

test('the CLI bundle has no import() left: a classic script cannot run one (issue 11: every push failed)', () => {
  assert.doesNotMatch(readFileSync(bundle, 'utf8'), /\bimport\s*\(/);
});

test('an import() of a builtin, lazy in the sources, works in a bundle run as bin/tbuild.js runs it', () => {
  const entry = join(entries, 'lazy.ts');
  writeFileSync(
    entry,
    "const load = async () => (await import('node:http')).request;\nload().then((f) => console.log('loaded', typeof f));\n",
  );
  const out = join(work, 'lazy.cjs');
  const made = spawnSync(
    process.execPath,
    [join(repo, 'scripts/bundle.mjs'), '--entry', entry, '--outfile', out],
    {
      encoding: 'utf8',
    },
  );
  assert.equal(made.status, 0, made.stderr);
  const r = runAsBundle(out);
  assert.equal(r.stderr, '');
  assert.equal(r.stdout, 'loaded function\n');
});

/**
 * Bundles `code` with plain esbuild (none of bundle.mjs's options but `external`) to `name`.cjs in
 * the work dir and returns what scripts/bundle-check.mjs finds wrong with it.
 */
function checkPlainBundle(name: string, code: string, external: string[] = []): string[] {
  const entry = join(entries, `${name}.ts`);
  writeFileSync(entry, code);
  const check = spawnSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import { build } from 'esbuild';
       import { readFileSync } from 'node:fs';
       import { bundleProblems } from ${JSON.stringify(join(repo, 'scripts/bundle-check.mjs'))};
       const [entry, outfile, external] = process.argv.slice(1);
       const r = await build({ entryPoints: [entry], outfile, bundle: true, platform: 'node', format: 'cjs', metafile: true, logLevel: 'silent', external: JSON.parse(external) });
       console.log(JSON.stringify(bundleProblems({ metafile: r.metafile, outfile, code: readFileSync(outfile, 'utf8'), warnings: r.warnings })));`,
      entry,
      join(work, `${name}.cjs`),
      JSON.stringify(external),
    ],
    { encoding: 'utf8', cwd: repo },
  );
  assert.equal(check.status, 0, check.stderr);
  return JSON.parse(check.stdout) as string[];
}

test('the bundle check refuses an import() of an external module left in the output, naming it and its file', () => {
  // esbuild without bundle.mjs's lowering of import(): what shipped before issue 11.
  const problems = checkPlainBundle(
    'dynamic',
    "import('node:http').then(() => console.log('loaded'), (error) => console.log(error.message));\n",
  );
  assert.equal(problems.length, 2, problems.join('\n'));
  assert.match(problems[0] as string, /^import\("node:http"\) \(in .*dynamic\.ts\) stays in the bundle/);
  assert.match(
    problems[1] as string,
    /^import\(\) call left in the bundle at offset \d+: .*import\("node:http"\)/,
  );
  // And that bundle, run as bin/tbuild.js runs the CLI, fails as the issue saw it.
  const r = runAsBundle(join(work, 'dynamic.cjs'));
  assert.equal(r.stdout, 'A dynamic import callback was not specified.\n');
});

test('the bundle check refuses an external package that does not resolve from the bundle', () => {
  const problems = checkPlainBundle(
    'missing',
    "require('tbuild-no-such-package');\nrequire('@napi-rs/xattr');\n",
    ['tbuild-no-such-package', '@napi-rs/xattr'],
  );
  assert.deepEqual(problems, [
    `external module "tbuild-no-such-package" does not resolve from ${join(work, 'missing.cjs')}`,
  ]);
});

test('scripts/bundle.mjs exits non-zero and leaves no bundle when the code could not load what it needs', () => {
  // import.meta is empty in CommonJS output: a `new URL(file, import.meta.url)` would not find its file.
  const entry = join(entries, 'meta.ts');
  writeFileSync(entry, "console.log(new URL('data.json', import.meta.url).href);\n");
  const out = join(work, 'meta.cjs');
  const made = spawnSync(
    process.execPath,
    [join(repo, 'scripts/bundle.mjs'), '--entry', entry, '--outfile', out],
    {
      encoding: 'utf8',
    },
  );
  assert.equal(made.status, 1);
  assert.match(
    made.stderr,
    /meta\.cjs cannot ship, its code could not load what it needs:\n {2}esbuild warning: .*meta\.ts:1: .*import\.meta/,
  );
  assert.throws(() => statSync(out), { code: 'ENOENT' });
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

test('the bundle lists what it was made from; it is stale once any of those is newer', () => {
  const { bundleIsFresh } = createRequire(import.meta.url)('../../bin/bundle-inputs.js') as {
    bundleIsFresh(root: string, bundle: string): boolean;
  };
  const inputs = JSON.parse(readFileSync(`${bundle}.inputs.json`, 'utf8')) as string[];
  // Every folder the CLI imports is there, format/ included (a hand-kept folder list missed it).
  for (const file of ['cli/main.ts', 'format/go-template.ts', 'runtime/exec.ts', 'errors.ts'])
    assert.ok(inputs.includes(file), `${file} in ${inputs.length} inputs`);
  assert.ok(inputs.every((file) => !file.includes('node_modules')));
  assert.equal(bundleIsFresh(repo, bundle), true);
  // A bundle older than one of its inputs is stale (its mtime moved, not the source's).
  const oldest = Math.min(...inputs.map((file) => statSync(join(repo, file)).mtimeMs)) / 1000;
  utimesSync(bundle, oldest - 10, oldest - 10);
  assert.equal(bundleIsFresh(repo, bundle), false);
  utimesSync(bundle, new Date(), new Date());
  // Without its list it cannot be trusted.
  const list = readFileSync(`${bundle}.inputs.json`);
  rmSync(`${bundle}.inputs.json`);
  assert.equal(bundleIsFresh(repo, bundle), false);
  writeFileSync(`${bundle}.inputs.json`, list);
  assert.equal(bundleIsFresh(repo, bundle), true);
});
