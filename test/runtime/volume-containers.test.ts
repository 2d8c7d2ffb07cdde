/**
 * Volumes in containers through the CLI (bin/tbuild.js), as the tutorials use them: the website
 * on a named volume that outlives its container (issue 16's Done means), copy-up of the image's
 * content with owners and modes, anonymous volumes (image VOLUME, `-v /path`) and `rm -v` /
 * `--rm`, `--volumes-from`, the `--mount` forms, inspect's Mounts, and `volume rm` refused while a
 * container uses the volume. Traffic: the host's 127.0.0.1 only.
 */
import assert from 'node:assert/strict';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { busyboxArchive, whyNotRunnable } from '../build/helpers.ts';
import { firstReason, needCommands, skipReason } from '../needs.ts';
import { runTbuild } from '../tbuild-entry.ts';
import { fetchLocal, freePort, removeAllContainers } from './network-helpers.ts';

const reason = skipReason(
  firstReason(whyNotRunnable(), needCommands('conmon', 'slirp4netns', 'iptables', 'nsenter')),
);

let root = '';
let context = '';

function tbuild(args: string[]) {
  return runTbuild(['--root', root, ...args]);
}

async function ok(args: string[]): Promise<string> {
  const r = await tbuild(args);
  assert.equal(r.code, 0, `tbuild ${args.join(' ')} failed (${r.code}):\n${r.stderr}`);
  return r.stdout;
}

/** The page at 127.0.0.1:PORT, waiting (up to a minute on a loaded machine) for httpd to listen. */
async function page(port: number): Promise<string> {
  const until = Date.now() + 60_000;
  for (;;) {
    try {
      const r = await fetchLocal(port, '/index.html');
      if (r.status === 200) return r.body.toString();
    } catch (error) {
      if (Date.now() > until) throw error;
    }
    if (Date.now() > until) throw new Error(`no page on 127.0.0.1:${port}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

interface MountDoc {
  Type: string;
  Name?: string;
  Source: string;
  Destination: string;
  Driver?: string;
  Mode: string;
  RW: boolean;
  Propagation: string;
}

async function mountsOf(container: string): Promise<MountDoc[]> {
  return JSON.parse(await ok(['inspect', '-f', '{{json .Mounts}}', container])) as MountDoc[];
}

const volumeNames = async () => (await ok(['volume', 'ls', '-q'])).split('\n').filter(Boolean);

describe('volumes in containers', { skip: reason }, () => {
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'tbuild-volume-ctrs-'));
    context = await mkdtemp(join(tmpdir(), 'tbuild-volume-ctx-'));
    await ok(['load', '-i', await busyboxArchive()]);
    // /www: the site, owned by www-data (33) with mode 0750, so the copy-up's owners and modes show.
    writeFileSync(
      join(context, 'Dockerfile'),
      [
        'FROM busybox',
        'RUN mkdir -p /www/img && echo "<h1>from the image</h1>" > /www/index.html && echo png > /www/img/logo.png \\',
        ' && chown -R 33:33 /www && chmod 0750 /www && chmod 0640 /www/index.html && ln -s index.html /www/home.html',
        'RUN mkdir /data && echo seed > /data/seed',
        'VOLUME /data',
      ].join('\n'),
    );
    await ok(['build', '-q', '-t', 'site', context]);
  });

  after(async () => {
    try {
      await removeAllContainers(root, ok);
    } finally {
      await rm(root, { recursive: true, force: true });
      await rm(context, { recursive: true, force: true });
    }
  });

  test('the website: -v site:/www is filled from the image, served on -p, and outlives its container', async () => {
    const port = await freePort();
    const run = (name: string) =>
      ok([
        'run',
        '-d',
        '-p',
        `127.0.0.1:${port}:80`,
        '-v',
        'site:/www',
        '--name',
        name,
        'site',
        'httpd',
        '-f',
        '-h',
        '/www',
      ]);
    await run('web');
    assert.equal(await page(port), '<h1>from the image</h1>\n');
    // Copy-up kept owners, modes and links; the volume's directory took /www's owner and mode.
    const [volume] = JSON.parse(await ok(['volume', 'inspect', 'site'])) as { Mountpoint: string }[];
    const data = (volume as { Mountpoint: string }).Mountpoint;
    assert.deepEqual(readdirSync(data).sort(), ['home.html', 'img', 'index.html']);
    const top = statSync(data);
    assert.equal(top.mode & 0o7777, 0o750);
    assert.equal(top.uid, 33);
    assert.equal(statSync(join(data, 'index.html')).mode & 0o7777, 0o640);
    assert.equal(statSync(join(data, 'img', 'logo.png')).uid, 33);

    // du's Local Volumes row (docker system df): site and web's anonymous /data, both in use.
    assert.match(await ok(['du']), /^Local Volumes +2 +2 +\d+B +0B \(0%\)$/m);
    // In use: Docker's message, exit 1, the volume kept.
    const refused = await tbuild(['volume', 'rm', 'site']);
    assert.equal(refused.code, 1);
    const id = (await ok(['inspect', '-f', '{{.Id}}', 'web'])).trim();
    assert.equal(refused.stderr, `ERROR: remove site: volume is in use - [${id}]\n`);

    await ok(['exec', 'web', 'sh', '-c', 'echo "<h1>written in the container</h1>" > /www/index.html']);
    await ok(['stop', '-t', '1', 'web']);
    // A stopped container still holds its volume (Docker counts every container).
    assert.equal((await tbuild(['volume', 'rm', 'site'])).code, 1);
    await ok(['rm', '-v', 'web']);
    assert.ok((await volumeNames()).includes('site'), 'a named volume outlives rm -v');
    await run('web2');
    // The volume is not empty: nothing is copied over what the first container wrote.
    assert.equal(await page(port), '<h1>written in the container</h1>\n');
    await ok(['rm', '-f', '-v', 'web2']);
    assert.equal(await ok(['volume', 'rm', 'site']), 'site\n');
  });

  test("anonymous volumes: the image's VOLUME and -v /path, labelled; rm keeps them, rm -v and --rm remove them", async () => {
    const before = await volumeNames();
    await ok(['create', '--name', 'anon', '-v', '/scratch', '-v', 'keepme:/keep', 'site', 'true']);
    const mounts = await mountsOf('anon');
    const anonymous = mounts.filter((m) => m.Name !== 'keepme');
    assert.deepEqual(
      anonymous.map((m) => [m.Destination, m.Type, m.Driver, m.Mode, m.RW, m.Propagation]).sort(),
      [
        ['/data', 'volume', 'local', '', true, ''],
        ['/scratch', 'volume', 'local', 'z', true, ''],
      ],
    );
    for (const m of anonymous) {
      assert.match(m.Name ?? '', /^[0-9a-f]{64}$/);
      assert.equal(m.Source, join(root, 'volumes', m.Name as string, '_data'));
      const [doc] = JSON.parse(await ok(['volume', 'inspect', m.Name as string])) as { Labels: object }[];
      assert.deepEqual(doc?.Labels, { 'com.docker.volume.anonymous': '' });
    }
    await ok(['start', 'anon']);
    await ok(['wait', 'anon']);
    // The image's /data was copied up into its anonymous volume.
    const data = anonymous.find((m) => m.Destination === '/data') as MountDoc;
    assert.deepEqual(readdirSync(data.Source), ['seed']);
    assert.equal(
      await ok(['volume', 'ls', '-q', '-f', 'dangling=false']),
      `${[...anonymous.map((m) => m.Name), 'keepme'].sort().join('\n')}\n`,
    );
    await ok(['rm', '-v', 'anon']);
    assert.deepEqual((await volumeNames()).sort(), [...before, 'keepme'].sort());

    // Plain rm keeps them (dangling); prune without -a takes the anonymous ones only (the 5 bytes
    // of /data/seed, copied up at start).
    await ok(['run', '-d', '--name', 'anon2', 'site', 'true']);
    await ok(['wait', 'anon2']);
    const [kept] = (await mountsOf('anon2')).map((m) => m.Name as string);
    await ok(['rm', 'anon2']);
    assert.ok((await volumeNames()).includes(kept as string));
    assert.equal(
      await ok(['volume', 'prune', '-f']),
      `Deleted Volumes:\n${kept}\n\nTotal reclaimed space: 5B\n`,
    );
    assert.ok((await volumeNames()).includes('keepme'));

    // --rm removes the anonymous volumes with the container, as Docker's autoremove does.
    const id = (await ok(['run', '-d', '--rm', '-v', 'keepme:/keep', 'site', 'true'])).trim();
    for (let i = 0; i < 600 && (await ok(['ps', '-aq', '--no-trunc'])).includes(id); i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual((await volumeNames()).sort(), [...before, 'keepme'].sort());
    await ok(['volume', 'rm', 'keepme']);
  });

  test('--volumes-from shares the volumes, read-only with :ro; the source keeps them', async () => {
    await ok(['run', '-d', '--name', 'src', '-v', 'shared:/shared', 'site', 'sleep', '300']);
    await ok(['exec', 'src', 'sh', '-c', 'echo hello > /shared/note']);
    await ok(['run', '-d', '--name', 'reader', '--volumes-from', 'src:ro', 'site', 'sleep', '300']);
    await ok(['run', '-d', '--name', 'writer', '--volumes-from', 'src', 'site', 'sleep', '300']);
    assert.equal(await ok(['exec', 'reader', 'cat', '/shared/note']), 'hello\n');
    const denied = await tbuild(['exec', 'reader', 'sh', '-c', 'echo x > /shared/other']);
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr, /Read-only file system/);
    await ok(['exec', 'writer', 'sh', '-c', 'echo from-writer > /shared/note']);
    assert.equal(await ok(['exec', 'src', 'cat', '/shared/note']), 'from-writer\n');
    // The same volumes: src's anonymous /data too, with no new one for the image's VOLUME.
    const names = (m: MountDoc[]) => m.map((x) => `${x.Destination}=${x.Name}`).sort();
    assert.deepEqual(names(await mountsOf('reader')), names(await mountsOf('src')));
    assert.deepEqual(
      (await mountsOf('reader')).map((m) => m.RW),
      [false, false],
    );
    // rm -v of a reader leaves the volumes src still uses.
    await ok(['rm', '-f', '-v', 'reader', 'writer']);
    assert.equal(await ok(['exec', 'src', 'cat', '/shared/note']), 'from-writer\n');
    await ok(['rm', '-f', '-v', 'src']);
    await ok(['volume', 'rm', 'shared']);
  });

  test('--mount: a volume with volume-nocopy and a label, tmpfs with a size, a read-only bind', async () => {
    await ok([
      'run',
      '-d',
      '--name',
      'mounts',
      '--mount',
      'type=volume,source=nocopy,target=/www,volume-nocopy,volume-label=team=web',
      '--mount',
      'type=tmpfs,destination=/fast,tmpfs-size=1m',
      '--mount',
      `type=bind,src=${context},dst=/ctx,readonly`,
      'site',
      'sleep',
      '300',
    ]);
    assert.equal(await ok(['exec', 'mounts', 'ls', '-A', '/www']), '', 'volume-nocopy: nothing copied');
    assert.match(await ok(['exec', 'mounts', 'df', '-k', '/fast']), /^tmpfs\s+1024\s/m);
    assert.match(await ok(['exec', 'mounts', 'cat', '/ctx/Dockerfile']), /^FROM busybox/);
    const denied = await tbuild(['exec', 'mounts', 'touch', '/ctx/x']);
    assert.notEqual(denied.code, 0);
    const byDest = new Map((await mountsOf('mounts')).map((m) => [m.Destination, m]));
    assert.deepEqual(byDest.get('/www'), {
      Type: 'volume',
      Name: 'nocopy',
      Source: join(root, 'volumes', 'nocopy', '_data'),
      Destination: '/www',
      Driver: 'local',
      Mode: '',
      RW: true,
      Propagation: '',
    });
    assert.deepEqual(byDest.get('/fast'), {
      Type: 'tmpfs',
      Source: '',
      Destination: '/fast',
      Mode: '',
      RW: true,
      Propagation: '',
    });
    assert.deepEqual(byDest.get('/ctx'), {
      Type: 'bind',
      Source: context,
      Destination: '/ctx',
      Mode: '',
      RW: false,
      Propagation: 'rprivate',
    });
    const [doc] = JSON.parse(await ok(['volume', 'inspect', 'nocopy'])) as { Labels: object }[];
    assert.deepEqual(doc?.Labels, { team: 'web' });
    await ok(['rm', '-f', '-v', 'mounts']);
    await ok(['volume', 'rm', 'nocopy']);
  });
});
