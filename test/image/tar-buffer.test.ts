// TarBuffer (image/layer-tar-write.ts) writes in-memory entries straight into large chunks; its
// bytes must be exactly those encodeTarEntry yields, PAX records and padding included.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LayerEntry } from '../../image/layer-tar.ts';
import { encodeTarEntry, TarBuffer } from '../../image/layer-tar-write.ts';

function entry(overrides: Partial<LayerEntry>): LayerEntry {
  return {
    path: 'a',
    type: 'file',
    mode: 0o644,
    uid: 0,
    gid: 0,
    size: 0,
    mtime: 1_577_836_800,
    linkname: '',
    devmajor: 0,
    devminor: 0,
    xattrs: [],
    ...overrides,
  };
}

const body = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + 3) & 0xff));

const cases: [LayerEntry, Buffer | undefined][] = [
  [entry({ path: 'dir', type: 'directory', mode: 0o755 }), undefined],
  [entry({ path: 'dir/small', size: 300 }), body(300)],
  [entry({ path: 'dir/exact-block', size: 512 }), body(512)],
  [entry({ path: 'dir/empty' }), undefined],
  [entry({ path: `${'d'.repeat(120)}/${'f'.repeat(90)}`, size: 5 }), body(5)],
  [entry({ path: `${'x'.repeat(300)}`, size: 1 }), body(1)],
  [entry({ path: 'ünïcode name', size: 2 }), body(2)],
  [entry({ path: 'link', type: 'symlink', linkname: 'l'.repeat(150) }), undefined],
  [entry({ path: 'ids', uid: 3_000_000, gid: 4_000_000, size: 3 }), body(3)],
  [entry({ path: 'old', mtime: -5, size: 1 }), body(1)],
  [
    entry({
      path: 'caps',
      size: 4,
      xattrs: [
        ['user.z', Buffer.from('zz')],
        ['security.capability', Buffer.from([1, 0, 0, 2, 0xff, 0, 0x80])],
      ],
    }),
    body(4),
  ],
  [entry({ path: 'dev', type: 'character-device', devmajor: 1, devminor: 3 }), undefined],
  [entry({ path: 'big', size: 70_000 }), body(70_000)],
];

test('TarBuffer writes the bytes encodeTarEntry yields, across chunk boundaries', async () => {
  const expected: Buffer[] = [];
  for (const [e, b] of cases) {
    for await (const chunk of encodeTarEntry(e, b === undefined ? undefined : [b])) expected.push(chunk);
  }
  // A small chunk size makes entries straddle chunks and some regions exceed a chunk.
  for (const chunkSize of [1024, 4096, 1 << 20]) {
    const out = new TarBuffer(chunkSize);
    const got: Buffer[] = [];
    for (const [e, b] of cases) {
      out.writeEntry(e, b);
      if (out.bytes >= chunkSize) got.push(...out.drain());
    }
    got.push(...out.drain());
    assert.equal(out.bytes, 0);
    assert.ok(Buffer.concat(got).equals(Buffer.concat(expected)), `chunk size ${chunkSize}`);
  }
});

test('TarBuffer refuses a body of the wrong size and a missing body', () => {
  const out = new TarBuffer();
  assert.throws(() => out.writeEntry(entry({ size: 10 }), body(9)), /changed size/);
  assert.throws(() => out.writeEntry(entry({ size: 10 })), /no content/);
});

test('the trailer is two zero blocks', () => {
  const out = new TarBuffer();
  out.writeTrailer();
  const bytes = Buffer.concat(out.drain());
  assert.equal(bytes.length, 1024);
  assert.ok(bytes.every((b) => b === 0));
});
