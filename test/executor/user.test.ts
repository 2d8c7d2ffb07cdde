import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ExecError } from '../../executor/errors.ts';
import { parseGroup, parsePasswd, resolveUser, resolveUserFromFiles } from '../../executor/user.ts';

const passwd = [
  'root:x:0:0:root:/root:/bin/sh',
  '# a comment',
  '',
  'daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin',
  'builder:x:1000:1000:Builder:/home/builder:/bin/sh',
  'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin',
  '4242:x:77:77::/:/bin/sh',
].join('\n');
const group = [
  'root:x:0:',
  'daemon:x:1:builder',
  'wheel:x:10:root,builder',
  'builder:x:1000:',
  'docker:x:999:someone,builder',
  'nogroup:x:65534:',
].join('\n');

const cases: { user: string; want: { uid: number; gid: number; additionalGids: number[] } | RegExp }[] = [
  // moby's GetExecUser: an empty user is the uid-0 entry (resolveUser's fast path skips this).
  { user: '', want: { uid: 0, gid: 0, additionalGids: [10] } },
  { user: 'root', want: { uid: 0, gid: 0, additionalGids: [10] } },
  { user: '0', want: { uid: 0, gid: 0, additionalGids: [10] } },
  { user: 'builder', want: { uid: 1000, gid: 1000, additionalGids: [1, 10, 999] } },
  { user: '1000', want: { uid: 1000, gid: 1000, additionalGids: [1, 10, 999] } },
  { user: 'builder:wheel', want: { uid: 1000, gid: 10, additionalGids: [] } },
  { user: 'builder:999', want: { uid: 1000, gid: 999, additionalGids: [] } },
  { user: 'builder:5555', want: { uid: 1000, gid: 5555, additionalGids: [] } },
  { user: 'nobody', want: { uid: 65534, gid: 65534, additionalGids: [] } },
  { user: '1234', want: { uid: 1234, gid: 0, additionalGids: [] } },
  { user: '1234:nogroup', want: { uid: 1234, gid: 65534, additionalGids: [] } },
  { user: '1234:5678', want: { uid: 1234, gid: 5678, additionalGids: [] } },
  // A numeric user matches by uid, never by an entry whose name is digits.
  { user: '4242', want: { uid: 4242, gid: 0, additionalGids: [] } },
  { user: 'ghost', want: /unable to find user ghost/ },
  { user: 'builder:ghosts', want: /unable to find group ghosts/ },
  { user: '1000:ghosts', want: /unable to find group ghosts/ },
  { user: '3000000000', want: /out of range/ },
];

describe('resolveUserFromFiles', () => {
  for (const c of cases) {
    test(`USER ${JSON.stringify(c.user)}`, () => {
      if (c.want instanceof RegExp) {
        assert.throws(
          () => resolveUserFromFiles(c.user, passwd, group),
          (err: unknown) => {
            assert.ok(err instanceof ExecError);
            assert.match(err.message, c.want as RegExp);
            return true;
          },
        );
      } else assert.deepEqual(resolveUserFromFiles(c.user, passwd, group), c.want);
    });
  }

  test('without the files: numeric ids work, names fail', () => {
    assert.deepEqual(resolveUserFromFiles('33', undefined, undefined), {
      uid: 33,
      gid: 0,
      additionalGids: [],
    });
    assert.deepEqual(resolveUserFromFiles('33:44', undefined, undefined), {
      uid: 33,
      gid: 44,
      additionalGids: [],
    });
    assert.throws(
      () => resolveUserFromFiles('www-data', undefined, undefined),
      /unable to find user www-data/,
    );
    assert.throws(
      () => resolveUserFromFiles('33:www-data', undefined, undefined),
      /unable to find group www-data/,
    );
  });

  test('parsers read fields and members', () => {
    assert.deepEqual(parsePasswd('a:x:1:2:g:/h:/s\nbad:x:zz:'), [
      { name: 'a', uid: 1, gid: 2, home: '/h' },
      { name: 'bad', uid: 0, gid: 0, home: '' },
    ]);
    assert.deepEqual(parseGroup('g:x:5:a,,b\nh:x:6'), [
      { name: 'g', gid: 5, members: ['a', 'b'] },
      { name: 'h', gid: 6, members: [] },
    ]);
  });
});

describe('resolveUser on a rootfs', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tbuild-user-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('reads /etc/passwd and /etc/group from the rootfs', async () => {
    const r = join(dir, 'plain');
    await mkdir(join(r, 'etc'), { recursive: true });
    await writeFile(join(r, 'etc/passwd'), passwd);
    await writeFile(join(r, 'etc/group'), group);
    assert.deepEqual(await resolveUser(r, 'builder'), { uid: 1000, gid: 1000, additionalGids: [1, 10, 999] });
    assert.deepEqual(await resolveUser(r, 'nobody:wheel'), { uid: 65534, gid: 10, additionalGids: [] });
  });

  test('uid:gid takes the fast path without files', async () => {
    const r = join(dir, 'empty');
    await mkdir(r);
    assert.deepEqual(await resolveUser(r, '12:34'), { uid: 12, gid: 34, additionalGids: [] });
    assert.deepEqual(await resolveUser(r, 'root:root'), { uid: 0, gid: 0, additionalGids: [] });
    await assert.rejects(resolveUser(r, 'builder'), /unable to find user builder/);
  });

  test('an absolute symlink for /etc/passwd resolves inside the rootfs, not on the host', async () => {
    const r = join(dir, 'linked');
    await mkdir(join(r, 'etc'), { recursive: true });
    await mkdir(join(r, 'data'));
    // On the host, /data/passwd does not exist; /etc/passwd does and has root.
    await writeFile(join(r, 'data/passwd'), 'only:x:4321:4321::/:/bin/sh\n');
    await symlink('/data/passwd', join(r, 'etc/passwd'));
    // Climbing out is clamped at the rootfs: this is r/group-real, which is missing; the decoy
    // next to the rootfs (which would add gid 1) must not be read.
    await symlink('../../group-real', join(r, 'etc/group'));
    await writeFile(join(dir, 'group-real'), 'only:x:1:only\n');
    assert.deepEqual(await resolveUser(r, 'only'), { uid: 4321, gid: 4321, additionalGids: [] });
    await assert.rejects(resolveUser(r, 'root'), /unable to find user root/);
    assert.deepEqual(await resolveUser(r, ''), { uid: 0, gid: 0, additionalGids: [] });
  });

  test('a symlink loop is an error, not a hang', async () => {
    const r = join(dir, 'loop');
    await mkdir(join(r, 'etc'), { recursive: true });
    await symlink('/etc/passwd', join(r, 'etc/passwd'));
    await assert.rejects(
      resolveUser(r, 'someone'),
      (err: unknown) => err instanceof ExecError && /symbolic links/.test(err.message),
    );
  });
});
