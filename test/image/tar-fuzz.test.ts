// Property-based fuzzing of the layer tar reader (issue 12, "Property-based fuzzing"): layers made
// of random hostile entries ('..', absolute names, symlinks out of the target and to the outside
// directory, hardlinks to anywhere, whiteouts, devices, PAX records), then corrupted (bytes
// flipped, cut short, gzip-wrapped or not, bytes inserted), or plain random bytes. Applying one
// either works or fails with a LayerError whose message is one line; it never throws anything
// else, never hangs, and never writes outside the target: a sibling directory (the target of the
// hostile symlinks) and the sandbox around the target stay as they were. Listing behaves the same.
// TBUILD_FAULTS_FULL=1 runs 20 times as many cases.
import assert from 'node:assert/strict';
import { lstat, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import tarStream from 'tar-stream';
import { applyLayer, LayerError, listLayer } from '../../image/index.ts';

const scale = process.env.TBUILD_FAULTS_FULL === '1' ? 20 : 1;
const runs = (n: number) => ({ numRuns: n * scale });
const hangMs = 180_000 * scale;

let sandbox = '';
let outside = '';
before(async () => {
  sandbox = join(tmpdir(), `tbuild-tar-fuzz-${process.pid}`);
  outside = join(sandbox, 'outside');
  await mkdir(outside, { recursive: true });
  await writeFile(join(outside, 'sentinel'), 'untouched\n');
});
after(async () => {
  await rm(sandbox, { recursive: true, force: true });
});

interface Spec {
  name: string;
  type: 'file' | 'directory' | 'symlink' | 'link' | 'fifo' | 'character-device';
  linkname?: string;
  content?: string;
  mode?: number;
  pax?: Record<string, string>;
}

const part = fc.constantFrom(
  'a',
  'b',
  'etc',
  '..',
  '.',
  '',
  'outside',
  'sentinel',
  '.wh.a',
  '.wh..wh..opq',
  'x'.repeat(120),
);
const name = fc
  .array(part, { minLength: 1, maxLength: 4 })
  .chain((parts) =>
    fc.constantFrom(parts.join('/'), `/${parts.join('/')}`, `./${parts.join('/')}`, `${parts.join('/')}/`),
  );
const linkTarget = fc.oneof(
  name,
  fc.constantFrom('/', '..', '../..', '../outside', '../../outside/sentinel', '/etc/passwd', '/proc/self'),
  // Absolute paths into the outside directory: a write through them is an escape.
  fc.constantFrom('outside', 'outside/sentinel', 'outside/new').map((p) => join(sandbox, p)),
);
const spec: fc.Arbitrary<Spec> = fc.oneof(
  fc.record({
    name,
    type: fc.constant('file' as const),
    content: fc.string({ maxLength: 40 }),
    mode: fc.constantFrom(0o644, 0o4755, 0o0, 0o7777),
  }),
  fc.record({ name, type: fc.constant('directory' as const), mode: fc.constantFrom(0o755, 0o0, 0o1777) }),
  fc.record({ name, type: fc.constantFrom('symlink' as const, 'link' as const), linkname: linkTarget }),
  fc.record({ name, type: fc.constantFrom('fifo' as const, 'character-device' as const) }),
  fc.record({
    name,
    type: fc.constant('file' as const),
    content: fc.constant('p'),
    pax: fc.constantFrom<Record<string, string>>(
      { path: '../escaped' },
      { 'SCHILY.xattr.user.x': 'v' },
      { 'SCHILY.xattr.security.capability': '\u0001\u0000' },
      { mtime: 'nan' },
      { uid: '99999999999999' },
      { linkpath: '/' },
    ),
  }),
);

async function pack(specs: Spec[]): Promise<Buffer> {
  const p = tarStream.pack();
  const chunks: Buffer[] = [];
  const collected = (async () => {
    for await (const chunk of p) chunks.push(chunk as Buffer);
  })();
  for (const s of specs) {
    const header = {
      name: s.name === '' ? 'empty' : s.name,
      type: s.type,
      mode: s.mode ?? 0o644,
      linkname: s.linkname,
      pax: s.pax,
      mtime: new Date(1_600_000_000_000),
    };
    try {
      await new Promise<void>((res, rej) => {
        const done = (err?: Error | null) => (err ? rej(err) : res());
        if (s.type === 'file') p.entry(header, s.content ?? '', done);
        else p.entry(header, done);
      });
    } catch {
      // tar-stream refused the header (a name it cannot encode): leave the entry out
    }
  }
  p.finalize();
  await collected;
  return Buffer.concat(chunks);
}

type Corruption =
  | { op: 'none' }
  | { op: 'flip'; at: number; value: number }
  | { op: 'cut'; at: number }
  | { op: 'insert'; at: number; bytes: Uint8Array };
const corruption: fc.Arbitrary<Corruption> = fc.oneof(
  { weight: 2, arbitrary: fc.constant({ op: 'none' as const }) },
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ op: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({
    op: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 600 }),
  }),
);

function corrupt(data: Buffer, c: Corruption): Buffer {
  if (c.op === 'none' || data.length === 0) return data;
  const at = c.at % data.length;
  if (c.op === 'flip') {
    const out = Buffer.from(data);
    out[at] = c.value;
    return out;
  }
  if (c.op === 'cut') return data.subarray(0, at);
  return Buffer.concat([data.subarray(0, at), c.bytes, data.subarray(at)]);
}

/** Everything under `dir` as `path type size content-of-small-files`, for before/after comparison. */
async function census(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of (await readdir(dir)).sort()) {
    const abs = join(dir, entry);
    const info = await lstat(abs);
    const content = info.isFile() ? (await readFile(abs, 'utf8')).slice(0, 40) : '';
    out.push(`${prefix}${entry} ${info.mode.toString(8)} ${info.size} ${content}`);
    if (info.isDirectory()) out.push(...(await census(abs, `${prefix}${entry}/`)));
  }
  return out;
}

let n = 0;
const outcomes = { applied: 0, refused: 0 };

/** Applies `blob` to a fresh target and lists it; checks the error kind and containment. */
async function check(blob: Buffer): Promise<void> {
  const target = join(sandbox, `t${++n}`);
  const outsideBefore = await census(outside);
  try {
    await applyLayer(Readable.from([blob]), target);
    outcomes.applied++;
  } catch (error) {
    outcomes.refused++;
    if (!(error instanceof LayerError)) throw new Error(`not a LayerError: ${String(error)}`);
    assert.doesNotMatch(error.message, /[\n\r]/, `a multi-line error: ${JSON.stringify(error.message)}`);
  }
  try {
    await listLayer(Readable.from([blob]));
  } catch (error) {
    if (!(error instanceof LayerError)) throw new Error(`listLayer: not a LayerError: ${String(error)}`);
  }
  assert.deepEqual(await census(outside), outsideBefore, 'the outside directory changed');
  const around = (await readdir(sandbox)).filter((e) => e !== 'outside' && e !== `t${n}`);
  assert.deepEqual(around, [], 'something was written beside the target');
  await rm(target, { recursive: true, force: true });
}

test('hostile, corrupted layers apply or fail with a one-line LayerError, never outside the target', {
  timeout: hangMs,
}, async () => {
  outcomes.applied = 0;
  outcomes.refused = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.array(spec, { minLength: 1, maxLength: 8 }),
      fc.boolean(),
      corruption,
      fc.boolean(),
      async (specs, gzip, c, corruptAfterGzip) => {
        const tar = await pack(specs);
        const blob = gzip
          ? corruptAfterGzip
            ? corrupt(gzipSync(tar), c)
            : gzipSync(corrupt(tar, c))
          : corrupt(tar, c);
        await check(blob);
      },
    ),
    { ...runs(400), seed: 20261202 },
  );
  assert.ok(outcomes.applied > 20 && outcomes.refused > 40, JSON.stringify(outcomes));
});

test('random bytes (plain or behind a gzip header) fail with a LayerError or apply as nothing', {
  timeout: hangMs,
}, async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.uint8Array({ maxLength: 3000 }),
      fc.constantFrom('plain', 'gzip-magic', 'gzip'),
      async (bytes, form) => {
        const data = Buffer.from(bytes);
        const blob =
          form === 'gzip'
            ? gzipSync(data)
            : form === 'gzip-magic'
              ? Buffer.concat([Buffer.from([0x1f, 0x8b]), data])
              : data;
        await check(blob);
      },
    ),
    { ...runs(300), seed: 7 },
  );
});
