/**
 * A file server on 127.0.0.1 for `ADD <url>` tests: each path answers with a body (bytes, or a
 * deterministic pseudo-random stream of any size that is never held in memory) and the validators
 * it is given, honours If-None-Match / If-Modified-Since with a 304, and counts every request (its
 * method and conditional headers) and every body byte it sends. Bad servers too: a path can
 * answer an error status, redirect forever, never answer, or gzip its body.
 */
import { createCipheriv, createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';

export interface FileAnswer {
  /** The body: bytes, or `{ randomBytes: n }` for n pseudo-random bytes from `seed`. */
  body?: Buffer | { randomBytes: number; seed?: string };
  etag?: string;
  lastModified?: Date;
  /** Answer this status with no body instead. */
  status?: number;
  /** Send the body gzip-compressed with `Content-Encoding: gzip`. */
  gzip?: boolean;
  /** Redirect (302) to this path (relative to the server). */
  redirectTo?: string;
  /** Never answer (the client's timeout must end the request). */
  hang?: boolean;
  /** Send the headers and this many body bytes, then fall silent. */
  stallAfterBytes?: number;
  /** Ignore If-None-Match / If-Modified-Since (always a 200 with the body). */
  ignoreConditionals?: boolean;
}

export interface SeenRequest {
  method: string;
  path: string;
  ifNoneMatch?: string;
  ifModifiedSince?: string;
  userAgent?: string;
  status: number;
}

export interface FileServer {
  url(path: string): string;
  /** Sets (or replaces) what `path` answers. */
  serve(path: string, answer: FileAnswer): void;
  /** Every request answered so far, in order. */
  readonly requests: SeenRequest[];
  /** Body bytes sent so far (after compression). */
  readonly bytesSent: number;
  /** Forgets the requests and bytes counted so far. */
  resetCounts(): void;
  close(): Promise<void>;
}

/** `sha256:<hex>` of `{ randomBytes, seed }`'s stream, computed the same way the server sends it. */
export async function randomBodyDigest(size: number, seed = 'seed'): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of randomStream(size, seed)) hash.update(chunk as Buffer);
  return `sha256:${hash.digest('hex')}`;
}

/** AES-CTR over zeros: fast, deterministic, incompressible, produced 64 KiB at a time. */
function randomStream(size: number, seed: string): Readable {
  const key = createHash('sha256').update(seed).digest().subarray(0, 16);
  const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  const zeros = Buffer.alloc(64 * 1024);
  let left = size;
  return new Readable({
    read() {
      if (left === 0) {
        this.push(null);
        return;
      }
      const n = Math.min(left, zeros.length);
      left -= n;
      this.push(cipher.update(zeros.subarray(0, n)));
    },
  });
}

export async function startFileServer(): Promise<FileServer> {
  const answers = new Map<string, FileAnswer>();
  const requests: SeenRequest[] = [];
  let bytesSent = 0;
  const hanging = new Set<ServerResponse>();

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    const answer = answers.get(path) ?? { status: 404 };
    const seen: SeenRequest = { method: req.method ?? '', path, status: 0 };
    if (req.headers['if-none-match'] !== undefined) seen.ifNoneMatch = req.headers['if-none-match'];
    if (req.headers['if-modified-since'] !== undefined)
      seen.ifModifiedSince = req.headers['if-modified-since'];
    if (req.headers['user-agent'] !== undefined) seen.userAgent = req.headers['user-agent'];
    requests.push(seen);
    const finish = (status: number) => {
      seen.status = status;
      res.statusCode = status;
    };
    if (answer.hang) {
      hanging.add(res);
      return;
    }
    if (answer.redirectTo !== undefined) {
      finish(302);
      res.setHeader('location', answer.redirectTo);
      res.end();
      return;
    }
    if (answer.status !== undefined) {
      finish(answer.status);
      res.end();
      return;
    }
    if (answer.etag !== undefined) res.setHeader('etag', answer.etag);
    if (answer.lastModified !== undefined) res.setHeader('last-modified', answer.lastModified.toUTCString());
    if (!answer.ignoreConditionals && isNotModified(req, answer)) {
      finish(304);
      res.end();
      return;
    }
    finish(200);
    let body: Readable;
    const source = answer.body ?? Buffer.alloc(0);
    if (Buffer.isBuffer(source)) {
      const bytes = answer.gzip ? gzipSync(source) : source;
      res.setHeader('content-length', bytes.length);
      body = Readable.from([bytes]);
    } else {
      if (answer.gzip) throw new Error('gzip of a random body is not supported');
      res.setHeader('content-length', source.randomBytes);
      body = randomStream(source.randomBytes, source.seed ?? 'seed');
    }
    if (answer.gzip) res.setHeader('content-encoding', 'gzip');
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    if (answer.stallAfterBytes !== undefined) {
      hanging.add(res);
      res.write(Buffer.alloc(answer.stallAfterBytes));
      bytesSent += answer.stallAfterBytes;
      return;
    }
    body.on('data', (chunk: Buffer) => {
      bytesSent += chunk.length;
    });
    body.pipe(res);
  };

  const server: Server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    serve: (path, answer) => answers.set(path, answer),
    requests,
    get bytesSent() {
      return bytesSent;
    },
    resetCounts() {
      requests.length = 0;
      bytesSent = 0;
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** RFC 9110 13.2.2: If-None-Match decides when sent; else If-Modified-Since (second precision). */
function isNotModified(req: IncomingMessage, answer: FileAnswer): boolean {
  const ifNoneMatch = req.headers['if-none-match'];
  if (ifNoneMatch !== undefined) {
    if (answer.etag === undefined) return false;
    const strip = (tag: string) => tag.trim().replace(/^W\//, '');
    return ifNoneMatch.split(',').some((tag) => strip(tag) === strip(answer.etag as string));
  }
  const since = req.headers['if-modified-since'];
  if (since === undefined || answer.lastModified === undefined) return false;
  return Math.floor(answer.lastModified.getTime() / 1000) <= Math.floor(Date.parse(since) / 1000);
}
