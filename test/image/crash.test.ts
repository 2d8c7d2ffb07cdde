// kill -9 in the middle of a large load: the store must stay sound (fsck clean) and the load
// must work when repeated. The ~200 MB archive is generated, with manifest.json after the layer.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { after, test } from 'node:test';
import tar from 'tar-stream';
import { makeTempDir, repoRoot, tbuild } from './helpers.ts';

const tmp = makeTempDir();
after(() => tmp.cleanup());

/** Writes a docker-save archive whose single layer holds one file of `size` bytes. */
async function writeLargeArchive(path: string, size: number): Promise<void> {
  const block = randomBytes(1 << 20);
  const layerSize = 512 + size + 1024; // header + data (a multiple of 512) + end-of-archive
  const outer = tar.pack();
  const written = pipeline(outer, createWriteStream(path));
  const diff = createHash('sha256');
  const entry = outer.entry({
    name: 'layer/layer.tar',
    size: layerSize,
    mtime: new Date(0),
  }) as unknown as NodeJS.WritableStream;
  const inner = tar.pack();
  const innerEntry = inner.entry({
    name: 'big.bin',
    size,
    mtime: new Date(0),
  }) as unknown as NodeJS.WritableStream;
  const feed = (async () => {
    for (let i = 0; i < size / block.length; i++) {
      block.writeUInt32LE(i, 0); // every MiB differs
      if (!innerEntry.write(Buffer.from(block))) await new Promise((r) => innerEntry.once('drain', r));
    }
    innerEntry.end();
    inner.finalize();
  })();
  for await (const chunk of inner as unknown as AsyncIterable<Buffer>) {
    diff.update(chunk);
    if (!entry.write(chunk)) await new Promise((r) => entry.once('drain', r));
  }
  await feed;
  await new Promise<void>((resolve, reject) => {
    entry.once('finish', resolve);
    entry.once('error', reject);
    entry.end();
  });
  const config = JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    rootfs: { type: 'layers', diff_ids: [`sha256:${diff.digest('hex')}`] },
  });
  const configHex = createHash('sha256').update(config).digest('hex');
  outer.entry({ name: `${configHex}.json`, mtime: new Date(0) }, config);
  outer.entry(
    { name: 'manifest.json', mtime: new Date(0) },
    JSON.stringify([{ Config: `${configHex}.json`, RepoTags: ['big:1'], Layers: ['layer/layer.tar'] }]),
  );
  outer.finalize();
  await written;
}

test('a load killed with SIGKILL leaves a store that fsck finds clean, and the load can be repeated', async () => {
  const archive = join(tmp.dir, 'big.tar');
  await writeLargeArchive(archive, 200 << 20);
  const root = join(tmp.dir, 'root');
  const child = spawn(
    process.execPath,
    [join(repoRoot, 'bin', 'tbuild.js'), '--root', root, 'load', '-i', archive],
    {
      stdio: 'ignore',
    },
  );
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.on('exit', (_c, signal) => resolve(signal)),
  );
  // Kill once a good part of the layer is in the store's temp dir.
  const tmpDir = join(root, 'image', 'tmp');
  const deadline = Date.now() + 60_000;
  for (;;) {
    let biggest = 0;
    try {
      for (const name of readdirSync(tmpDir)) biggest = Math.max(biggest, statSync(join(tmpDir, name)).size);
    } catch {
      // not created yet
    }
    if (biggest > 40 << 20) break;
    assert.ok(Date.now() < deadline, 'the load never got going');
    await new Promise((r) => setTimeout(r, 20));
  }
  child.kill('SIGKILL');
  assert.equal(await exited, 'SIGKILL');

  const fsck = await tbuild(root, ['fsck']);
  assert.equal(fsck.code, 0, fsck.stderr);
  // The partial blob is gone: opening the store (any command, here fsck) removes a dead writer's temps.
  assert.deepEqual(readdirSync(tmpDir), []);
  assert.equal((await tbuild(root, ['images', '-q'])).stdout, '');

  const again = await tbuild(root, ['load', '-i', archive]);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.stdout, 'Loaded image: big:1\n');
  const second = await tbuild(root, ['fsck']);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /checked 3 blobs, 1 images/);
});
