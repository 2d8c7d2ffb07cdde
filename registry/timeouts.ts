/**
 * Time limits for registry requests, so that a registry that stops answering cannot hang a pull or
 * a push forever (issue 12: a stalled body hung `pull` with no end).
 *
 * - connect: from sending a request until the registry answers it (the response headers). For a
 *   streamed upload, until the socket is connected; the upload then runs under the idle limit.
 * - idle: the longest silence while a body flows, either way: no byte for this long ends the
 *   request.
 *
 * Defaults follow the Go transports Docker and BuildKit use (a 30 s dial timeout); the idle limit
 * is a minute, generous for a slow link but finite. `TBUILD_REGISTRY_TIMEOUT` (seconds, or a Go
 * duration such as `500ms`) overrides both, for slow links and for tests.
 *
 * Node 20's fetch (undici) takes no per-request body timeout without a dispatcher from the undici
 * package, which is not a dependency, so the limits are kept here with an AbortController and a
 * timer around each body read: a few lines, and the same for fetch and for node:http uploads.
 */
import type { ReadableStream as WebReadableStream } from 'node:stream/web';

export interface RegistryTimeouts {
  connectMs: number;
  idleMs: number;
}

const defaultTimeouts: RegistryTimeouts = { connectMs: 30_000, idleMs: 60_000 };

/**
 * The limits with `TBUILD_REGISTRY_TIMEOUT` applied (ignored when it does not parse); `variable`
 * names another (`TBUILD_HTTP_TIMEOUT`: the downloads of `ADD <url>`, same defaults).
 */
export function timeoutsFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  variable = 'TBUILD_REGISTRY_TIMEOUT',
): RegistryTimeouts {
  const text = env[variable]?.trim();
  if (!text) return defaultTimeouts;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text);
  if (!m) return defaultTimeouts;
  const ms = Number(m[1]) * ({ ms: 1, s: 1000, m: 60_000 }[m[2] ?? 's'] ?? 1000);
  return ms > 0 ? { connectMs: ms, idleMs: ms } : defaultTimeouts;
}

/** `2 s`, `500 ms`: how a limit reads in an error line. */
export function formatLimit(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

/**
 * Wraps `response` so that each read of its body must deliver within `idleMs`, else `onIdle()`
 * runs (it aborts the request) and the body errors with `stalled()`. A body-less response is
 * returned as it is.
 */
export function withIdleLimit(response: Response, idleMs: number, stalled: () => Error, onIdle: () => void) {
  const body = response.body;
  // A Response with these statuses may not be constructed with a body (fetch spec, null body status).
  if (!body || [101, 204, 205, 304].includes(response.status)) return response;
  const reader = body.getReader();
  const limited = new ReadableStream<Uint8Array>({
    async pull(controller) {
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        onIdle();
        controller.error(stalled());
      }, idleMs);
      try {
        const { done, value } = await reader.read();
        if (timedOut) return;
        if (done) controller.close();
        else controller.enqueue(value);
      } catch (error) {
        if (!timedOut) controller.error(error);
      } finally {
        clearTimeout(timer);
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
  return new Response(limited as unknown as WebReadableStream, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
}
