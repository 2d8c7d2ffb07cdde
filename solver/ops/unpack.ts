import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import {
  applyLayer,
  type Compression,
  type Decompressed,
  decompressStream,
  detectCompression,
} from '../../image/index.ts';

const TAR_MAGIC_OFFSET = 257;

/** The archive's decompressed bytes (image/archive-decompress.ts). */
function openDecompressed(path: string, compression: Compression): Decompressed {
  return decompressStream(createReadStream(path), compression, path);
}

/**
 * Whether `path` is a tar archive ADD unpacks: a plain, gzip, bzip2 or xz compressed tar,
 * recognised by the `ustar` magic of its first header (after decompression). Anything else, a
 * `.tar.gz` name included, is copied as a file, as Docker does (moby's archive.DetectCompression
 * + tar header check).
 */
export async function isTarArchive(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  let head: Buffer;
  try {
    const buffer = Buffer.alloc(512);
    const { bytesRead } = await handle.read(buffer, 0, 512, 0);
    head = buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
  const compression = detectCompression(head);
  if (compression !== 'none') head = await readDecompressed(path, compression, 512);
  return (
    head.length >= TAR_MAGIC_OFFSET + 5 &&
    head.subarray(TAR_MAGIC_OFFSET, TAR_MAGIC_OFFSET + 5).toString('latin1') === 'ustar'
  );
}

/** The first `size` bytes of a compressed file's content (fewer if it is shorter or corrupt). */
async function readDecompressed(path: string, compression: Compression, size: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  const { stream, exited, cancel } = openDecompressed(path, compression);
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      length += chunk.length;
      if (length >= size) break;
    }
  } catch {
    // Corrupt compressed data is not an archive: ADD copies it as it is.
  }
  cancel();
  // Wait for the decompressor so none outlives the check.
  await exited;
  return Buffer.concat(chunks).subarray(0, size);
}

/**
 * Unpacks the archive at `path` into the host directory `target` (inside the rootfs being built),
 * keeping the archive's owners, modes and times. Extraction is contained in `target` by applyLayer.
 * Known difference from Docker: applyLayer treats `.wh.` names as whiteouts, where Docker's ADD
 * extracts them as ordinary files.
 */
export async function unpackArchive(path: string, target: string): Promise<void> {
  const head = Buffer.alloc(6);
  const handle = await open(path, 'r');
  try {
    await handle.read(head, 0, 6, 0);
  } finally {
    await handle.close();
  }
  const { stream, exited } = openDecompressed(path, detectCompression(head));
  await applyLayer(stream, target);
  await exited;
}
