/**
 * The filesystem outputs (`-o type=local,dest=DIR`, `-o type=tar`): the final stage's root
 * filesystem, read through a read-only overlay of its layer snapshots and walked once in layer
 * order (image/ packLayer, uncompressed). The tar output is that stream; the local output applies
 * it onto the directory (image/ applyLayer: nothing lands outside it, a symlink already in the
 * directory is resolved inside it), merging with what is there, as BuildKit's receiver does.
 *
 * With SOURCE_DATE_EPOCH every entry's mtime is the epoch (BuildKit's exporter/local/fs.go sets
 * them, where the image exporter's rewrite-timestamp only clamps).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import {
  applyLayer,
  type ImageStore,
  mountReadonlyRootfs,
  packLayer,
  type SnapshotLayer,
} from '../image/index.ts';
import { writeFileOutput } from './destination.ts';
import type { LocalOutput, TarOutput } from './outputs.ts';

export interface FilesystemRequest {
  root: string;
  store: ImageStore;
  layers: readonly SnapshotLayer[];
  /** SOURCE_DATE_EPOCH in seconds. */
  epoch?: number;
  /** The build's platform (`linux/amd64`), for `platform-split`. */
  platform: string;
  stdout: NodeJS.WritableStream;
}

export async function exportFilesystem(output: LocalOutput | TarOutput, request: FilesystemRequest) {
  const view = await mountReadonlyRootfs(request.root, request.store, request.layers);
  try {
    const pack = () =>
      packLayer(
        { kind: 'directory', path: view.path },
        { compression: 'none', ...(request.epoch !== undefined ? { mtime: request.epoch } : {}) },
      );
    if (output.type === 'local') {
      // BuildKit's receiver makes the destination 0700 (session/filesync syncTargetDiffCopy).
      const dir = output.platformSplit ? join(output.dir, request.platform.replaceAll('/', '_')) : output.dir;
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const packed = pack();
      await applyLayer(packed.stream, dir, { sameOwner: false });
      await packed.digests;
      return;
    }
    // Standard output is ended like a file: as `save` does, nothing follows the archive there.
    const write = async (out: NodeJS.WritableStream) => {
      const packed = pack();
      await pipeline(packed.stream, out);
      await packed.digests;
    };
    if (output.target.kind === 'stdout') await write(request.stdout);
    else
      await writeFileOutput(
        request.root,
        output.target.path,
        'a file for the tar output (-o type=tar)',
        write,
      );
  } finally {
    await view.release();
  }
}
