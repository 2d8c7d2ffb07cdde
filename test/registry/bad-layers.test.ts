// A pulled layer that can never be applied is refused by pull (issue 12, finding 7), as load
// refuses it (test/image/bad-input.test.ts): one line naming the layer and the entry, exit 1, no
// tag, no blob kept, fsck clean. The same registry serves a sound image that pulls.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import tar from 'tar-stream';
import { skipReason } from '../needs.ts';
import { skopeo, startRegistry, type TestRegistry, tbuild, whyNoRegistry } from './helpers.ts';

const skip = skipReason(whyNoRegistry());
let work = '';
let registry: TestRegistry | undefined;

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

interface Entry {
  name: string;
  type?: 'file' | 'symlink' | 'link';
  linkname?: string;
}

async function packTar(entries: (Entry & { data?: Buffer | string })[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  for (const e of entries) {
    const { data, ...header } = e;
    pack.entry({ mtime: new Date(0), mode: 0o644, ...header }, data ?? (e.type ? '' : `${e.name}\n`));
  }
  pack.finalize();
  for await (const c of pack as unknown as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

/** An OCI archive of one image with `layer` as its only (uncompressed) layer. */
async function ociArchive(layer: Buffer): Promise<Buffer> {
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
          mediaType: 'application/vnd.oci.image.layer.v1.tar',
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
      },
    ],
  };
  return packTar([
    { name: 'oci-layout', data: '{"imageLayoutVersion":"1.0.0"}' },
    { name: `blobs/sha256/${sha(layer)}`, data: layer },
    { name: `blobs/sha256/${sha(config)}`, data: config },
    { name: `blobs/sha256/${sha(manifest)}`, data: manifest },
    { name: 'index.json', data: JSON.stringify(index) },
  ]);
}

async function push(name: string, layer: Buffer): Promise<string> {
  const file = join(work, `${name}.tar`);
  writeFileSync(file, await ociArchive(layer));
  const ref = `${registry?.host}/${name}:1`;
  await skopeo(['copy', '--dest-tls-verify=false', `oci-archive:${file}`, `docker://${ref}`]);
  return ref;
}

before(async () => {
  if (skip) return;
  work = await mkdtemp(join(tmpdir(), 'tbuild-bad-layers-'));
  registry = await startRegistry(join(work, 'registry'));
});
after(async () => {
  await registry?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

test('pull refuses a hardlink through a symlink and keeps nothing; a sound image pulls', {
  skip,
}, async () => {
  const root = join(work, 'root');
  const bad = await push(
    'bad',
    await packTar([
      { name: 'etc', type: 'symlink', linkname: '/nonexistent' },
      { name: 'passwd', type: 'link', linkname: 'etc/passwd' },
    ]),
  );
  const r = await tbuild(root, ['pull', bad]);
  assert.equal(r.code, 1, r.stderr);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0] as string, /^ERROR: .*layer sha256:[a-f0-9]{64}: layer entry "passwd": /);
  assert.deepEqual(JSON.parse(readFileSync(join(root, 'image', 'index.json'), 'utf8')).manifests, []);
  assert.deepEqual(readdirSync(join(root, 'image', 'blobs', 'sha256')), []);
  const fsck = await tbuild(root, ['fsck']);
  assert.equal(fsck.code, 0, fsck.stderr);
  assert.doesNotMatch(fsck.stdout, /removed/);

  const good = await push('good', await packTar([{ name: 'hello.txt' }]));
  const ok = await tbuild(root, ['pull', good]);
  assert.equal(ok.code, 0, ok.stderr);
});
