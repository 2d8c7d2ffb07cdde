/**
 * A small deterministic tar writer over tar-stream, for `save`: fixed mtime, uid/gid 0, no user
 * names, entries in the order they are added. Output streams to `out` with backpressure.
 */
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';

/** Writes entries one at a time; call `finish()` once and await it. */
export interface TarWriter {
  addDirectory(name: string): Promise<void>;
  addFile(name: string, data: Buffer): Promise<void>;
  addStream(name: string, size: number, source: AsyncIterable<Uint8Array>): Promise<void>;
  finish(): Promise<void>;
}

const epoch = new Date(0);

export function createTarWriter(out: NodeJS.WritableStream): TarWriter {
  const pack = tar.pack();
  const written = pipeline(pack, out);
  let failure: unknown;
  written.catch((e: unknown) => {
    failure = e;
  });
  const header = (name: string, type: 'file' | 'directory', size: number) => ({
    name,
    type,
    size,
    mode: type === 'directory' ? 0o755 : 0o644,
    mtime: epoch,
    uid: 0,
    gid: 0,
    uname: '',
    gname: '',
  });
  const check = () => {
    if (failure) throw failure;
  };
  return {
    async addDirectory(name) {
      check();
      await new Promise<void>((resolve, reject) =>
        pack.entry(header(name, 'directory', 0), (e) => (e ? reject(e) : resolve())),
      );
    },
    async addFile(name, data) {
      check();
      await new Promise<void>((resolve, reject) =>
        pack.entry(header(name, 'file', data.length), data, (e) => (e ? reject(e) : resolve())),
      );
    },
    async addStream(name, size, source) {
      check();
      let entry!: NodeJS.WritableStream;
      const done = new Promise<void>((resolve, reject) => {
        entry = pack.entry(header(name, 'file', size), (e) => (e ? reject(e) : resolve()));
      });
      // Both awaited together: when the output fails (a full disk) both reject, and a rejection
      // left unawaited would kill the process after the error was reported.
      await Promise.all([pipeline(source, entry), done]);
    },
    async finish() {
      check();
      pack.finalize();
      await written;
    },
  };
}
