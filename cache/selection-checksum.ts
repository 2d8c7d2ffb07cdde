import { createHash } from 'node:crypto';
import { readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { type ChecksumCache, hashFile, readSelectionMemo, writeSelectionMemo } from './checksums.ts';

/** The lstat fields a content checksum covers, or that say a file is unchanged. */
export interface EntryStat {
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  dev: number;
}

/**
 * What to checksum: groups (one per COPY source item) of entries, each a path relative to the
 * root it is read from and the lstat the walk took of it (so nothing is lstat'ed twice).
 */
export type ChecksumSelection = readonly { readonly entries: readonly { src: string; stat: EntryStat }[] }[];

/** How many files are hashed at once while computing a COPY's key. */
const checksumParallelism = 32;

/**
 * Below these, a selection whose memo missed is hashed directly: reading a few small files costs
 * less than loading the checksum cache's table (~4 MB for a 20,000-file context).
 */
const directHashFiles = 256;
const directHashBytes = 1 << 20;

/**
 * The content checksum of the files a COPY reads: path, type, mode (which holds the type bits),
 * owner, link target and content digest of each, never mtime or atime. Contents are streamed and
 * remembered by the checksum cache, so an unchanged file is read once, ever; and the whole result
 * is remembered under the digest of the files' stat tuples, so an unchanged selection costs only
 * the lstats the walk already made.
 */
export async function checksumSelection(
  cacheRoot: string,
  root: string,
  selected: ChecksumSelection,
  cache: () => Promise<ChecksumCache>,
): Promise<string> {
  const statedAt = Date.now();
  // Flat columns rather than an object per file: this runs for every COPY of every build.
  const srcs: string[] = [];
  const stats: EntryStat[] = [];
  const groups: number[] = [];
  selected.forEach((group, i) => {
    for (const { src, stat } of group.entries) {
      srcs.push(src);
      stats.push(stat);
      groups.push(i);
    }
  });
  // The stat digest hashes the paths as one string and the numbers as raw float64s: 20,000
  // small hash updates, or 160,000 number-to-text conversions, cost more than the lstats did.
  const fields = 8;
  const numbers = new Float64Array(srcs.length * fields + selected.length);
  let newest = 0;
  let files = 0;
  let bytes = 0;
  let at = 0;
  for (const group of selected) numbers[at++] = group.entries.length;
  for (const stat of stats) {
    numbers[at++] = stat.mode;
    numbers[at++] = stat.uid;
    numbers[at++] = stat.gid;
    numbers[at++] = stat.size;
    numbers[at++] = stat.mtimeMs;
    numbers[at++] = stat.ctimeMs;
    numbers[at++] = stat.ino;
    numbers[at++] = stat.dev;
    if (stat.mtimeMs > newest) newest = stat.mtimeMs;
    if (stat.ctimeMs > newest) newest = stat.ctimeMs;
    if ((stat.mode & 0o170000) === 0o100000) {
      files++;
      bytes += stat.size;
    }
  }
  const statHash = createHash('sha256')
    .update(`${root}\0${srcs.join('\0')}`)
    .update(new Uint8Array(numbers.buffer));
  const statDigest = `sha256:${statHash.digest('hex')}`;
  const remembered = await readSelectionMemo(cacheRoot, statDigest);
  if (remembered) return remembered;

  const direct = files <= directHashFiles && bytes <= directHashBytes;
  const checksums = direct ? undefined : await cache();
  const lines: string[] = new Array(srcs.length);
  let next = 0;
  const worker = async () => {
    while (next < srcs.length) {
      const i = next++;
      const src = srcs[i] as string;
      const stat = stats[i] as EntryStat;
      const abs = join(root, src);
      const type = stat.mode & 0o170000;
      let content = '';
      if (type === 0o120000) content = `link:${readlinkSync(abs)}`;
      else if (type === 0o100000) {
        content = checksums ? await checksums.digestFile(abs, stat) : await hashFile(abs, stat.size);
      }
      lines[i] = `${src}\0${stat.mode}\0${stat.uid}\0${stat.gid}\0${content}\n`;
    }
  };
  await Promise.all(Array.from({ length: Math.min(checksumParallelism, srcs.length) }, worker));
  const hash = createHash('sha256');
  let group = 0;
  lines.forEach((line, i) => {
    for (; group < (groups[i] as number); group++) hash.update('\x01');
    hash.update(line);
  });
  for (; group < selected.length; group++) hash.update('\x01');
  const checksum = `sha256:${hash.digest('hex')}`;
  await writeSelectionMemo(cacheRoot, statDigest, checksum, newest, statedAt);
  return checksum;
}
