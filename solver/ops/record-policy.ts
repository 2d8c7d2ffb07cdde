import {
  claimKey,
  createCacheLease,
  readCacheRecord,
  touchCacheRecord,
  writeCacheRecord,
} from '../../cache/index.ts';
import type { Digest } from '../graph.ts';
import type { JobContext } from '../solve.ts';
import type { FsResult, RunnerDeps } from './types.ts';

/**
 * How one build uses the cache records of its root (cache/README.md, "Records and hits" and
 * "Concurrency"): what counts as a hit, what it holds against a concurrent prune or GC (its
 * lease), and how two builds making the same step at once make it once (a claim per key, and
 * the record the other build made while this one ran).
 */
export interface RecordPolicy {
  /** A hit for `key`: a local or imported record (made local), held against GC and marked used. */
  lookup(key: Digest): Promise<FsResult | undefined>;
  /**
   * The record for a key, locally or in an imported cache (then copied in), held against GC;
   * undefined when there is none or its blobs are gone.
   */
  read(key: Digest): Promise<FsResult | undefined>;
  /**
   * The result of the step keyed `key`: made by `make` and recorded, or, unless the step ignores
   * the cache, taken from another build on this root that made it meanwhile.
   */
  produce(key: Digest, job: JobContext, make: () => Promise<FsResult>): Promise<FsResult>;
  /** Lets go of what this build held against GC. */
  release(): Promise<void>;
}

export function createRecordPolicy(deps: Pick<RunnerDeps, 'root' | 'store' | 'cacheSources'>): RecordPolicy {
  // Whatever this build hits or records stays safe from a concurrent prune/GC until release().
  const lease = createCacheLease(deps.root);
  const hold = (key: Digest, result: FsResult) =>
    lease.hold([key, ...result.layers.flatMap((l) => [l.diffId, l.blob.digest])]);

  /** A local record whose blobs are all present, or undefined. */
  const readLocal = async (key: Digest): Promise<FsResult | undefined> => {
    const record = await readCacheRecord<FsResult>(deps.root, key);
    if (!record) return undefined;
    // A record whose blobs were garbage-collected is a miss, not a broken build.
    for (const layer of record.layers) {
      if (!(await deps.store.hasBlob(layer.blob.digest))) return undefined;
    }
    return record;
  };

  const read = async (key: Digest): Promise<FsResult | undefined> => {
    // Held before reading, so a concurrent prune that has not listed leases yet keeps the record.
    await lease.hold([key]);
    let record = await readLocal(key);
    if (!record) {
      for (const source of deps.cacheSources ?? []) {
        record = await source.find(key);
        if (!record) continue;
        // An imported hit becomes a local record: the next build needs no import.
        await hold(key, record);
        await writeCacheRecord(deps.root, key, record);
        break;
      }
    }
    if (record) await hold(key, record);
    return record;
  };

  /**
   * A record another build on this root made while this one ran. Only those: an older record
   * would have been a hit (a step ignoring the cache never comes here).
   */
  const startedAt = Date.now();
  const readConcurrent = async (key: Digest): Promise<FsResult | undefined> => {
    const record = await readLocal(key);
    if (record?.created === undefined || Date.parse(record.created) < startedAt) return undefined;
    await hold(key, record);
    return record;
  };

  return {
    read,

    async lookup(key) {
      const record = await read(key);
      if (record) await touchCacheRecord(deps.root, key);
      return record;
    },

    async produce(key, job, make) {
      const record = async (): Promise<FsResult> => {
        const result: FsResult = { ...(await make()), created: new Date().toISOString() };
        await hold(key, result);
        await writeCacheRecord(deps.root, key, result);
        return result;
      };
      // `--no-cache` (or its stage filter): made here, never taken from another build.
      if (job.ignoreCache) return record();
      // Another build on this root making the same step: wait for it and take its result.
      let claim = await claimKey(deps.root, key, job.signal);
      while (!claim) {
        const made = await readConcurrent(key);
        if (made) return made;
        claim = await claimKey(deps.root, key, job.signal);
      }
      try {
        // The claim may have come right after another build finished this step (between our
        // lookup and our claim): its record is written before its claim goes, so look again.
        return (await readConcurrent(key)) ?? (await record());
      } finally {
        await claim.release();
      }
    },

    release: () => lease.release(),
  };
}
