/**
 * The container commands against Docker 20.10: the same invocations through a private dockerd
 * (test/private-dockerd.ts: no bridge, so every container runs on --network none) and through
 * tbuild, with the busybox fixture loaded into both, must print the same: ps columns (header,
 * image, command, status with its durations masked, ports, names) and filters, logs with and
 * without -t (timestamps masked digit by digit, so their format is compared), --tail, diff,
 * inspect --format fields, commit's image config and history entry, export's file list, and the
 * exit codes and messages of the failures users meet first (a missing image 125, a command not
 * found 127, not executable 126, an exit status passed on, an unknown container 1).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { busyboxArchive } from '../build/helpers.ts';
import { firstReason, skipReason } from '../needs.ts';
import { type PrivateDockerd, startPrivateDockerd, whyNoDocker } from '../private-dockerd.ts';
import { ContainerRoot, containerSkipReason } from '../runtime/helpers.ts';
import type { TbuildResult } from '../tbuild-entry.ts';

const exec = promisify(execFile);
const socket = '/run/tbuild-test-containers-docker.sock';
const reason = firstReason(containerSkipReason(), skipReason(whyNoDocker()));
const ctr = new ContainerRoot();
let work = '';
let dockerd: PrivateDockerd | undefined;

type Engine = 'docker' | 'tbuild';

function run(engine: Engine, args: string[], stdin?: string): Promise<TbuildResult> {
  if (engine === 'tbuild') return ctr.tbuild(args, stdin);
  if (!dockerd) throw new Error('dockerd is not running');
  return dockerd.dockerResult(args, stdin);
}

/** The same invocation through both; each result as [docker, tbuild]. */
async function both(args: string[], stdin?: string): Promise<[TbuildResult, TbuildResult]> {
  return [await run('docker', args, stdin), await run('tbuild', args, stdin)];
}

/** Both must succeed and print the same standard output (after `mask`); returns it. */
async function same(args: string[], mask: (text: string) => string = (t) => t): Promise<string> {
  const [d, t] = await both(args);
  assert.equal(d.code, 0, `docker ${args.join(' ')}: ${d.stderr}`);
  assert.equal(t.code, 0, `tbuild ${args.join(' ')}: ${t.stderr}`);
  assert.equal(mask(t.stdout), mask(d.stdout), `tbuild ${args.join(' ')} printed otherwise than docker`);
  return mask(d.stdout);
}

/** Docker's error line without its client's prefixes, tbuild's without `ERROR: `. */
function reasonOf(stderr: string): string {
  return stderr
    .trim()
    .replace(/^(docker: )?(Error response from daemon: |Error: |ERROR: )/, '')
    .replace(/\.$/, '');
}

/** `Up 3 seconds`, `Exited (3) About a minute ago`: the durations masked. */
function maskDurations(text: string): string {
  return text.replace(
    /(Less than a second|About an? (minute|hour)|\d+ (second|minute|hour|day|week|month|year)s?)/g,
    'T',
  );
}

/** A table of whitespace-aligned columns as cells (two or more spaces apart). */
function cells(table: string): string[][] {
  return table
    .trimEnd()
    .split('\n')
    .map((line) => line.trimEnd().split(/ {2,}/));
}

/** The image config and last history entry `save` writes (docker-archive: manifest.json → config). */
async function savedConfig(engine: Engine, ref: string): Promise<Record<string, unknown>> {
  const file = join(work, `${engine}-${ref.replace(/[:/]/g, '_')}.tar`);
  const saved = await run(engine, ['save', '-o', file, ref]);
  assert.equal(saved.code, 0, saved.stderr);
  const manifest = JSON.parse((await exec('tar', ['-xOf', file, 'manifest.json'])).stdout) as {
    Config: string;
  }[];
  const config = (await exec('tar', ['-xOf', file, manifest[0]?.Config ?? ''], { maxBuffer: 16 << 20 }))
    .stdout;
  return JSON.parse(config) as Record<string, unknown>;
}

/** The entry names of a container's `export -o`, sorted. */
async function exportedNames(engine: Engine, name: string): Promise<string[]> {
  const file = join(work, `${engine}-${name}-export.tar`);
  const exported = await run(engine, ['export', '-o', file, name]);
  assert.equal(exported.code, 0, exported.stderr);
  // --numeric-owner: tbuild's export writes no user and group names in its headers (docker's
  // say root/root); the owners themselves are compared.
  const listing = (await exec('tar', ['--numeric-owner', '-tvf', file], { maxBuffer: 64 << 20 })).stdout;
  // Type, mode, owner and name; not sizes or times (hosts' /etc/hosts etc. differ in size).
  return listing
    .trimEnd()
    .split('\n')
    .map((line) => {
      const [perms = '', owner = '', , , , ...rest] = line.split(/\s+/);
      return `${perms} ${owner} ${rest.join(' ')}`;
    })
    .sort();
}

describe('container commands against docker 20.10', {
  skip: reason ? `docker comparison skipped: ${reason}` : false,
}, () => {
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'tbuild-containers-docker-'));
    dockerd = await startPrivateDockerd(work, socket);
    await dockerd.docker(['load', '-i', await busyboxArchive()]);
    await ctr.setUp('tbuild-containers-docker-root-');
    // The containers the comparisons look at, made the same way in both, oldest first.
    const none = ['--network', 'none'];
    for (const engine of ['docker', 'tbuild'] as const) {
      const made = [
        await run(engine, [
          'run',
          '-d',
          '--name',
          'cmp-up',
          ...none,
          '-l',
          'tier=web',
          'busybox',
          'sleep',
          '300',
        ]),
        await run(engine, ['run', '--name', 'cmp-exit', ...none, 'busybox', 'sh', '-c', 'echo bye; exit 3']),
        await run(engine, ['create', '--name', 'cmp-created', ...none, 'busybox', 'echo', 'hi']),
        await run(engine, [
          'run',
          '--name',
          'cmp-logs',
          ...none,
          'busybox',
          'sh',
          '-c',
          'echo out1; echo err1 >&2; echo out2; printf "no newline"',
        ]),
        await run(engine, [
          'run',
          '--name',
          'cmp-diff',
          ...none,
          '-w',
          '/data',
          'busybox',
          'sh',
          '-c',
          'mkdir -p /data/x && echo a > /data/x/f && ln -s /nowhere /data/link && rm /etc/group && echo >> /etc/passwd && touch /tmp/t',
        ]),
      ];
      assert.deepEqual(
        made.map((r) => r.code),
        [0, 3, 0, 0, 0],
        `${engine}: ${made.map((r) => r.stderr).join('')}`,
      );
    }
  });

  after(async () => {
    try {
      await ctr.tearDown();
    } finally {
      await dockerd?.stop();
      if (work) await rm(work, { recursive: true, force: true });
    }
  });

  test('exit codes and messages: missing image 125, not found 127, not executable 126, exit 3, unknown containers 1', async () => {
    const none = ['--network', 'none'];
    // A registry on 127.0.0.1's closed port 1: neither engine sends anything off this machine.
    const cases: [string[], number][] = [
      [['run', '--rm', ...none, '127.0.0.1:1/nosuch:1'], 125],
      [['run', '--rm', ...none, 'busybox', 'nope'], 127],
      [['run', '--rm', ...none, 'busybox', '/etc/passwd'], 126],
      [['run', '--rm', ...none, 'busybox', 'sh', '-c', 'exit 3'], 3],
      [['run', '--rm', ...none, '--frobnicate', 'busybox'], 125],
      [['stop', 'nosuch'], 1],
      [['rm', 'nosuch'], 1],
      [['kill', 'nosuch'], 1],
      [['start', 'nosuch'], 1],
      [['logs', 'nosuch'], 1],
      [['exec', 'nosuch', 'true'], 1],
      [['exec', 'cmp-exit', 'true'], 1],
      [['diff', 'nosuch'], 1],
      [['inspect', 'nosuch'], 1],
    ];
    for (const [args, code] of cases) {
      const [d, t] = await both(args);
      assert.deepEqual(
        [d.code, t.code],
        [code, code],
        `${args.join(' ')}:\ndocker: ${d.stderr}tbuild: ${t.stderr}`,
      );
      assert.equal(t.stdout, d.stdout, `${args.join(' ')}: stdout`);
    }
    // The messages of the unknown and stopped containers, past each client's prefix.
    for (const args of [
      ['stop', 'nosuch'],
      ['rm', 'nosuch'],
      ['logs', 'nosuch'],
      ['exec', 'nosuch', 'true'],
    ]) {
      const [d, t] = await both(args);
      assert.equal(reasonOf(t.stderr), reasonOf(d.stderr), args.join(' '));
    }
    const [d, t] = await both(['exec', 'cmp-exit', 'true']);
    assert.equal(
      reasonOf(t.stderr).replace(/[0-9a-f]{64}/, 'ID'),
      reasonOf(d.stderr).replace(/[0-9a-f]{64}/, 'ID'),
    );
  });

  test('ps: the header, each row but its id and age, -q, and the filters', async () => {
    const [d, t] = await both(['ps', '-a', '--filter', 'name=cmp-']);
    assert.equal(t.code, 0, t.stderr);
    const [dHeader, ...dRows] = cells(d.stdout);
    const [tHeader, ...tRows] = cells(t.stdout);
    assert.deepEqual(tHeader, dHeader);
    assert.deepEqual(dHeader, ['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES']);
    // The id differs and the age too; a row with no PORTS has one cell fewer, in both.
    const stable = (row: string[]) => [row[1], row[2], maskDurations(row[4] ?? ''), ...row.slice(5)];
    assert.deepEqual(tRows.map(stable), dRows.map(stable));
    assert.equal(dRows.length, 5);

    const fields =
      '{{.Names}}|{{.Image}}|{{.Command}}|{{.Status}}|{{.State}}|{{.Labels}}|{{.Ports}}|{{.Mounts}}';
    await same(['ps', '-a', '--no-trunc', '--filter', 'name=cmp-', '--format', fields], maskDurations);
    await same(['ps', '--format', '{{.Names}}']);
    for (const filter of [
      'status=exited',
      'status=created',
      'exited=3',
      'label=tier=web',
      'ancestor=busybox',
    ]) {
      await same(['ps', '-a', '--filter', filter, '--filter', 'name=cmp-', '--format', '{{.Names}}']);
    }
    const [dq, tq] = await both(['ps', '-aq', '--filter', 'name=cmp-']);
    assert.equal(tq.stdout.split('\n').length, dq.stdout.split('\n').length);
    assert.match(tq.stdout, /^([0-9a-f]{12}\n){5}$/);
  });

  test('logs: both streams, --tail, and -t with its timestamp format', {
    todo: 'known difference: docker 20.10 logs --tail 2 of out1/err1/out2/"no newline" prints only "no newline" on stdout, tbuild out2 too',
  }, async () => {
    const [d, t] = await both(['logs', 'cmp-logs']);
    assert.deepEqual([t.code, t.stdout, t.stderr], [d.code, d.stdout, d.stderr]);
    assert.equal(d.stdout, 'out1\nout2\nno newline');
    await same(['logs', '--tail', '2', 'cmp-logs']);
    // Every digit of a timestamp masked: the format (RFC 3339, nanoseconds, Z) is compared.
    const masked = (text: string) => text.replace(/^\S+Z /gm, (stamp) => stamp.replace(/\d/g, '9'));
    const [dt, tt] = await both(['logs', '-t', 'cmp-logs']);
    assert.deepEqual([masked(tt.stdout), masked(tt.stderr)], [masked(dt.stdout), masked(dt.stderr)]);
    assert.match(dt.stdout, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z out1\n/);
  });

  test('diff: the same A/C/D list', async () => {
    // dockerd lists siblings in the directory's read order (overlayfs's), not sorted: as sets.
    const sorted = (text: string) => `${text.trimEnd().split('\n').sort().join('\n')}\n`;
    const out = await same(['diff', 'cmp-diff'], sorted);
    assert.match(out, /^A \/data\n/m);
    assert.match(out, /^D \/etc\/group$/m);
  });

  test('inspect --format: State, Config, Path and Args, HostConfig', async () => {
    const format = [
      '{{.Name}} {{.State.Status}} {{.State.ExitCode}} {{.State.Running}} {{.State.Paused}} {{.State.OOMKilled}}',
      '{{json .Config.Cmd}} {{json .Config.Entrypoint}} {{.Path}} {{json .Args}} {{.Config.Image}}',
      '{{.Config.WorkingDir}} {{json .Config.Labels}} {{.Config.Tty}} {{.Config.OpenStdin}} {{json .Config.Env}}',
      '{{.HostConfig.NetworkMode}} {{.HostConfig.AutoRemove}} {{.HostConfig.RestartPolicy.Name}} {{.RestartCount}}',
    ].join('\n');
    for (const name of ['cmp-up', 'cmp-exit', 'cmp-created', 'cmp-diff']) {
      await same(['inspect', '--format', format, name]);
    }
    await same(['inspect', '--format', '{{.State.Status}}', 'cmp-up', 'cmp-exit', 'cmp-created']);
  });

  test("commit: the image's config and its history entry", async () => {
    const args = [
      'commit',
      '-a',
      'me <me@example.org>',
      '-m',
      'a message',
      '-c',
      'CMD ["/bin/cat","/data/x/f"]',
      '-c',
      'ENV A=1 B=two',
      '-c',
      'WORKDIR /data/x',
      '-c',
      'LABEL k=v',
      '-c',
      'ENTRYPOINT ["/bin/sh","-c","exec \\"$@\\"","entry"]',
      'cmp-diff',
      'cmp:1',
    ];
    const [d, t] = await both(args);
    assert.deepEqual([d.code, t.code], [0, 0], `${d.stderr}${t.stderr}`);
    assert.match(t.stdout, /^sha256:[0-9a-f]{64}\n$/);
    const inspected =
      '{{json .Config.Cmd}} {{json .Config.Entrypoint}} {{json .Config.Env}} {{.Config.WorkingDir}} {{json .Config.Labels}} {{.Author}} {{.Comment}}';
    await same(['inspect', '--format', inspected, 'cmp:1']);
    const [dc, tc] = [await savedConfig('docker', 'cmp:1'), await savedConfig('tbuild', 'cmp:1')];
    const last = (config: Record<string, unknown>) => {
      const { created, ...entry } = (config.history as Record<string, unknown>[]).at(-1) ?? {};
      assert.match(String(created), /^\d{4}-\d\d-\d\dT/);
      return entry;
    };
    assert.deepEqual(last(tc), last(dc));
    assert.deepEqual(last(dc), {
      author: 'me <me@example.org>',
      created_by: dcCreatedBy(),
      comment: 'a message',
    });
    assert.equal((tc.history as unknown[]).length, (dc.history as unknown[]).length);
    await same(['history', '--no-trunc', '--format', '{{.CreatedBy}}|{{.Comment}}', 'cmp:1']);
    // And it runs the same in both.
    const [dr, tr] = await both(['run', '--rm', '--network', 'none', 'cmp:1']);
    assert.deepEqual([tr.code, tr.stdout], [dr.code, dr.stdout]);
    assert.equal(dr.stdout, 'a\n');
  });

  test('export: the same files, types, modes and owners', async () => {
    const [d, t] = [await exportedNames('docker', 'cmp-diff'), await exportedNames('tbuild', 'cmp-diff')];
    assert.deepEqual(t, d);
    assert.ok(d.some((line) => line.endsWith(' data/x/f')));
  });
});

/** What docker records as created_by for the cmp-diff container: its Path and Args joined. */
function dcCreatedBy(): string {
  return 'sh -c mkdir -p /data/x && echo a > /data/x/f && ln -s /nowhere /data/link && rm /etc/group && echo >> /etc/passwd && touch /tmp/t';
}
