/**
 * File-system errors on paths the user gave (a flag's file, an archive, the store root, the
 * context's .dockerignore) become one line that names the path, what went wrong and what was
 * expected there:
 *
 *   ERROR: /no/such.tar: no such file or directory; expected a tar archive file (load -i)
 *
 * instead of node's `ENOENT: no such file or directory, open '/no/such.tar'`, an unhandled
 * stream 'error' event, or an internal-error stack. The checks here run before the work starts
 * (open, stat), so the error is about the user's path, not a temp file made from it. Any errno
 * error that still reaches the CLI is put in the same words by `describeFsError` (cli/main.ts).
 */
import type { ReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { TbuildError } from './errors.ts';

/** Plain words for the errno codes a user's path can cause (as Go's syscall.Errno prints them). */
const reasons: Record<string, string> = {
  ENOENT: 'no such file or directory',
  ENOTDIR: 'not a directory',
  EISDIR: 'is a directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EEXIST: 'file exists',
  ELOOP: 'too many levels of symbolic links',
  ENAMETOOLONG: 'file name too long',
  EMFILE: 'too many open files',
  ENXIO: 'no such device or address',
};

/**
 * A user's path that is missing, of the wrong type, unreadable or on a full disk. Exit 1, or 125
 * where the path is a flag's value that tbuild has always treated as a usage error.
 */
export class PathError extends TbuildError {
  /** The path as the user gave it (or the folder of it that is wrong). */
  readonly path: string;
  /** The errno code (`ENOENT`, …) */
  readonly code: string;

  constructor(
    path: string,
    code: string,
    expected: string | undefined,
    options: { cause?: unknown; exitCode?: number } = {},
  ) {
    super(`${path}: ${reasons[code] ?? code}${expected ? `; expected ${expected}` : ''}`, options);
    this.path = path;
    this.code = code;
  }
}

/** True for a node errno error with one of the codes above. */
export function isFsError(error: unknown): error is NodeJS.ErrnoException & { code: string } {
  return (
    error instanceof Error &&
    typeof (error as NodeJS.ErrnoException).code === 'string' &&
    ((error as NodeJS.ErrnoException).code as string) in reasons
  );
}

/**
 * `error` as a PathError on `path` when it is a file-system error; anything else is returned
 * unchanged (rethrow it). `expected` says what should be at the path ("a tar archive file (load -i)").
 */
export function pathError(error: unknown, path: string, expected?: string, exitCode = 1): unknown {
  if (error instanceof PathError || !isFsError(error)) return error;
  return new PathError(path, error.code, expected, { cause: error, exitCode });
}

/**
 * The one-line form of an errno error nobody wrapped (it names node's path; no "expected"), or
 * undefined when `error` is not one.
 */
export function describeFsError(error: unknown): PathError | undefined {
  if (!isFsError(error)) return undefined;
  const path = error.path ?? (error as { dest?: string }).dest;
  return path === undefined ? undefined : new PathError(path, error.code, undefined, { cause: error });
}

/**
 * Opens a regular file to read, or throws a PathError: missing, a directory, unreadable. The
 * stream is made from the opened descriptor, so an open failure can never surface later as an
 * unhandled 'error' event.
 */
export async function openInputFile(path: string, expected: string): Promise<ReadStream> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw pathError(error, path, expected);
  }
  try {
    const info = await handle.stat();
    if (info.isDirectory()) throw new PathError(path, 'EISDIR', expected);
  } catch (error) {
    await handle.close();
    throw pathError(error, path, expected);
  }
  return handle.createReadStream({ highWaterMark: 1 << 20 });
}

/** Throws a PathError unless `path` is a directory. */
export async function requireDirectory(path: string, expected: string): Promise<void> {
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(path)).isDirectory();
  } catch (error) {
    throw pathError(error, path, expected);
  }
  if (!isDirectory) throw new PathError(path, 'ENOTDIR', expected);
}

/** Throws a PathError unless `path` is a regular file (or does not exist, when `optional`). */
export async function requireFile(path: string, expected: string, optional = false): Promise<boolean> {
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(path)).isDirectory();
  } catch (error) {
    if (optional && (error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw pathError(error, path, expected);
  }
  if (isDirectory) throw new PathError(path, 'EISDIR', expected);
  return true;
}

/**
 * Checks that a file can be created at `path`: its folder exists and is a directory, and `path`
 * is not a directory itself. Writing may still fail (EACCES, ENOSPC): wrap that with `pathError`.
 */
export async function requireWritablePath(path: string, expected: string): Promise<void> {
  const folder = dirname(resolve(path));
  await requireDirectory(folder, `an existing directory to create ${path} in`);
  await requireFile(path, expected, true);
}
