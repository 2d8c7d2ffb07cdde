import { stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseReference } from '../image/index.ts';
import { type OpenContextOptions, openRemote } from './context-input.ts';
import { SourceError } from './errors.ts';

/**
 * The value of `--build-context NAME=VALUE`, opened as buildx's LoadInputs does (build/opt.go,
 * in this order): `docker-image://REF[@DIGEST]` is an image the frontend resolves like a base
 * image; a git address or an http(s) URL is fetched (source/context-input.ts openRemote: a
 * checkout, or an archive unpacked); anything else must be a local directory. What is fetched
 * lands in a directory, so the frontend reads every non-image context the same way.
 *
 * `oci-layout://` (a client-side OCI layout) is not supported yet: it is refused by name.
 */
export type OpenedNamedContext =
  | { type: 'image'; ref: string }
  | {
      type: 'local';
      dir: string;
      /** Fetched from a repository or URL into scratch space (not the user's directory). */
      fetched: boolean;
    };

const imagePrefix = 'docker-image://';

export async function openNamedContext(
  name: string,
  value: string,
  options: OpenContextOptions,
): Promise<OpenedNamedContext> {
  if (value.startsWith(imagePrefix)) {
    const ref = value.slice(imagePrefix.length);
    // dockerui's EmptyImageName: no image at all.
    if (ref === 'scratch') return { type: 'image', ref };
    try {
      parseReference(ref);
    } catch (error) {
      throw new SourceError(`invalid build context ${name}: ${(error as Error).message}`, { cause: error });
    }
    return { type: 'image', ref };
  }
  if (value.startsWith('oci-layout://')) {
    throw new SourceError(`build context ${name}: oci-layout:// contexts are not supported by tbuild`, {
      hint: 'load the layout into the store (tbuild load) and use docker-image://NAME',
    });
  }
  let local: string | undefined;
  const opened = await openRemote(value, options, () => {
    local = resolve(value);
    return { kind: 'local', dir: local, fetched: false };
  });
  if (local === undefined) {
    // An http(s) file that is no archive: BuildKit's llb.HTTP state holds it as the file `context`.
    if (opened.dockerfile !== undefined) await writeFile(join(opened.dir, 'context'), opened.dockerfile);
    return { type: 'local', dir: opened.dir, fetched: true };
  }
  // buildx's words: `failed to get build context NAME: stat PATH: no such file or directory`.
  const info = await stat(local).catch((error: NodeJS.ErrnoException) => {
    throw new SourceError(
      `failed to get build context ${name}: stat ${value}: ${error.code === 'ENOENT' ? 'no such file or directory' : error.message}`,
    );
  });
  if (!info.isDirectory()) {
    throw new SourceError(`failed to get build context path ${value}: not a directory`);
  }
  return { type: 'local', dir: local, fetched: false };
}
