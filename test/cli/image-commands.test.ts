// The image commands as a user runs them: exit codes and the shape of their output.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { humanSize } from '../../cli/image-output.ts';
import { makeBusyboxArchive, makeTempDir, packTar, tbuild } from '../image/helpers.ts';

const tmp = makeTempDir('tbuild-cli-');
const root = join(tmp.dir, 'root');
let id = '';

before(async () => {
  makeBusyboxArchive(join(tmp.dir, 'busybox.tar'));
  const r = await tbuild(root, ['load', '-i', join(tmp.dir, 'busybox.tar')]);
  assert.equal(r.code, 0, r.stderr);
  id = (await tbuild(root, ['images', '-q', '--no-trunc'])).stdout.trim();
});
after(() => tmp.cleanup());

test('images: docker columns, human sizes and times; -q; --digests', async () => {
  const r = await tbuild(root, ['images']);
  assert.equal(r.code, 0);
  const [header, row, ...rest] = r.stdout.split('\n');
  assert.match(header as string, /^REPOSITORY\s{3,}TAG\s{3,}IMAGE ID\s{3,}CREATED\s{3,}SIZE$/);
  assert.match(
    row as string,
    new RegExp(`^busybox\\s+latest\\s+${id.slice(7, 19)}\\s+\\d+ (years|months) ago\\s+\\d(\\.\\d+)?MB$`),
  );
  assert.deepEqual(rest, ['']);
  // Docker's SIZE: the unpacked files of the layer (make-busybox-image.sh: the binary, a
  // 7-byte `busybox` symlink per applet, /etc/passwd and /etc/group), not the blob.
  const applets = execFileSync('/bin/busybox', ['--list'], { encoding: 'utf8' })
    .split('\n')
    .filter((a) => a !== '' && a !== 'busybox');
  const passwd = 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n';
  const group = 'root:x:0:\nnobody:x:65534:\n';
  const files = statSync('/bin/busybox').size + 7 * new Set(applets).size + passwd.length + group.length;
  const inspected = JSON.parse((await tbuild(root, ['inspect', 'busybox'])).stdout) as { Size: number }[];
  assert.equal(inspected[0]?.Size, files);
  assert.ok((row as string).endsWith(`   ${humanSize(files)}`), `${row} does not end in ${humanSize(files)}`);
  assert.equal((await tbuild(root, ['images', '-q'])).stdout, `${id.slice(7, 19)}\n`);
  const digests = await tbuild(root, ['images', '--digests']);
  assert.match(digests.stdout.split('\n')[1] as string, /^busybox\s+latest\s+sha256:[a-f0-9]{64}\s+/);
  assert.equal((await tbuild(root, ['images', '--bogus'])).code, 125);
});

test('tag adds a name; rmi of one of two tags only untags; of an ID tagged twice is a conflict; of a digest reference only that', async () => {
  assert.equal((await tbuild(root, ['tag', 'busybox', 'example.com/team/bb:v1'])).code, 0);
  const listed = (await tbuild(root, ['images'])).stdout;
  assert.match(listed, /^example\.com\/team\/bb\s+v1\s+/m);
  const conflict = await tbuild(root, ['rmi', id.slice(7, 19)]);
  assert.equal(conflict.code, 1);
  assert.match(
    conflict.stderr,
    /conflict: unable to delete [a-f0-9]{12} \(must be forced\) - image is referenced in multiple repositories/,
  );
  const untag = await tbuild(root, ['rmi', 'example.com/team/bb:v1']);
  assert.equal(untag.code, 0, untag.stderr);
  assert.equal(untag.stdout, 'Untagged: example.com/team/bb:v1\n');
  assert.equal((await tbuild(root, ['images', '-q'])).stdout, `${id.slice(7, 19)}\n`);
  // Two tags of one repository are "multiple repositories" too (moby isSingleReference counts tags).
  assert.equal((await tbuild(root, ['tag', 'busybox', 'busybox:two'])).code, 0);
  const sameRepo = await tbuild(root, ['rmi', id.slice(7, 19)]);
  assert.equal(sameRepo.code, 1);
  assert.match(sameRepo.stderr, /\(must be forced\) - image is referenced in multiple repositories/);
  assert.equal((await tbuild(root, ['rmi', 'busybox:two'])).stdout, 'Untagged: busybox:two\n');
  // A digest reference goes alone: the tag, the image and its blobs stay.
  const manifest = /sha256:[a-f0-9]{64}/.exec((await tbuild(root, ['images', '--digests'])).stdout)?.[0];
  const byDigest = await tbuild(root, ['rmi', `busybox@${manifest}`]);
  assert.equal(byDigest.code, 0, byDigest.stderr);
  assert.equal(byDigest.stdout, `Untagged: busybox@${manifest}\n`);
  assert.match((await tbuild(root, ['images'])).stdout, /^busybox\s+latest\s+/m);
  assert.match((await tbuild(root, ['fsck'])).stdout, /\nok\n$/);
  const elsewhere = await tbuild(root, ['rmi', `example.com/other@${manifest}`]);
  assert.equal(elsewhere.code, 1);
  assert.match(elsewhere.stderr, /No such image: example\.com\/other@sha256:/);
  const missing = await tbuild(root, ['rmi', 'nosuch']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /No such image: nosuch/);
  // As in distribution/reference, an uppercase first component is a registry host, so the
  // repository is "Name".
  const bad = await tbuild(root, ['tag', 'busybox', 'Bad/Name']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^ERROR: invalid reference format: repository name \(Name\) must be lowercase\n$/);
});

test('inspect prints a docker-style JSON array; unknown images exit 1', async () => {
  const r = await tbuild(root, ['inspect', 'busybox']);
  assert.equal(r.code, 0, r.stderr);
  const [doc] = JSON.parse(r.stdout) as Record<string, unknown>[];
  assert.ok(doc);
  assert.equal(doc.Id, id);
  assert.deepEqual(doc.RepoTags, ['busybox:latest']);
  assert.match((doc.RepoDigests as string[])[0] as string, /^busybox@sha256:[a-f0-9]{64}$/);
  assert.equal(doc.Os, 'linux');
  assert.equal(doc.Created, '2024-01-01T00:00:00Z');
  assert.deepEqual((doc.Config as { Cmd: string[] }).Cmd, ['sh']);
  assert.equal((doc.RootFS as { Layers: string[] }).Layers.length, 1);
  assert.ok((doc.Size as number) > 100_000);
  const missing = await tbuild(root, ['inspect', 'busybox', 'nosuch:1']);
  assert.equal(missing.code, 1);
  assert.equal((JSON.parse(missing.stdout) as unknown[]).length, 1);
});

test('import: a rootfs tarball with --change becomes a one-layer image; history shows it', async () => {
  const rootfs = join(tmp.dir, 'rootfs.tar');
  writeFileSync(rootfs, await packTar([{ name: 'etc/hello', data: 'hi\n' }]));
  const r = await tbuild(root, [
    'import',
    '--change',
    'CMD ["/bin/hello"]',
    '-c',
    'ENV A=1 B="two words"',
    '-c',
    'EXPOSE 8080',
    '-c',
    'WORKDIR /srv',
    '-m',
    'my import',
    rootfs,
    'imported:1',
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^sha256:[a-f0-9]{64}\n$/);
  const [doc] = JSON.parse((await tbuild(root, ['inspect', 'imported:1'])).stdout) as {
    Id: string;
    Config: Record<string, unknown>;
    RootFS: { Layers: string[] };
  }[];
  assert.equal(doc?.Id, r.stdout.trim());
  assert.deepEqual(doc?.Config, {
    Cmd: ['/bin/hello'],
    Env: ['A=1', 'B=two words'],
    ExposedPorts: { '8080/tcp': {} },
    WorkingDir: '/srv',
  });
  assert.equal(doc?.RootFS.Layers.length, 1);
  const h = await tbuild(root, ['history', 'imported:1']);
  assert.equal(h.code, 0);
  const lines = h.stdout.trimEnd().split('\n');
  assert.match(lines[0] as string, /^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT$/);
  assert.match(
    lines[1] as string,
    /^[a-f0-9]{12}\s+(Less than a second|\d+ seconds?) ago\s+\d+B\s+my import$/,
  );
  const badChange = await tbuild(root, ['import', '-c', 'RUN echo hi', rootfs]);
  assert.equal(badChange.code, 1);
  assert.match(badChange.stderr, /RUN is not a valid change command/);
});

test('history: empty_layer steps show 0B, newest first, <missing> below the top; --no-trunc', async () => {
  const created = '2024-01-01T00:00:00Z';
  const layer = await packTar([{ name: 'x', data: 'x' }]);
  const { createHash } = await import('node:crypto');
  const diff = `sha256:${createHash('sha256').update(layer).digest('hex')}`;
  const longCmd = `/bin/sh -c echo ${'x'.repeat(80)}`;
  const config = JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    created,
    rootfs: { type: 'layers', diff_ids: [diff] },
    history: [
      { created, created_by: longCmd },
      { created, created_by: '/bin/sh -c #(nop)  CMD ["sh"]', empty_layer: true },
    ],
  });
  const configHex = createHash('sha256').update(config).digest('hex');
  const archive = await packTar([
    { name: 'l/layer.tar', data: layer },
    { name: `${configHex}.json`, data: config },
    {
      name: 'manifest.json',
      data: JSON.stringify([{ Config: `${configHex}.json`, RepoTags: ['hist:1'], Layers: ['l/layer.tar'] }]),
    },
  ]);
  writeFileSync(join(tmp.dir, 'hist.tar'), archive);
  assert.equal((await tbuild(root, ['load', '-i', join(tmp.dir, 'hist.tar')])).code, 0);
  const lines = (await tbuild(root, ['history', 'hist:1'])).stdout.trimEnd().split('\n');
  assert.equal(lines.length, 3);
  assert.match(
    lines[1] as string,
    /^[a-f0-9]{12}\s+\d+ \w+ ago\s+\/bin\/sh -c #\(nop\)\s+CMD \["sh"\]\s+0B\s*$/,
  );
  assert.match(
    lines[2] as string,
    new RegExp(
      `^<missing>\\s+\\d+ \\w+ ago\\s+${'/bin/sh -c echo x'.replace(/\//g, '\\/')}x{27}…\\s+1B\\s*$`,
    ),
  );
  const full = (await tbuild(root, ['history', '--no-trunc', 'hist:1'])).stdout;
  assert.ok(full.includes(longCmd));
  assert.ok(full.includes(configHex));
});

test('du reports the store; fsck is clean; save refuses a terminal-less missing image', async () => {
  const du = await tbuild(root, ['du']);
  assert.equal(du.code, 0);
  assert.match(
    du.stdout,
    /^Store: .*\/image\nTYPE\s+TOTAL\s+ACTIVE\s+SIZE\s+RECLAIMABLE\nImages\s+\d+\s+\d+\s+[\d.]+[kM]?B\s+0B \(0%\)\nContainers\s+0\s+0\s+0B\s+0B\nBlobs\s+\d+/,
  );
  const fsck = await tbuild(root, ['fsck']);
  assert.equal(fsck.code, 0, fsck.stderr);
  assert.match(fsck.stdout, /\nok\n$/);
  const save = await tbuild(root, ['save', '-o', join(tmp.dir, 'x.tar'), 'nosuch']);
  assert.equal(save.code, 1);
  assert.equal(save.stderr, 'ERROR: No such image: nosuch\n');
});

test('--format Go templates for images, inspect and history; images --filter', async () => {
  const names = await tbuild(root, ['images', '--format', '{{.Repository}}:{{.Tag}}', 'busybox']);
  assert.equal(names.code, 0, names.stderr);
  assert.equal(names.stdout, 'busybox:latest\n');
  // SIZE with three significant digits, VirtualSize with four (go-units HumanSize), as docker.
  const sizes = await tbuild(root, ['images', '--format', '{{.Size}} {{.VirtualSize}}', 'busybox']);
  assert.equal(sizes.stdout, '1.98MB 1.984MB\n');
  const table = await tbuild(root, ['images', '--format', 'table {{.Repository}}\\t{{.ID}}', 'busybox']);
  assert.equal(table.stdout, `REPOSITORY   IMAGE ID\nbusybox      ${id.slice(7, 19)}\n`);
  const cmd = await tbuild(root, [
    'inspect',
    '-f',
    '{{.Config.Cmd}} {{json .Config.Env}} {{len .RootFS.Layers}}',
    'busybox',
  ]);
  assert.equal(cmd.stdout, '[sh] ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"] 1\n');
  const steps = (await tbuild(root, ['history', '--format', '{{json .}}', 'busybox'])).stdout
    .trim()
    .split('\n');
  assert.equal(steps.length, 1);
  assert.deepEqual(Object.keys(JSON.parse(steps[0] as string)), [
    'Comment',
    'CreatedAt',
    'CreatedBy',
    'CreatedSince',
    'ID',
    'Size',
  ]);

  // Two imports under one tag: the first becomes dangling (<none>).
  const rootfs = join(tmp.dir, 'filter-rootfs.tar');
  writeFileSync(rootfs, await packTar([{ name: 'etc/x', data: 'x\n' }]));
  const first = (await tbuild(root, ['import', '-c', 'LABEL first=yes', rootfs, 'dang:1'])).stdout.trim();
  const second = (await tbuild(root, ['import', '-c', 'LABEL tier=two', rootfs, 'dang:1'])).stdout.trim();
  assert.notEqual(first, second);
  const short = (digest: string) => digest.slice(7, 19);
  assert.equal((await tbuild(root, ['images', '-q', '-f', 'dangling=true'])).stdout, `${short(first)}\n`);
  const tagged = (await tbuild(root, ['images', '-q', '-f', 'dangling=false'])).stdout;
  assert.ok(!tagged.includes(short(first)) && tagged.includes(short(second)), tagged);
  assert.equal((await tbuild(root, ['images', '-q', '-f', 'reference=dang*'])).stdout, `${short(second)}\n`);
  assert.equal((await tbuild(root, ['images', '-q', '-f', 'label=tier=two'])).stdout, `${short(second)}\n`);
  assert.equal((await tbuild(root, ['images', '-q', '-f', 'label=tier'])).stdout, `${short(second)}\n`);
  assert.equal((await tbuild(root, ['images', '-q', '-f', 'label=tier=one'])).stdout, '');
  assert.equal(
    (await tbuild(root, ['images', '-q', '-f', 'since=busybox', '-f', 'reference=dang'])).stdout,
    `${short(second)}\n`,
  );
  assert.ok((await tbuild(root, ['images', '-q', '-f', 'before=dang:1'])).stdout.includes(id.slice(7, 19)));
  assert.equal(
    (await tbuild(root, ['images', '-q', '-f', 'before=busybox', '-f', 'reference=busybox'])).stdout,
    '',
  );
});
