import { Readable } from 'node:stream';
import { applyLayer, decompressStream, detectCompression, LayerError } from '../image/index.ts';
import { SourceError } from './errors.ts';

/**
 * A build context that arrives as a byte stream (standard input, a downloaded URL): either a tar
 * archive (plain, gzip, bzip2 or xz) to unpack, or a Dockerfile. Told apart as buildx does
 * (build/utils.go isArchive over the first 1024 bytes): a compression magic, or a tar header
 * that checks out.
 */

/** How many bytes buildx peeks (archiveHeaderSize * 2). */
const peekSize = 1024;

/** A stream with its first bytes read ahead. */
export interface PeekedStream {
  head: Buffer;
  /** The whole stream again, head included. */
  stream: Readable;
}

/** Reads up to 1024 bytes of `input` ahead without losing them. */
export async function peekStream(input: AsyncIterable<Buffer | string>): Promise<PeekedStream> {
  const iterator = input[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let length = 0;
  let ended = false;
  while (length < peekSize) {
    const next = await iterator.next();
    if (next.done) {
      ended = true;
      break;
    }
    const chunk = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
    head.push(chunk);
    length += chunk.length;
  }
  const first = Buffer.concat(head);
  async function* all(): AsyncGenerator<Buffer> {
    yield first;
    while (!ended) {
      const next = await iterator.next();
      if (next.done) return;
      yield typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
    }
  }
  return { head: first, stream: Readable.from(all(), { objectMode: false }) };
}

/** buildx's isArchive: bzip2, gzip or xz magic, or a first tar header whose checksum is right. */
export function isArchive(head: Buffer): boolean {
  if (detectCompression(head) !== 'none') return true;
  return isTarHeader(head);
}

/**
 * Go's archive/tar accepts a first header whose checksum field (octal, at 148) equals the sum of
 * the block's bytes with that field read as spaces, unsigned or signed. An all-zero block is the
 * end of an archive, not an archive.
 */
function isTarHeader(head: Buffer): boolean {
  if (head.length < 512) return false;
  const block = head.subarray(0, 512);
  if (block.every((byte) => byte === 0)) return false;
  const field = block
    .subarray(148, 156)
    .toString('latin1')
    .replace(/[\0 ]+$/, '')
    .trim();
  if (!/^[0-7]+$/.test(field)) return false;
  const expected = Number.parseInt(field, 8);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < 512; i++) {
    const byte = i >= 148 && i < 156 ? 0x20 : (block[i] as number);
    unsigned += byte;
    signed += byte > 127 ? byte - 256 : byte;
  }
  return expected === unsigned || expected === signed;
}

/**
 * Unpacks a context archive into `into` with the layer code (image/layer-apply.ts: names are
 * cleaned, `..` refused, links resolved inside `into`, nothing written outside it). It is an
 * archive, not a layer: `.wh.` names are kept as files. `what` names it in errors.
 */
export async function extractContextArchive(
  stream: Readable,
  head: Buffer,
  into: string,
  what: string,
): Promise<void> {
  const { stream: tar, exited, cancel } = decompressStream(stream, detectCompression(head), what);
  try {
    await applyLayer(tar, into, { whiteouts: 'none' });
  } catch (error) {
    cancel();
    await exited;
    if (error instanceof LayerError) {
      const reason = error.message.replace(/^layer entry /, 'archive entry ');
      throw new SourceError(`${what}: ${reason}`, { cause: error });
    }
    throw new SourceError(`${what}: cannot unpack the context archive: ${(error as Error).message}`, {
      cause: error,
    });
  }
  await exited;
}
