import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ExecError } from '../../executor/errors.ts';
import { createRuncExecutor } from '../../executor/runc.ts';
import { maskedPaths } from '../../executor/spec.ts';
import type { ExecMeta, ExecMount, Executor } from '../../executor/types.ts';
import { skipReason } from '../needs.ts';
import { runcSkipReason, writeBusyboxRootfs } from './busybox-rootfs.ts';

const skip = skipReason(runcSkipReason());

/** Docker's default bounding set as a /proc/<pid>/status hex mask (cap numbers from linux/capability.h). */
const dockerCapMask = [0, 1, 3, 4, 5, 6, 7, 8, 10, 13, 18, 27, 29, 31].reduce(
  (m, bit) => m | (1n << BigInt(bit)),
  0n,
);

describe('runc executor', { skip: skip ? `runc tests skipped: ${skip}` : false }, () => {
  let dir = '';
  let rootfs = '';
  let stateDir = '';
  let executor: Executor;
  let initialTree: string[] = [];

  async function listTree(): Promise<string[]> {
    const out = await readdir(rootfs, { recursive: true });
    return out.filter((p) => !p.startsWith('work') && !p.startsWith('home')).sort();
  }

  async function run(
    script: string,
    over: Partial<ExecMeta> = {},
    mounts: ExecMount[] = [],
    signal = new AbortController().signal,
  ): Promise<{ exitCode: number; stdout: string; stderr: string }> {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const meta: ExecMeta = {
      args: ['/bin/sh', '-c', script],
      env: [],
      cwd: '/',
      user: '',
      network: 'none',
      ...over,
    };
    const res = await executor.run(
      rootfs,
      mounts,
      meta,
      { stdout: (c) => out.push(Buffer.from(c)), stderr: (c) => err.push(Buffer.from(c)) },
      signal,
    );
    return {
      exitCode: res.exitCode,
      stdout: Buffer.concat(out).toString(),
      stderr: Buffer.concat(err).toString(),
    };
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tbuild-runc-'));
    rootfs = join(dir, 'rootfs');
    stateDir = join(dir, 'state');
    await writeBusyboxRootfs(rootfs);
    executor = createRuncExecutor({ stateDir });
    initialTree = await listTree();
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('echo hi: stdout and exit 0, no stubs or bundle left', async () => {
    const r = await run('echo hi');
    assert.deepEqual(r, { exitCode: 0, stdout: 'hi\n', stderr: '' });
    assert.deepEqual(await listTree(), initialTree);
    assert.deepEqual(await readdir(join(stateDir, 'bundles')), []);
  });

  test('exit code is returned', async () => {
    assert.equal((await run('exit 3')).exitCode, 3);
  });

  test('stderr is a separate stream', async () => {
    const r = await run('echo out; echo err >&2');
    assert.equal(r.stdout, 'out\n');
    assert.equal(r.stderr, 'err\n');
  });

  test('env, default PATH and a created working directory', async () => {
    const r = await run('echo "$FOO"; echo "$PATH"; pwd', { env: ['FOO=bar baz'], cwd: '/work/dir' });
    assert.equal(
      r.stdout,
      'bar baz\n/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n/work/dir\n',
    );
    const custom = await run('echo "$PATH"', { env: ['PATH=/bin'] });
    assert.equal(custom.stdout, '/bin\n');
  });

  test('USER nobody runs as 65534; a named user gets its groups and owns its new workdir', async () => {
    assert.equal((await run('id -u; id -g', { user: 'nobody' })).stdout, '65534\n65534\n');
    const r = await run('id -u; id -G; pwd', { user: 'tester', cwd: '/home/tester/src' });
    assert.equal(r.stdout, '1000\n1000 50\n/home/tester/src\n');
    const st = await stat(join(rootfs, 'home/tester/src'));
    assert.equal(st.uid, 1000);
    assert.equal(st.gid, 1000);
    assert.equal((await run('id -u', { user: '123:456' })).stdout, '123\n');
    await assert.rejects(
      run('true', { user: 'ghost' }),
      (e: unknown) => e instanceof ExecError && /ghost/.test(e.message),
    );
  });

  test('own pid namespace: the shell is pid 1 and sees few processes', async () => {
    const r = await run('echo $$; ls /proc | grep -c "^[0-9]"');
    const [pid, count] = r.stdout.trim().split('\n');
    assert.equal(pid, '1');
    assert.ok(Number(count) <= 3, `saw ${count} pids`);
  });

  test('hostname, /etc/hosts and /etc/resolv.conf', async () => {
    assert.equal((await run('hostname')).stdout, 'tbuildsandbox\n');
    assert.equal((await run('hostname', { hostname: 'box1' })).stdout, 'box1\n');
    const hosts = (await run('cat /etc/hosts')).stdout;
    assert.equal(hosts, '127.0.0.1\tlocalhost tbuildsandbox\n::1\tlocalhost ip6-localhost ip6-loopback\n');
    const resolv = (await run('cat /etc/resolv.conf')).stdout;
    assert.match(resolv, /^nameserver \S+$/m);
    assert.doesNotMatch(resolv, /^nameserver 127\./m);
    // Read-only bind: the process cannot change it.
    assert.notEqual((await run('echo x > /etc/hosts')).exitCode, 0);
    assert.deepEqual(await listTree(), initialTree);
  });

  test('capabilities: Docker default set, no new privileges; non-root has none effective', async () => {
    const caps = (s: string) =>
      Object.fromEntries([...s.matchAll(/^(Cap\w+|NoNewPrivs):\s+(\S+)$/gm)].map((m) => [m[1], m[2]]));
    const rootCaps = caps((await run('grep -E "^(Cap|NoNewPrivs)" /proc/self/status')).stdout);
    assert.equal(BigInt(`0x${rootCaps.CapBnd}`), dockerCapMask);
    assert.equal(BigInt(`0x${rootCaps.CapEff}`), dockerCapMask);
    assert.equal(BigInt(`0x${rootCaps.CapPrm}`), dockerCapMask);
    assert.equal(BigInt(`0x${rootCaps.CapAmb}`), 0n);
    assert.equal(rootCaps.NoNewPrivs, '1');
    const userCaps = caps(
      (await run('grep -E "^(Cap|NoNewPrivs)" /proc/self/status', { user: 'nobody' })).stdout,
    );
    assert.equal(BigInt(`0x${userCaps.CapBnd}`), dockerCapMask);
    assert.equal(BigInt(`0x${userCaps.CapEff}`), 0n);
  });

  test('masked paths (/proc/kcore where the kernel has it) and read-only /proc/sys', async (t) => {
    // runc masks only paths that exist: files get /dev/null (char 1:3) bound over them, dirs an empty tmpfs.
    const present = maskedPaths.filter((p) => existsSync(p));
    if (!existsSync('/proc/kcore'))
      t.diagnostic('this kernel has no /proc/kcore; checking the other masked paths');
    assert.ok(present.length >= 2, `only ${present.join(' ')} exist on this host`);
    for (const p of present) {
      const isDir = statSync(p).isDirectory();
      const r = await run(isDir ? `ls -A ${p}` : `stat -c %t:%T ${p}; wc -c < ${p}`);
      assert.equal(r.stdout, isDir ? '' : '1:3\n0\n', p);
    }
    assert.notEqual((await run('echo x > /proc/sys/kernel/hostname')).exitCode, 0);
  });

  test('network none has only lo, and lo is up; host shares the host interfaces', async () => {
    const ifaces = (text: string) =>
      text
        .split('\n')
        .slice(2)
        .map((l) => l.split(':')[0]?.trim())
        .filter((n): n is string => !!n)
        .sort();
    const none = await run('cat /proc/net/dev; cat /sys/class/net/lo/flags');
    assert.deepEqual(ifaces(none.stdout.split('\n').slice(0, -2).join('\n')), ['lo']);
    const flags = Number(none.stdout.trim().split('\n').at(-1));
    assert.equal(flags & 1, 1, 'IFF_UP on lo');
    const host = await run('cat /proc/net/dev', { network: 'host' });
    assert.deepEqual(ifaces(host.stdout), ifaces(await readFile('/proc/net/dev', 'utf8')));
  });

  test('bind mounts: read-only and read-write; their stubs are removed', async () => {
    const ro = join(dir, 'ro');
    const rw = join(dir, 'rw');
    await mkdir(ro);
    await mkdir(rw);
    await writeFile(join(ro, 'in.txt'), 'input\n');
    const mounts: ExecMount[] = [
      { target: '/mnt/src', source: ro, type: 'bind', readonly: true },
      { target: '/mnt/out', source: rw, type: 'bind', readonly: false },
      { target: '/scratch', source: '', type: 'tmpfs', readonly: false },
    ];
    const r = await run(
      'cat /mnt/src/in.txt; echo made > /mnt/out/o.txt; touch /mnt/src/x || echo ro-ok; touch /scratch/t && echo tmp-ok',
      {},
      mounts,
    );
    assert.equal(r.stdout, 'input\nro-ok\ntmp-ok\n');
    assert.equal(await readFile(join(rw, 'o.txt'), 'utf8'), 'made\n');
    assert.deepEqual(await readdir(ro), ['in.txt']);
    assert.deepEqual(await listTree(), initialTree);
  });

  test('a command that does not exist is an ExecError, not an exit code', async () => {
    await assert.rejects(
      executor.run(
        rootfs,
        [],
        { args: ['/nope'], env: [], cwd: '/', user: '', network: 'none' },
        { stdout() {}, stderr() {} },
        new AbortController().signal,
      ),
      (e: unknown) => e instanceof ExecError && /nope/.test(e.message),
    );
  });

  test('abort kills sleep 100 quickly and leaves no container, bundle or stub', async (t) => {
    const ac = new AbortController();
    const started = Date.now();
    setTimeout(() => ac.abort(), 300);
    await assert.rejects(
      run('sleep 100', {}, [], ac.signal),
      (e: unknown) => e instanceof Error && e.name === 'AbortError',
    );
    const elapsed = Date.now() - started;
    t.diagnostic(`aborted 300 ms in; run() rejected after ${elapsed} ms`);
    assert.ok(elapsed < 2300, `took ${elapsed} ms`);
    const list = execFileSync('runc', ['--root', join(stateDir, 'runc'), 'list', '-q']).toString();
    assert.equal(list.trim(), '');
    assert.deepEqual(await readdir(join(stateDir, 'bundles')), []);
    assert.deepEqual(await listTree(), initialTree);
    // An already aborted signal never starts anything.
    await assert.rejects(
      run('true', {}, [], AbortSignal.abort()),
      (e: unknown) => e instanceof Error && e.name === 'AbortError',
    );
  });

  test('per-RUN floor: median of 10 runs of true', async (t) => {
    const times: number[] = [];
    for (let i = 0; i < 10; i++) {
      const start = performance.now();
      const r = await executor.run(
        rootfs,
        [],
        { args: ['/bin/true'], env: [], cwd: '/', user: '', network: 'none' },
        { stdout() {}, stderr() {} },
        new AbortController().signal,
      );
      times.push(performance.now() - start);
      assert.equal(r.exitCode, 0);
    }
    times.sort((a, b) => a - b);
    const median = ((times[4] ?? 0) + (times[5] ?? 0)) / 2;
    t.diagnostic(
      `executor.run(true) median ${median.toFixed(1)} ms, min ${times[0]?.toFixed(1)} ms, max ${times[9]?.toFixed(1)} ms`,
    );
    assert.ok(median > 0);
  });
});

test('a missing runc is a one-line ExecError with the install hint, not a spawn stack', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tbuild-norunc-'));
  try {
    const rootfs = join(dir, 'rootfs');
    await mkdir(rootfs);
    const executor = createRuncExecutor({ stateDir: join(dir, 'state'), runc: join(dir, 'no-such-runc') });
    const io = { stdout: () => {}, stderr: () => {} };
    const meta: ExecMeta = { args: ['/bin/true'], env: [], cwd: '/', user: '0', network: 'host' };
    await assert.rejects(
      executor.run(rootfs, [], meta, io, new AbortController().signal),
      (error: unknown) => {
        assert.ok(error instanceof ExecError);
        assert.match(
          error.message,
          /^runc is required to run RUN steps but .*no-such-runc could not be executed$/,
        );
        assert.match(error.hint ?? '', /apt-get install runc/);
        return true;
      },
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
