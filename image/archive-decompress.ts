import { spawn } from 'node:child_process';
import { PassThrough, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';

/** The compressions a tar archive may come in (moby's archive.DetectCompression, without zstd). */
export type Compression = 'none' | 'gzip' | 'bzip2' | 'xz';

const xzMagic = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);

/** The compression of a stream from its first bytes (6 are enough). */
export function detectCompression(head: Buffer): Compression {
  if (head[0] === 0x1f && head[1] === 0x8b && head[2] === 0x08) return 'gzip';
  if (head.subarray(0, 3).toString('latin1') === 'BZh') return 'bzip2';
  if (head.subarray(0, 6).equals(xzMagic)) return 'xz';
  return 'none';
}

export interface Decompressed {
  stream: Readable;
  /** Settles once a decompressor process has exited (at once for zlib and plain streams). */
  exited: Promise<void>;
  /** Stops reading early: the stream is destroyed and a decompressor process killed. */
  cancel(): void;
}

/**
 * `input` decompressed. gzip uses zlib; bzip2 and xz run Debian's `bzip2`/`xz` (Node has neither
 * codec, and moby itself runs `xz -d -c -q`); the stream errors when the decompressor fails,
 * naming `name` (the archive's path or what it came from).
 */
export function decompressStream(input: Readable, compression: Compression, name: string): Decompressed {
  if (compression === 'none' || compression === 'gzip') {
    const stream = compression === 'gzip' ? input.pipe(createGunzip()) : input;
    if (stream !== input) input.on('error', (error) => stream.destroy(error));
    const cancel = () => {
      stream.destroy();
      input.destroy();
    };
    return { stream, exited: Promise.resolve(), cancel };
  }
  const child = spawn(compression, ['-d', '-c', '-q'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  // The decompressor stops reading when cut short or failing: its closed stdin is no error here.
  child.stdin.on('error', () => undefined);
  input.on('error', (error) => child.stdout.destroy(error));
  input.pipe(child.stdin);
  const fail = (message: string) => child.stdout.destroy(new Error(`${compression} -d ${name}: ${message}`));
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
  // (child_process flushStdio), and a reader may start only after an await.
  const stream = child.stdout.pipe(new PassThrough());
  child.stdout.on('error', (error) => stream.destroy(error));
  const cancel = () => {
    stream.destroy();
    child.stdout.destroy();
    input.destroy();
    child.kill();
  };
  return { stream, exited, cancel };
}
