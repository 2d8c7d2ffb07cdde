/**
 * Low-level helpers for content-addressed files: hashing streams, verified reads, and the
 * temp-file → fsync → rename dance that makes a write appear whole or not at all.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { syncDirSync, writeFileDurableSync } from '../files.ts';
import { ownerToken } from '../processes.ts';
import { StoreError } from './errors.ts';
import type { Digest } from './oci.ts';

/** sha256 of a byte string, as a digest. */
export function digestOf(data: Uint8Array | string): Digest {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/**
 * A name for a temp file that records its owner (`<pid>.<start time>-<random>`, processes.ts), so
 * the store can tell the leftovers of a dead writer from a live one's files.
 */
export function tempName(dir: string): string {
  return join(dir, `${ownerToken()}-${randomBytes(6).toString('hex')}`);
}

/**
 * Writes `data` to `path` atomically: temp file in `tmpDir` (same filesystem), fsync, rename,
 * fsync of the parent directory. A reader sees the old file or the new one, never a mix.
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  tmpDir: string,
): Promise<void> {
  writeFileAtomicSync(path, data, tmpDir);
}

/**
 * {@link writeFileAtomic}, synchronously: for the small files it writes (index.json, records),
 * the five calls through the thread pool cost more than the calls themselves.
 */
export function writeFileAtomicSync(path: string, data: string | Uint8Array, tmpDir: string): void {
  const tmp = tempName(tmpDir);
  writeFileDurableSync(tmp, data);
  try {
    renameSync(tmp, path);
  } catch (error) {
    rmSync(tmp, { force: true });
    throw error;
  }
  syncDirSync(dirname(path));
}

/**
 * A pass-through stream that hashes what flows through it and fails at the end when the content
 * does not match `digest` (and `size`, when given). Reads are verified while streaming: a consumer
 * only learns of a corrupt blob when the stream errors, so it must not commit anything before the
 * stream has ended cleanly.
 */
function verifyingStream(digest: Digest, size: number | undefined, what: string): Transform {
  const hash = createHash('sha256');
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      seen += chunk.length;
      // Fails as soon as the declared size is passed, not at the end: a source without end
      // would otherwise be read (and passed on) for ever.
      if (size !== undefined && seen > size) {
        cb(new StoreError(`${what}: size mismatch: more than the declared ${size} bytes (stopped reading)`));
        return;
      }
      hash.update(chunk);
      cb(null, chunk);
    },
    flush(cb: TransformCallback) {
      const actual = `sha256:${hash.digest('hex')}`;
      if (actual !== digest)
        cb(new StoreError(`${what}: digest mismatch: expected ${digest}, got ${actual}`));
      else if (size !== undefined && seen !== size)
        cb(new StoreError(`${what}: size mismatch: expected ${size} bytes, got ${seen}`));
      else cb();
    },
  });
}

/** Opens a file and verifies it against `digest` while it is read. */
export function readVerified(path: string, digest: Digest, size?: number): NodeJS.ReadableStream {
  const verify = verifyingStream(digest, size, `blob ${digest}`);
  const source = createReadStream(path, { highWaterMark: 1 << 20 });
  source.on('error', (e: NodeJS.ErrnoException) =>
    verify.destroy(
      e.code === 'ENOENT'
        ? new StoreError(`blob ${digest} is missing from the store`)
        : new StoreError(e.message),
    ),
  );
  return source.pipe(verify);
}

/** Hashes a whole file (fsck). */
export async function hashFile(path: string): Promise<{ digest: Digest; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { digest: `sha256:${hash.digest('hex')}`, size };
}
