// Broken archives give a one-line error and a non-zero exit, and leave the store exactly as it
// was (tbuild fsck clean afterwards, with nothing to remove).
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { layerTar, makeBusyboxArchive, makeTempDir, ociLayoutArchive, packTar, tbuild } from './helpers.ts';

const tmp = makeTempDir();
const root = join(tmp.dir, 'root');
let busybox: Buffer;

function snapshot(): string {
  const dir = join(root, 'image');
  const blobs = readdirSync(join(dir, 'blobs', 'sha256')).sort();
  const temps = readdirSync(join(dir, 'tmp'));
  return JSON.stringify({ blobs, temps, index: readFileSync(join(dir, 'index.json'), 'utf8') });
}

/**
 * The one-image OCI layout archive the cases break (ociLayoutArchive): `hello.txt` as its layer
 * unless `layer` replaces the blob (named by its digest, so only its content can be at fault),
 * loading as broken:1.
 */
async function ociArchive(options: {
  layerType?: string;
  dropLayer?: boolean;
  layer?: Buffer;
  diffId?: string;
}): Promise<Buffer> {
  const { layer, ...rest } = options;
  const blob = layer ?? (await packTar([{ name: 'hello.txt', data: 'hello\n' }]));
  return ociLayoutArchive(blob, { ...rest, name: 'docker.io/library/broken:1' });
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

const gz = 'application/vnd.oci.image.layer.v1.tar+gzip';

/** Layers that can never be applied (issue 12, finding 7): refused at load, as Docker refuses them. */
const layerCases: typeof cases = [
  [
    'layer content is not the config’s diffID',
    async () => ociArchive({ diffId: `sha256:${'0'.repeat(64)}` }),
    /digest mismatch: config lists sha256:0{64}, content is sha256:[a-f0-9]{64}/,
  ],
  [
    'blob content is not its digest',
    async () => {
      const archive = await ociArchive({});
      // The layer blob comes first; flip a byte of its data (the tar header is 512 bytes).
      archive.writeUInt8(archive.readUInt8(512 + 600) ^ 0xff, 512 + 600);
      return archive;
    },
    /digest mismatch|has digest/,
  ],
  [
    'truncated gzip layer',
    async () => {
      const whole = gzipSync(await layerTar([{ name: 'big.txt' }, { name: 'a.txt' }]));
      return ociArchive({ layer: whole.subarray(0, whole.length - 12), layerType: gz });
    },
    /corrupt gzip data: unexpected end of file/,
  ],
  [
    'a name with ..',
    async () => ociArchive({ layer: await layerTar([{ name: '../escape.txt' }]) }),
    /layer sha256:[a-f0-9]{64}: layer entry "\.\.\/escape\.txt": /,
  ],
  [
    'a hardlink through a symlink',
    async () =>
      ociArchive({
        layer: await layerTar([
          { name: 'etc', type: 'symlink', linkname: '/nonexistent' },
          { name: 'passwd', type: 'link', linkname: 'etc/passwd' },
        ]),
      }),
    /layer sha256:[a-f0-9]{64}: layer entry "passwd": /,
  ],
  [
    'a hardlink out of the layer',
    async () =>
      ociArchive({ layer: await layerTar([{ name: 'shadow', type: 'link', linkname: '../../etc/shadow' }]) }),
    /layer sha256:[a-f0-9]{64}: layer entry "shadow": /,
  ],
];
cases.push(...layerCases);

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
    assert.deepEqual(
      existsSync(join(root, 'tmp')) ? readdirSync(join(root, 'tmp')) : [],
      [],
      'no scratch left',
    );
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

test('an absolute symlink and a path through it stay inside the layer’s own root (load accepts it)', async () => {
  const outside = join(tmp.dir, 'outside');
  const file = join(tmp.dir, 'symlink-trick.tar');
  writeFileSync(
    file,
    await ociArchive({
      layer: await layerTar([
        { name: 'host', type: 'symlink', linkname: outside },
        { name: 'host/pwned', type: 'file' },
        { name: 'up', type: 'symlink', linkname: '../../../../..' },
        { name: 'up/pwned-too', type: 'file' },
      ]),
    }),
  );
  const r = await tbuild(root, ['load', '-i', file]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(existsSync(outside), false);
  assert.equal(existsSync(join(tmp.dir, 'pwned-too')), false);
  assert.equal(existsSync('/pwned-too'), false);
  // Unpacked at load, the files are in the snapshot, where the links lead inside it.
  const snaps = readdirSync(join(root, 'snapshots')).map((id) => join(root, 'snapshots', id, 'fs'));
  const fs = snaps.find((dir) => existsSync(join(dir, 'up')));
  assert.ok(fs !== undefined);
  assert.equal(existsSync(join(fs, outside.slice(1), 'pwned')), true);
  assert.equal(existsSync(join(fs, 'pwned-too')), true);
  assert.equal((await tbuild(root, ['rmi', 'broken:1'])).code, 0);
});

test('import refuses a rootfs tarball whose entries escape, and keeps nothing', async () => {
  const before = snapshot();
  const file = join(tmp.dir, 'escape-rootfs.tar');
  writeFileSync(file, await layerTar([{ name: 'ok.txt' }, { name: '../../escape.txt' }]));
  const r = await tbuild(root, ['import', file, 'escaped:1']);
  assert.notEqual(r.code, 0);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0] as string, /^ERROR: .*layer entry "\.\.\/\.\.\/escape\.txt"/);
  assert.equal(snapshot(), before);
  const fsck = await tbuild(root, ['fsck']);
  assert.equal(fsck.code, 0, fsck.stderr);
  assert.doesNotMatch(fsck.stdout, /removed/);
});
