/**
 * How long a COPY's cache key takes on a big context, through the runner's real code path
 * (context walk, source selection, content checksums with the checksum cache):
 *   cold       a root that never saw the files: every file is read once
 *   in-process the same runner again (the walk is redone, contents come from memory)
 *   persisted  a new runner on the same root, as the next `tbuild build` (contents from disk cache)
 *   fresh copy the same tree copied elsewhere (new inodes, ctimes): re-read, same key
 *
 *   node --import tsx bench/cache/keys.ts [CONTEXT_DIR]   (default: a generated 20,000-file tree)
 *
 * Needs no root and no runc: nothing runs, only keys are computed.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileDockerignore, scanContext } from '../../frontend/index.ts';
import { ImageStore } from '../../image/index.ts';
import { createFsRunner, type Digest, type FsRunner, vertex } from '../../solver/index.ts';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const work = await mkdtemp(join(tmpdir(), 'tbuild-bench-keys-'));
try {
  let ctx = process.argv[2];
  if (!ctx) {
    ctx = join(work, 'ctx');
    execFileSync('bash', [join(repo, 'bench/build/cases/_lib/gen-tree.sh'), join(ctx, 'tree'), '20000']);
  }
  if (!existsSync(join(ctx, 'tree'))) throw new Error(`${ctx} has no tree/ directory`);
  const root = join(work, 'root');
  const store = await ImageStore.open(root);

  const newRunner = () =>
    createFsRunner({
      root,
      store,
      executor: { run: () => Promise.reject(new Error('nothing runs in this benchmark')) } as never,
      walkSource: async (dir, excludes) => scanContext(dir, excludes),
      excludeMatcher: (patterns) => {
        if (patterns.length === 0) return () => false;
        const m = compileDockerignore(patterns);
        return (path) => m.matches(path);
      },
      defaultNetwork: 'none',
    });
  const keyOf = async (runner: FsRunner, dir: string): Promise<Digest> => {
    const base = vertex({ type: 'scratch' }, [], 'FROM scratch');
    const context = vertex({ type: 'context', name: 'context', dir, excludes: [] }, [], 'context');
    const copy = vertex(
      { type: 'copy', sources: ['tree/'], dest: '/data/tree/', extractArchives: false, excludes: [] },
      [base, context],
      'COPY tree/ /data/tree/',
    );
    const signal = new AbortController().signal;
    return runner.cacheKey(copy, [await runner.cacheKey(base, [], signal)], signal);
  };
  const time = async (label: string, runner: FsRunner, dir: string) => {
    const t0 = performance.now();
    const key = await keyOf(runner, dir);
    const ms = performance.now() - t0;
    console.log(`${label.padEnd(12)} ${ms.toFixed(0).padStart(6)} ms   ${key.slice(7, 19)}`);
    return key;
  };

  console.log(`context: ${ctx}/tree`);
  const first = newRunner();
  const cold = await time('cold', first, ctx);
  await time('in-process', first, ctx);
  await first.close();
  const second = newRunner();
  const persisted = await time('persisted', second, ctx);
  await second.close();
  const copyDir = join(work, 'copy');
  await cp(join(ctx, 'tree'), join(copyDir, 'tree'), { recursive: true });
  const third = newRunner();
  const fresh = await time('fresh copy', third, copyDir);
  await third.close();
  if (persisted !== cold || fresh !== cold) throw new Error('keys differ: the checksum is not content-only');
  console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
  await store.close();
} finally {
  await rm(work, { recursive: true, force: true });
}
