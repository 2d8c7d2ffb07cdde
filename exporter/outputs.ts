/**
 * What a build's outputs are (`build -o`), as plain data: the CLI parses BuildKit's CSV syntax into
 * these (buildx util/buildflags/export.go and build/opt.go CreateExports decide the defaults and
 * refusals), the exporter carries them out (BuildKit's exporter/ packages).
 */

/** Where a file output goes: standard output or a file (written whole or not at all). */
export type FileTarget = { kind: 'stdout' } | { kind: 'file'; path: string };

/**
 * `type=image` (and `type=registry`, `type=docker` without `dest`, buildx's docker driver): the
 * image into the store under `names`, then pushed to each name's registry when `push`.
 */
export interface ImageOutput {
  type: 'image';
  /** Full normalised references; none: an untagged image. */
  names: string[];
  push: boolean;
}

/**
 * `type=docker|oci`: the image as an archive — a `docker save` tar or an OCI layout tar, or with
 * `tar=false` an OCI layout directory — not stored.
 */
export interface ArchiveOutput {
  type: 'docker' | 'oci';
  names: string[];
  target: FileTarget | { kind: 'directory'; path: string };
}

/**
 * `type=local`: the final stage's filesystem copied into a directory, owned by the user who runs
 * tbuild (BuildKit's filesync receiver gives every file the client's uid/gid); with `platformSplit`,
 * into a subdirectory named for the platform (`linux_amd64`).
 */
export interface LocalOutput {
  type: 'local';
  dir: string;
  platformSplit?: boolean;
}

/** `type=tar`: the final stage's filesystem as a tar stream. */
export interface TarOutput {
  type: 'tar';
  target: FileTarget;
}

export type Output = ImageOutput | ArchiveOutput | LocalOutput | TarOutput;
