import { arch as nodeArch, release } from 'node:os';
import { ExecError } from './errors.ts';

/**
 * Seccomp profiles in Docker's JSON format (moby profiles/seccomp/seccomp.go: the format of
 * `docker run --security-opt seccomp=PROFILE.json` and of Docker's default profile), and their
 * conversion to the OCI runtime spec's `linux.seccomp`, as moby's setupSeccomp does it when a
 * container is created: the profile's `archMap` gives the native architecture and its
 * sub-architectures, and each rule is kept or dropped by its `includes`/`excludes` conditions on
 * the architecture, the process's bounding capabilities and the kernel version. Written here
 * because no maintained JavaScript library does this conversion (libseccomp's bindings compile
 * filters; they do not read Docker's format). The conversion runs per process because the kept
 * rules depend on its capabilities: a step with CAP_SYS_ADMIN may `unshare`, one without may not.
 */

/** A Docker-format seccomp profile. */
export interface SeccompProfile {
  defaultAction: string;
  defaultErrnoRet?: number;
  /** Either this or `archMap`. */
  architectures?: string[];
  archMap?: { architecture: string; subArchitectures?: string[] | null }[];
  listenerPath?: string;
  listenerMetadata?: string;
  flags?: string[];
  syscalls?: SeccompRule[] | null;
}

/** One rule: syscall names, the action, and the conditions under which the rule applies. */
export interface SeccompRule {
  /** Either this (one name, an older form) or `names`. */
  name?: string;
  names?: string[];
  action: string;
  errnoRet?: number;
  args?: SeccompArg[] | null;
  comment?: string;
  /** The rule applies only when all of these hold. */
  includes?: SeccompCondition;
  /** The rule is dropped when any of these holds. */
  excludes?: SeccompCondition;
}

/**
 * Conditions of a rule: `arches` in the profile's own names (`amd64`, `arm64`, `x86`, …, libseccomp's
 * "native" names), `caps` from the bounding set, `minKernel` as `major.minor[.patch]`.
 */
export interface SeccompCondition {
  arches?: string[] | null;
  caps?: string[] | null;
  minKernel?: string;
}

export interface SeccompArg {
  index: number;
  value: number;
  valueTwo?: number;
  op: string;
}

/** The OCI runtime spec's `linux.seccomp` (runtime-spec config-linux.md). */
export interface LinuxSeccomp {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  flags?: string[];
  listenerPath?: string;
  listenerMetadata?: string;
  syscalls?: { names: string[]; action: string; errnoRet?: number; args?: SeccompArg[] }[];
}

/** The facts of the process and host a profile's conditions are checked against. */
export interface SeccompTarget {
  /** The process's bounding capabilities (`CAP_…` names). */
  capabilities: readonly string[];
  /** The native architecture in the profile's names (see {@link nativeArchitecture}). */
  arch: string;
  /** The running kernel's release (`uname -r`), e.g. `6.1.0-18-amd64`. */
  kernel: string;
}

/** Node's `process.arch` → the native names profiles use in `includes.arches` (moby's goToNative). */
const nativeNames: Readonly<Record<string, string>> = {
  x64: 'amd64',
  ia32: 'x86',
  arm: 'arm',
  arm64: 'arm64',
  ppc64: 'ppc64le', // Node on Linux/POWER is little-endian
  s390x: 's390x',
  riscv64: 'riscv64',
  mipsel: 'mipsle',
};

/** Native name → the libseccomp architecture an `archMap` entry is keyed by. */
const seccompArchitectures: Readonly<Record<string, string>> = {
  amd64: 'SCMP_ARCH_X86_64',
  x86: 'SCMP_ARCH_X86',
  arm: 'SCMP_ARCH_ARM',
  arm64: 'SCMP_ARCH_AARCH64',
  ppc64le: 'SCMP_ARCH_PPC64LE',
  s390x: 'SCMP_ARCH_S390X',
  riscv64: 'SCMP_ARCH_RISCV64',
  mipsle: 'SCMP_ARCH_MIPSEL',
};

/** This host's architecture in the profile's names (`amd64` on x86-64). */
export function nativeArchitecture(): string {
  return nativeNames[nodeArch()] ?? nodeArch();
}

/** The host facts for {@link seccompForProcess}, given the process's capabilities. */
export function hostSeccompTarget(capabilities: readonly string[]): SeccompTarget {
  return { capabilities, arch: nativeArchitecture(), kernel: release() };
}

/**
 * The `linux.seccomp` of a process, or undefined when the profile disables filtering (no default
 * action and no rules, as moby reads such a profile). Throws an ExecError for a profile that
 * names both `architectures` and `archMap`, or both `name` and `names` in a rule.
 */
export function seccompForProcess(profile: SeccompProfile, target: SeccompTarget): LinuxSeccomp | undefined {
  const rules = profile.syscalls ?? [];
  if (profile.defaultAction === '' && rules.length === 0) return undefined;
  if ((profile.architectures?.length ?? 0) > 0 && (profile.archMap?.length ?? 0) > 0) {
    throw new ExecError('the seccomp profile names both architectures and archMap; use one of them');
  }
  const out: LinuxSeccomp = { defaultAction: profile.defaultAction };
  if (profile.defaultErrnoRet !== undefined) out.defaultErrnoRet = profile.defaultErrnoRet;
  const native = seccompArchitectures[target.arch];
  const mapped = profile.archMap?.find((entry) => entry.architecture === native);
  const architectures = profile.architectures?.length
    ? [...profile.architectures]
    : mapped
      ? [mapped.architecture, ...(mapped.subArchitectures ?? [])]
      : [];
  // None listed: libseccomp filters for the native architecture only.
  if (architectures.length > 0) out.architectures = architectures;
  if (profile.flags?.length) out.flags = [...profile.flags];
  if (profile.listenerPath) out.listenerPath = profile.listenerPath;
  if (profile.listenerMetadata) out.listenerMetadata = profile.listenerMetadata;

  const caps = new Set(target.capabilities);
  const syscalls: NonNullable<LinuxSeccomp['syscalls']> = [];
  for (const rule of rules) {
    if (!applies(rule, target, caps)) continue;
    if (rule.name && rule.names?.length) {
      throw new ExecError(`a rule of the seccomp profile names both name and names (${rule.name})`);
    }
    const names = rule.name ? [rule.name] : [...(rule.names ?? [])];
    syscalls.push({
      names,
      action: rule.action,
      ...(rule.errnoRet === undefined ? {} : { errnoRet: rule.errnoRet }),
      ...(rule.args?.length ? { args: rule.args.map((a) => ({ ...a })) } : {}),
    });
  }
  out.syscalls = syscalls;
  return out;
}

/** moby's order: excludes (arch, any cap held, kernel new enough) drop; includes must all hold. */
function applies(rule: SeccompRule, target: SeccompTarget, caps: ReadonlySet<string>): boolean {
  const ex = rule.excludes ?? {};
  if (ex.arches?.includes(target.arch)) return false;
  if (ex.caps?.some((cap) => caps.has(cap))) return false;
  if (ex.minKernel && kernelAtLeast(target.kernel, ex.minKernel)) return false;
  const inc = rule.includes ?? {};
  if (inc.arches?.length && !inc.arches.includes(target.arch)) return false;
  if (inc.caps?.length && !inc.caps.every((cap) => caps.has(cap))) return false;
  if (inc.minKernel && !kernelAtLeast(target.kernel, inc.minKernel)) return false;
  return true;
}

/** `major.minor.patch` of a release string; the rest (`-18-amd64`) is the flavour and ignored. */
function kernelVersion(text: string): [number, number, number] {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(text);
  if (!m) throw new ExecError(`cannot read the kernel version "${text}" for the seccomp profile`);
  return [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
}

function kernelAtLeast(running: string, wanted: string): boolean {
  const have = kernelVersion(running);
  const want = kernelVersion(wanted);
  for (let i = 0; i < 3; i++) {
    if ((have[i] as number) !== (want[i] as number)) return (have[i] as number) > (want[i] as number);
  }
  return true;
}

/**
 * Reads a Docker-format profile (`--security-opt seccomp=PROFILE.json`), checking the shape of
 * what the conversion uses so that a wrong file fails here, with moby's wording, and not inside runc.
 */
export function parseSeccompProfile(text: string): SeccompProfile {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ExecError(`Decoding seccomp profile failed: ${(error as Error).message}`);
  }
  const fail = (why: string): never => {
    throw new ExecError(`Decoding seccomp profile failed: ${why}`);
  };
  if (!isObject(value)) return fail('the profile is not a JSON object');
  const defaultAction = value.defaultAction ?? '';
  if (typeof defaultAction !== 'string') return fail('defaultAction is not a string');
  const syscalls = value.syscalls ?? [];
  if (!Array.isArray(syscalls)) return fail('syscalls is not a list');
  for (const [i, rule] of (syscalls as unknown[]).entries()) {
    if (!isObject(rule)) fail(`syscalls[${i}] is not an object`);
    const r = rule as Record<string, unknown>;
    if (typeof r.action !== 'string') fail(`syscalls[${i}].action is not a string`);
    const names = r.names ?? [];
    if (!Array.isArray(names) || names.some((n) => typeof n !== 'string'))
      fail(`syscalls[${i}].names is not a list of names`);
    if (r.name !== undefined && typeof r.name !== 'string') fail(`syscalls[${i}].name is not a string`);
  }
  for (const key of ['architectures', 'flags'] as const) {
    const list = value[key];
    if (list !== undefined && (!Array.isArray(list) || list.some((s) => typeof s !== 'string')))
      return fail(`${key} is not a list of names`);
  }
  return value as unknown as SeccompProfile;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
