import { createHash, type Hash } from 'node:crypto';
import { PassThrough, type TransformCallback } from 'node:stream';

/** A pass-through stream that hashes (sha256) and counts the bytes flowing through it. */
export class HashTap extends PassThrough {
  readonly #hash: Hash = createHash('sha256');
  #hex: string | undefined;
  /** Bytes seen so far. */
  bytes = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#hash.update(chunk);
    this.bytes += chunk.length;
    callback(null, chunk);
  }

  /** `sha256:<hex>` of everything seen; call only once the stream has finished. */
  digest(): string {
    this.#hex ??= this.#hash.digest('hex');
    return `sha256:${this.#hex}`;
  }
}
