import { createWriteStream } from 'node:fs';
import { chmod, copyFile, mkdir, rm, utimes } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { privateDirMode, readMemo, scratchPath, writeMemo } from '../../cache/index.ts';
import { HashTap } from '../../image/index.ts';
import { type Digest, digestOf, type HttpOp } from '../graph.ts';
import {
  defaultHttpTimeouts,
  type HttpAnswer,
  HttpFetchError,
  type HttpTimeouts,
  sendHttp,
} from './http-fetch.ts';

/**
 * The `http` source (`ADD <url>`), BuildKit's source/http: the solver, not the frontend, fetches
 * the URL, streamed to disk, and its result is a root filesystem holding that one file, which a
 * copy op then puts in place (with ADD's `--chmod`/`--chown`, as for any source).
 *
 * Cache key (BuildKit httpsource CacheKey/formatCacheKey): the file's name and its content digest,
 * never the URL, so the same file from a mirror is the same result.
 * - With `--checksum` the digest is the checksum: no request at all until the step must run.
 * - Without it, the validators the URL last answered with (ETag, Last-Modified) are kept beside
 *   the cache (memo `http-validators`). When the result they lead to is still cached, one HEAD
 *   asks whether the URL changed (If-None-Match, If-Modified-Since): 304, or the same ETag, is a
 *   hit without a download, as BuildKit sends only a HEAD on a rebuild. Otherwise the body is
 *   fetched (to a scratch file, hashed as it arrives) and keyed by its digest; BuildKit keeps
 *   validators only with an ETag, here Last-Modified alone revalidates too (issue 13).
 * Last-Modified is in the key without `--checksum` (it becomes the file's mtime, a part of the
 * result); with it, as in BuildKit, only the checksum is.
 */

/** What the cache key of an http vertex was taken from: kept to make the step the same way. */
interface Resolved {
  digest: Digest;
  /** The response's Last-Modified, as sent (HTTP date); the file's mtime. */
  lastModified?: string;
  /** The body, already fetched while keying: a scratch file that making the step moves in. */
  download?: string;
}

/** A URL's last validators, by the digest of the URL (memo `http-validators`). */
interface Validators {
  etag?: string;
  lastModified?: string;
  digest: Digest;
}

export interface HttpSourceDeps {
  root: string;
  timeouts?: HttpTimeouts;
  /** Whether a result is cached under `key` (and held for this build, so it stays). */
  cached(key: Digest): Promise<boolean>;
}

/** Bumped when the meaning of an http key changes. */
const keyVersion = 'tbuild.http.v1';

/** BuildKit gives a downloaded file mode 0600 (httpsource save); `ADD --chmod` changes it in the copy. */
const downloadMode = 0o600;

/** One build's http sources (see the top of this file). */
export type HttpSource = ReturnType<typeof createHttpSource>;

export function createHttpSource(deps: HttpSourceDeps) {
  const timeouts = deps.timeouts ?? defaultHttpTimeouts;
  /** By vertex digest: what each http vertex's key was taken from. */
  const resolved = new Map<Digest, Resolved>();

  const keyOf = (op: HttpOp, content: { digest: Digest; lastModified?: string }): Digest =>
    digestOf({ version: keyVersion, filename: safeFileName(op.filename), ...content });

  /** Asks (HEAD) whether the URL still answers with `known`; true when it does. */
  const unchanged = async (op: HttpOp, known: Validators, signal: AbortSignal): Promise<boolean> => {
    let answer: HttpAnswer;
    try {
      answer = await request(op.url, 'HEAD', conditionalHeaders(known), signal);
    } catch (error) {
      // BuildKit ignores a failed HEAD and lets the GET tell (some servers refuse HEAD).
      if (signal.aborted) throw error;
      return false;
    }
    answer.body.destroy();
    return isUnchanged(answer, known);
  };

  return {
    /** The vertex's cache key; may fetch the body (then kept for {@link writeInto}). */
    async cacheKey(vertexDigest: Digest, op: HttpOp, signal: AbortSignal): Promise<Digest> {
      if (op.checksum !== undefined) {
        resolved.set(vertexDigest, { digest: op.checksum });
        return keyOf(op, { digest: op.checksum });
      }
      const memoKey = digestOf({ url: op.url });
      const known = parseValidators(await readMemo(deps.root, 'http-validators', memoKey));
      // Only a result still cached is worth revalidating: otherwise the body is needed anyway.
      const candidate = known && keyOf(op, contentOf(known));
      const revalidate = known !== undefined && candidate !== undefined && (await deps.cached(candidate));
      if (revalidate && (await unchanged(op, known, signal))) {
        resolved.set(vertexDigest, contentOf(known));
        return candidate;
      }
      // Still conditional (BuildKit sends If-None-Match with the GET too): a server whose HEAD
      // ignores validators may honour them on a GET.
      const answer = await request(op.url, 'GET', revalidate ? conditionalHeaders(known) : {}, signal);
      if (revalidate && isUnchanged(answer, known)) {
        answer.body.destroy();
        resolved.set(vertexDigest, contentOf(known));
        return candidate;
      }
      const download = scratchPath(deps.root, 'http');
      const digest = await saveBody(op.url, answer, download);
      const lastModified = httpDate(answer.headers['last-modified']);
      const etag = answer.headers.etag;
      const content = { digest, ...(lastModified !== undefined ? { lastModified } : {}) };
      resolved.set(vertexDigest, { ...content, download });
      if (etag !== undefined || lastModified !== undefined) {
        const memo: Validators = { ...content, ...(etag !== undefined ? { etag } : {}) };
        await writeMemo(deps.root, 'http-validators', memoKey, JSON.stringify(memo));
      }
      return keyOf(op, content);
    },

    /**
     * Writes the vertex's file into `dir` (an empty root filesystem): the body fetched while
     * keying, or fetched now, and checked against the digest the key was taken from.
     */
    async writeInto(vertexDigest: Digest, op: HttpOp, dir: string, signal: AbortSignal): Promise<void> {
      const expected = resolved.get(vertexDigest);
      const target = join(dir, safeFileName(op.filename));
      let lastModified = expected?.lastModified;
      if (expected?.download !== undefined) {
        await copyFile(expected.download, target);
        await this.discard(vertexDigest);
      } else {
        const answer = await request(op.url, 'GET', {}, signal);
        const digest = await saveBody(op.url, answer, target);
        if (expected !== undefined && digest !== expected.digest) {
          // BuildKit's words (httpsource validatePinnedChecksum).
          throw new HttpFetchError(
            `digest mismatch for ${redacted(op.url)}: ${digest} (expected: ${expected.digest})`,
          );
        }
        lastModified = httpDate(answer.headers['last-modified']);
      }
      await chmod(target, downloadMode);
      // The file's mtime is Last-Modified, else the epoch (BuildKit httpsource save).
      const mtime = lastModified !== undefined ? new Date(lastModified) : new Date(0);
      await utimes(target, mtime, mtime);
    },

    /** Drops a body fetched while keying, once the key hit the cache (or the build ends). */
    async discard(vertexDigest: Digest): Promise<void> {
      const entry = resolved.get(vertexDigest);
      if (entry?.download === undefined) return;
      const { download, ...rest } = entry;
      resolved.set(vertexDigest, rest);
      await rm(download, { force: true });
    },

    async close(): Promise<void> {
      for (const vertexDigest of [...resolved.keys()]) await this.discard(vertexDigest);
    },
  };

  /** Sends the request; a failure to get an answer becomes one line naming the URL. */
  async function request(
    url: string,
    method: 'GET' | 'HEAD',
    headers: Record<string, string>,
    signal: AbortSignal,
  ): Promise<HttpAnswer> {
    let answer: HttpAnswer;
    try {
      answer = await sendHttp(url, { method, headers, timeouts, signal });
    } catch (error) {
      if (signal.aborted) throw error;
      throw new HttpFetchError(`failed to fetch ${redacted(url)}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    if (answer.status === 304 || (answer.status >= 200 && answer.status < 300)) return answer;
    answer.body.destroy();
    // BuildKit: `invalid response status 404`.
    throw new HttpFetchError(`failed to fetch ${redacted(url)}: invalid response status ${answer.status}`);
  }
}

/** The key parts of a URL's known content. */
function contentOf(known: Validators): { digest: Digest; lastModified?: string } {
  return {
    digest: known.digest,
    ...(known.lastModified !== undefined ? { lastModified: known.lastModified } : {}),
  };
}

function conditionalHeaders(known: Validators): Record<string, string> {
  const headers: Record<string, string> = {};
  if (known.etag !== undefined) headers['if-none-match'] = known.etag;
  if (known.lastModified !== undefined) headers['if-modified-since'] = known.lastModified;
  return headers;
}

/**
 * The answer says the URL is what `known` describes: a 304 (whose ETag, when it sends one, is the
 * one asked about), or a 200 with the same ETag (BuildKit's check for servers that ignore
 * If-None-Match). Weak and strong ETags compare alike, as BuildKit's etagValue does.
 */
function isUnchanged(answer: HttpAnswer, known: Validators): boolean {
  const etag = answer.headers.etag;
  if (answer.status === 304) return etag === undefined || sameEtag(etag, known.etag);
  return etag !== undefined && sameEtag(etag, known.etag);
}

function sameEtag(a: string, b: string | undefined): boolean {
  return b !== undefined && a.replace(/^W\//, '') === b.replace(/^W\//, '');
}

/** A 304 where a body was expected (we asked nothing conditional) is the server's error. */
async function saveBody(url: string, answer: HttpAnswer, path: string): Promise<Digest> {
  if (answer.status === 304) {
    answer.body.destroy();
    throw new HttpFetchError(`failed to fetch ${redacted(url)}: invalid response status 304`);
  }
  await mkdir(join(path, '..'), { recursive: true, mode: privateDirMode });
  const tap = new HashTap();
  try {
    await pipeline(answer.body, tap, createWriteStream(path, { flags: 'wx', mode: downloadMode }));
  } catch (error) {
    await rm(path, { force: true });
    throw new HttpFetchError(`failed to fetch ${redacted(url)}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return tap.digest() as Digest;
}

function parseValidators(text: string | undefined): Validators | undefined {
  if (text === undefined) return undefined;
  try {
    const value = JSON.parse(text) as Validators;
    return /^sha256:[0-9a-f]{64}$/.test(value.digest) ? value : undefined;
  } catch {
    return undefined; // cut short by a crash: as if there were none
  }
}

/** An HTTP date as sent, when it parses (else it is ignored, as Go's http.ParseTime failing is). */
function httpDate(value: string | undefined): string | undefined {
  if (value === undefined || Number.isNaN(Date.parse(value))) return undefined;
  return value;
}

/** The URL with its password shown as `xxxxx`, for messages (BuildKit urlutil.RedactCredentials). */
function redacted(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password === '') return url;
    parsed.password = 'xxxxx';
    return parsed.toString();
  } catch {
    return url;
  }
}

/** A single path segment (BuildKit pathutil.SafeFileName): never `/`, `.` or `..`. */
function safeFileName(name: string): string {
  const base = posix.basename(posix.join('/', name));
  return base === '' || base === '/' ? '__unnamed__' : base;
}
