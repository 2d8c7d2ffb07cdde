/**
 * `container prune`: removes every container that is not running (created, exited, dead), as
 * dockerd's ContainersPrune does, keeping those the filters keep: `until` (created after it),
 * `label` (every one given must match) and `label!` (all of them matching keeps it).
 */
import type { Container } from './container.ts';
import { listContainers } from './container-store.ts';
import { ContainerError } from './errors.ts';
import { writableLayerSize } from './layer-size.ts';
import { removeContainer } from './lifecycle.ts';
import { syncState } from './state-sync.ts';

export interface PruneFilters {
  /** Nanoseconds since the epoch: containers created after it are kept. */
  until?: bigint;
  /** `key` or `key=value`: a container must match each. */
  labels: string[];
  /** `key` or `key=value`: a container matching every one is kept. */
  notLabels: string[];
}

export interface PruneReport {
  /** Full ids, in `ps` order (newest first). */
  deleted: string[];
  /** Bytes of the removed writable layers. */
  reclaimed: number;
}

export async function pruneContainers(root: string, filters: PruneFilters): Promise<PruneReport> {
  const report: PruneReport = { deleted: [], reclaimed: 0 };
  for (const found of await listContainers(root)) {
    const c = await syncState(root, found);
    if (['running', 'paused', 'restarting'].includes(c.state.Status) || !keeps(c, filters)) continue;
    const size = await writableLayerSize(root, c);
    try {
      await removeContainer(root, c.record.Id, false);
    } catch (error) {
      // Started or removed meanwhile: not this prune's (dockerd logs and goes on).
      if (error instanceof ContainerError) continue;
      throw error;
    }
    report.deleted.push(c.record.Id);
    report.reclaimed += size;
  }
  return report;
}

function keeps(c: Container, filters: PruneFilters): boolean {
  if (filters.until !== undefined && createdNs(c) > filters.until) return false;
  const labels = c.record.Config.Labels;
  if (!filters.labels.every((f) => matchesLabel(labels, f))) return false;
  // dockerd's matchLabels: `label!` keeps a container only when all its values match.
  return filters.notLabels.length === 0 || !filters.notLabels.every((f) => matchesLabel(labels, f));
}

/** moby filters MatchKVList for one value: `key` present, or `key=value` equal. */
function matchesLabel(labels: Record<string, string>, filter: string): boolean {
  const eq = filter.indexOf('=');
  if (eq < 0) return Object.hasOwn(labels, filter);
  const key = filter.slice(0, eq);
  return Object.hasOwn(labels, key) && labels[key] === filter.slice(eq + 1);
}

function createdNs(c: Container): bigint {
  const m = /\.(\d+)Z$/.exec(c.record.Created);
  const ms = Date.parse(c.record.Created);
  return BigInt(Math.trunc(ms / 1000)) * 1_000_000_000n + BigInt((m?.[1] ?? '').padEnd(9, '0').slice(0, 9));
}
