/**
 * Opens a layer blob for reading: detects gzip by its magic bytes (plain tar otherwise) and hashes
 * both the blob and the uncompressed tar while they stream.
 */
import { Buffer } from 'node:buffer';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { HashTap } from './hash-tap.ts';
import { LayerError } from './layer-error.ts';

/** An opened layer blob. */
interface OpenedLayer {
  compression: 'gzip' | 'none';
  /** The uncompressed tar bytes. */
  tar: Readable;
  /** Resolves when the whole blob went through; rejects on a read or gunzip error. */
  done: Promise<void>;
  /** `sha256:` of the uncompressed tar (the diffID); valid after `done`. */
  diffID(): string;
  /** `sha256:` of the blob bytes; valid after `done`. */
  digest(): string;
}

const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);
const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);

/** Opens `blob` (a stream of gzip or plain tar bytes). */
export async function openLayer(blob: Readable | AsyncIterable<Uint8Array>): Promise<OpenedLayer> {
  const iterator = blob[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let length = 0;
  let ended = false;
  while (length < ZSTD_MAGIC.length) {
    const next = await iterator.next();
    if (next.done) {
      ended = true;
      break;
    }
    const chunk = Buffer.from(next.value as Uint8Array);
    head.push(chunk);
    length += chunk.length;
  }
  const first = Buffer.concat(head);
  if (first.subarray(0, ZSTD_MAGIC.length).equals(ZSTD_MAGIC)) {
    throw new LayerError('(archive)', 'zstd-compressed layers are not supported', {
      hint: 'decompress it with `zstd -d` first',
    });
  }
  async function* chunks(): AsyncGenerator<Buffer> {
    yield first;
    while (!ended) {
      const next = await iterator.next();
      if (next.done) return;
      yield Buffer.from(next.value as Uint8Array);
    }
  }
  const compression = first.subarray(0, 2).equals(GZIP_MAGIC) ? 'gzip' : 'none';
  const blobTap = new HashTap();
  const tarTap = new HashTap();
  const source = Readable.from(chunks(), { objectMode: false });
  const done =
    compression === 'gzip'
      ? pipeline(source, blobTap, createGunzip(), tarTap)
      : pipeline(source, blobTap, tarTap);
  done.catch(() => {}); // the caller awaits it; a failure also reaches it through `tar`
  return {
    compression,
    tar: tarTap,
    done,
    diffID: () => tarTap.digest(),
    digest: () => blobTap.digest(),
  };
}
