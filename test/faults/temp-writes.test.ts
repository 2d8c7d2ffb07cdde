// A process killed between writing a cache file's temp and renaming it into place (found by the
// kill -9 suite, TBUILD_FAULTS_SEED=756547268: a build killed there left `cache/keys/<key>.json.
// <random>.tmp`, which no command ever removed). Here the kill is exact: a child replaces the
// rename with SIGKILL of itself. The temp must be a scratch entry under the child's name, which
// the next sweep removes, and nothing may be left beside the records, memos or checksums.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { sweepDeadOwners } from '../../cache/index.ts';
import { repo } from './helpers.ts';

let root = '';
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'tbuild-temp-writes-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Runs `body` (module code using `root` and `file`) in a child whose renames SIGKILL it. */
async function killedAtRename(body: string): Promise<void> {
  const script = join(root, `child-${Math.random().toString(16).slice(2)}.mts`);
  const file = join(root, 'hashed.txt');
  await writeFile(file, 'some content\n');
  await writeFile(
    script,
    `import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
const die = () => { process.kill(process.pid, 'SIGKILL'); return new Promise(() => {}); };
fs.renameSync = die;
fs.promises.rename = die;
syncBuiltinESMExports();
const cache = await import(${JSON.stringify(join(repo, 'cache/index.ts'))});
const root = ${JSON.stringify(root)};
const file = ${JSON.stringify(file)};
${body}
console.log('not killed');
`,
  );
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: repo,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => {
    output += d;
  });
  child.stderr.on('data', (d) => {
    output += d;
  });
  const signal = await new Promise((r) => child.once('close', (_code, s) => r(s)));
  assert.equal(signal, 'SIGKILL', `the child was not killed at the rename:\n${output}`);
}

const list = (dir: string) => readdir(join(root, dir)).catch(() => [] as string[]);

async function assertSwept(dir: string, kind: string): Promise<void> {
  const scratch = await list('tmp');
  assert.ok(
    scratch.some((name) => name.startsWith(`${kind}-`)),
    `no ${kind}-<owner>-… scratch entry: ${scratch.join(' ')}`,
  );
  assert.deepEqual(await list(dir), [], `a stray temp in ${dir}`);
  await sweepDeadOwners(root);
  assert.deepEqual(await list('tmp'), []);
}

test('a cache record', async () => {
  await killedAtRename(`await cache.writeCacheRecord(root, 'sha256:${'ab'.repeat(32)}', { layers: [] });`);
  await assertSwept('cache/keys', 'record');
});

test('a memo', async () => {
  await killedAtRename(`await cache.writeMemo(root, 'parsed', 'sha256:${'cd'.repeat(32)}', '{}');`);
  await assertSwept('cache/parsed', 'memo');
});

test('the checksum table', async () => {
  await killedAtRename(`const c = await cache.ChecksumCache.open(root, { racyWindowMs: 0 });
fs.utimesSync(file, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
await c.digestFile(file, fs.lstatSync(file));
await c.save();`);
  const cacheDir = (await list('cache')).filter((name) => name.startsWith('checksums.json.'));
  assert.deepEqual(cacheDir, [], 'a stray temp beside checksums.json');
  await assertSwept('cache/keys', 'checksums');
});
