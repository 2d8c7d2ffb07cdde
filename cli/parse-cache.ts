import { createHash } from 'node:crypto';
import { readMemo, writeMemo } from '../cache/index.ts';
import { type ParsedDockerfile, parseDockerfile } from '../parser/index.ts';

/** Set by scripts/bundle.mjs to a digest of the sources the bundle was made from. */
declare const __TBUILD_BUILD_ID__: string | undefined;
const buildId = typeof __TBUILD_BUILD_ID__ === 'string' ? __TBUILD_BUILD_ID__ : undefined;

/**
 * Parses a Dockerfile through a memo of syntax trees kept in the root: a rebuild of an unchanged
 * Dockerfile never builds the Chevrotain lexer and parser (~15-20 ms of every run). The memo's
 * key is the digest of the parser build (the bundle's source digest) and the file's name and
 * bytes, so a changed file or a changed parser can never read a stale tree. Running from the
 * TypeScript sources (no build id), it simply parses. Errors are never memoised.
 */
export async function parseDockerfileCached(
  root: string,
  text: Buffer,
  file: string,
): Promise<ParsedDockerfile> {
  if (buildId === undefined) return parseDockerfile(text, { file });
  const key = createHash('sha256').update(`${buildId}\0${file}\0`).update(text).digest('hex');
  const memo = await readMemo(root, 'parsed', key);
  if (memo !== undefined) {
    try {
      return JSON.parse(memo) as ParsedDockerfile;
    } catch {
      // cut short by a crash: parse again
    }
  }
  const parsed = parseDockerfile(text, { file });
  await writeMemo(root, 'parsed', key, JSON.stringify(parsed)).catch(() => undefined);
  return parsed;
}
