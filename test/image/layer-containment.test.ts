// Hostile layers (built here with tar-stream) never write outside the target: each trick is either
// rejected with a LayerError naming the entry, or contained inside the target (chroot-style).
import assert from 'node:assert/strict';
import { lstat, mkdir, readdir, readFile, readlink, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import tarStream from 'tar-stream';
import { applyLayer, LayerError } from '../../image/index.ts';
import { makeTempDir, privileged, snapshotTree } from './layer-helpers.ts';

interface Spec {
  name: string;
  type?: tarStream.Header['type'];
  linkname?: string;
  content?: string;
  mode?: number;
  pax?: Record<string, string>;
  devmajor?: number;
  devminor?: number;
}

/** A plain tar of `specs`, written by tar-stream (an independent writer). */
async function buildTar(specs: Spec[]): Promise<Buffer> {
  const pack = tarStream.pack();
  const chunks: Buffer[] = [];
  const collected = (async () => {
    for await (const chunk of pack) chunks.push(chunk as Buffer);
  })();
  for (const spec of specs) {
    const type = spec.type ?? 'file';
    const header = {
      name: spec.name,
      type,
      mode: spec.mode ?? (type === 'directory' ? 0o755 : 0o644),
      linkname: spec.linkname,
      pax: spec.pax,
      devmajor: spec.devmajor,
      devminor: spec.devminor,
      mtime: new Date(1_600_000_000_000),
    };
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error | null) => (err ? reject(err) : resolve());
      if (type === 'file') pack.entry(header, spec.content ?? '', done);
      else pack.entry(header, done);
    });
  }
  pack.finalize();
  await collected;
  return Buffer.concat(chunks);
}

let tmp: { dir: string; cleanup: () => Promise<void> };
let sentinel: string;
let sentinelBefore: Awaited<ReturnType<typeof snapshotTree>>;
let passwdBefore: string;
let caseNumber = 0;

before(async () => {
  tmp = await makeTempDir('layer-containment');
  sentinel = join(tmp.dir, 'sentinel');
  await mkdir(join(sentinel, 'sub'), { recursive: true });
  await writeFile(join(sentinel, 'secret'), 'do not touch');
  await writeFile(join(sentinel, 'sub/nested'), 'nested');
  await mkdir(join(tmp.dir, 'targets'));
  sentinelBefore = await snapshotTree(sentinel);
  passwdBefore = await readFile('/etc/passwd', 'utf8');
});
after(() => tmp.cleanup());

async function assertNothingOutside(): Promise<void> {
  assert.deepEqual(await snapshotTree(sentinel), sentinelBefore, 'sentinel dir unchanged');
  assert.deepEqual((await readdir(tmp.dir)).sort(), ['sentinel', 'targets']);
  assert.equal(await readFile('/etc/passwd', 'utf8'), passwdBefore);
}

async function freshTarget(): Promise<string> {
  const target = join(tmp.dir, 'targets', String(++caseNumber));
  await mkdir(target);
  return target;
}

/** Applies `specs` and expects a LayerError naming `entry`. */
async function expectRejected(specs: Spec[], entry: string, reason: RegExp): Promise<void> {
  const target = await freshTarget();
  await assert.rejects(applyLayer(Readable.from([await buildTar(specs)]), target), (error: unknown) => {
    assert.ok(error instanceof LayerError, `expected a LayerError, got ${String(error)}`);
    assert.equal(error.entry, entry);
    assert.ok(error.message.includes(JSON.stringify(entry)), `message names the entry: ${error.message}`);
    assert.match(error.message, reason);
    return true;
  });
  await assertNothingOutside();
}

/** Applies `specs` successfully and returns the target for further checks. */
async function expectContained(specs: Spec[], prepare?: (target: string) => Promise<void>): Promise<string> {
  const target = await freshTarget();
  await prepare?.(target);
  await applyLayer(Readable.from([await buildTar(specs)]), target);
  await assertNothingOutside();
  return target;
}

const inTarget = (target: string, path: string) => join(target, path);

test('".." components are rejected, in names and PAX paths', async () => {
  await expectRejected([{ name: '../escape', content: 'x' }], '../escape', /'\.\.' component/);
  await expectRejected([{ name: 'a/b/../../../escape', content: 'x' }], 'a/b/../../../escape', /'\.\.'/);
  await expectRejected([{ name: 'a/./../../escape', content: 'x' }], 'a/./../../escape', /'\.\.'/);
  // The ustar name looks harmless; the PAX path record overrides it.
  await expectRejected(
    [{ name: 'harmless', content: 'x', pax: { path: '../escape' } }],
    '../escape',
    /'\.\.'/,
  );
});

test('absolute names are taken relative to the target root, like Docker', async () => {
  const target = await expectContained([{ name: `${sentinel}/abs`, content: 'inside' }]);
  assert.equal(await readFile(inTarget(target, `${sentinel}/abs`), 'utf8'), 'inside');
});

test('a parent through a symlink resolves inside the root (a -> /outside, a/pwned)', async () => {
  let target = await expectContained([
    { name: 'a', type: 'symlink', linkname: sentinel },
    { name: 'a/pwned', content: 'contained' },
  ]);
  assert.equal(await readFile(inTarget(target, `${sentinel}/pwned`), 'utf8'), 'contained');

  target = await expectContained([
    { name: 'up', type: 'symlink', linkname: '../../../../../../..' },
    { name: 'up/pwned', content: 'at root' },
  ]);
  assert.equal(await readFile(inTarget(target, 'pwned'), 'utf8'), 'at root');

  target = await expectContained([
    { name: 'l1', type: 'symlink', linkname: 'l2' },
    { name: 'l2', type: 'symlink', linkname: `${sentinel}/sub` },
    { name: 'l1/x', content: 'chain' },
  ]);
  assert.equal(await readFile(inTarget(target, `${sentinel}/sub/x`), 'utf8'), 'chain');

  target = await expectContained([
    { name: 'p', type: 'symlink', linkname: '/proc/self/root' },
    // Aimed at the sentinel, not at a real system file, so a regression cannot damage the host.
    { name: `p${sentinel}/pwned`, content: 'evil' },
  ]);
  assert.equal(await readFile(inTarget(target, `proc/self/root${sentinel}/pwned`), 'utf8'), 'evil');
});

test('a symlink that replaces a directory after files were written stays contained', async () => {
  const target = await expectContained([
    { name: 'd', type: 'directory' },
    { name: 'd/f', content: 'first' },
    { name: 'd', type: 'symlink', linkname: sentinel },
    { name: 'd/g', content: 'second' },
  ]);
  assert.equal(await readlink(inTarget(target, 'd')), sentinel);
  assert.equal(await readFile(inTarget(target, `${sentinel}/g`), 'utf8'), 'second');
});

test('symlink loops and files used as directories are rejected', async () => {
  await expectRejected(
    [
      { name: 'l1', type: 'symlink', linkname: 'l2' },
      { name: 'l2', type: 'symlink', linkname: 'l1' },
      { name: 'l1/x', content: 'x' },
    ],
    'l1/x',
    /too many levels of symbolic links/,
  );
  await expectRejected(
    [
      { name: 'f', content: 'file' },
      { name: 'f/x', content: 'x' },
    ],
    'f/x',
    /not a directory/,
  );
});

test('an existing symlink at the entry path is replaced, never written through', async () => {
  let target = await expectContained([
    { name: 'f', type: 'symlink', linkname: `${sentinel}/secret` },
    { name: 'f', content: 'overwritten?' },
  ]);
  assert.ok((await lstat(inTarget(target, 'f'))).isFile());
  assert.equal(await readFile(inTarget(target, 'f'), 'utf8'), 'overwritten?');

  target = await expectContained([
    { name: 'd', type: 'symlink', linkname: sentinel },
    { name: 'd', type: 'directory', mode: 0o777 },
  ]);
  assert.ok((await lstat(inTarget(target, 'd'))).isDirectory());
  assert.equal((await lstat(inTarget(target, 'd'))).mode & 0o7777, 0o777);

  // A symlink already in the target (from a lower layer) is treated the same way.
  target = await expectContained([{ name: 'lower-link', content: 'replaced' }], async (t) => {
    const { symlink } = await import('node:fs/promises');
    await symlink(`${sentinel}/secret`, join(t, 'lower-link'));
  });
  assert.equal(await readFile(inTarget(target, 'lower-link'), 'utf8'), 'replaced');
});

test('hardlinks must point inside the root, to an existing non-directory', async () => {
  await expectRejected([{ name: 'h', type: 'link', linkname: '../sentinel/secret' }], 'h', /'\.\.'/);
  await expectRejected([{ name: 'h', type: 'link', linkname: `${sentinel}/secret` }], 'h', /does not exist/);
  await expectRejected(
    [
      { name: 's', type: 'symlink', linkname: sentinel },
      { name: 'h', type: 'link', linkname: 's/secret' },
    ],
    'h',
    /does not exist/,
  );
  await expectRejected(
    [
      { name: 'd', type: 'directory' },
      { name: 'h', type: 'link', linkname: 'd' },
    ],
    'h',
    /hardlink to a directory/,
  );
  await expectRejected([{ name: 'h', type: 'link', linkname: '' }], 'h', /root directory/);
  // A hardlink to a symlink that points outside links the symlink itself.
  const target = await expectContained([
    { name: 'evil', type: 'symlink', linkname: `${sentinel}/secret` },
    { name: 'h', type: 'link', linkname: 'evil' },
  ]);
  assert.ok((await lstat(inTarget(target, 'h'))).isSymbolicLink());
  assert.equal((await stat(join(sentinel, 'secret'))).nlink, 1);
});

test('whiteouts cannot name ".", ".." or reach outside', async () => {
  await expectRejected([{ name: '.wh...' }], '.wh...', /whiteout names "\.\."/);
  await expectRejected([{ name: 'sub/.wh..' }], 'sub/.wh..', /whiteout names "\."/);
  await expectRejected([{ name: '.wh.' }], '.wh.', /whiteout names ""/);
  await expectRejected([{ name: '../.wh.sentinel' }], '../.wh.sentinel', /'\.\.'/);
  // Through a symlinked parent: resolves inside the root, where there is nothing to delete.
  await expectContained([{ name: 'w', type: 'symlink', linkname: tmp.dir }, { name: 'w/.wh.sentinel' }]);
  // A whiteout of a symlink removes the link, not what it points to.
  const target = await expectContained([
    { name: 'link', type: 'symlink', linkname: sentinel },
    { name: '.wh.link' },
  ]);
  assert.deepEqual(await readdir(target), []);
  // An opaque marker below a symlink to outside clears nothing outside.
  await expectContained([{ name: 'o', type: 'symlink', linkname: sentinel }, { name: 'o/.wh..wh..opq' }]);
  // An opaque marker at the root clears only the target's lower content.
  const cleared = await expectContained([{ name: '.wh..wh..opq' }, { name: 'new', content: 'n' }], (t) =>
    writeFile(join(t, 'old'), 'old'),
  );
  assert.deepEqual(await readdir(cleared), ['new']);
});

test('NUL bytes in names and link targets are rejected', async () => {
  await expectRejected([{ name: 'x\u0000y', content: 'x', pax: {} }], 'x\u0000y', /NUL/);
  await expectRejected([{ name: 's', type: 'symlink', linkname: 'a\u0000/etc/passwd', pax: {} }], 's', /NUL/);
});

test('the root cannot be replaced; odd but harmless names stay inside', async () => {
  await expectRejected([{ name: './', type: 'symlink', linkname: sentinel }], './', /root directory/);
  await expectRejected([{ name: '.', content: 'x' }], '.', /root directory/);
  const target = await expectContained([
    { name: './././ok', content: 'ok' },
    { name: '//double//slash', content: 'ds' },
    { name: '..\\x', content: 'backslash' },
    { name: '...', content: 'three dots' },
  ]);
  assert.equal(await readFile(inTarget(target, 'ok'), 'utf8'), 'ok');
  assert.equal(await readFile(inTarget(target, 'double/slash'), 'utf8'), 'ds');
  assert.equal(await readFile(inTarget(target, '..\\x'), 'utf8'), 'backslash');
  assert.equal(await readFile(inTarget(target, '...'), 'utf8'), 'three dots');
});

test('a fifo or device at a path is replaced by a later file, never opened', {
  timeout: 10_000,
}, async () => {
  const specs: Spec[] = [
    { name: 'p', type: 'fifo' },
    { name: 'p', content: 'not into the fifo' },
  ];
  if (privileged) {
    specs.push({ name: 'null', type: 'character-device', devmajor: 1, devminor: 3 });
    specs.push({ name: 'null', content: 'not into /dev/null' });
    specs.push({ name: 'blk', type: 'block-device', devmajor: 7, devminor: 0 });
    specs.push({ name: 'blk-link', type: 'link', linkname: 'blk' });
    specs.push({ name: 'blk-link', content: 'not into the loop device' });
  }
  const target = await expectContained(specs);
  assert.equal(await readFile(inTarget(target, 'p'), 'utf8'), 'not into the fifo');
  if (privileged) {
    assert.equal(await readFile(inTarget(target, 'null'), 'utf8'), 'not into /dev/null');
    assert.equal(await readFile(inTarget(target, 'blk-link'), 'utf8'), 'not into the loop device');
    assert.ok((await lstat(inTarget(target, 'blk'))).isBlockDevice());
  }
});
