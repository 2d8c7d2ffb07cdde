// Round trips through tbuild's docker and OCI archives, checked by independent tools (skopeo,
// umoci) and by byte comparison: save → load → save must give the same bytes and image ID.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { needCommands, skipReason } from '../needs.ts';
import { makeBusyboxArchive, makeTempDir, run, tbuild } from './helpers.ts';

const tmp = makeTempDir();
const busybox = join(tmp.dir, 'busybox.tar');
let busyboxId = '';

before(async () => {
  makeBusyboxArchive(busybox);
  const root = join(tmp.dir, 'root-a');
  const r = await tbuild(root, ['load', '-i', busybox]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'Loaded image: busybox:latest\n');
  busyboxId = (await tbuild(root, ['images', '-q', '--no-trunc'])).stdout.trim();
  assert.match(busyboxId, /^sha256:[a-f0-9]{64}$/);
});
after(() => tmp.cleanup());

describe('docker archive', () => {
  test('load then save again gives an archive skopeo reads and copies', {
    skip: skipReason(needCommands('skopeo')),
  }, async () => {
    const out = join(tmp.dir, 'saved-docker.tar');
    const r = await tbuild(join(tmp.dir, 'root-a'), ['save', '-o', out, 'busybox']);
    assert.equal(r.code, 0, r.stderr);
    const info = JSON.parse(run('skopeo', ['inspect', `docker-archive:${out}`])) as {
      Layers: string[];
      Os: string;
    };
    assert.equal(info.Os, 'linux');
    assert.equal(info.Layers.length, 1);
    const config = JSON.parse(run('skopeo', ['inspect', '--config', `docker-archive:${out}`])) as {
      rootfs: { diff_ids: string[] };
    };
    assert.deepEqual(info.Layers, config.rootfs.diff_ids);
    const ociDir = join(tmp.dir, 'skopeo-oci');
    run('skopeo', ['copy', '-q', `docker-archive:${out}`, `oci:${ociDir}:tag`]);
    const index = JSON.parse(readFileSync(join(ociDir, 'index.json'), 'utf8')) as { manifests: unknown[] };
    assert.equal(index.manifests.length, 1);
  });

  test('save → load → save is byte-identical and keeps the image ID', async () => {
    const first = join(tmp.dir, 'rt1.tar');
    const second = join(tmp.dir, 'rt2.tar');
    assert.equal((await tbuild(join(tmp.dir, 'root-a'), ['save', '-o', first, 'busybox:latest'])).code, 0);
    const rootB = join(tmp.dir, 'root-b');
    const load = await tbuild(rootB, ['load', '-i', first]);
    assert.equal(load.code, 0, load.stderr);
    assert.equal((await tbuild(rootB, ['images', '-q', '--no-trunc'])).stdout.trim(), busyboxId);
    assert.equal((await tbuild(rootB, ['save', '-o', second, 'busybox:latest'])).code, 0);
    assert.ok(readFileSync(first).equals(readFileSync(second)), 'archives differ');
  });
});

describe('OCI archive', () => {
  test('umoci unpacks what save --format oci writes', {
    skip: skipReason(needCommands('umoci')),
  }, async () => {
    const out = join(tmp.dir, 'saved-oci.tar');
    const r = await tbuild(join(tmp.dir, 'root-a'), ['save', '--format', 'oci', '-o', out, 'busybox']);
    assert.equal(r.code, 0, r.stderr);
    const layout = join(tmp.dir, 'oci-layout');
    run('mkdir', ['-p', layout]);
    run('tar', ['-xf', out, '-C', layout]);
    const bundle = join(tmp.dir, 'bundle');
    const rootless = process.getuid?.() === 0 ? [] : ['--rootless'];
    run('umoci', ['unpack', ...rootless, '--image', `${layout}:latest`, bundle]);
    assert.ok(statSync(join(bundle, 'rootfs', 'bin', 'busybox')).size > 100_000);
    assert.equal(
      readFileSync(join(bundle, 'rootfs', 'etc', 'passwd'), 'utf8').split('\n')[0],
      'root:x:0:0:root:/root:/bin/sh',
    );
    assert.equal(statSync(join(bundle, 'rootfs', 'tmp')).mode & 0o7777, 0o1777);
  });

  test("an OCI layout made by skopeo copy loads, under skopeo's config digest", {
    skip: skipReason(needCommands('skopeo')),
  }, async () => {
    const dir = join(tmp.dir, 'skopeo-made');
    run('skopeo', ['copy', '-q', `docker-archive:${busybox}`, `oci:${dir}:latest`]);
    const tarball = join(tmp.dir, 'skopeo-made.tar');
    run('tar', ['-cf', tarball, '-C', dir, '.']);
    const root = join(tmp.dir, 'root-c');
    const r = await tbuild(root, ['load', '-i', tarball]);
    assert.equal(r.code, 0, r.stderr);
    // skopeo rewrites the config when converting (so the ID is its config digest, not ours), and
    // its ref.name is the bare tag "latest", which names no repository: the image loads untagged.
    const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as {
      manifests: { digest: string }[];
    };
    const manifestHex = (index.manifests[0]?.digest ?? '').replace('sha256:', '');
    const manifest = JSON.parse(readFileSync(join(dir, 'blobs', 'sha256', manifestHex), 'utf8')) as {
      config: { digest: string };
    };
    assert.equal(r.stdout, `Loaded image ID: ${manifest.config.digest}\n`);
    const inspected = JSON.parse((await tbuild(root, ['inspect', manifest.config.digest])).stdout) as {
      RootFS: { Layers: string[] };
    }[];
    const original = JSON.parse((await tbuild(join(tmp.dir, 'root-a'), ['inspect', 'busybox'])).stdout) as {
      RootFS: { Layers: string[] };
    }[];
    assert.deepEqual(inspected[0]?.RootFS.Layers, original[0]?.RootFS.Layers);
    const images = (await tbuild(root, ['images'])).stdout.split('\n');
    assert.match(images[1] ?? '', /^<none>\s+<none>\s+[a-f0-9]{12}\s/);
  });

  test('save --format oci → load → save is byte-identical; gzipped archives load too', async () => {
    const first = join(tmp.dir, 'oci1.tar');
    const second = join(tmp.dir, 'oci2.tar');
    assert.equal(
      (await tbuild(join(tmp.dir, 'root-a'), ['save', '--format', 'oci', '-o', first, 'busybox'])).code,
      0,
    );
    run('sh', ['-c', `gzip -c ${first} > ${first}.gz`]);
    const rootD = join(tmp.dir, 'root-d');
    const load = await tbuild(rootD, ['load', '-i', `${first}.gz`]);
    assert.equal(load.code, 0, load.stderr);
    assert.equal(load.stdout, 'Loaded image: busybox:latest\n');
    assert.equal((await tbuild(rootD, ['save', '--format', 'oci', '-o', second, 'busybox'])).code, 0);
    assert.ok(readFileSync(first).equals(readFileSync(second)), 'archives differ');
    assert.equal((await tbuild(rootD, ['images', '-q', '--no-trunc'])).stdout.trim(), busyboxId);
    assert.ok(!existsSync(`${second}.tmp-${process.pid}`));
  });
});
