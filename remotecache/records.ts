/**
 * Which of a build's cache records leave with an exported cache, and how a record travels: the
 * solver's result (FsResult) ⇄ the portable record of a cache layout (cache/layout.ts).
 */
import type { PortableRecord } from '../cache/index.ts';
import type { Digest } from '../image/index.ts';
import type { FsResult, FsRunner } from '../solver/index.ts';
import type { CacheMode } from './types.ts';

/** A record of a cache layout (local or registry) as the solver's result. */
export function fromPortable(record: PortableRecord): FsResult {
  return {
    layers: record.layers.map((l) => ({
      diffId: l.diffId,
      blob: {
        mediaType: l.blob.mediaType ?? 'application/vnd.oci.image.layer.v1.tar+gzip',
        digest: l.blob.digest as Digest,
        size: l.blob.size,
      },
      ...(l.step ? { step: l.step } : {}),
    })),
    ...(record.created ? { created: record.created } : {}),
  };
}

function toPortable(key: string, result: FsResult): PortableRecord {
  return {
    key,
    ...(result.created ? { created: result.created } : {}),
    layers: result.layers.map((l) => ({
      diffId: l.diffId,
      blob: { mediaType: l.blob.mediaType, digest: l.blob.digest, size: l.blob.size },
      ...(l.step ? { step: l.step } : {}),
    })),
  };
}

/**
 * The records to export. `max`: every step of the build (all stages). `min`: the steps whose
 * result is a prefix of the final image's layers, i.e. the final image's own chain.
 */
export async function selectRecords(
  runner: FsRunner,
  final: FsResult,
  mode: CacheMode,
): Promise<PortableRecord[]> {
  const out: PortableRecord[] = [];
  const seen = new Set<string>();
  for (const key of runner.keys.values()) {
    if (seen.has(key)) continue;
    seen.add(key);
    const result = await runner.readRecord(key);
    if (!result) continue;
    if (mode === 'min' && !isPrefix(result, final)) continue;
    out.push(toPortable(key, result));
  }
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

function isPrefix(result: FsResult, final: FsResult): boolean {
  return (
    result.layers.length <= final.layers.length &&
    result.layers.every((l, i) => final.layers[i]?.blob.digest === l.blob.digest)
  );
}
