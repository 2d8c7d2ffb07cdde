// Every entry type survives pack → apply, and GNU tar (an independent implementation) reads our
// layers the same way and writes tars we apply the same way.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmod, lchown, link, lutimes, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setAttribute } from '@napi-rs/xattr';
import { applyLayer, listLayer } from '../../image/index.ts';
import {
  makeTempDir,
  type NodeRecord,
  packToFile,
  privileged,
  readStream,
  run,
  snapshotTree,
} from './layer-helpers.ts';

let tmp: { dir: string; cleanup: () => Promise<void> };
let src: string;

// VFS_CAP_REVISION_2 with the effective flag, permitting CAP_SETUID (bit 7 → byte 0x80, which
// UTF-8 handling would corrupt) and CAP_NET_RAW (bit 13).
const CAPABILITY = Buffer.from('0100000280200000000000000000000000000000', 'hex');
const BINARY = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
const LONG_DIR = `deep/${'d'.repeat(60)}/${'e'.repeat(60)}`; // 128 bytes: fits ustar prefix+name
const LONG_BASE = 'n'.repeat(120); // a base name over 100 bytes: needs a PAX path
const UNICODE = 'héllo-世界-😀.txt';

/** Builds a tree with every entry type a layer carries; root-only kinds only when root. */
async function buildTree(root: string): Promise<void> {
  const at = (p: string) => join(root, p);
  await mkdir(at('dirs/sticky'), { recursive: true });
  await mkdir(at('dirs/setgid/inner'), { recursive: true });
  await mkdir(at(LONG_DIR), { recursive: true });
  await writeFile(at('empty'), '');
  await writeFile(at('small.txt'), 'hello layer\n');
  await writeFile(at('large.bin'), randomBytes(3 * 1024 * 1024 + 17));
  await writeFile(at('setuid'), '#!/bin/sh\n');
  await writeFile(at('setgid-file'), 'g');
  await writeFile(at('dirs/setgid/inner/file'), 'inner');
  await writeFile(at(`${LONG_DIR}/${LONG_BASE}`), 'long');
  await writeFile(at(`${LONG_DIR}/short`), 'short');
  await writeFile(at(UNICODE), 'unicode');
  await writeFile(at('hard-a'), 'linked content');
  await link(at('hard-a'), at('dirs/hard-b'));
  await link(at('hard-a'), at('dirs/setgid/hard-c'));
  await symlink('../small.txt', at('dirs/rel-link'));
  await symlink('/etc/passwd', at('abs-link'));
  await symlink('does/not/exist', at('dangling'));
  await symlink(UNICODE, at('unicode-link'));
  await symlink(`${'t'.repeat(150)}/target`, at('long-target'));
  run('mkfifo', [at('fifo')]);
  await setAttribute(at('small.txt'), 'user.comment', 'a comment');
  await setAttribute(at('small.txt'), 'user.binary', BINARY);
  await setAttribute(at('dirs'), 'user.on-dir', 'yes');
  await chmod(at('setuid'), 0o4755);
  await chmod(at('setgid-file'), 0o2711);
  await chmod(at('dirs/sticky'), 0o1777);
  await chmod(at('dirs/setgid'), 0o2755);
  if (privileged) {
    // Only root can read a mode-0000 file back to pack it.
    await writeFile(at('no-perms'), 'secret');
    await chmod(at('no-perms'), 0o000);
    run('mknod', [at('char-dev'), 'c', '1', '3']);
    run('mknod', [at('block-dev'), 'b', '7', '200']);
    await setAttribute(at('setuid'), 'security.capability', CAPABILITY);
    await setAttribute(at('dirs/setgid/inner/file'), 'trusted.note', BINARY);
    await lchown(at('dirs/setgid/inner/file'), 300000, 300001);
    await lchown(at('dirs/setgid/inner'), 1000, 1000);
    await lchown(at('abs-link'), 4242, 4343);
    // chown clears setuid and file capabilities: restore them, as a package manager would.
    await chmod(at('setuid'), 0o4755);
  }
  // Distinct, fixed mtimes; directories last so creating children does not move them.
  const stamp = (seconds: number) => new Date(seconds * 1000);
  let t = 1_600_000_000;
  for (const p of [
    'empty',
    'small.txt',
    'large.bin',
    'setuid',
    'setgid-file',
    ...(privileged ? ['no-perms'] : []),
    UNICODE,
    'hard-a',
  ]) {
    await lutimes(at(p), stamp(t), stamp(t));
    t += 1000;
  }
  for (const p of ['dirs/rel-link', 'abs-link', 'dangling', 'unicode-link', 'long-target', 'fifo']) {
    await lutimes(at(p), stamp(t), stamp(t));
    t += 1000;
  }
  for (const p of ['dirs/setgid/inner', 'dirs/setgid', 'dirs/sticky', 'dirs', `${LONG_DIR}`, 'deep']) {
    await lutimes(at(p), stamp(t), stamp(t));
    t += 1000;
  }
}

before(async () => {
  tmp = await makeTempDir('layer-fidelity');
  src = join(tmp.dir, 'src');
  await mkdir(src);
  await buildTree(src);
});
after(() => tmp.cleanup());

test('the source tree holds every kind of entry the test means to cover', async () => {
  const tree = await snapshotTree(src);
  const types = new Set(Object.values(tree).map((r) => r.type));
  const expected = ['file', 'dir', 'symlink', 'fifo', ...(privileged ? ['char', 'block'] : [])];
  for (const type of expected) assert.ok(types.has(type), `tree lacks a ${type}`);
  assert.equal(tree['dirs/hard-b']?.linkGroup, 'dirs/hard-b');
  assert.equal(tree.setuid?.mode, '4755');
  if (privileged) {
    assert.equal(tree.setuid?.xattrs['security.capability'], CAPABILITY.toString('hex'));
    assert.equal(tree['dirs/setgid/inner/file']?.uid, 300000);
  }
});

test('pack then apply reproduces the tree exactly (gzip and plain)', async () => {
  const before = await snapshotTree(src);
  for (const compression of ['gzip', 'none'] as const) {
    const blob = join(tmp.dir, `layer-${compression}`);
    const digests = await packToFile({ kind: 'directory', path: src }, blob, { compression });
    const out = join(tmp.dir, `applied-${compression}`);
    const result = await applyLayer(readStream(blob), out);
    assert.deepEqual(result.warnings, []);
    assert.equal(result.diffID, digests.diffID);
    assert.equal(result.digest, digests.digest);
    assert.deepEqual(await snapshotTree(out), before);
  }
});

test('the listing shows each entry with its type, mode, owner, size and link', async () => {
  const blob = join(tmp.dir, 'layer-list');
  await packToFile({ kind: 'directory', path: src }, blob);
  const entries = await listLayer(readStream(blob));
  const byPath = new Map(entries.map((e) => [e.path.replace(/\/$/, ''), e]));
  const tree = await snapshotTree(src);
  assert.deepEqual([...byPath.keys()].sort(), Object.keys(tree).sort());
  assert.deepEqual(
    entries.map((e) => e.path),
    [...entries.map((e) => e.path)].sort(walkOrder),
    'entries come in sorted depth-first order',
  );
  const large = byPath.get('large.bin');
  assert.equal(large?.type, 'file');
  assert.equal(large?.size, 3 * 1024 * 1024 + 17);
  assert.equal(byPath.get('dirs/sticky')?.mode, 0o1777);
  assert.equal(byPath.get('abs-link')?.linkname, '/etc/passwd');
  // The first path in walk order carries the content; later ones are link entries to it.
  assert.deepEqual(
    entries.filter((e) => e.type === 'link').map((e) => [e.path, e.linkname]),
    [
      ['dirs/setgid/hard-c', 'dirs/hard-b'],
      ['hard-a', 'dirs/hard-b'],
    ],
  );
  if (privileged) {
    assert.equal(byPath.get('char-dev')?.type, 'character-device');
    assert.deepEqual([byPath.get('block-dev')?.devmajor, byPath.get('block-dev')?.devminor], [7, 200]);
    assert.deepEqual(
      [byPath.get('dirs/setgid/inner/file')?.uid, byPath.get('dirs/setgid/inner/file')?.gid],
      [300000, 300001],
    );
  }
});

/** Go's filepath.Walk order: compare component by component, bytes within a component. */
function walkOrder(a: string, b: string): number {
  const pa = a.replace(/\/$/, '').split('/');
  const pb = b.replace(/\/$/, '').split('/');
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const c = Buffer.compare(Buffer.from(pa[i] as string), Buffer.from(pb[i] as string));
    if (c !== 0) return c;
  }
  return pa.length - pb.length;
}

test('GNU tar lists our layer as the source tree', async () => {
  const blob = join(tmp.dir, 'layer-gnu-list.tar.gz');
  await packToFile({ kind: 'directory', path: src }, blob);
  const tree = await snapshotTree(src);
  const listing = run('tar', ['--quoting-style=literal', '--numeric-owner', '-tvf', blob])
    .trimEnd()
    .split('\n');
  assert.equal(listing.length, Object.keys(tree).length);
  const seen = new Set<string>();
  for (const line of listing) {
    const match = /^(\S)(\S{9}) (\d+)\/(\d+) +(\S+) \S+ \S+ (.*)$/.exec(line);
    assert.ok(match, `unexpected tar -tv line: ${line}`);
    const [, typeChar, perms, uid, gid, , rest] = match as unknown as string[];
    const name = (rest as string).split(/ -> | link to /)[0]?.replace(/\/$/, '') as string;
    const record = tree[name] as NodeRecord | undefined;
    assert.ok(record, `GNU tar lists ${name}, which is not in the tree`);
    seen.add(name);
    const expectedType = { file: '-', dir: 'd', symlink: 'l', fifo: 'p', char: 'c', block: 'b' }[record.type];
    if (typeChar === 'h') {
      assert.ok(record.linkGroup, `${name} is a hardlink entry but not multiply linked`);
      const target = (rest as string).split(' link to ')[1] as string;
      assert.equal(tree[target]?.linkGroup, record.linkGroup, `${name} links into its own group`);
    } else {
      assert.equal(typeChar, expectedType, name);
    }
    assert.equal(permString(Number.parseInt(record.mode, 8)), perms, `${name} mode`);
    assert.deepEqual([Number(uid), Number(gid)], [record.uid, record.gid], `${name} owner`);
    if (record.type === 'symlink') assert.equal((rest as string).split(' -> ')[1], record.linkname);
  }
  assert.equal(seen.size, Object.keys(tree).length);
});

/** `ls -l`-style permission string for the 0o7777 bits. */
function permString(mode: number): string {
  const bits = 'rwxrwxrwx'.split('').map((ch, i) => (mode & (0o400 >> i) ? ch : '-'));
  const special = (index: number, flag: number, lower: string, upper: string) => {
    bits[index] = mode & flag ? (bits[index] === '-' ? upper : lower) : (bits[index] as string);
  };
  special(2, 0o4000, 's', 'S');
  special(5, 0o2000, 's', 'S');
  special(8, 0o1000, 't', 'T');
  return bits.join('');
}

test('GNU tar extracts our layer to the same tree', async () => {
  const blob = join(tmp.dir, 'layer-gnu-extract.tar.gz');
  await packToFile({ kind: 'directory', path: src }, blob);
  const out = join(tmp.dir, 'gnu-extracted');
  await mkdir(out);
  const ownerFlags = privileged ? ['--numeric-owner', '--same-owner'] : ['--no-same-owner'];
  run('tar', ['--xattrs', '--xattrs-include=*', ...ownerFlags, '-xpf', blob, '-C', out]);
  assert.deepEqual(await snapshotTree(out), await snapshotTree(src));
});

test('we apply a PAX tar written by GNU tar to the same tree', async () => {
  const blob = join(tmp.dir, 'gnu-written.tar');
  run('tar', [
    '--format=pax',
    '--xattrs',
    '--xattrs-include=*',
    '--numeric-owner',
    '-cf',
    blob,
    '-C',
    src,
    '.',
  ]);
  const out = join(tmp.dir, 'applied-from-gnu');
  const result = await applyLayer(readStream(blob), out);
  assert.deepEqual(result.warnings, []);
  assert.deepEqual(await snapshotTree(out), await snapshotTree(src));
});
