import { lockCacheForGc, measureCache, parseByteSize, parseDuration, pruneCache } from '../../cache/index.ts';
import { UsageError } from '../../errors.ts';
import { imageUsage, resolveRoot } from '../../image/index.ts';
import type { Command } from '../command.ts';
import { confirm } from '../confirm.ts';
import { parseCommandLine } from '../flags.ts';
import { humanSize, openStore } from '../image-output.ts';

const usage = `
Usage:  tbuild prune [OPTIONS]

Remove build cache (like docker builder prune)

Options:
  -a, --all                  Remove all unused build cache, not just the cache of steps no image contains
      --filter filter        Provide filter values (e.g. "until=24h")
  -f, --force                Do not prompt for confirmation
      --keep-storage bytes   Amount of disk space to keep for cache (e.g. 5GB)
`;

/** `tbuild prune`: removes cache records, then the snapshots and blobs only they kept. */
export const pruneCommand: Command = {
  summary: 'Remove build cache',
  async run(ctx) {
    const line = parseCommandLine(ctx, {
      name: 'prune',
      usage,
      options: {
        all: { type: 'boolean', short: 'a' },
        filter: { type: 'string', multiple: true },
        force: { type: 'boolean', short: 'f' },
        'keep-storage': { type: 'string' },
      },
      args: { exactly: 0 },
    });
    if (line === undefined) return 0;
    const { values } = line;
    let olderThanMs: number | undefined;
    for (const filter of values.filter ?? []) {
      const [name, value = ''] = filter.split('=', 2);
      if (name !== 'until')
        throw new UsageError(`invalid filter '${name}'`, { hint: 'supported: until=DURATION' });
      olderThanMs = parseDuration(value);
      if (olderThanMs === undefined)
        throw new UsageError(`invalid until filter "${value}": use e.g. 24h or 90m`);
    }
    let keepBytes: number | undefined;
    if (values['keep-storage'] !== undefined) {
      keepBytes = parseByteSize(values['keep-storage']);
      if (keepBytes === undefined) throw new UsageError(`invalid --keep-storage "${values['keep-storage']}"`);
    }
    if (!values.force) {
      const warning = `WARNING! This will remove ${values.all ? 'all' : 'all dangling'} build cache.`;
      if (!(await confirm(ctx, `${warning} Are you sure you want to continue?`))) return 0;
    }
    const root = resolveRoot(ctx.globals.root);
    const store = await openStore(ctx);
    // Running builds finish first: nothing they use can go while they run.
    const lock = await lockCacheForGc(root, {
      wait: true,
      onWait: () => ctx.stderr.write('waiting for running builds on this root to finish...\n'),
    });
    try {
      const images = await imageUsage(store);
      const before = await measureCache(root, images);
      const result = await pruneCache(root, images, {
        all: values.all ?? false,
        ...(olderThanMs !== undefined ? { olderThanMs } : {}),
        ...(keepBytes !== undefined ? { keepBytes } : {}),
      });
      await store.collectGarbage();
      const after = await measureCache(root, await imageUsage(store));
      const left = new Set(after.records.map((r) => r.key));
      const removed = before.records.filter((r) => !left.has(r.key));
      if (removed.length > 0) {
        ctx.stdout.write('Deleted build cache objects:\n');
        for (const r of removed) ctx.stdout.write(`${r.key.replace(/^sha256:/, '').slice(0, 25)}\n`);
        ctx.stdout.write('\n');
      }
      if (result.removedSnapshots > 0) ctx.stdout.write(`Removed ${result.removedSnapshots} snapshots\n`);
      if (result.removedMounts > 0) ctx.stdout.write(`Removed ${result.removedMounts} cache mounts\n`);
      ctx.stdout.write(`Total:\t${humanSize(Math.max(0, before.bytes - after.bytes))}\n`);
      return 0;
    } finally {
      await lock?.release();
      await store.close();
    }
  },
};
