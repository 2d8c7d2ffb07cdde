import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { PassThrough, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { applyLayer } from '../../image/index.ts';

const TAR_MAGIC_OFFSET = 257;

/** The compressions ADD recognises by magic bytes (moby's archive.DetectCompression). */
type Compression = 'none' | 'gzip' | 'bzip2' | 'xz';

function detectCompression(head: Buffer): Compression {
  if (head[0] === 0x1f && head[1] === 0x8b && head[2] === 0x08) return 'gzip';
  if (head.subarray(0, 3).toString('latin1') === 'BZh') return 'bzip2';
  if (head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  return 'none';
}

interface Decompressed {
  stream: Readable;
  /** Settles once a decompressor process has exited (at once for zlib and plain files). */
  exited: Promise<void>;
  /** Stops reading early: the stream is destroyed and a decompressor process killed. */
  cancel(): void;
}

/**
 * The archive's decompressed bytes. gzip uses zlib; bzip2 and xz run Debian's `bzip2`/`xz`
 * (Node has neither codec, and moby itself runs `xz -d -c -q`); the stream errors when the
 * decompressor fails.
 */
function openDecompressed(path: string, compression: Compression): Decompressed {
  if (compression === 'none' || compression === 'gzip') {
    const file = createReadStream(path);
    const stream = compression === 'gzip' ? file.pipe(createGunzip()) : file;
    const cancel = () => {
      stream.destroy();
      file.destroy();
    };
    return { stream, exited: Promise.resolve(), cancel };
  }
  const child = spawn(compression, ['-d', '-c', '-q', path], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const fail = (message: string) => child.stdout.destroy(new Error(`${compression} -d ${path}: ${message}`));
  const exited = new Promise<void>((resolve) => {
    child.on('error', (error) => {
      fail(error.message);
      resolve();
    });
    child.on('close', (code, signal) => {
      if (code !== 0 && signal === null) fail(stderr.trim() || `exit code ${code}`);
      resolve();
    });
  });
  // Piped at once: Node discards a child's stdout that nobody reads by the time it exits
  // (child_process flushStdio), and applyLayer starts reading only after an await.
  const stream = child.stdout.pipe(new PassThrough());
  child.stdout.on('error', (error) => stream.destroy(error));
  const cancel = () => {
    stream.destroy();
    child.stdout.destroy();
    child.kill();
  };
  return { stream, exited, cancel };
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
