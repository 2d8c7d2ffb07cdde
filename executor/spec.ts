import { hostSeccompTarget, type LinuxSeccomp, seccompForProcess } from './seccomp.ts';
import { defaultSeccompProfile } from './seccomp-default.ts';
import { allCapabilities, defaultCapabilities, maskedPaths, readonlyPaths } from './spec-defaults.ts';
import {
  defaultHostname,
  defaultPathEnv,
  type ExecMeta,
  type ExecMount,
  type ExtraHost,
  type NetworkMode,
  type ProcessIds,
  type Ulimit,
} from './types.ts';

/** The subset of the OCI runtime spec (config.json, runtime-spec v1.0.2) that we generate. */
export interface RuntimeSpec {
  ociVersion: string;
  process: {
    terminal: boolean;
    user: { uid: number; gid: number; additionalGids?: number[] };
    args: string[];
    env: string[];
    cwd: string;
    capabilities: {
      bounding: string[];
      effective: string[];
      permitted: string[];
      inheritable?: string[];
      ambient?: string[];
    };
    rlimits: { type: string; hard: number; soft: number }[];
    noNewPrivileges: boolean;
  };
  root: { path: string; readonly: boolean };
  hostname: string;
  mounts: SpecMount[];
  linux: {
    namespaces: { type: string; path?: string }[];
    maskedPaths: string[];
    readonlyPaths: string[];
    resources: { devices: { allow: boolean; type?: string; access: string }[] };
    cgroupsPath?: string;
    seccomp?: LinuxSeccomp;
  };
}

/** One entry of the spec's `mounts`; runc creates the destination in the rootfs if missing. */
export interface SpecMount {
  destination: string;
  type: string;
  source: string;
  options: string[];
}

/** Host-side facts for one run: generated files (bind-mounted read-only) and host limits. */
export interface SpecOptions {
  hostsPath: string;
  resolvConfPath: string;
  /**
   * The host's hard RLIMIT_NOFILE. The sandbox's hard limit is capped to it, because raising a
   * hard limit needs CAP_SYS_RESOURCE, which a root without it (e.g. inside a container) lacks.
   */
  hostNofileHard?: number;
  /** runc's cgroup path; runc picks one from the container id when absent. */
  cgroupsPath?: string;
  /**
   * For `network: 'none'`: an existing loopback-only namespace to join (see netns.ts) instead of
   * a fresh one per process.
   */
  networkNamespacePath?: string;
  /**
   * The host facts the seccomp profile's conditions are checked against; this host's when absent
   * (tests give others).
   */
  seccompHost?: { arch: string; kernel: string };
  /**
   * The capabilities this process may hand on (its bounding set). `RUN --security=insecure` gets
   * these rather than all of {@link allCapabilities}: runc cannot grant what its caller lacks (a
   * root inside a container often lacks some). All of them when absent.
   */
  hostCapabilities?: readonly string[];
}

export { allCapabilities, defaultCapabilities, maskedPaths, readonlyPaths } from './spec-defaults.ts';

/**
 * Builds config.json for one RUN. Pure: same inputs, same spec. The base is containerd's default
 * unix spec (what BuildKit's executor/oci/spec.go starts from), with BuildKit's changes: no /run
 * tmpfs (moby/buildkit#429), a read-only cgroup mount, read-only binds for /etc/hosts and
 * /etc/resolv.conf; Docker's rules for capabilities and RLIMIT_NOFILE; and Docker's default
 * seccomp profile (or the one asked for), converted for the process's capabilities.
 * `security: 'insecure'` is BuildKit's insecure spec instead (see ExecMeta.security).
 * Later mounts with the same destination replace earlier ones, so a caller's mount at /etc/hosts wins.
 */
export function runtimeSpec(
  rootfs: string,
  mounts: ExecMount[],
  meta: ExecMeta,
  ids: ProcessIds,
  files: SpecOptions,
): RuntimeSpec {
  const insecure = meta.security === 'insecure';
  const held = files.hostCapabilities === undefined ? undefined : new Set(files.hostCapabilities);
  const caps = insecure
    ? allCapabilities.filter((cap) => held === undefined || held.has(cap))
    : [...defaultCapabilities];
  const nofileHard = Math.min(1048576, files.hostNofileHard ?? 1048576);
  const spec: RuntimeSpec = {
    ociVersion: '1.0.2',
    process: {
      terminal: meta.terminal === true,
      user: {
        uid: ids.uid,
        gid: ids.gid,
        ...(ids.additionalGids.length > 0 ? { additionalGids: [...ids.additionalGids] } : {}),
      },
      args: [...meta.args],
      env: withDefaultPath(meta.env),
      cwd: meta.cwd === '' ? '/' : meta.cwd,
      // moby oci/oci.go SetCapabilities: a non-root user gets only the bounding set, "to match
      // what execve does" (exec by a non-root uid drops permitted/effective anyway). No ambient.
      capabilities: insecure
        ? // BuildKit's WithInsecureSpec adds every capability to every set, ambient too.
          {
            bounding: caps,
            effective: [...caps],
            permitted: [...caps],
            inheritable: [...caps],
            ambient: [...caps],
          }
        : ids.uid === 0
          ? { bounding: caps, effective: [...caps], permitted: [...caps] }
          : { bounding: caps, effective: [], permitted: [] },
      // Docker's usual container limit (soft 1024, hard 1048576). BuildKit itself drops rlimits
      // and inherits its daemon's; a fixed value keeps builds independent of the host.
      rlimits: processRlimits(meta.ulimits ?? [], nofileHard),
      noNewPrivileges: meta.noNewPrivileges ?? true,
    },
    root: { path: rootfs, readonly: false },
    hostname: meta.hostname || defaultHostname,
    mounts: dedupMounts([
      ...defaultMounts(insecure, meta.shmSize),
      roBind(files.resolvConfPath, '/etc/resolv.conf'),
      roBind(files.hostsPath, '/etc/hosts'),
      ...mounts.map(toSpecMount),
    ]),
    linux: {
      namespaces: namespacesFor(meta.network, files.networkNamespacePath),
      maskedPaths: insecure ? [] : [...maskedPaths],
      readonlyPaths: insecure ? [] : [...readonlyPaths],
      resources: {
        devices: insecure
          ? [
              { allow: true, type: 'c', access: 'rwm' },
              { allow: true, type: 'b', access: 'rwm' },
            ]
          : // Deny all devices; runc adds its default allow list (null, zero, full, tty, random, …).
            [{ allow: false, access: 'rwm' }],
      },
      ...(files.cgroupsPath === undefined ? {} : { cgroupsPath: files.cgroupsPath }),
    },
  };
  const seccomp = insecure ? undefined : processSeccomp(meta, caps, files);
  if (seccomp) spec.linux.seccomp = seccomp;
  return spec;
}

/**
 * The filter of a sandboxed process: the profile asked for (Docker's default when none), kept and
 * dropped rule by rule for its bounding capabilities, the host's architecture and kernel, as
 * Docker does (moby daemon/seccomp_linux.go: the bounding set decides). `unconfined`: none.
 */
function processSeccomp(meta: ExecMeta, bounding: string[], files: SpecOptions): LinuxSeccomp | undefined {
  const profile = meta.seccomp ?? defaultSeccompProfile;
  if (profile === 'unconfined') return undefined;
  const target = files.seccompHost
    ? { capabilities: bounding, ...files.seccompHost }
    : hostSeccompTarget(bounding);
  return seccompForProcess(profile, target);
}

/**
 * `host`: no network namespace, the process shares the host's. `none`: a fresh one; runc
 * brings up `lo` in it (libcontainer specconv adds a "loopback" network for a new netns).
 */
function namespacesFor(network: NetworkMode, netnsPath?: string): { type: string; path?: string }[] {
  const base = [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }];
  if (network !== 'none') return base;
  return [...base, netnsPath === undefined ? { type: 'network' } : { type: 'network', path: netnsPath }];
}

/** Appends the default PATH when no `PATH=` entry exists. */
function withDefaultPath(env: string[]): string[] {
  return env.some((e) => e.startsWith('PATH=')) ? [...env] : [...env, `PATH=${defaultPathEnv}`];
}

/**
 * containerd's defaultMounts minus /run, plus BuildKit's read-only cgroup mount. Insecure: /sys
 * and the cgroup mount writable (BuildKit's oci.WithWriteableSysfs, WithWriteableCgroupfs).
 */
function defaultMounts(insecure: boolean, shmSize = 65536 * 1024): SpecMount[] {
  const ro = insecure ? [] : ['ro'];
  return [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    {
      destination: '/dev',
      type: 'tmpfs',
      source: 'tmpfs',
      options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'],
    },
    {
      destination: '/dev/pts',
      type: 'devpts',
      source: 'devpts',
      options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
    },
    {
      destination: '/dev/shm',
      type: 'tmpfs',
      source: 'shm',
      options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${shmSize}`],
    },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', ...ro] },
    {
      destination: '/sys/fs/cgroup',
      type: 'cgroup',
      source: 'cgroup',
      options: [...ro, 'nosuid', 'noexec', 'nodev'],
    },
  ];
}

/** BuildKit executor/oci/mounts.go withROBind. */
function roBind(source: string, destination: string): SpecMount {
  return { destination, type: 'bind', source, options: ['nosuid', 'noexec', 'nodev', 'rbind', 'ro'] };
}

function toSpecMount(m: ExecMount): SpecMount {
  if (m.type === 'tmpfs') {
    return {
      destination: m.target,
      type: 'tmpfs',
      source: 'tmpfs',
      options: [
        'nosuid',
        'nodev',
        'strictatime',
        'mode=1777',
        ...(m.size === undefined ? [] : [`size=${Math.ceil(m.size / 1024)}k`]),
        ...(m.readonly ? ['ro'] : []),
      ],
    };
  }
  return {
    destination: m.target,
    type: 'bind',
    source: m.source,
    options: ['rbind', m.readonly ? 'ro' : 'rw'],
  };
}

/** BuildKit executor/oci/mounts.go dedupMounts: the last mount for a destination wins, at the first one's place. */
function dedupMounts(mounts: SpecMount[]): SpecMount[] {
  const out: SpecMount[] = [];
  const index = new Map<string, number>();
  for (const m of mounts) {
    const key = normalize(m.destination);
    const at = index.get(key);
    if (at === undefined) {
      index.set(key, out.length);
      out.push(m);
    } else out[at] = m;
  }
  return out;
}

function normalize(p: string): string {
  const parts: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return `/${parts.join('/')}`;
}

/** The names of the capabilities in a /proc/<pid>/status mask (`CapBnd:\t000001fffeffffff`). */
export function capabilitiesInMask(hex: string): string[] {
  const mask = BigInt(`0x${hex}`);
  return allCapabilities.filter((_, bit) => (mask >> BigInt(bit)) & 1n);
}

/** BuildKit executor/oci/hosts.go initHostsFile: the defaults, then each extra host. */
export function hostsFileContent(hostname: string, extraHosts: readonly ExtraHost[] = []): string {
  const extra = extraHosts.map((h) => `${h.ip}\t${h.host}\n`).join('');
  return `127.0.0.1\tlocalhost ${hostname || defaultHostname}\n::1\tlocalhost ip6-localhost ip6-loopback\n${extra}`;
}

/** The rlimit names `--ulimit` takes (go-units ulimit.go), as the spec's RLIMIT_ types. */
export const ulimitNames: readonly string[] = [
  'core',
  'cpu',
  'data',
  'fsize',
  'locks',
  'memlock',
  'msgqueue',
  'nice',
  'nofile',
  'nproc',
  'rss',
  'rtprio',
  'rttime',
  'sigpending',
  'stack',
];

/**
 * Docker's NOFILE default (soft 1024, hard 1048576 capped to the host's), then `--ulimit`s: one
 * per name, the last given winning, NOFILE's replacing the default.
 */
function processRlimits(
  ulimits: readonly Ulimit[],
  nofileHard: number,
): { type: string; hard: number; soft: number }[] {
  const byType = new Map([
    ['RLIMIT_NOFILE', { type: 'RLIMIT_NOFILE', hard: nofileHard, soft: Math.min(1024, nofileHard) }],
  ]);
  for (const u of ulimits) {
    const type = `RLIMIT_${u.name.toUpperCase()}`;
    byType.set(type, { type, hard: u.hard, soft: u.soft });
  }
  return [...byType.values()];
}

/** RLIM_INFINITY: what a limit of -1 means. */
const unlimited = '18446744073709551615';

/**
 * config.json's text. A limit of -1 is written as RLIM_INFINITY (2^64-1, more than a JavaScript
 * number holds exactly), which runc reads into its uint64.
 */
export function specJson(spec: RuntimeSpec): string {
  return JSON.stringify(spec).replace(/"(hard|soft)":-1(?=[,}])/g, `"$1":${unlimited}`);
}

/**
 * The sandbox's resolv.conf from the host's text (undefined = host has none), like BuildKit's
 * executor/oci/resolvconf.go with libnetwork's `FilterResolvDNS(ipv6=true)`: outside host
 * networking, loopback nameservers (127.0.0.0/8, ::1) are dropped because they would point at
 * the sandbox itself; when no nameserver is left, Google's public servers are added.
 * With host networking the host's file is kept as is (unless it has no nameserver at all).
 */
export function resolvConfContent(hostText: string | undefined, network: NetworkMode): string {
  let text = hostText ?? '';
  if (network !== 'host' || nameservers(text).length === 0) {
    text = text
      .split('\n')
      .filter((line) => !isLoopbackNameserver(line))
      .join('\n');
    if (nameservers(text).length === 0) {
      if (text !== '' && !text.endsWith('\n')) text += '\n';
      text +=
        'nameserver 8.8.8.8\nnameserver 8.8.4.4\nnameserver 2001:4860:4860::8888\nnameserver 2001:4860:4860::8844\n';
    }
  }
  return text;
}

function nameservers(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (m?.[1]) out.push(m[1]);
  }
  return out;
}

function isLoopbackNameserver(line: string): boolean {
  const m = /^\s*nameserver\s+(\S+)/.exec(line);
  if (!m?.[1]) return false;
  const addr = m[1];
  return /^127\.\d+\.\d+\.\d+$/.test(addr) || addr === '::1';
}
