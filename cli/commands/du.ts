import { measureCache, readLiveLeases } from '../../cache/index.ts';
import { imageUsage, resolveRoot } from '../../image/index.ts';
import { listContainers, syncState, volumeDiskUsage, writableLayerSize } from '../../runtime/index.ts';
import type { Command } from '../command.ts';
import { parseCommandLine } from '../flags.ts';
import { formatTable, humanSince, humanSize, openStore } from '../image-output.ts';

const usage = `
Usage:  tbuild du [OPTIONS]

Show disk usage: images, containers (their writable layers), the build cache (records,
snapshots, cache-only blobs), volumes and temp files (like docker system df)

Options:
  -v, --verbose   Show every build cache record
`;

/** `tbuild du`: the store's and the build cache's size, what is in use and what prune would reclaim. */
export const duCommand: Command = {
  summary: 'Show disk usage of images, containers and the build cache',
  async run(ctx) {
    const line = parseCommandLine(ctx, {
      name: 'du',
      usage,
      options: { verbose: { type: 'boolean', short: 'v' } },
      args: { exactly: 0 },
    });
    if (line === undefined) return 0;
    const { values } = line;
    const root = resolveRoot(ctx.globals.root);
    const store = await openStore(ctx);
    try {
      const u = await store.diskUsage();
      const images = await imageUsage(store);
      const cache = await measureCache(root, images);
      const volumes = await volumeDiskUsage(root);
      const leased = await readLiveLeases(root);
      const active = cache.records.filter((r) => leased.has(r.key));
      const snapshotBytes = cache.snapshots.reduce((n, s) => n + s.bytes, 0);
      const imageSnapshotBytes = cache.snapshots.filter((s) => s.image).reduce((n, s) => n + s.bytes, 0);
      let cacheBlobBytes = 0;
      for (const size of cache.cacheBlobs.values()) cacheBlobBytes += size;
      const imageBytes = u.bytes - u.unreferencedBytes;
      // Blobs no image references but the cache keeps are the cache's, not garbage.
      const storeGarbage = Math.max(0, u.unreferencedBytes - cacheBlobBytes);
      const pct = (n: number, of: number) => (of === 0 ? '0%' : `${Math.round((n / of) * 100)}%`);
      ctx.stdout.write(`Store: ${store.dir}\n`);
      ctx.stdout.write(
        formatTable([
          ['TYPE', 'TOTAL', 'ACTIVE', 'SIZE', 'RECLAIMABLE'],
          [
            'Images',
            String(u.images),
            String(u.images),
            humanSize(imageBytes + imageSnapshotBytes),
            '0B (0%)',
          ],
          containersRow(await containerUsage(root)),
          [
            'Blobs',
            String(u.blobs),
            String(u.blobs - Math.max(0, u.unreferencedBlobs - cache.cacheBlobs.size)),
            humanSize(u.bytes),
            `${humanSize(storeGarbage)} (${pct(storeGarbage, u.bytes)})`,
          ],
          [
            'Build Cache',
            String(cache.records.length),
            String(active.length),
            humanSize(cache.bytes),
            `${humanSize(cache.bytes)} (${pct(cache.bytes, cache.bytes)})`,
          ],
          [
            'Local Volumes',
            String(volumes.total),
            String(volumes.active),
            humanSize(volumes.bytes),
            `${humanSize(volumes.reclaimable)} (${pct(volumes.reclaimable, volumes.bytes)})`,
          ],
          ['Temp files', String(u.tempFiles), '0', humanSize(u.tempBytes), humanSize(u.tempBytes)],
        ]),
      );
      if (values.verbose) {
        ctx.stdout.write(
          `\nBuild cache: ${cache.records.length} records, ${cache.snapshots.length} snapshots (${humanSize(snapshotBytes)}, ${humanSize(imageSnapshotBytes)} of them images'), ${cache.cacheBlobs.size} cache-only blobs (${humanSize(cacheBlobBytes)}), ${cache.mounts.length} cache mounts (${humanSize(cache.mounts.reduce((n, m) => n + m.bytes, 0))})\n\n`,
        );
        const rows = [['CACHE ID', 'LAYERS', 'SIZE', 'CREATED', 'LAST USED', 'IN USE']];
        const sorted = [...cache.records].sort((a, b) => b.lastUsed - a.lastUsed);
        for (const r of sorted) {
          const top = r.record.layers[r.record.layers.length - 1];
          rows.push([
            r.key.replace(/^sha256:/, '').slice(0, 12),
            String(r.record.layers.length),
            humanSize(top?.blob.size ?? 0),
            humanSince(r.record.created),
            humanSince(new Date(r.lastUsed).toISOString()),
            leased.has(r.key) ? 'true' : 'false',
          ]);
        }
        ctx.stdout.write(formatTable(rows));
      }
      return 0;
    } finally {
      await store.close();
    }
  },
};

/** The containers, how many run, their writable layers' bytes and those of the stopped ones. */
async function containerUsage(
  root: string,
): Promise<{ total: number; active: number; bytes: number; stopped: number }> {
  const usage = { total: 0, active: 0, bytes: 0, stopped: 0 };
  for (const found of await listContainers(root)) {
    const c = await syncState(root, found);
    const size = await writableLayerSize(root, c);
    const running = ['running', 'paused', 'restarting'].includes(c.state.Status);
    usage.total++;
    usage.bytes += size;
    if (running) usage.active++;
    else usage.stopped += size;
  }
  return usage;
}

/** docker system df's Containers row: the reclaimable part with a percentage only when there are bytes. */
function containersRow(u: { total: number; active: number; bytes: number; stopped: number }): string[] {
  const reclaimable =
    u.bytes > 0
      ? `${humanSize(u.stopped)} (${Math.trunc((u.stopped * 100) / u.bytes)}%)`
      : humanSize(u.stopped);
  return ['Containers', String(u.total), String(u.active), humanSize(u.bytes), reclaimable];
}
