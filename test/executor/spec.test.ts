import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  defaultCapabilities,
  hostsFileContent,
  resolvConfContent,
  runtimeSpec,
  specJson,
} from '../../executor/spec.ts';
import type { ExecMeta, ExecMount, ProcessIds } from '../../executor/types.ts';

const files = { hostsPath: '/state/b/hosts', resolvConfPath: '/state/b/resolv.conf' };
const root: ProcessIds = { uid: 0, gid: 0, additionalGids: [] };

function meta(over: Partial<ExecMeta> = {}): ExecMeta {
  return { args: ['/bin/sh', '-c', 'true'], env: [], cwd: '/', user: '', network: 'none', ...over };
}

const dockerCaps = [
  'CAP_AUDIT_WRITE',
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_MKNOD',
  'CAP_NET_BIND_SERVICE',
  'CAP_NET_RAW',
  'CAP_SETFCAP',
  'CAP_SETGID',
  'CAP_SETPCAP',
  'CAP_SETUID',
  'CAP_SYS_CHROOT',
];

describe('runtimeSpec', () => {
  test('root gets Docker default caps in bounding, effective and permitted, no ambient', () => {
    const s = runtimeSpec('/r', [], meta(), root, files);
    assert.deepEqual([...s.process.capabilities.bounding].sort(), dockerCaps);
    assert.deepEqual([...s.process.capabilities.effective].sort(), dockerCaps);
    assert.deepEqual([...s.process.capabilities.permitted].sort(), dockerCaps);
    assert.equal('ambient' in s.process.capabilities, false);
    assert.equal('inheritable' in s.process.capabilities, false);
    assert.equal(s.process.noNewPrivileges, true);
    assert.equal(defaultCapabilities.length, 14);
  });

  test('a non-root user keeps only the bounding set (moby SetCapabilities)', () => {
    const s = runtimeSpec('/r', [], meta(), { uid: 1000, gid: 1000, additionalGids: [] }, files);
    assert.deepEqual([...s.process.capabilities.bounding].sort(), dockerCaps);
    assert.deepEqual(s.process.capabilities.effective, []);
    assert.deepEqual(s.process.capabilities.permitted, []);
  });

  test('network none adds a network namespace, host does not', () => {
    const none = runtimeSpec('/r', [], meta({ network: 'none' }), root, files);
    const host = runtimeSpec('/r', [], meta({ network: 'host' }), root, files);
    assert.deepEqual(none.linux.namespaces.map((n) => n.type).sort(), [
      'ipc',
      'mount',
      'network',
      'pid',
      'uts',
    ]);
    assert.deepEqual(host.linux.namespaces.map((n) => n.type).sort(), ['ipc', 'mount', 'pid', 'uts']);
  });

  test('masked and read-only paths', () => {
    const s = runtimeSpec('/r', [], meta(), root, files);
    for (const p of [
      '/proc/kcore',
      '/proc/keys',
      '/proc/acpi',
      '/proc/scsi',
      '/sys/firmware',
      '/sys/devices/virtual/powercap',
    ])
      assert.ok(s.linux.maskedPaths.includes(p), p);
    assert.equal(s.linux.maskedPaths.length, 11);
    assert.deepEqual([...s.linux.readonlyPaths].sort(), [
      '/proc/bus',
      '/proc/fs',
      '/proc/irq',
      '/proc/sys',
      '/proc/sysrq-trigger',
    ]);
  });

  test('default PATH is added only when absent', () => {
    const a = runtimeSpec('/r', [], meta({ env: ['A=1'] }), root, files);
    assert.deepEqual(a.process.env, [
      'A=1',
      'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    ]);
    const b = runtimeSpec('/r', [], meta({ env: ['PATH=/x', 'A=1'] }), root, files);
    assert.deepEqual(b.process.env, ['PATH=/x', 'A=1']);
  });

  test('user ids, args, cwd, hostname, rlimits and root', () => {
    const s = runtimeSpec(
      '/rootfs',
      [],
      meta({ args: ['ls', '-l'], cwd: '/work', hostname: 'box' }),
      { uid: 5, gid: 6, additionalGids: [7, 8] },
      files,
    );
    assert.deepEqual(s.process.user, { uid: 5, gid: 6, additionalGids: [7, 8] });
    assert.deepEqual(s.process.args, ['ls', '-l']);
    assert.equal(s.process.cwd, '/work');
    assert.equal(s.hostname, 'box');
    assert.deepEqual(s.root, { path: '/rootfs', readonly: false });
    assert.deepEqual(s.process.rlimits, [{ type: 'RLIMIT_NOFILE', hard: 1048576, soft: 1024 }]);
    assert.equal(s.process.terminal, false);
    const capped = runtimeSpec('/r', [], meta(), root, { ...files, hostNofileHard: 20000 });
    assert.deepEqual(capped.process.rlimits, [{ type: 'RLIMIT_NOFILE', hard: 20000, soft: 1024 }]);
    const tiny = runtimeSpec('/r', [], meta(), root, { ...files, hostNofileHard: 512 });
    assert.deepEqual(tiny.process.rlimits, [{ type: 'RLIMIT_NOFILE', hard: 512, soft: 512 }]);
    assert.equal(runtimeSpec('/r', [], meta(), root, files).hostname, 'tbuildsandbox');
    assert.equal('additionalGids' in runtimeSpec('/r', [], meta(), root, files).process.user, false);
  });

  test('default mounts, hosts/resolv.conf binds and caller mounts in order', () => {
    const mounts: ExecMount[] = [
      { target: '/src', source: '/host/src', type: 'bind', readonly: true },
      { target: '/out', source: '/host/out', type: 'bind', readonly: false },
      { target: '/tmp', source: '', type: 'tmpfs', readonly: false },
    ];
    const s = runtimeSpec('/r', mounts, meta(), root, files);
    assert.deepEqual(
      s.mounts.map((m) => `${m.destination} ${m.type}`),
      [
        '/proc proc',
        '/dev tmpfs',
        '/dev/pts devpts',
        '/dev/shm tmpfs',
        '/dev/mqueue mqueue',
        '/sys sysfs',
        '/sys/fs/cgroup cgroup',
        '/etc/resolv.conf bind',
        '/etc/hosts bind',
        '/src bind',
        '/out bind',
        '/tmp tmpfs',
      ],
    );
    const byDest = new Map(s.mounts.map((m) => [m.destination, m]));
    assert.ok(byDest.get('/sys')?.options.includes('ro'));
    assert.ok(byDest.get('/sys/fs/cgroup')?.options.includes('ro'));
    assert.equal(byDest.get('/etc/hosts')?.source, '/state/b/hosts');
    assert.ok(byDest.get('/etc/hosts')?.options.includes('ro'));
    assert.equal(byDest.get('/etc/resolv.conf')?.source, '/state/b/resolv.conf');
    assert.deepEqual(byDest.get('/src')?.options, ['rbind', 'ro']);
    assert.deepEqual(byDest.get('/out')?.options, ['rbind', 'rw']);
    assert.equal(byDest.has('/run'), false);
  });

  test('a caller mount at /etc/hosts replaces the generated one in place', () => {
    const s = runtimeSpec(
      '/r',
      [{ target: '/etc//hosts', source: '/mine', type: 'bind', readonly: true }],
      meta(),
      root,
      files,
    );
    const hosts = s.mounts.filter((m) => m.destination.replace('//', '/') === '/etc/hosts');
    assert.equal(hosts.length, 1);
    assert.equal(hosts[0]?.source, '/mine');
    assert.equal(s.mounts[8], hosts[0]);
  });

  test('--ulimit adds rlimits, the last per name wins, nofile replaces the default; -1 is RLIM_INFINITY', () => {
    const s = runtimeSpec(
      '/r',
      [],
      meta({
        ulimits: [
          { name: 'nproc', soft: 10, hard: 20 },
          { name: 'nofile', soft: 2048, hard: 4096 },
          { name: 'nproc', soft: 30, hard: 40 },
          { name: 'core', soft: -1, hard: -1 },
        ],
      }),
      root,
      files,
    );
    assert.deepEqual(s.process.rlimits, [
      { type: 'RLIMIT_NOFILE', hard: 4096, soft: 2048 },
      { type: 'RLIMIT_NPROC', hard: 40, soft: 30 },
      { type: 'RLIMIT_CORE', hard: -1, soft: -1 },
    ]);
    assert.match(
      specJson(s),
      /\{"type":"RLIMIT_CORE","hard":18446744073709551615,"soft":18446744073709551615\}/,
    );
    assert.deepEqual(
      JSON.parse(specJson(runtimeSpec('/r', [], meta(), root, files))),
      runtimeSpec('/r', [], meta(), root, files),
    );
  });

  test('/dev/shm is 64 MiB, or --shm-size', () => {
    const shm = (m: ExecMeta) =>
      runtimeSpec('/r', [], m, root, files).mounts.find((x) => x.destination === '/dev/shm');
    assert.ok(shm(meta())?.options.includes(`size=${64 * 1024 * 1024}`));
    assert.ok(shm(meta({ shmSize: 128 * 1024 * 1024 }))?.options.includes(`size=${128 * 1024 * 1024}`));
  });

  test('the spec is plain JSON data', () => {
    const s = runtimeSpec('/r', [], meta(), root, files);
    assert.deepEqual(JSON.parse(JSON.stringify(s)), s);
  });
});

describe('hosts and resolv.conf', () => {
  test('hosts maps localhost and the hostname', () => {
    assert.equal(
      hostsFileContent('box'),
      '127.0.0.1\tlocalhost box\n::1\tlocalhost ip6-localhost ip6-loopback\n',
    );
    assert.match(hostsFileContent(''), /localhost tbuildsandbox/);
  });

  test('--add-host lines follow the defaults, in order', () => {
    assert.equal(
      hostsFileContent('box', [
        { host: 'db', ip: '10.1.2.3' },
        { host: 'v6', ip: '::1' },
      ]),
      '127.0.0.1\tlocalhost box\n::1\tlocalhost ip6-localhost ip6-loopback\n10.1.2.3\tdb\n::1\tv6\n',
    );
  });

  test('loopback nameservers are dropped outside host networking', () => {
    const host =
      'search example.org\nnameserver 127.0.0.53\nnameserver 10.0.0.2\nnameserver ::1\noptions ndots:2\n';
    assert.equal(
      resolvConfContent(host, 'none'),
      'search example.org\nnameserver 10.0.0.2\noptions ndots:2\n',
    );
    assert.equal(resolvConfContent(host, 'host'), host);
  });

  test('public fallbacks only when no nameserver remains', () => {
    const out = resolvConfContent('nameserver 127.0.0.11\noptions edns0', 'none');
    assert.equal(
      out,
      'options edns0\nnameserver 8.8.8.8\nnameserver 8.8.4.4\nnameserver 2001:4860:4860::8888\nnameserver 2001:4860:4860::8844\n',
    );
    assert.match(resolvConfContent(undefined, 'host'), /^nameserver 8\.8\.8\.8\n/);
    assert.doesNotMatch(resolvConfContent('nameserver 1.1.1.1\n', 'none'), /8\.8\.8\.8/);
  });
});
