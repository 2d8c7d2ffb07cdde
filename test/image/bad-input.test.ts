// Broken archives give a one-line error and a non-zero exit, and leave the store exactly as it
// was (tbuild fsck clean afterwards, with nothing to remove).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { makeBusyboxArchive, makeTempDir, packTar, tbuild } from './helpers.ts';

const tmp = makeTempDir();
const root = join(tmp.dir, 'root');
let busybox: Buffer;

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

function snapshot(): string {
  const dir = join(root, 'image');
  const blobs = readdirSync(join(dir, 'blobs', 'sha256')).sort();
  const temps = readdirSync(join(dir, 'tmp'));
  return JSON.stringify({ blobs, temps, index: readFileSync(join(dir, 'index.json'), 'utf8') });
}

/** A one-image OCI layout archive; `mutate` may break it. */
async function ociArchive(options: { layerType?: string; dropLayer?: boolean }): Promise<Buffer> {
  const layer = await packTar([{ name: 'hello.txt', data: 'hello\n' }]);
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: [`sha256:${sha(layer)}`] },
    }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: `sha256:${sha(config)}`,
        size: config.length,
      },
      layers: [
        {
          mediaType: options.layerType ?? 'application/vnd.oci.image.layer.v1.tar',
          digest: `sha256:${sha(layer)}`,
          size: layer.length,
        },
      ],
    }),
  );
  const index = {
    schemaVersion: 2,
    manifests: [
      {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: `sha256:${sha(manifest)}`,
        size: manifest.length,
        annotations: { 'io.containerd.image.name': 'docker.io/library/broken:1' },
      },
    ],
  };
  const files: { name: string; data: Uint8Array | string }[] = [
    { name: 'oci-layout', data: '{"imageLayoutVersion":"1.0.0"}' },
    { name: `blobs/sha256/${sha(config)}`, data: config },
    { name: `blobs/sha256/${sha(manifest)}`, data: manifest },
    { name: 'index.json', data: JSON.stringify(index) },
  ];
  if (!options.dropLayer) files.unshift({ name: `blobs/sha256/${sha(layer)}`, data: layer });
  return packTar(files);
}

before(async () => {
  makeBusyboxArchive(join(tmp.dir, 'busybox.tar'));
  busybox = readFileSync(join(tmp.dir, 'busybox.tar'));
  const r = await tbuild(root, ['load', '-i', join(tmp.dir, 'busybox.tar')]);
  assert.equal(r.code, 0, r.stderr);
});
after(() => tmp.cleanup());

const cases: [name: string, make: () => Promise<Buffer>, message: RegExp][] = [
  ['truncated archive', async () => busybox.subarray(0, 1_000_000), /truncated/],
  [
    'corrupt gzip',
    async () => {
      const gz = Buffer.from(gzipSync(busybox));
      for (let i = 0; i < 64; i++)
        gz.writeUInt8((gz.readUInt8((gz.length >> 1) + i) ^ 0xff) & 0xff, (gz.length >> 1) + i);
      return gz;
    },
    /gzip/,
  ],
  [
    'layer digest mismatch',
    async () => {
      const copy = Buffer.from(busybox);
      copy.writeUInt8(copy.readUInt8(500_000) ^ 0xff, 500_000); // inside layer.tar's data: the tar stays valid, the diffID does not
      return copy;
    },
    /digest mismatch/,
  ],
  [
    'unknown media type',
    () => ociArchive({ layerType: 'application/vnd.example.unknown' }),
    /unknown layer media type/,
  ],
  ['missing blob', () => ociArchive({ dropLayer: true }), /missing from the archive/],
  [
    'not an archive',
    async () => Buffer.from('hello, this is not a tar file\n'.repeat(40)),
    /not a tar file|truncated/,
  ],
];

for (const [name, make, message] of cases) {
  test(`${name}: one-line error, non-zero exit, store unchanged, fsck clean`, async () => {
    const before = snapshot();
    const file = join(tmp.dir, `${name.replace(/\W+/g, '-')}.tar`);
    writeFileSync(file, await make());
    const r = await tbuild(root, ['load', '-i', file]);
    assert.notEqual(r.code, 0);
    assert.equal(r.stdout, '');
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0] as string, /^ERROR: /);
    assert.match(lines[0] as string, message);
    assert.equal(snapshot(), before);
    const fsck = await tbuild(root, ['fsck']);
    assert.equal(fsck.code, 0, fsck.stderr);
    assert.doesNotMatch(fsck.stdout, /removed/);
  });
}

test('the valid hand-made OCI archive loads (the broken ones differ only where stated)', async () => {
  const file = join(tmp.dir, 'good-oci.tar');
  writeFileSync(file, await ociArchive({}));
  const r = await tbuild(join(tmp.dir, 'other-root'), ['load', '-i', file]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'Loaded image: broken:1\n');
});
