// The store API the build uses, and its safety properties: verified writes and reads, damage
// found by fsck, dangling images on retag, shared blobs kept, concurrent processes.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type Digest, digestOf, ImageStore, MediaType, resolveRoot } from '../../image/index.ts';
import { acquireLock, tryLock } from '../../locks.ts';
import { makeBusyboxArchive, makeTempDir, packTar, tbuild } from './helpers.ts';

const tmp = makeTempDir();
after(() => tmp.cleanup());

before(() => makeBusyboxArchive(join(tmp.dir, 'busybox.tar')));

async function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

test('root: --root, then TBUILD_ROOT, then /var/lib/tbuild (root) or XDG_DATA_HOME', () => {
  const saved = { ...process.env };
  try {
    assert.equal(resolveRoot('/x'), '/x');
    process.env.TBUILD_ROOT = '/from-env';
    assert.equal(resolveRoot(undefined), '/from-env');
    delete process.env.TBUILD_ROOT;
    process.env.XDG_DATA_HOME = '/xdg';
    assert.equal(resolveRoot(undefined), process.getuid?.() === 0 ? '/var/lib/tbuild' : '/xdg/tbuild');
  } finally {
    process.env = saved;
  }
});

test('putBlob verifies, getBlob re-verifies, a wrong digest adds nothing', async () => {
  const store = await ImageStore.open(join(tmp.dir, 'api'));
  try {
    const data = Buffer.from('some layer bytes');
    const info = await store.putBlob(data, { digest: digestOf(data) });
    assert.equal(info.digest, digestOf(data));
    assert.equal(info.created, true);
    assert.deepEqual(await collect(store.getBlob(info.digest)), data);
    const wrong = `sha256:${'0'.repeat(64)}` as Digest;
    await assert.rejects(store.putBlob(Buffer.from('other'), { digest: wrong }), /digest mismatch/);
    assert.equal(await store.hasBlob(wrong), false);
    assert.equal(await store.hasBlob(digestOf('other')), false);
    assert.deepEqual(readdirSync(join(store.dir, 'tmp')), []);
    // Corrupt the stored file: the read stream fails at the end.
    writeFileSync(store.blobPath(info.digest), 'tampered');
    await assert.rejects(collect(store.getBlob(info.digest)), /digest mismatch/);
  } finally {
    await store.close();
  }
});

test('putImage writes an OCI manifest; retagging leaves the old image dangling; shared layers survive rmi', async () => {
  const root = join(tmp.dir, 'tags');
  const store = await ImageStore.open(root);
  try {
    const layer = await packTar([{ name: 'a.txt', data: 'a' }]);
    const blob = await store.putBlob(layer);
    const desc = { mediaType: MediaType.ociLayer, digest: blob.digest, size: blob.size };
    const config = (created: string) => ({
      architecture: 'amd64',
      os: 'linux',
      created,
      rootfs: { type: 'layers' as const, diff_ids: [blob.digest] },
    });
    const first = await store.putImage({ config: config('2020-01-01T00:00:00Z'), layers: [desc] }, ['app:1']);
    const manifest = await store.readManifest(first.digest);
    assert.equal(manifest.mediaType, MediaType.ociManifest);
    assert.deepEqual(manifest.layers, [desc]);
    const firstId = (await store.resolve('app:1')).id;
    const second = await store.putImage({ config: config('2021-01-01T00:00:00Z'), layers: [desc] }, [
      'app:1',
    ]);
    assert.notEqual(second.digest, first.digest);
    const images = await store.listImages();
    assert.equal(images.length, 2);
    assert.deepEqual(images.find((i) => i.id === firstId)?.tags, []);
    assert.deepEqual((await store.resolve('app:1')).tags, ['docker.io/library/app:1']);
  } finally {
    await store.close();
  }
  // Remove the tagged image: the layer is still used by the dangling one, so it stays.
  const r = await tbuild(root, ['rmi', 'app:1']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Untagged: app:1\nDeleted: sha256:[a-f0-9]{64}\n$/);
  const store2 = await ImageStore.open(root);
  try {
    const left = await store2.listImages();
    assert.equal(left.length, 1);
    assert.equal(await store2.hasBlob(left[0]?.manifest.layers[0]?.digest as Digest), true);
  } finally {
    await store2.close();
  }
  assert.equal((await tbuild(root, ['fsck'])).code, 0);
});

test('fsck reports a corrupt blob and exits 1', async () => {
  const root = join(tmp.dir, 'damaged');
  assert.equal((await tbuild(root, ['load', '-i', join(tmp.dir, 'busybox.tar')])).code, 0);
  const blobs = join(root, 'image', 'blobs', 'sha256');
  const config = readdirSync(blobs).find((n) => readFileSync(join(blobs, n), 'utf8').includes('"rootfs"'));
  assert.ok(config);
  writeFileSync(join(blobs, config), '{"tampered":true}');
  const r = await tbuild(root, ['fsck']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`damaged: blob sha256:${config}: content has digest`));
});

test('the lock excludes a second holder until released', async () => {
  const path = join(tmp.dir, 'lockfile');
  const first = await acquireLock(path);
  let secondGot = false;
  const second = acquireLock(path).then((l) => {
    secondGot = true;
    return l;
  });
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(secondGot, false);
  await first.release();
  await (await second).release();
  assert.equal(secondGot, true);
});

test('the lock is a kernel flock that stays held after the helper exits, until release', async () => {
  const path = join(tmp.dir, 'lockfile2');
  const tryLock = () => spawnSync('flock', ['-n', path, 'true']).status;
  const held = await acquireLock(path);
  assert.equal(tryLock(), 1, 'another process cannot take it while held');
  await held.release();
  assert.equal(tryLock(), 0, 'free once released');
});

test('shared locks coexist and keep an exclusive one out; tryLock does not wait', async () => {
  const path = join(tmp.dir, 'lockfile3');
  const a = await acquireLock(path, { shared: true });
  const b = await acquireLock(path, { shared: true });
  assert.equal(await tryLock(path), undefined, 'no exclusive lock while shared ones are held');
  await a.release();
  assert.equal(await tryLock(path), undefined, 'one shared holder is enough to keep it out');
  await b.release();
  const exclusive = await tryLock(path);
  assert.ok(exclusive, 'free once every shared holder released');
  assert.equal(await tryLock(path, { shared: true }), undefined);
  await exclusive.release();
});

test('concurrent loads from several processes all land, and the store stays sound', async () => {
  const root = join(tmp.dir, 'concurrent');
  const names = ['one', 'two', 'three', 'four'];
  for (const n of names) makeBusyboxArchive(join(tmp.dir, `${n}.tar`), `${n}:latest`);
  const results = await Promise.all(
    names.map((n) => tbuild(root, ['load', '-i', join(tmp.dir, `${n}.tar`)])),
  );
  for (const r of results) assert.equal(r.code, 0, r.stderr);
  const listed = (await tbuild(root, ['images', '--format', 'json'])).stdout
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { Repository: string }).Repository)
    .sort();
  assert.deepEqual(listed, [...names].sort());
  const fsck = await tbuild(root, ['fsck']);
  assert.equal(fsck.code, 0, fsck.stderr);
  assert.match(fsck.stdout, /checked 3 blobs, 1 images/);
});
