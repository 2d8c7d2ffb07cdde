// Builds where tbuild disagreed with current BuildKit (issue 14: a third-party corpus of test
// Dockerfiles built with both). One test per defect, each the complete repro; the
// expectation is what BuildKit does, with the BuildKit source that decides it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setupBuildTests } from './helpers.ts';

const h = setupBuildTests();
const it = (name: string, fn: () => Promise<void>) => test(name, { skip: h.skip }, fn);

it('1: two identical COPY layers around another step stack as one overlay lower', async () => {
  // Both COPYs make the same diffID, so one snapshot; overlayfs rejects a lowerdir list naming a
  // directory twice (ELOOP), which failed the RUN with host paths and no Dockerfile line.
  const image = await h.buildOk({
    Dockerfile: 'FROM busybox\nCOPY f /f\nRUN touch /g\nCOPY f /f\nRUN cat /f > /seen\n',
    f: 'content\n',
  });
  assert.equal(await image.text('/seen'), 'content\n');
  assert.ok(image.entries.has('/g'));
  // Layers: busybox, f, g, f, seen: the two COPYs made one and the same layer.
  assert.equal(image.config.rootfs.diff_ids.at(-4), image.config.rootfs.diff_ids.at(-2));
});

it('2: WORKDIR through a symlink to a missing directory creates the link target', async () => {
  // BuildKit's mkdir with parents (llb.Mkdir WithParents, fsutil MkdirAll) follows the link.
  const image = await h.buildOk({
    Dockerfile:
      'FROM busybox\nRUN ln -s /var/lib/tempest /tempest\nWORKDIR /tempest\nRUN echo in-workdir > here\n',
  });
  assert.equal(image.entries.get('/tempest')?.type, 'symlink');
  assert.equal(image.entries.get('/var/lib/tempest')?.type, 'dir');
  assert.equal(await image.text('/var/lib/tempest/here'), 'in-workdir\n');
});

it('3: a COPY wildcard that matches nothing copies nothing and succeeds', async () => {
  // dockerfile2llb/convert_copy.go sets AllowEmptyWildcard; the file backend returns before it
  // creates the destination.
  const image = await h.buildOk({
    Dockerfile: 'FROM busybox\nCOPY *.nomatch /x/\nRUN test ! -e /x && echo ok > /checked\n',
    'a.txt': 'a',
  });
  assert.equal(await image.text('/checked'), 'ok\n');
});

it('4: COPY of two named files to a destination without a slash leaves the last one there', async () => {
  // convert_copy.go chains one copy per source and checks no count (the classic builder's "must
  // end with a /" error is gone); fsutil prepareTargetDir then writes each file AS /dest while it
  // is not a directory (moby/buildkit#1853). Docker 20.10's classic builder rejects this.
  const image = await h.buildOk({
    Dockerfile: 'FROM busybox\nCOPY a.txt b.txt /dest\n',
    'a.txt': 'a\n',
    'b.txt': 'b\n',
  });
  assert.equal(image.entries.get('/dest')?.type, 'file');
  assert.equal(await image.text('/dest'), 'b\n');
  // Into an existing directory each file keeps its name.
  const into = await h.buildOk({
    Dockerfile: 'FROM busybox\nRUN mkdir /dest\nCOPY a.txt b.txt /dest\n',
    'a.txt': 'a\n',
    'b.txt': 'b\n',
  });
  assert.equal(await into.text('/dest/a.txt'), 'a\n');
  assert.equal(await into.text('/dest/b.txt'), 'b\n');
});

it('5: COPY of a wildcard with two matches to a destination without a slash', async () => {
  // The same rule per match, in walk order: the last match is what /dest holds (moby/buildkit#4550).
  const image = await h.buildOk({
    Dockerfile: 'FROM busybox\nCOPY *.txt /dest\nCOPY *.txt /dir/\n',
    'a.txt': 'a\n',
    'b.txt': 'b\n',
  });
  assert.equal(image.entries.get('/dest')?.type, 'file');
  assert.equal(await image.text('/dest'), 'b\n');
  assert.equal(await image.text('/dir/a.txt'), 'a\n');
  assert.equal(await image.text('/dir/b.txt'), 'b\n');
});

it('7: RUN with no arguments runs an empty shell command', async () => {
  // instructions/parse.go parseShellDependentCommand accepts an empty command line.
  const image = await h.buildOk({ Dockerfile: 'FROM busybox\nRUN\nRUN echo after > /after\n' });
  assert.equal(await image.text('/after'), 'after\n');
  assert.ok(image.config.history?.some((entry) => entry.created_by === 'RUN /bin/sh -c  # buildkit'));
});

it('8: two stages with the same name build; the later one is what the name means after it', async () => {
  // dockerfile2llb keeps the latest stage registered under a name; the repeat is only the
  // DuplicateStageName check (validateStageNames), not an error.
  const image = await h.buildOk({
    Dockerfile:
      'FROM busybox AS b\nRUN echo one > /n\nFROM busybox AS b\nRUN echo two > /n\nFROM b\nRUN cat /n > /seen\n',
  });
  assert.equal(await image.text('/seen'), 'two\n');
});

it('9: a cache mount from a stage starts with that stage’s files', async () => {
  const image = await h.buildOk({
    Dockerfile: [
      'FROM busybox AS seed',
      'RUN mkdir -p /d && echo seeded > /d/f',
      'FROM busybox',
      'RUN --mount=type=cache,from=seed,source=/d,target=/c cat /c/f > /seen && echo more > /c/g',
      'RUN --mount=type=cache,from=seed,source=/d,target=/c ls /c > /listed',
      '',
    ].join('\n'),
  });
  assert.equal(await image.text('/seen'), 'seeded\n');
  // It is a cache: the second step sees what the first one wrote, and none of it is in a layer.
  assert.equal(await image.text('/listed'), 'f\ng\n');
  assert.equal(image.entries.has('/c/f'), false);
});

it('10: a bind mount with an empty from= mounts the build context', async () => {
  const image = await h.buildOk({
    Dockerfile: 'FROM busybox\nRUN --mount=type=bind,from=,target=/t cat /t/ctx.txt > /seen\n',
    'ctx.txt': 'from the context\n',
  });
  assert.equal(await image.text('/seen'), 'from the context\n');
});

it('11: FROM 0 names an image called "0", not stage 0', async () => {
  const tagged = await h.cli(['tag', 'busybox', '0']);
  assert.equal(tagged.code, 0, tagged.stderr);
  const image = await h.buildOk({
    Dockerfile: 'FROM scratch AS first\nCOPY f /only-in-stage-0\nFROM 0\nRUN echo ran > /ran\n',
    f: 'x',
  });
  assert.equal(await image.text('/ran'), 'ran\n');
  assert.equal(image.entries.has('/only-in-stage-0'), false);
  assert.ok(image.entries.has('/bin/busybox'));
});
