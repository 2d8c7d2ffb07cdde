import type { ClientRequest, IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { PassThrough, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';

/**
 * One HTTP request of the `http` source (`ADD <url>`), as Go's http.Client makes it for
 * BuildKit's source/http: redirects followed (at most 10), a gzip body decoded, the answer's body
 * a stream that is never held whole. Why node:http and not fetch: the body of a large download
 * must go to disk as it arrives, under a limit on silence, and undici's fetch takes a body timeout
 * only through a dispatcher of the undici package, which is not a dependency (registry/timeouts.ts).
 */

/** How long the `http` source waits: for an answer's headers, and at most between two body chunks. */
export interface HttpTimeouts {
  connectMs: number;
  idleMs: number;
}

/** Go's dial timeout (30 s), as Docker and BuildKit use; a minute of silence ends a stalled body. */
export const defaultHttpTimeouts: HttpTimeouts = { connectMs: 30_000, idleMs: 60_000 };

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  /** The body, gzip decoded; empty for HEAD and 304. Must be consumed or destroyed. */
  body: Readable;
}

export interface HttpRequest {
  method: 'GET' | 'HEAD';
  headers?: Record<string, string>;
  timeouts: HttpTimeouts;
  signal?: AbortSignal;
}

/** A request that failed before an answer: the reason is one line, fit for an error message. */
export class HttpFetchError extends Error {}

/** Go's http.Client stops after 10 redirects (net/http client.go defaultCheckRedirect). */
const maxRedirects = 10;
const redirectStatuses = new Set([301, 302, 303, 307, 308]);

/**
 * Sends `method` to `url`, following redirects. Resolves once the final answer's headers are in:
 * any status (the caller judges it). `Accept-Encoding: gzip` is sent and a gzip body decoded, as
 * Go's transport does for BuildKit (so the ETag of a HEAD matches that of the GET).
 */
export async function sendHttp(url: string, options: HttpRequest): Promise<HttpAnswer> {
  let current = url;
  for (let redirects = 0; ; redirects++) {
    const answer = await sendOnce(current, options);
    const location = answer.headers.location;
    if (!redirectStatuses.has(answer.status) || location === undefined) return answer;
    answer.body.destroy();
    if (redirects === maxRedirects) throw new HttpFetchError(`stopped after ${maxRedirects} redirects`);
    current = new URL(location, current).toString();
  }
}

async function sendOnce(url: string, options: HttpRequest): Promise<HttpAnswer> {
  const target = new URL(url);
  if (target.protocol !== 'http:' && target.protocol !== 'https:') {
    throw new HttpFetchError(`unsupported protocol scheme "${target.protocol.replace(/:$/, '')}"`);
  }
  // Loaded here: most builds download nothing, and node:https/tls cost a few ms to load.
  const { request } = target.protocol === 'https:' ? await import('node:https') : await import('node:http');
  const { connectMs, idleMs } = options.timeouts;
  return new Promise<HttpAnswer>((resolve, reject) => {
    let settled = false;
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      reject(error);
    };
    const req: ClientRequest = request(
      target,
      {
        method: options.method,
        headers: { 'user-agent': 'tbuild/0.1', 'accept-encoding': 'gzip', ...options.headers },
        ...(options.signal ? { signal: options.signal } : {}),
      },
      (incoming: IncomingMessage) => {
        clearTimeout(answered);
        settled = true;
        // From here the socket's silence limit guards the body.
        req.setTimeout(idleMs, () =>
          incoming.destroy(new HttpFetchError(`timeout: no data for ${formatMs(idleMs)}`)),
        );
        const status = incoming.statusCode ?? 0;
        const empty = options.method === 'HEAD' || status === 204 || status === 304;
        let body: Readable = incoming;
        if (empty) {
          incoming.resume();
          body = new PassThrough().end();
        } else if (/^\s*(x-)?gzip\s*$/i.test(incoming.headers['content-encoding'] ?? '')) {
          const gunzip = createGunzip();
          incoming.on('error', (error) => gunzip.destroy(error));
          body = incoming.pipe(gunzip);
        }
        resolve({ status, headers: incoming.headers, body });
      },
    );
    const answered = setTimeout(
      () => req.destroy(new HttpFetchError(`timeout: no answer within ${formatMs(connectMs)}`)),
      connectMs,
    );
    req.on('error', (error) => {
      clearTimeout(answered);
      fail(
        error instanceof HttpFetchError ? error : new HttpFetchError(networkReason(error), { cause: error }),
      );
    });
    req.end();
  });
}

/** `connection refused`, as Go's net package words the usual failures; else node's own message. */
function networkReason(error: Error): string {
  if (error.name === 'AbortError') return 'canceled';
  const code = (error as NodeJS.ErrnoException).code;
  const words: Record<string, string> = {
    ECONNREFUSED: 'connection refused',
    ECONNRESET: 'connection reset by peer',
    ENOTFOUND: 'no such host',
    EAI_AGAIN: 'temporary failure in name resolution',
    EHOSTUNREACH: 'no route to host',
    ENETUNREACH: 'network is unreachable',
    ETIMEDOUT: 'connection timed out',
  };
  return (code !== undefined ? words[code] : undefined) ?? error.message;
}

/** `2 s`, `500 ms`. */
function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
