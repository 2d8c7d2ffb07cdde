/**
 * Where a file output lands (`save -o FILE`, `build -o type=docker|oci|tar,dest=FILE`): written
 * beside the target and renamed over it, so a failed or killed write never leaves half an archive
 * under the name asked for. The temp name says whose it is and a note in the root names it, so
 * that after a kill the next command on the root removes it (cache/sweep.ts). A device or a pipe
 * (`-o /dev/null`) is written as it is: a temp file renamed over it would replace the device.
 */
import { createWriteStream, openSync } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import { noteOutsideTemp } from '../cache/index.ts';
import { ownerToken } from '../processes.ts';
import { pathError } from '../user-paths.ts';

/**
 * Runs `write` against a stream into `path`. `expected` says what belongs there, for the one-line
 * error about the user's path ("a file name for the archive (save -o)").
 */
export async function writeFileOutput(
  root: string,
  path: string,
  expected: string,
  write: (out: NodeJS.WritableStream) => Promise<void>,
): Promise<void> {
  if (
    await stat(path).then(
      (s) => !s.isFile(),
      () => false,
    )
  ) {
    const file = createWriteStream(path, { fd: openSync(path, 'w') });
    try {
      await write(file);
      await finished(file);
    } catch (error) {
      file.destroy();
      throw pathError(error, path, expected);
    }
    return;
  }
  const tmp = `${path}.tmp-${ownerToken()}`;
  const forget = await noteOutsideTemp(root, tmp);
  try {
    // Opened first: a failed open throws here instead of as a stream 'error' event.
    const file = createWriteStream(tmp, { fd: openSync(tmp, 'w', 0o644) });
    await write(file);
    await finished(file);
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { force: true });
    // A full disk or a folder we may not write to is about the user's path, not our temp name.
    throw pathError(error, path, expected);
  } finally {
    await forget();
  }
}
