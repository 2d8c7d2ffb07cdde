// A pulled layer that can never be applied is refused by pull (issue 12, finding 7), as load
// refuses it (test/image/bad-input.test.ts): one line naming the layer and the entry, exit 1, no
// tag, no blob kept, fsck clean. The same registry serves a sound image that pulls.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { layerTar, ociLayoutArchive } from '../image/helpers.ts';
import { skipReason } from '../needs.ts';
import { skopeo, startRegistry, type TestRegistry, tbuild, whyNoRegistry } from './helpers.ts';

const skip = skipReason(whyNoRegistry());
let work = '';
let registry: TestRegistry | undefined;

async function push(name: string, layer: Buffer): Promise<string> {
  const file = join(work, `${name}.tar`);
  writeFileSync(file, await ociLayoutArchive(layer));
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
    await layerTar([
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

  const good = await push('good', await layerTar([{ name: 'hello.txt' }]));
  const ok = await tbuild(root, ['pull', good]);
  assert.equal(ok.code, 0, ok.stderr);
});
