import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { createAdaptiveGzip } from '../../image/adaptive-gzip.ts';

async function compress(data: Buffer, chunk: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for (let o = 0; o < data.length; o += chunk) chunks.push(data.subarray(o, o + chunk));
  const out: Buffer[] = [];
  const gzip = createAdaptiveGzip(6);
  gzip.on('data', (d: Buffer) => out.push(d));
  const ended = new Promise((resolve) => gzip.on('end', resolve));
  Readable.from(chunks).pipe(gzip);
  await ended;
  return Buffer.concat(out);
}

const text = Buffer.from('a line of very compressible text\n'.repeat(100_000));
const random = randomBytes(3 << 20);

test('compressible input gives exactly what plain gzip level 6 gives', async () => {
  assert.ok((await compress(text, 65536)).equals(gzipSync(text, { level: 6 })));
});

test('random stretches are stored: mixed input round-trips, the same bytes however it is chunked', async () => {
  const input = Buffer.concat([text, random, text.subarray(0, 123_457), random.subarray(0, 999)]);
  const outputs = await Promise.all([4096, 65536, 1_000_003].map((n) => compress(input, n)));
  const digests = outputs.map((o) => createHash('sha256').update(o).digest('hex'));
  assert.equal(new Set(digests).size, 1);
  const first = outputs[0] as Buffer;
  assert.ok(gunzipSync(first).equals(input));
  // Stored, the random part costs a few bytes per 64 KiB block; deflating it costs more.
  const randomOnly = await compress(random, 65536);
  assert.ok(randomOnly.length < random.length * 1.0002, `${randomOnly.length} for ${random.length}`);
  assert.ok(gunzipSync(randomOnly).equals(random));
});

test('empty input is a valid empty gzip', async () => {
  assert.equal(gunzipSync(await compress(Buffer.alloc(0), 1)).length, 0);
});
