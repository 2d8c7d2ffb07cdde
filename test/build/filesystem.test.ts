// End-to-end builds checked against the filesystem `docker build` (BuildKit) produces: expectations
// come from Docker's documented behaviour and /work/shared/conformance/behaviours.md (numbers cited).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { setupBuildTests, sha256, describe as show } from './helpers.ts';

const h = setupBuildTests();
const it = (name: string, fn: () => Promise<void>) => test(name, { skip: h.skip }, fn);
const run = promisify(execFile);

it('FROM scratch + COPY: only the copied file, root-owned, mode kept', async () => {
  const image = await h.buildOk({
    Dockerfile: 'FROM scratch\nCOPY a.txt /a.txt\nCOPY --chmod=0755 b.sh /bin/b.sh\n',
    'a.txt': 'hi\n',
    'b.sh': { content: 'echo\n', mode: 0o600 },
  });
  assert.deepEqual([...image.entries.keys()], ['/a.txt', '/bin', '/bin/b.sh']);
  assert.equal(show(image.entries.get('/a.txt')), 'file 0644 0:0');
  assert.equal(image.entries.get('/a.txt')?.sha256, sha256('hi\n'));
  assert.equal(show(image.entries.get('/bin')), 'dir 0755 0:0');
  assert.equal(show(image.entries.get('/bin/b.sh')), 'file 0755 0:0');
  // behaviours.md 68: a scratch image still gets the default PATH.
  assert.deepEqual(image.config.config.Env, [
    'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  ]);
});

it('multi-stage: COPY --from by name and by index; an unused failing stage never runs', async () => {
  const image = await h.buildOk({
    Dockerfile: [
      'FROM busybox AS build',
      'RUN mkdir /out && echo built > /out/x',
      'FROM busybox AS unused',
      'RUN echo unused-stage-ran && exit 1',
      'FROM scratch',
      'COPY --from=build /out/x /x',
      'COPY --from=0 /out /o/',
      '',
    ].join('\n'),
  });
  assert.deepEqual([...image.entries.keys()], ['/o', '/o/x', '/x']);
  assert.equal(await image.text('/x'), 'built\n');
  assert.equal(await image.text('/o/x'), 'built\n');
  assert.doesNotMatch(image.stderr, /unused-stage-ran|RUN echo unused/);
  // behaviours.md 17: COPY --from brings files only, not the stage's config.
  assert.equal(image.config.config.Cmd, undefined);
});

it('--target builds that stage and not the later ones', async () => {
  const image = await h.buildOk(
    {
      Dockerfile: 'FROM busybox AS build\nRUN echo b > /b\nFROM build AS later\nRUN exit 7\n',
    },
    { args: ['--target', 'build'] },
  );
  assert.equal(await image.text('/b'), 'b\n');
  assert.deepEqual(image.config.config.Cmd, ['sh']);
  assert.doesNotMatch(image.stderr, /RUN exit 7/);
});

it('ARG before FROM picks the base; a redeclared global ARG takes --build-arg', async () => {
  const image = await h.buildOk(
    {
      Dockerfile: [
        'ARG BASE=does-not-exist',
        'ARG V=default',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: Dockerfile syntax
        'FROM ${BASE}',
        'RUN echo "before=[$V]" > /v',
        'ARG V',
        'RUN echo "after=[$V]" >> /v',
        '',
      ].join('\n'),
    },
    { args: ['--build-arg', 'BASE=busybox', '--build-arg', 'V=cli'] },
  );
  assert.equal(await image.text('/v'), 'before=[]\nafter=[cli]\n');
});

it('ENV wins over ARG and --build-arg in RUN, in either order', async () => {
  const image = await h.buildOk(
    {
      Dockerfile: [
        'FROM busybox',
        'ARG X=arg',
        'ENV X=env',
        'ENV Y=env',
        'ARG Y=arg',
        'ARG Z=zdefault',
        'RUN echo "$X $Y $Z" > /r',
        '',
      ].join('\n'),
    },
    { args: ['--build-arg', 'X=cli', '--build-arg', 'Y=cli'] },
  );
  assert.equal(await image.text('/r'), 'env env zdefault\n');
  assert.ok(image.config.config.Env?.includes('X=env'));
  // ARG values never reach the image config.
  assert.ok(!image.config.config.Env?.some((e) => e.startsWith('Z=')));
});

it('ENV expands in COPY dest, WORKDIR, LABEL and EXPOSE', async () => {
  const image = await h.buildOk({
    Dockerfile: [
      'FROM busybox',
      'ENV D=/dest W=/work L=lv P=8080',
      'WORKDIR $W',
      'COPY a.txt $D/',
      'LABEL k=$L',
      'EXPOSE $P',
      '',
    ].join('\n'),
    'a.txt': 'a',
  });
  assert.equal(show(image.entries.get('/dest/a.txt')), 'file 0644 0:0');
  assert.equal(show(image.entries.get('/work')), 'dir 0755 0:0');
  assert.equal(image.config.config.WorkingDir, '/work');
  assert.deepEqual(image.config.config.Labels, { k: 'lv' });
  assert.deepEqual(image.config.config.ExposedPorts, { '8080/tcp': {} });
});

it('WORKDIR creates the directory owned by USER; an existing one keeps its owner', async () => {
  const image = await h.buildOk({
    Dockerfile: 'FROM busybox\nUSER nobody\nWORKDIR /home/app\nWORKDIR /tmp\nWORKDIR rel\n',
  });
  assert.equal(show(image.entries.get('/home/app')), 'dir 0755 65534:65534');
  assert.equal(show(image.entries.get('/home')), 'dir 0755 0:0');
  assert.equal(show(image.entries.get('/tmp')), 'dir 1777 0:0');
  assert.equal(show(image.entries.get('/tmp/rel')), 'dir 0755 65534:65534');
  assert.equal(image.config.config.WorkingDir, '/tmp/rel');
  assert.equal(image.config.config.User, 'nobody');
});

it('USER by name resolves through /etc/passwd for RUN', async () => {
  const image = await h.buildOk({
    Dockerfile: 'FROM busybox\nUSER nobody\nRUN id > /tmp/id\nUSER 0\nRUN id > /tmp/id0\n',
  });
  // BuildKit's testUser: no group given and no /etc/group membership → no supplementary groups.
  assert.equal(await image.text('/tmp/id'), 'uid=65534(nobody) gid=65534(nobody)\n');
  assert.equal(show(image.entries.get('/tmp/id')), 'file 0644 65534:65534');
  assert.match(await image.text('/tmp/id0'), /^uid=0\(root\) gid=0\(root\)/);
  assert.equal(image.config.config.User, '0');
});

it('COPY of a directory copies its contents: dir, dir/ and dir/. alike', async () => {
  const image = await h.buildOk({
    Dockerfile: 'FROM scratch\nCOPY dir /d1\nCOPY dir/ /d2/\nCOPY dir/. /d3\n',
    'dir/a': 'a',
    'dir/sub/b': 'b',
  });
  for (const d of ['/d1', '/d2', '/d3']) {
    assert.equal(show(image.entries.get(`${d}/a`)), 'file 0644 0:0', d);
    assert.equal(show(image.entries.get(`${d}/sub/b`)), 'file 0644 0:0', d);
    assert.equal(image.entries.has(`${d}/dir`), false, d);
  }
});

it('COPY wildcards; a wildcard matching nothing is fine beside another source', async () => {
  const image = await h.buildOk({
    Dockerfile: 'FROM scratch\nCOPY *.txt /w/\nCOPY nomatch* c.md /x/\nCOPY ?.md /one.md\n',
    'a.txt': 'a',
    'b.txt': 'b',
    'c.md': 'c',
  });
  assert.deepEqual([...image.entries.keys()], ['/one.md', '/w', '/w/a.txt', '/w/b.txt', '/x', '/x/c.md']);
  assert.equal(await image.text('/one.md'), 'c');
});

it('destination: trailing slash means a directory, relative paths resolve against WORKDIR', async () => {
  const image = await h.buildOk({
    Dockerfile: [
      'FROM busybox',
      'COPY a.txt /newdir/',
      'COPY a.txt /newfile',
      'WORKDIR /app',
      'COPY a.txt .',
      'COPY a.txt sub/',
      'COPY a.txt ../up.txt',
      '',
    ].join('\n'),
    'a.txt': 'a',
  });
  assert.equal(show(image.entries.get('/newdir')), 'dir 0755 0:0');
  assert.equal(show(image.entries.get('/newdir/a.txt')), 'file 0644 0:0');
  assert.equal(show(image.entries.get('/newfile')), 'file 0644 0:0');
  assert.equal(show(image.entries.get('/app/a.txt')), 'file 0644 0:0');
  assert.equal(show(image.entries.get('/app/sub/a.txt')), 'file 0644 0:0');
  assert.equal(show(image.entries.get('/up.txt')), 'file 0644 0:0');
});

it('COPY --chown by name and id, also on a created destination directory', async () => {
  const image = await h.buildOk({
    Dockerfile: [
      'FROM busybox',
      'COPY --chown=nobody a.txt /n',
      'COPY --chown=1000:nobody a.txt /m',
      'COPY --chown=nobody:root dir /cd/',
      '',
    ].join('\n'),
    'a.txt': 'a',
    'dir/f': 'f',
  });
  assert.equal(show(image.entries.get('/n')), 'file 0644 65534:65534');
  assert.equal(show(image.entries.get('/m')), 'file 0644 1000:65534');
  assert.equal(show(image.entries.get('/cd')), 'dir 0755 65534:0');
  assert.equal(show(image.entries.get('/cd/f')), 'file 0644 65534:0');
});

it('COPY --chmod octal and symbolic; created parents get the mode too', async () => {
  const image = await h.buildOk({
    Dockerfile: [
      'FROM scratch',
      'COPY --chmod=0640 a.txt /octal',
      'COPY --chmod=go-w w.txt /sym',
      'COPY --chmod=u=rw,g=r,o=r w.txt /sym2',
      'COPY --chmod=777 a.txt /parent/f',
      '',
    ].join('\n'),
    'a.txt': 'a',
    'w.txt': { content: 'w', mode: 0o666 },
  });
  assert.equal(show(image.entries.get('/octal')), 'file 0640 0:0');
  assert.equal(show(image.entries.get('/sym')), 'file 0644 0:0');
  assert.equal(show(image.entries.get('/sym2')), 'file 0644 0:0');
  assert.equal(show(image.entries.get('/parent')), 'dir 0777 0:0');
  assert.equal(show(image.entries.get('/parent/f')), 'file 0777 0:0');
});

it('COPY --chmod applies to heredoc files as to copied ones, symbolic included', async () => {
  // BuildKit makes a heredoc 0644 in a scratch state and copies it with the --chmod mode.
  const image = await h.buildOk({
    Dockerfile: [
      'FROM scratch',
      'COPY --chmod=u+x,g-r <<EOF /hi',
      'echo hi',
      'EOF',
      'COPY --chmod=0600 <<EOF /octal',
      'x',
      'EOF',
      '',
    ].join('\n'),
  });
  assert.equal(show(image.entries.get('/hi')), 'file 0704 0:0');
  assert.equal(show(image.entries.get('/octal')), 'file 0600 0:0');
});

it('ADD of a local tar and tar.gz extracts them; COPY keeps the archive as a file', async () => {
  const dir = await h.testdir({ 'src/x/y.txt': 'inside\n', 'src/top': 'top' });
  await mkdir(join(dir, 'ctx'));
  await run('tar', ['-czf', join(dir, 'ctx/arch.tar.gz'), '-C', join(dir, 'src'), 'x', 'top']);
  await run('tar', ['-cf', join(dir, 'ctx/plain.tar'), '-C', join(dir, 'src'), 'x']);
  await writeFile(
    join(dir, 'ctx/Dockerfile'),
    'FROM busybox\nADD arch.tar.gz /ex/\nADD plain.tar /p\nCOPY arch.tar.gz /copied/\n',
  );
  const result = await h.cli(['build', '--progress', 'plain', '-t', 'addtar', join(dir, 'ctx')]);
  assert.equal(result.code, 0, result.stderr);
  const image = await h.flatten('addtar');
  assert.equal(await image.text('/ex/x/y.txt'), 'inside\n');
  assert.equal(await image.text('/ex/top'), 'top');
  assert.equal(await image.text('/p/x/y.txt'), 'inside\n');
  assert.equal(image.entries.has('/ex/arch.tar.gz'), false);
  assert.equal(image.entries.get('/copied/arch.tar.gz')?.type, 'file');
});

it('.dockerignore excludes files, with ! exceptions', async () => {
  const image = await h.buildOk({
    Dockerfile: 'FROM scratch\nCOPY . /ctx/\n',
    '.dockerignore': '*.txt\n!keep.txt\nsecret\n',
    'drop.txt': 'x',
    'keep.txt': 'k',
    'secret/key': 's',
    'other.md': 'o',
  });
  assert.deepEqual(
    [...image.entries.keys()],
    ['/ctx', '/ctx/.dockerignore', '/ctx/Dockerfile', '/ctx/keep.txt', '/ctx/other.md'],
  );
});

it('heredocs: RUN <<EOF runs the body; COPY <<EOF writes it, expanding ARGs', async () => {
  const image = await h.buildOk({
    Dockerfile: [
      'FROM busybox',
      'ARG NAME=world',
      'RUN <<EOF',
      'echo one > /h1',
      'echo two >> /h1',
      'EOF',
      'COPY <<EOF /h2',
      'hello $NAME',
      'EOF',
      "COPY <<'EOF' /h3",
      'hello $NAME',
      'EOF',
      '',
    ].join('\n'),
  });
  assert.equal(await image.text('/h1'), 'one\ntwo\n');
  assert.equal(await image.text('/h2'), 'hello world\n');
  assert.equal(await image.text('/h3'), 'hello $NAME\n');
  assert.equal(show(image.entries.get('/h2')), 'file 0644 0:0');
});

it('RUN deleting a base file: whiteout in the layer, absent after flattening', async () => {
  const image = await h.buildOk({ Dockerfile: 'FROM busybox\nRUN rm /etc/group && rm -r /var/log\n' });
  assert.equal(image.entries.has('/etc/group'), false);
  assert.equal(image.entries.has('/var/log'), false);
  assert.equal(show(image.entries.get('/etc/passwd')), 'file 0644 0:0');
  const last = image.layers.at(-1) as string;
  const { stdout } = await run('tar', ['-tf', last]);
  const names = stdout.split('\n').map((n) => n.replace(/^\.\//, ''));
  assert.ok(names.includes('etc/.wh.group'), stdout);
  assert.ok(names.includes('var/.wh.log'), stdout);
});

it('rebuilding the same context hits the cache and gives the same layers', async () => {
  const files = { Dockerfile: 'FROM busybox\nCOPY a.txt /a\nRUN echo $RANDOM > /r\n', 'a.txt': 'a' };
  const ctx = await h.testdir(files);
  const first = await h.cli(['build', '--progress', 'plain', '-t', 'cache1', ctx]);
  assert.equal(first.code, 0, first.stderr);
  const stepCached = /\[[23]\/3\] (COPY|RUN)[^\n]*\n#\d+ CACHED/g;
  assert.equal(first.stderr.match(stepCached), null, first.stderr);
  const second = await h.cli(['build', '--progress', 'plain', '-t', 'cache2', ctx]);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stderr, /\[3\/3\] RUN echo \$RANDOM > \/r\n#\d+ CACHED/);
  // Nothing ran the second time. (BuildKit also lists [2/3] as CACHED; tbuild shows only the
  // cached step it stopped at.)
  assert.doesNotMatch(second.stderr, /#\d+ DONE/);
  const [a, b] = [await h.flatten('cache1'), await h.flatten('cache2')];
  assert.deepEqual(b.config.rootfs.diff_ids, a.config.rootfs.diff_ids);
  assert.equal(await b.text('/r'), await a.text('/r'));
});
