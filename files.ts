/**
 * Durable small-file writes shared by the image store and the build cache: a file that appears
 * whole or not at all after a crash needs its data fsynced before it is renamed into place, and
 * the rename fsynced in its directory when it must survive a power cut.
 *
 * Synchronous: the files written this way (records, configs, manifests, index.json, small
 * layers) are small, and through the thread pool each open, write, fsync and close costs a round
 * trip that is more than the call itself.
 */
import { closeSync, fsyncSync, openSync, writeFileSync } from 'node:fs';

/** Creates `path` (it must not exist) with `data`, fsynced before it is closed. */
export function writeFileDurableSync(path: string, data: string | Uint8Array): void {
  const fd = openSync(path, 'wx', 0o644);
  try {
    writeFileSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** fsync of a directory: the renames into it survive a power cut. */
export function syncDirSync(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
