/**
 * One registry, spoken to over Node's global `fetch` (distribution spec v1.1, the `/v2/` API).
 *
 * Authentication follows the challenge the registry sends: on a 401 the client reads
 * `WWW-Authenticate`; for `Basic` it sends the stored credentials, for `Bearer` it asks the token
 * server named by `realm` for a token covering `service` and the request's scopes (with the
 * credentials as Basic auth when it has them, anonymously otherwise), caches it per scope set and
 * repeats the request once. A second 401 is a clear "unauthorized" error.
 *
 * Retries: `withRetry` repeats a whole step (a GET, or a blob upload from its POST) on 5xx, 408,
 * 429 (waiting `Retry-After` when given) and broken connections, with exponential backoff and a
 * bounded number of attempts. Anything else fails at once.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { parseChallenge, parseRetryAfter } from './auth.ts';
import type { Credentials } from './config.ts';
import { RegistryError } from './errors.ts';
import { formatLimit, type RegistryTimeouts, timeoutsFromEnv, withIdleLimit } from './timeouts.ts';

/** How to reach and authenticate with one registry. */
export interface RegistryClientOptions {
  /** Use http instead of https (loopback and `--insecure-registry` hosts). */
  insecure?: boolean;
  credentials?: Credentials | undefined;
  /** Extra attempts after the first on retryable failures (default 4). */
  retries?: number;
  /** First backoff delay; doubled per attempt (default 250 ms). */
  retryBaseMs?: number;
  /** Upper bound of one wait, including a `Retry-After` (default 30 s). */
  maxRetryWaitMs?: number;
  /** Connect and idle limits of every request (timeouts.ts; default from the environment). */
  timeouts?: RegistryTimeouts;
}

/** One HTTP exchange. `body` is a factory so that the token dance can send it again. */
export interface RegistryRequest {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path under the registry (`/v2/…`) or an absolute URL (upload locations). */
  url: string;
  /** What we are doing, for error messages: `pull manifest busybox:latest`. */
  step: string;
  /** Token scopes: `repository:library/busybox:pull`. */
  scopes: string[];
  headers?: Record<string, string>;
  body?: () => AsyncIterable<Uint8Array> | Uint8Array | undefined;
  /** Statuses that are answers, not errors (default: any 2xx). */
  accept?: number[];
}

const statusText: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  416: 'Range Not Satisfiable',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

function describeStatus(status: number): string {
  return `${status}${statusText[status] ? ` ${statusText[status]}` : ''}`;
}

/** The first `errors[]` entry of a distribution error body, as `CODE: message`. */
async function errorDetail(response: Response): Promise<string> {
  try {
    const text = (await response.text()).slice(0, 4096);
    const body = JSON.parse(text) as { errors?: { code?: string; message?: string }[] };
    const first = body.errors?.[0];
    if (first) return `: ${[first.code, first.message].filter(Boolean).join(': ')}`;
  } catch {
    // Not JSON: the status says enough.
  }
  return '';
}

/** The deepest `cause` message of a fetch failure (`ECONNREFUSED`, `other side closed`…). */
function networkReason(error: unknown): string {
  let e: unknown = error;
  let reason = error instanceof Error ? error.message : String(error);
  for (let depth = 0; depth < 5 && e instanceof Error && e.cause !== undefined; depth++) {
    e = e.cause;
    const code = (e as NodeJS.ErrnoException).code;
    if (e instanceof Error) reason = code && !e.message.includes(code) ? `${code}: ${e.message}` : e.message;
  }
  return reason;
}

/**
 * Sends a request whose body is a stream through `node:http(s)` instead of `fetch`. Why: Node 20's
 * fetch (undici) holds a streamed request body in memory as it sends it — measured here, a 400 MB
 * upload took the process to 499 MB RSS, against 109 MB with `http.request` and `pipe`, which
 * honours backpressure. The answer is wrapped in a `Response` so callers see one interface.
 */
async function sendStreaming(
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: AsyncIterable<Uint8Array>,
  limits: { timeouts: RegistryTimeouts; timedOut: (what: 'connect' | 'idle') => Error },
): Promise<Response> {
  // Loaded here, not at the top: every `tbuild build` loads this module, few of them upload,
  // and node:http/https/tls cost ~5-10 ms to load.
  const send =
    url.protocol === 'https:' ? (await import('node:https')).request : (await import('node:http')).request;
  return new Promise<Response>((resolve, reject) => {
    const request = send(url, { method, headers }, (incoming) => {
      const responseHeaders = new Headers();
      for (const [name, value] of Object.entries(incoming.headers)) {
        if (value === undefined) continue;
        for (const v of Array.isArray(value) ? value : [value]) responseHeaders.append(name, v);
      }
      const status = incoming.statusCode ?? 502;
      const empty = method === 'HEAD' || status === 204 || status === 205 || status === 304;
      if (empty) incoming.resume();
      const stream = empty ? null : (Readable.toWeb(incoming) as unknown as ReadableStream<Uint8Array>);
      resolve(
        new Response(stream as unknown as WebReadableStream | null, { status, headers: responseHeaders }),
      );
    });
    request.on('error', reject);
    // Connect limit until the socket is up; then no silence longer than the idle limit, either
    // way, until the answer's headers (its body is limited by the caller, withIdleLimit).
    const { connectMs, idleMs } = limits.timeouts;
    const connectTimer = setTimeout(() => request.destroy(limits.timedOut('connect')), connectMs);
    request.on('socket', (socket) => {
      const connected = () => {
        clearTimeout(connectTimer);
        request.setTimeout(idleMs, () => request.destroy(limits.timedOut('idle')));
      };
      if (socket.connecting) socket.once('connect', connected);
      else connected();
    });
    request.on('response', () => {
      clearTimeout(connectTimer);
      request.setTimeout(0);
    });
    request.on('close', () => clearTimeout(connectTimer));
    pipeline(Readable.from(body), request).catch((error: unknown) => {
      request.destroy(error as Error);
      reject(error);
    });
  });
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A client for one registry host (a reference's domain: `docker.io`, `127.0.0.1:5000`). */
export class RegistryClient {
  /** The reference domain. */
  readonly host: string;
  /** `https://registry-1.docker.io` or `http://127.0.0.1:5000`. */
  readonly base: string;
  readonly #options: RegistryClientOptions;
  /** Authorization header per scope set, once the registry has challenged us. */
  readonly #authorization = new Map<string, string>();
  #scheme: 'basic' | 'bearer' | undefined;

  constructor(host: string, options: RegistryClientOptions = {}) {
    this.host = host;
    const endpoint = host === 'docker.io' ? 'registry-1.docker.io' : host;
    this.base = `${options.insecure ? 'http' : 'https'}://${endpoint}`;
    this.#options = options;
  }

  /** An error line for this registry. */
  error(step: string, reason: string, options: ConstructorParameters<typeof RegistryError>[1] = {}) {
    return new RegistryError(`${this.host}: ${step}: ${reason}`, options);
  }

  /** Resolves a path or an upload `Location` (absolute or relative) against the registry. */
  resolveUrl(url: string): URL {
    return new URL(url, this.base);
  }

  /** Sends one request, answering an auth challenge once. Throws RegistryError on other statuses. */
  async request(req: RegistryRequest): Promise<Response> {
    const key = [...req.scopes].sort().join(' ');
    let response = await this.#send(req, this.#authorization.get(key) ?? this.#basicHeader());
    if (response.status === 401) {
      const challenge = parseChallenge(response.headers.get('www-authenticate'));
      await response.body?.cancel().catch(() => {});
      const auth = await this.#answer(challenge, req);
      this.#authorization.set(key, auth);
      response = await this.#send(req, auth);
      if (response.status === 401) {
        await response.body?.cancel().catch(() => {});
        const again = parseChallenge(response.headers.get('www-authenticate'));
        const reason = !this.#options.credentials
          ? 'authentication required'
          : again?.params.error === 'insufficient_scope'
            ? `access denied (insufficient scope${again.params.scope ? ` for ${again.params.scope}` : ''})`
            : 'authentication failed (wrong username or password?)';
        throw this.error(req.step, `401 Unauthorized: ${reason}`, { hint: `tbuild login ${this.host}` });
      }
    }
    const accepted = req.accept ? req.accept.includes(response.status) : response.ok;
    if (accepted) return response;
    const status = response.status;
    const detail = req.method === 'HEAD' ? '' : await errorDetail(response);
    if (req.method === 'HEAD') await response.body?.cancel().catch(() => {});
    const retryable = status >= 500 || status === 408 || status === 429;
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
    throw this.error(req.step, `${describeStatus(status)}${detail}`, {
      retryable,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
      ...(status === 403 ? { hint: `check your access to ${this.host} (tbuild login ${this.host})` } : {}),
    });
  }

  #basicHeader(): string | undefined {
    if (this.#scheme !== 'basic' || !this.#options.credentials) return undefined;
    const { username, password } = this.#options.credentials;
    return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  }

  /** The limits of every request: the options', else the environment's (timeouts.ts). */
  get timeouts(): RegistryTimeouts {
    return this.#options.timeouts ?? timeoutsFromEnv();
  }

  /** The one-line error of a request that hit a limit (retryable: the next attempt may get through). */
  #timedOut(step: string, what: 'connect' | 'idle'): RegistryError {
    const { connectMs, idleMs } = this.timeouts;
    return this.error(
      step,
      what === 'connect'
        ? `timeout: no answer within ${formatLimit(connectMs)} (connect timeout)`
        : `timeout: no data for ${formatLimit(idleMs)} (the registry stalled)`,
      { retryable: true },
    );
  }

  async #send(req: RegistryRequest, authorization: string | undefined): Promise<Response> {
    const headers: Record<string, string> = { 'user-agent': 'tbuild/0.1', ...req.headers };
    if (authorization) headers.authorization = authorization;
    const body = req.body?.();
    const timeouts = this.timeouts;
    const aborter = new AbortController();
    const init: RequestInit = { method: req.method, headers, redirect: 'follow', signal: aborter.signal };
    if (body instanceof Uint8Array) init.body = body;
    const idle = (response: Response) =>
      withIdleLimit(
        response,
        timeouts.idleMs,
        () => this.#timedOut(req.step, 'idle'),
        () => aborter.abort(),
      );
    try {
      if (body !== undefined && !(body instanceof Uint8Array)) {
        return idle(
          await sendStreaming(this.resolveUrl(req.url), req.method, headers, body, {
            timeouts,
            timedOut: (what) => this.#timedOut(req.step, what),
          }),
        );
      }
      const answered = setTimeout(
        () => aborter.abort(this.#timedOut(req.step, 'connect')),
        timeouts.connectMs,
      );
      try {
        return idle(await fetch(this.resolveUrl(req.url), init));
      } finally {
        clearTimeout(answered);
      }
    } catch (error) {
      if (error instanceof RegistryError) throw error;
      if (aborter.signal.reason instanceof RegistryError) throw aborter.signal.reason;
      const reason = networkReason(error);
      // A failure inside our own body stream (a corrupt local blob) is not the network's.
      if ((error as Error).name === 'StoreError' || (error as Error).cause instanceof RegistryError)
        throw error;
      // A name that does not resolve will not resolve on the next attempt either.
      throw this.error(req.step, reason, { retryable: !reason.includes('ENOTFOUND'), cause: error });
    }
  }

  async #answer(challenge: ReturnType<typeof parseChallenge>, req: RegistryRequest): Promise<string> {
    const creds = this.#options.credentials;
    if (challenge?.scheme === 'basic') {
      this.#scheme = 'basic';
      const header = this.#basicHeader();
      if (header === undefined) {
        throw this.error(req.step, '401 Unauthorized: authentication required', {
          hint: `tbuild login ${this.host}`,
        });
      }
      return header;
    }
    if (challenge?.scheme !== 'bearer' || !challenge.params.realm) {
      throw this.error(req.step, '401 Unauthorized: no usable WWW-Authenticate challenge');
    }
    this.#scheme = 'bearer';
    const realm = new URL(challenge.params.realm);
    if (challenge.params.service) realm.searchParams.set('service', challenge.params.service);
    const scopes = new Set(req.scopes);
    if (challenge.params.scope) for (const s of challenge.params.scope.split(' ')) scopes.add(s);
    for (const scope of scopes) realm.searchParams.append('scope', scope);
    // docker/distribution's token client sends the user name as `account` too; some servers log it.
    if (creds) realm.searchParams.set('account', creds.username);
    const headers: Record<string, string> = { 'user-agent': 'tbuild/0.1' };
    if (creds) {
      headers.authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
    }
    const step = `${req.step} (token from ${realm.host})`;
    let response: Response;
    const limit = this.timeouts.connectMs;
    try {
      response = await fetch(realm, { headers, signal: AbortSignal.timeout(limit) });
    } catch (error) {
      const reason =
        (error as Error).name === 'TimeoutError'
          ? `timeout: no answer within ${formatLimit(limit)} (connect timeout)`
          : networkReason(error);
      throw this.error(step, reason, { retryable: true, cause: error });
    }
    if (response.status === 401 || response.status === 403) {
      await response.body?.cancel().catch(() => {});
      throw this.error(
        step,
        `${describeStatus(response.status)}: ${creds ? 'authentication failed (wrong username or password?)' : 'authentication required'}`,
        { hint: `tbuild login ${this.host}` },
      );
    }
    if (!response.ok) {
      throw this.error(step, describeStatus(response.status), {
        retryable: response.status >= 500 || response.status === 429,
      });
    }
    let token: unknown;
    try {
      const body = (await response.json()) as { token?: unknown; access_token?: unknown };
      token = body.token ?? body.access_token;
    } catch (error) {
      throw this.error(step, `invalid token response: ${(error as Error).message}`);
    }
    if (typeof token !== 'string' || token === '') throw this.error(step, 'token response without a token');
    return `Bearer ${token}`;
  }

  /**
   * Runs `attempt` until it succeeds, retrying retryable RegistryErrors with exponential backoff
   * (or `Retry-After`), at most `retries` extra times. The last error is thrown as it is.
   */
  async withRetry<T>(attempt: () => Promise<T>): Promise<T> {
    const retries = this.#options.retries ?? 4;
    const base = this.#options.retryBaseMs ?? 250;
    const cap = this.#options.maxRetryWaitMs ?? 30_000;
    for (let n = 0; ; n++) {
      try {
        return await attempt();
      } catch (error) {
        if (!(error instanceof RegistryError) || !error.retryable || n >= retries) throw error;
        await sleep(Math.min(cap, error.retryAfterMs ?? base * 2 ** n));
      }
    }
  }

  /** `GET /v2/`: checks that the registry answers and that our credentials (if any) are accepted. */
  async ping(): Promise<void> {
    await this.withRetry(async () => {
      const response = await this.request({ method: 'GET', url: '/v2/', step: 'ping', scopes: [] });
      await response.body?.cancel().catch(() => {});
    });
  }
}
