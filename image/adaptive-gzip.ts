import { once } from 'node:events';
import { Transform, type TransformCallback } from 'node:stream';
import { createGzip, type Gzip } from 'node:zlib';

/**
 * gzip that stores what does not compress. The input is cut into fixed 1 MiB windows; a window
 * whose first 16 KiB look random (byte entropy above 7.9 bits) is stored (level 0), any other is
 * deflated at `level`. Deflating already-compressed or random data costs the most (~30 MB/s at
 * level 6 here against ~1 GB/s stored) and gains nothing: a 500 MB random file spent ~15 s in
 * deflate. A change between the two starts a new gzip member (RFC 1952 allows a file of several;
 * Go's compress/gzip, pigz, GNU gzip and node's gunzip read them all as one stream). zlib's
 * params() would switch in place, but node's Gzip kept deflating after params(0) here.
 * The windows sit at fixed offsets of the input, so the same input always gives the same bytes,
 * however it arrives chunked.
 */
export function createAdaptiveGzip(level: number): Transform {
  let member: { level: number; gzip: Gzip } | undefined;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let failure: Error | undefined;

  const endMember = async (): Promise<void> => {
    if (!member) return;
    const { gzip } = member;
    member = undefined;
    const ended = once(gzip, 'end');
    gzip.end();
    await ended;
  };

  const writeWindow = async (window: Buffer): Promise<void> => {
    const wanted = looksRandom(window) ? 0 : level;
    if (member?.level !== wanted) {
      await endMember();
      const gzip = createGzip({ level: wanted, chunkSize: outputChunk });
      gzip.on('data', (data: Buffer) => transform.push(data));
      gzip.on('error', (error) => {
        failure = error;
      });
      member = { level: wanted, gzip };
    }
    const { gzip } = member as { gzip: Gzip };
    if (!gzip.write(window)) await once(gzip, 'drain');
  };

  const transform: Transform = new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (pendingBytes < windowSize) return callback(failure);
      const all = Buffer.concat(pending, pendingBytes);
      let offset = 0;
      const windows: Buffer[] = [];
      for (; all.length - offset >= windowSize; offset += windowSize) {
        windows.push(all.subarray(offset, offset + windowSize));
      }
      pending = offset < all.length ? [all.subarray(offset)] : [];
      pendingBytes = all.length - offset;
      (async () => {
        for (const window of windows) await writeWindow(window);
      })().then(() => callback(failure), callback);
    },
    flush(callback: TransformCallback) {
      (async () => {
        // Even empty input is one member: a valid (empty) gzip file.
        if (pendingBytes > 0 || !member) await writeWindow(Buffer.concat(pending, pendingBytes));
        await endMember();
      })().then(() => callback(failure), callback);
    },
    destroy(error, callback) {
      if (member && !member.gzip.destroyed) member.gzip.destroy();
      callback(error);
    },
  });
  return transform;
}

const windowSize = 1 << 20;
/** zlib's default 16 KiB output buffers made stored (level 0) output ~20x slower than 64 KiB ones. */
const outputChunk = 64 << 10;
const sampleSize = 16 << 10;
/** Random bytes measure ~7.99 bits on a 16 KiB sample; text ~4-5, machine code ~5-6.5. */
const randomEntropyBits = 7.9;

function looksRandom(window: Buffer): boolean {
  if (window.length < sampleSize) return false;
  const counts = new Uint32Array(256);
  for (let i = 0; i < sampleSize; i++) {
    const byte = window[i] as number;
    counts[byte] = (counts[byte] as number) + 1;
  }
  let bits = 0;
  for (const count of counts) {
    if (count === 0) continue;
    const p = count / sampleSize;
    bits -= p * Math.log2(p);
  }
  return bits > randomEntropyBits;
}
