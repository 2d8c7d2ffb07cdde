import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { applyLayer } from '../../image/index.ts';

const TAR_MAGIC_OFFSET = 257;
const GZIP_MAGIC = [0x1f, 0x8b];

/**
 * Whether `path` is a tar archive ADD unpacks: a plain or gzip-compressed tar, recognised by the
 * `ustar` magic of its first header (after gunzip). Anything else, a `.tar.gz` name included, is
 * copied as a file, as Docker does (moby's archive.DetectCompression + tar header check).
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
  if (head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1]) head = await readGunzipped(path, 512);
  return (
    head.length >= TAR_MAGIC_OFFSET + 5 &&
    head.subarray(TAR_MAGIC_OFFSET, TAR_MAGIC_OFFSET + 5).toString('latin1') === 'ustar'
  );
}

/** The first `size` bytes of a gzip file's content (fewer if it is shorter or corrupt). */
async function readGunzipped(path: string, size: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  const stream = createReadStream(path).pipe(createGunzip());
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      length += chunk.length;
      if (length >= size) break;
    }
  } catch {
    // A corrupt gzip is not an archive: ADD copies it as it is.
  }
  stream.destroy();
  return Buffer.concat(chunks).subarray(0, size);
}

/**
 * Unpacks the archive at `path` into the host directory `target` (inside the rootfs being built),
 * keeping the archive's owners, modes and times. Extraction is contained in `target` by applyLayer.
 * Known difference from Docker: applyLayer treats `.wh.` names as whiteouts, where Docker's ADD
 * extracts them as ordinary files.
 */
export async function unpackArchive(path: string, target: string): Promise<void> {
  await applyLayer(createReadStream(path), target);
}
