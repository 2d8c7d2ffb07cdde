import { mkdirSync, readFileSync, renameSync, utimesSync, writeFileSync } from 'node:fs';
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { privateDirMode } from './root-modes.ts';
import { scratchFileSync } from './sweep.ts';

/**
 * Memos: small files of data derived from inputs that are expensive to derive again, each named by
 * a digest of everything it derives from, so a memo can never be stale, only unused; and
 * concurrent builds writing the same memo write the same bytes. Each kind is a directory under
 * `<root>/cache/`:
 * - `checksum-memo`: a COPY's content checksum by the digest of its files' stat tuples (see
 *   checksums.ts), or of the context fingerprints it reads (content-hash.ts memoKey);
 * - `parsed`: a Dockerfile's syntax tree by the digest of the parser build and the file's bytes;
 * - `http-validators`: the ETag / Last-Modified an `ADD <url>` last answered with and the digest of
 *   that body, by the digest of the URL (solver/ops/http.ts). The one kind that can go out of date:
 *   it only says what to ask the server, whose answer decides.
 * A read marks the memo used (its mtime), so pruneMemos can drop the idle ones.
 */
export type MemoKind = 'checksum-memo' | 'parsed' | 'http-validators';

const kinds: readonly MemoKind[] = ['checksum-memo', 'parsed', 'http-validators'];

/** The memo's text, or undefined when there is none. */
export async function readMemo(root: string, kind: MemoKind, key: string): Promise<string | undefined> {
  const path = memoPath(root, kind, key);
  // Synchronous: a memo is a few bytes read on every build (thread-pool round trips cost more).
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  const now = new Date();
  try {
    utimesSync(path, now, now);
  } catch {
    // gone meanwhile: the text read is still right
  }
  return text;
}

/**
 * Writes a memo: temp file then rename, so a reader sees all of it or nothing. Not fsynced: after
 * a crash a memo may be empty or cut short, which each kind's reader treats as a miss.
 */
export async function writeMemo(root: string, kind: MemoKind, key: string, text: string): Promise<void> {
  const path = memoPath(root, kind, key);
  mkdirSync(join(path, '..'), { recursive: true, mode: privateDirMode });
  const temp = scratchFileSync(root, 'memo'); // swept if this process is killed before the rename
  writeFileSync(temp, text);
  renameSync(temp, path);
}

/** Removes memos of every kind unused since `before` (ms since the epoch); all of them without it. */
export async function pruneMemos(root: string, before?: number): Promise<number> {
  let removed = 0;
  for (const kind of kinds) {
    const dir = join(root, 'cache', kind);
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      const path = join(dir, name);
      if (before !== undefined) {
        const info = await stat(path).catch(() => undefined);
        if (!info || info.mtimeMs >= before) continue;
      }
      await rm(path, { force: true });
      removed++;
    }
  }
  return removed;
}

function memoPath(root: string, kind: MemoKind, key: string): string {
  return join(root, 'cache', kind, key.replace(/^sha256:/, ''));
}
