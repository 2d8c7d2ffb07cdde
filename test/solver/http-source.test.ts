// The `http` source (ADD <url>) against a counting server on 127.0.0.1: what each cache key costs
// in requests and bytes, what the written file holds, and the one-line errors of bad servers.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, test } from 'node:test';
import type { Digest, HttpOp } from '../../solver/index.ts';
import { createHttpSource } from '../../solver/ops/http.ts';
import { type FileServer, randomBodyDigest, startFileServer } from '../http-file-server.ts';

let server: FileServer;
let work: string;
let rootCount = 0;

before(async () => {
  server = await startFileServer();
  work = await mkdtemp(join(tmpdir(), 'tbuild-http-source-'));
});
after(async () => {
  await server.close();
  await rm(work, { recursive: true, force: true });
});
beforeEach(() => server.resetCounts());

const signal = new AbortController().signal;
const sha = (text: string | Buffer) => `sha256:${createHash('sha256').update(text).digest('hex')}` as Digest;

/**
 * A source over a fresh root whose cache holds exactly the keys in `cached`; `again()` is the
 * source of a later build on the same root.
 */
async function source(options: { timeoutMs?: number } = {}) {
  const root = join(work, `root-${++rootCount}`);
  const cached = new Set<Digest>();
  const make = () =>
    createHttpSource({
      root,
      cached: async (key) => cached.has(key),
      ...(options.timeoutMs !== undefined
        ? { timeouts: { connectMs: options.timeoutMs, idleMs: options.timeoutMs } }
        : {}),
    });
  return { root, cached, http: make(), again: make };
}

function op(path: string, extra: Partial<HttpOp> = {}): HttpOp {
  return { type: 'http', url: server.url(path), filename: path.split('/').pop() || '__unnamed__', ...extra };
}

async function writeOut(http: ReturnType<typeof createHttpSource>, vertex: Digest, o: HttpOp) {
  const dir = await mkdtemp(join(work, 'out-'));
  await http.writeInto(vertex, o, dir, signal);
  return dir;
}

const v1 = sha('vertex 1');
const v2 = sha('vertex 2');

test('an unchanged URL revalidates with one HEAD carrying its ETag: same key, no body sent', async () => {
  const modified = new Date('2024-03-01T10:00:00Z');
  server.serve('/etag.txt', { body: Buffer.from('one\n'), etag: '"e1"', lastModified: modified });
  const { http, cached, again } = await source();
  const first = await http.cacheKey(v1, op('/etag.txt'), signal);
  assert.deepEqual(
    server.requests.map((r) => r.method),
    ['GET'],
  );
  assert.equal(server.bytesSent, 4);
  // The first GET is not conditional: nothing was known.
  assert.equal(server.requests[0]?.ifNoneMatch, undefined);
  assert.match(server.requests[0]?.userAgent ?? '', /^tbuild\//);
  const dir = await writeOut(http, v1, op('/etag.txt'));
  assert.equal(await readFile(join(dir, 'etag.txt'), 'utf8'), 'one\n');
  const info = await stat(join(dir, 'etag.txt'));
  assert.equal(info.mode & 0o7777, 0o600);
  assert.equal(info.mtime.toISOString(), modified.toISOString());
  cached.add(first);

  server.resetCounts();
  const second = await again().cacheKey(v1, op('/etag.txt'), signal);
  assert.equal(second, first);
  assert.equal(server.requests.length, 1);
  assert.equal(server.requests[0]?.method, 'HEAD');
  assert.equal(server.requests[0]?.ifNoneMatch, '"e1"');
  assert.equal(server.requests[0]?.status, 304);
  assert.equal(server.bytesSent, 0);
});

test('the key does not depend on the URL or the ETag, only on the name, content and Last-Modified', async () => {
  server.serve('/a/same.txt', { body: Buffer.from('same'), etag: '"a"' });
  server.serve('/b/same.txt', { body: Buffer.from('same'), etag: '"b"' });
  server.serve('/c/same.txt', { body: Buffer.from('different'), etag: '"a"' });
  server.serve('/d/same.txt', { body: Buffer.from('same'), lastModified: new Date('2020-01-01T00:00:00Z') });
  const { http } = await source();
  const a = await http.cacheKey(v1, op('/a/same.txt'), signal);
  const b = await http.cacheKey(v2, op('/b/same.txt'), signal);
  const c = await http.cacheKey(sha('3'), op('/c/same.txt'), signal);
  const d = await http.cacheKey(sha('4'), op('/d/same.txt'), signal);
  const renamed = await http.cacheKey(sha('5'), op('/a/same.txt', { filename: 'other.txt' }), signal);
  assert.equal(a, b);
  assert.notEqual(a, c);
  assert.notEqual(a, d);
  assert.notEqual(a, renamed);
  await http.close();
});

test('a changed ETag downloads again and re-keys by the new content', async () => {
  server.serve('/changing.txt', { body: Buffer.from('v1'), etag: '"1"' });
  const { http, cached, again } = await source();
  const first = await http.cacheKey(v1, op('/changing.txt'), signal);
  cached.add(first);
  await http.close();
  server.serve('/changing.txt', { body: Buffer.from('v2!'), etag: '"2"' });
  server.resetCounts();
  const later = again();
  const second = await later.cacheKey(v1, op('/changing.txt'), signal);
  assert.notEqual(second, first);
  assert.deepEqual(
    server.requests.map((r) => `${r.method} ${r.ifNoneMatch} ${r.status}`),
    ['HEAD "1" 200', 'GET "1" 200'],
  );
  assert.equal(server.bytesSent, 3);
  const dir = await writeOut(later, v1, op('/changing.txt'));
  assert.equal(await readFile(join(dir, 'changing.txt'), 'utf8'), 'v2!');
  // The same content under a new ETag downloads (the server said it changed) but keys the same.
  cached.add(second);
  server.serve('/changing.txt', { body: Buffer.from('v2!'), etag: '"3"' });
  const third = await again().cacheKey(v1, op('/changing.txt'), signal);
  assert.equal(third, second);
});

test('a Last-Modified-only server revalidates with If-Modified-Since', async () => {
  const modified = new Date('2023-05-05T05:05:05Z');
  server.serve('/lm.txt', { body: Buffer.from('dated'), lastModified: modified });
  const { http, cached, again } = await source();
  const first = await http.cacheKey(v1, op('/lm.txt'), signal);
  cached.add(first);
  server.resetCounts();
  const second = await again().cacheKey(v1, op('/lm.txt'), signal);
  assert.equal(second, first);
  assert.deepEqual(
    server.requests.map((r) => `${r.method} ${r.ifNoneMatch} ${r.ifModifiedSince} ${r.status}`),
    [`HEAD undefined ${modified.toUTCString()} 304`],
  );
  assert.equal(server.bytesSent, 0);
  // Modified later: downloaded, and a new key (the mtime is part of the result).
  server.serve('/lm.txt', { body: Buffer.from('dated'), lastModified: new Date('2023-06-06T06:06:06Z') });
  server.resetCounts();
  const third = await again().cacheKey(v1, op('/lm.txt'), signal);
  assert.notEqual(third, first);
  assert.deepEqual(
    server.requests.map((r) => `${r.method} ${r.status}`),
    ['HEAD 200', 'GET 200'],
  );
});

test('validators of a result no longer cached are not used: a plain GET', async () => {
  server.serve('/gone.txt', { body: Buffer.from('x'), etag: '"g"' });
  const { http, again } = await source();
  await http.cacheKey(v1, op('/gone.txt'), signal);
  server.resetCounts();
  await again().cacheKey(v1, op('/gone.txt'), signal);
  assert.deepEqual(
    server.requests.map((r) => `${r.method} ${r.ifNoneMatch}`),
    ['GET undefined'],
  );
});

test('a server that ignores If-None-Match but sends the same ETag is still a hit, with no body read', async () => {
  server.serve('/stubborn.txt', { body: Buffer.from('stubborn'), etag: 'W/"s"', ignoreConditionals: true });
  const { http, cached, again } = await source();
  cached.add(await http.cacheKey(v1, op('/stubborn.txt'), signal));
  server.resetCounts();
  await again().cacheKey(v1, op('/stubborn.txt'), signal);
  assert.deepEqual(
    server.requests.map((r) => `${r.method} ${r.status}`),
    ['HEAD 200'],
  );
  assert.equal(server.bytesSent, 0);
});

test('--checksum: the key needs no request; the download is checked against it', async () => {
  const body = Buffer.from('pinned content\n');
  server.serve('/pinned.txt', { body, etag: '"p"' });
  const { http } = await source();
  const pinned = op('/pinned.txt', { checksum: sha(body) });
  const key = await http.cacheKey(v1, pinned, signal);
  assert.equal(server.requests.length, 0);
  // The URL is not in the key: the same checksum from a mirror is the same result.
  assert.equal(await http.cacheKey(v2, { ...pinned, url: server.url('/mirror/pinned.txt') }, signal), key);
  const dir = await writeOut(http, v1, pinned);
  assert.equal(await readFile(join(dir, 'pinned.txt'), 'utf8'), 'pinned content\n');
  assert.equal(server.requests.length, 1);

  const wrong = op('/pinned.txt', { checksum: sha('something else') });
  await http.cacheKey(v2, wrong, signal);
  await assert.rejects(
    writeOut(http, v2, wrong),
    (error: Error) =>
      error.message ===
      `digest mismatch for ${server.url('/pinned.txt')}: ${sha(body)} (expected: ${sha('something else')})`,
  );
});

test('a gzip-encoded body is stored decoded', async () => {
  server.serve('/zipped.txt', { body: Buffer.from('plain text '.repeat(100)), gzip: true });
  const { http } = await source();
  const key = await http.cacheKey(v1, op('/zipped.txt'), signal);
  const dir = await writeOut(http, v1, op('/zipped.txt'));
  assert.equal(await readFile(join(dir, 'zipped.txt'), 'utf8'), 'plain text '.repeat(100));
  assert.ok(server.bytesSent < 200, `${server.bytesSent} bytes sent`);
  assert.equal(typeof key, 'string');
});

test('redirects are followed, ten at most', async () => {
  server.serve('/moved', { redirectTo: '/final.txt' });
  server.serve('/final.txt', { body: Buffer.from('here') });
  server.serve('/loop', { redirectTo: '/loop' });
  const { http } = await source();
  await http.cacheKey(v1, op('/moved'), signal);
  const dir = await writeOut(http, v1, op('/moved'));
  assert.equal(await readFile(join(dir, 'moved'), 'utf8'), 'here');
  server.resetCounts();
  await assert.rejects(http.cacheKey(v2, op('/loop'), signal), {
    message: `failed to fetch ${server.url('/loop')}: stopped after 10 redirects`,
  });
  assert.equal(server.requests.length, 11);
});

test('bad answers are one line naming the URL and the cause', async () => {
  const { http } = await source({ timeoutMs: 300 });
  await assert.rejects(http.cacheKey(v1, op('/missing.txt'), signal), {
    message: `failed to fetch ${server.url('/missing.txt')}: invalid response status 404`,
  });
  // A password in the URL is not repeated in the message.
  const withPassword = server.url('/missing.txt').replace('http://', 'http://user:hunter2@');
  await assert.rejects(http.cacheKey(v1, { type: 'http', url: withPassword, filename: 'x' }, signal), {
    message: `failed to fetch ${withPassword.replace('hunter2', 'xxxxx')}: invalid response status 404`,
  });
  server.serve('/broken', { status: 500 });
  await assert.rejects(http.cacheKey(v1, op('/broken'), signal), {
    message: `failed to fetch ${server.url('/broken')}: invalid response status 500`,
  });
  server.serve('/slow', { hang: true });
  await assert.rejects(http.cacheKey(v1, op('/slow'), signal), {
    message: `failed to fetch ${server.url('/slow')}: timeout: no answer within 300 ms`,
  });
  server.serve('/stalls', { body: Buffer.alloc(4096), stallAfterBytes: 100 });
  await assert.rejects(http.cacheKey(v1, op('/stalls'), signal), {
    message: `failed to fetch ${server.url('/stalls')}: timeout: no data for 300 ms`,
  });
  // A port nothing listens on (the server's own, once closed).
  const closed = await startFileServer();
  const url = closed.url('/x');
  await closed.close();
  await assert.rejects(http.cacheKey(v1, { type: 'http', url, filename: 'x' }, signal), {
    message: `failed to fetch ${url}: connection refused`,
  });
});

test('a large body streams to disk: digest right, scratch file gone once written', async () => {
  const size = 32 * 1024 * 1024;
  server.serve('/big.bin', { body: { randomBytes: size } });
  const { http, root } = await source();
  await http.cacheKey(v1, op('/big.bin'), signal);
  const dir = await writeOut(http, v1, op('/big.bin'));
  const info = await stat(join(dir, 'big.bin'));
  assert.equal(info.size, size);
  const hash = createHash('sha256');
  hash.update(await readFile(join(dir, 'big.bin')));
  assert.equal(`sha256:${hash.digest('hex')}`, await randomBodyDigest(size));
  // The body fetched while keying was moved in: no scratch file is left behind.
  assert.deepEqual(await readdir(join(root, 'tmp')), []);
});
