/**
 * The volume commands through the CLI (bin/tbuild.js): create, ls with its filters and formats,
 * inspect with Docker's fields, rm with Docker's messages, prune of anonymous volumes only unless
 * -a; names as Docker validates them (none leaves the store); the store private to root.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runTbuild } from '../tbuild-entry.ts';

let root = '';

function tbuild(args: string[], stdin?: string) {
  return runTbuild(['--root', root, ...args], stdin === undefined ? {} : { stdin });
}

async function ok(args: string[]): Promise<string> {
  const r = await tbuild(args);
  assert.equal(r.code, 0, `tbuild ${args.join(' ')} failed (${r.code}):\n${r.stderr}`);
  return r.stdout;
}

describe('volume commands', () => {
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'tbuild-volumes-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  test('create, ls, inspect: Docker columns and fields; an existing name is returned as it is', async () => {
    assert.equal(await ok(['volume', 'create', '--label', 'tier=web', 'site']), 'site\n');
    const anonymous = (await ok(['volume', 'create'])).trim();
    assert.match(anonymous, /^[0-9a-f]{64}$/);
    assert.equal(await ok(['volume', 'create', 'site']), 'site\n');
    assert.equal(
      await ok(['volume', 'ls']),
      `DRIVER    VOLUME NAME\nlocal     ${anonymous}\nlocal     site\n`,
    );
    assert.equal(await ok(['volume', 'ls', '-q']), `${anonymous}\nsite\n`);
    const [doc] = JSON.parse(await ok(['volume', 'inspect', 'site'])) as Record<string, unknown>[];
    assert.deepEqual(Object.keys(doc ?? {}), [
      'CreatedAt',
      'Driver',
      'Labels',
      'Mountpoint',
      'Name',
      'Options',
      'Scope',
    ]);
    assert.equal(doc?.Driver, 'local');
    assert.equal(doc?.Scope, 'local');
    assert.equal(doc?.Name, 'site');
    assert.deepEqual(doc?.Labels, { tier: 'web' });
    assert.equal(doc?.Mountpoint, join(root, 'volumes', 'site', '_data'));
    assert.match(String(doc?.CreatedAt), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.ok(statSync(doc?.Mountpoint as string).isDirectory());
    assert.equal(await ok(['volume', 'inspect', '-f', '{{.Name}} {{.Labels.tier}}', 'site']), 'site web\n');
    // The store is root's alone: nothing in it is reachable by other host users.
    assert.equal(statSync(join(root, 'volumes')).mode & 0o777, 0o700);

    const missing = await tbuild(['volume', 'inspect', 'site', 'nope']);
    assert.equal(missing.code, 1);
    assert.equal((JSON.parse(missing.stdout) as unknown[]).length, 1);
    assert.match(missing.stderr, /^Error: No such volume: nope$/m);
    await ok(['volume', 'rm', anonymous]);
  });

  test('ls filters (name, label, dangling, driver) and --format with Docker field names', async () => {
    await ok(['volume', 'create', '--label', 'keep', 'data1']);
    await ok(['volume', 'create', 'data2']);
    assert.equal(await ok(['volume', 'ls', '-q', '--filter', 'name=data']), 'data1\ndata2\n');
    assert.equal(await ok(['volume', 'ls', '-q', '--filter', 'label=keep']), 'data1\n');
    assert.equal(await ok(['volume', 'ls', '-q', '--filter', 'label=tier=web']), 'site\n');
    assert.equal(await ok(['volume', 'ls', '-q', '--filter', 'label=tier=db']), '');
    assert.equal(await ok(['volume', 'ls', '-q', '-f', 'name=data', '-f', 'label=keep']), 'data1\n');
    assert.equal(
      await ok(['volume', 'ls', '-q', '-f', 'dangling=true', '-f', 'name=data']),
      'data1\ndata2\n',
    );
    assert.equal(await ok(['volume', 'ls', '-q', '-f', 'dangling=false']), '');
    assert.equal(await ok(['volume', 'ls', '-q', '-f', 'driver=local', '-f', 'name=site']), 'site\n');
    assert.equal(
      await ok(['volume', 'ls', '-f', 'name=site', '--format', 'table {{.Name}}\t{{.Driver}}\t{{.Links}}']),
      'VOLUME NAME   DRIVER    LINKS\nsite          local     0\n',
    );
    const bad = await tbuild(['volume', 'ls', '-f', 'colour=red']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /Invalid filter 'colour'/);
    const badValue = await tbuild(['volume', 'ls', '-f', 'dangling=maybe']);
    assert.equal(badValue.code, 1);
    assert.match(badValue.stderr, /Invalid filter 'dangling=maybe'/);
    await ok(['volume', 'rm', 'data1', 'data2']);
  });

  test('bad names are refused with Docker messages and nothing is made; none escapes the store', async () => {
    const before = readdirSync(join(root, 'volumes')).sort();
    const cases: [string, RegExp][] = [
      [
        'a/b',
        /create a\/b: "a\/b" includes invalid characters for a local volume name, only "\[a-zA-Z0-9\]\[a-zA-Z0-9_.-\]" are allowed/,
      ],
      ['..', /includes invalid characters/],
      ['../escape', /includes invalid characters/],
      ['.hidden', /includes invalid characters/],
      ['_x', /includes invalid characters/],
      ['a b', /includes invalid characters/],
      ['x', /create x: volume name is too short, names should be at least two alphanumeric characters/],
    ];
    for (const [name, message] of cases) {
      const r = await tbuild(['volume', 'create', name]);
      assert.equal(r.code, 1, `volume create ${name}`);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    }
    assert.deepEqual(readdirSync(join(root, 'volumes')).sort(), before);
    assert.equal(existsSync(join(root, 'escape')), false);
    const driver = await tbuild(['volume', 'create', '-d', 'nfs', 'other']);
    assert.equal(driver.code, 1);
    assert.match(driver.stderr, /plugin "nfs" not found/);
  });

  test('rm: a missing volume is an error (none with -f), the others are still removed', async () => {
    await ok(['volume', 'create', 'gone1']);
    const r = await tbuild(['volume', 'rm', 'nope', 'gone1']);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, 'gone1\n');
    assert.match(r.stderr, /get nope: no such volume/);
    assert.equal(await ok(['volume', 'rm', '-f', 'nope']), 'nope\n');
    assert.equal(await ok(['volume', 'ls', '-q', '-f', 'name=gone']), '');
  });

  test('prune: anonymous unused volumes only, all unused ones with -a; label filters; space reclaimed', async () => {
    await ok(['volume', 'create', '--label', 'com.docker.volume.anonymous=', 'anon1']);
    await ok(['volume', 'create', 'named1']);
    writeFileSync(join(root, 'volumes', 'anon1', '_data', 'five'), '12345');
    assert.equal(
      await ok(['volume', 'prune', '-f']),
      'Deleted Volumes:\nanon1\n\nTotal reclaimed space: 5B\n',
    );
    assert.equal(await ok(['volume', 'ls', '-q', '-f', 'name=named1']), 'named1\n');
    // Without -f it asks; anything but y keeps everything.
    const asked = await tbuild(['volume', 'prune', '-a'], 'n\n');
    assert.equal(asked.code, 0);
    assert.match(
      asked.stdout,
      /WARNING! This will remove all local volumes not used by at least one container\./,
    );
    assert.equal(await ok(['volume', 'ls', '-q', '-f', 'name=named1']), 'named1\n');
    assert.equal(
      await ok(['volume', 'prune', '-af', '--filter', 'label=tier']),
      'Deleted Volumes:\nsite\n\nTotal reclaimed space: 0B\n',
    );
    assert.equal(
      await ok(['volume', 'prune', '-af', '--filter', 'label!=keep']),
      'Deleted Volumes:\nnamed1\n\nTotal reclaimed space: 0B\n',
    );
    assert.equal(await ok(['volume', 'prune', '-af']), 'Total reclaimed space: 0B\n');
    assert.equal(await ok(['volume', 'ls', '-q']), '');
  });
});
