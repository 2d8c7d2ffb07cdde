// The other `docker save` layouts: Docker ≥ 25 (blobs/sha256/… named in manifest.json) and the
// pre-1.10 one (repositories + <id>/json parent chains, no manifest.json); and stdin input.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { makeBusyboxArchive, makeTempDir, packTar, tbuild, unpackTar } from './helpers.ts';

const tmp = makeTempDir();
let files: Map<string, Buffer>;
let layer: Buffer;
let diffHex: string;
let configName: string;
after(() => tmp.cleanup());

before(async () => {
  makeBusyboxArchive(join(tmp.dir, 'busybox.tar'));
  files = await unpackTar(readFileSync(join(tmp.dir, 'busybox.tar')));
  const manifest = JSON.parse((files.get('manifest.json') as Buffer).toString()) as {
    Config: string;
    Layers: string[];
  }[];
  configName = manifest[0]?.Config as string;
  layer = files.get(manifest[0]?.Layers[0] as string) as Buffer;
  diffHex = createHash('sha256').update(layer).digest('hex');
});

test('Docker ≥ 25 layout: manifest.json pointing into blobs/sha256', async () => {
  const config = files.get(configName) as Buffer;
  const configHex = configName.replace('.json', '');
  const archive = await packTar([
    { name: 'blobs/sha256/', data: '' },
    { name: `blobs/sha256/${diffHex}`, data: layer },
    { name: `blobs/sha256/${configHex}`, data: config },
    {
      name: 'manifest.json',
      data: JSON.stringify([
        {
          Config: `blobs/sha256/${configHex}`,
          RepoTags: ['new:layout'],
          Layers: [`blobs/sha256/${diffHex}`],
        },
      ]),
    },
  ]);
  const file = join(tmp.dir, 'new.tar');
  writeFileSync(file, archive);
  const root = join(tmp.dir, 'root-new');
  const r = await tbuild(root, ['load', '-i', file]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'Loaded image: new:layout\n');
  assert.equal((await tbuild(root, ['images', '-q', '--no-trunc'])).stdout, `sha256:${configHex}\n`);
});

test('pre-1.10 layout: repositories and <id>/json chains, read from stdin', async () => {
  const parentId = 'a'.repeat(64);
  const topId = 'b'.repeat(64);
  const empty = await packTar([]);
  const archive = await packTar([
    {
      name: `${parentId}/json`,
      data: JSON.stringify({ id: parentId, created: '2015-01-01T00:00:00Z', os: 'linux' }),
    },
    { name: `${parentId}/layer.tar`, data: layer },
    {
      name: `${topId}/json`,
      data: JSON.stringify({
        id: topId,
        parent: parentId,
        created: '2015-01-02T00:00:00Z',
        os: 'linux',
        architecture: 'amd64',
        config: { Cmd: ['sh'] },
        container_config: { Cmd: ['/bin/sh', '-c', '#(nop) CMD ["sh"]'] },
      }),
    },
    { name: `${topId}/layer.tar`, data: empty },
    { name: 'repositories', data: JSON.stringify({ old: { v1: topId } }) },
  ]);
  const root = join(tmp.dir, 'root-old');
  const r = await tbuild(root, ['load'], archive);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'Loaded image: old:v1\n');
  const [doc] = JSON.parse((await tbuild(root, ['inspect', 'old:v1'])).stdout) as {
    RootFS: { Layers: string[] };
    Config: { Cmd: string[] };
    Created: string;
  }[];
  assert.deepEqual(doc?.RootFS.Layers, [
    `sha256:${diffHex}`,
    `sha256:${createHash('sha256').update(empty).digest('hex')}`,
  ]);
  assert.deepEqual(doc?.Config.Cmd, ['sh']);
  assert.equal(doc?.Created, '2015-01-02T00:00:00Z');
  assert.equal((await tbuild(root, ['fsck'])).code, 0);
});
