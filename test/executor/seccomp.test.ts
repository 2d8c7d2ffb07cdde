// The Docker-format → OCI seccomp conversion (executor/seccomp.ts) on Docker's vendored default
// profile and on small profiles, and how runtimeSpec applies it (issue 12, finding 2).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type LinuxSeccomp,
  parseSeccompProfile,
  type SeccompProfile,
  seccompForProcess,
} from '../../executor/seccomp.ts';
import { defaultSeccompProfile } from '../../executor/seccomp-default.ts';
import {
  allCapabilities,
  capabilitiesInMask,
  defaultCapabilities,
  runtimeSpec,
} from '../../executor/spec.ts';
import type { ExecMeta, ProcessIds } from '../../executor/types.ts';

const amd64 = { arch: 'amd64', kernel: '6.1.0-18-amd64' };

function convert(
  profile: SeccompProfile,
  capabilities: readonly string[] = defaultCapabilities,
  host = amd64,
): LinuxSeccomp {
  const out = seccompForProcess(profile, { capabilities, ...host });
  assert.ok(out, 'a filter');
  return out;
}

/** Syscalls some rule allows without argument conditions. */
function allowed(filter: LinuxSeccomp): Set<string> {
  return new Set(
    (filter.syscalls ?? [])
      .filter((rule) => rule.action === 'SCMP_ACT_ALLOW' && !rule.args?.length)
      .flatMap((rule) => rule.names),
  );
}

function rulesFor(filter: LinuxSeccomp, name: string) {
  return (filter.syscalls ?? []).filter((rule) => rule.names.includes(name));
}

describe("Docker's default profile", () => {
  test('default capabilities on amd64: namespaces, mount and the keyring are refused', () => {
    const filter = convert(defaultSeccompProfile);
    assert.equal(filter.defaultAction, 'SCMP_ACT_ERRNO');
    assert.deepEqual(filter.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
    const ok = allowed(filter);
    for (const name of ['read', 'write', 'openat', 'execve', 'arch_prctl', 'chroot', 'socket']) {
      assert.ok(ok.has(name), `${name} is allowed`);
    }
    for (const name of ['unshare', 'setns', 'mount', 'umount2', 'add_key', 'keyctl', 'request_key', 'bpf']) {
      assert.equal(rulesFor(filter, name).length, 0, `no rule allows ${name}: the default action refuses it`);
    }
    // clone only without namespace flags (CLONE_NEWNS|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET|NEWCGROUP).
    assert.deepEqual(rulesFor(filter, 'clone'), [
      {
        names: ['clone'],
        action: 'SCMP_ACT_ALLOW',
        args: [{ index: 0, value: 2114060288, op: 'SCMP_CMP_MASKED_EQ' }],
      },
    ]);
    // clone3 cannot be filtered by flags: ENOSYS makes libc fall back to clone.
    assert.deepEqual(rulesFor(filter, 'clone3'), [
      { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 },
    ]);
    // Rules for other architectures are dropped.
    assert.equal(rulesFor(filter, 's390_runtime_instr').length, 0);
    assert.equal(rulesFor(filter, 'breakpoint').length, 0);
  });

  test('CAP_SYS_ADMIN in the bounding set allows what it guards, as in Docker', () => {
    const filter = convert(defaultSeccompProfile, [...defaultCapabilities, 'CAP_SYS_ADMIN']);
    const ok = allowed(filter);
    for (const name of ['unshare', 'setns', 'mount', 'clone', 'clone3']) assert.ok(ok.has(name), name);
    // The conditional clone and the clone3 ENOSYS rule are excluded by the capability.
    assert.equal(
      rulesFor(filter, 'clone').some((rule) => rule.args?.length),
      false,
    );
    assert.equal(
      rulesFor(filter, 'clone3').some((rule) => rule.action === 'SCMP_ACT_ERRNO'),
      false,
    );
    assert.equal(ok.has('add_key'), false, 'the keyring stays refused');
  });

  test('another architecture: its own archMap entry and arch-only rules', () => {
    const arm = convert(defaultSeccompProfile, defaultCapabilities, { arch: 'arm64', kernel: '6.1.0' });
    assert.deepEqual(arm.architectures, ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
    assert.ok(allowed(arm).has('breakpoint'));
    assert.equal(allowed(arm).has('arch_prctl'), false);
    const s390 = convert(defaultSeccompProfile, defaultCapabilities, { arch: 's390x', kernel: '6.1.0' });
    // s390 passes clone's flags as the second argument.
    assert.deepEqual(
      rulesFor(s390, 'clone').map((rule) => rule.args?.[0]?.index),
      [1],
    );
  });

  test('minKernel: ptrace is allowed from 4.8 on', () => {
    assert.ok(allowed(convert(defaultSeccompProfile)).has('ptrace'));
    const old = convert(defaultSeccompProfile, defaultCapabilities, {
      arch: 'amd64',
      kernel: '4.4.0-210-generic',
    });
    assert.equal(allowed(old).has('ptrace'), false);
  });
});

describe('small profiles', () => {
  test('includes and excludes by capability, architecture and kernel; name, errnoRet and args kept', () => {
    const profile: SeccompProfile = {
      defaultAction: 'SCMP_ACT_ALLOW',
      defaultErrnoRet: 38,
      architectures: ['SCMP_ARCH_X86_64'],
      flags: ['SECCOMP_FILTER_FLAG_LOG'],
      syscalls: [
        { name: 'mkdir', action: 'SCMP_ACT_ERRNO', errnoRet: 13 },
        { names: ['a'], action: 'SCMP_ACT_ERRNO', includes: { caps: ['CAP_CHOWN', 'CAP_BPF'] } },
        { names: ['b'], action: 'SCMP_ACT_ERRNO', excludes: { caps: ['CAP_BPF', 'CAP_CHOWN'] } },
        { names: ['c'], action: 'SCMP_ACT_ERRNO', includes: { arches: ['arm64'] } },
        { names: ['d'], action: 'SCMP_ACT_ERRNO', excludes: { arches: ['amd64'] } },
        { names: ['e'], action: 'SCMP_ACT_ERRNO', includes: { minKernel: '6.2' } },
        { names: ['f'], action: 'SCMP_ACT_ERRNO', excludes: { minKernel: '6.1' } },
        {
          names: ['g'],
          action: 'SCMP_ACT_ERRNO',
          args: [{ index: 1, value: 7, valueTwo: 0, op: 'SCMP_CMP_EQ' }],
        },
      ],
    };
    assert.deepEqual(convert(profile, ['CAP_CHOWN']), {
      defaultAction: 'SCMP_ACT_ALLOW',
      defaultErrnoRet: 38,
      architectures: ['SCMP_ARCH_X86_64'],
      flags: ['SECCOMP_FILTER_FLAG_LOG'],
      syscalls: [
        { names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 },
        {
          names: ['g'],
          action: 'SCMP_ACT_ERRNO',
          args: [{ index: 1, value: 7, valueTwo: 0, op: 'SCMP_CMP_EQ' }],
        },
      ],
    });
    assert.deepEqual(
      convert(profile, ['CAP_CHOWN', 'CAP_BPF']).syscalls?.map((rule) => rule.names[0]),
      ['mkdir', 'a', 'g'],
    );
  });

  test('no default action and no rules: no filter; contradictory profiles are refused', () => {
    assert.equal(seccompForProcess({ defaultAction: '' }, { capabilities: [], ...amd64 }), undefined);
    assert.throws(
      () =>
        convert({
          defaultAction: 'SCMP_ACT_ERRNO',
          architectures: ['SCMP_ARCH_X86_64'],
          archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: [] }],
        }),
      /both architectures and archMap/,
    );
    assert.throws(
      () =>
        convert({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ name: 'a', names: ['b'], action: 'x' }] }),
      /both name and names/,
    );
  });

  test('parseSeccompProfile reads Docker profiles and refuses what is not one, in moby words', () => {
    assert.equal(parseSeccompProfile(JSON.stringify(defaultSeccompProfile)).syscalls?.length, 28);
    assert.throws(() => parseSeccompProfile('{'), /^ExecError: Decoding seccomp profile failed: /);
    assert.throws(
      () => parseSeccompProfile('[]'),
      /Decoding seccomp profile failed: the profile is not a JSON object/,
    );
    assert.throws(
      () => parseSeccompProfile('{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["a"]}]}'),
      /syscalls\[0\]\.action is not a string/,
    );
    assert.throws(
      () => parseSeccompProfile('{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":"a","action":"x"}]}'),
      /syscalls\[0\]\.names is not a list of names/,
    );
  });
});

describe('runtimeSpec and seccomp', () => {
  const files = { hostsPath: '/h', resolvConfPath: '/r', seccompHost: amd64 };
  const root: ProcessIds = { uid: 0, gid: 0, additionalGids: [] };
  const meta = (over: Partial<ExecMeta> = {}): ExecMeta => ({
    args: ['/bin/true'],
    env: [],
    cwd: '/',
    user: '',
    network: 'none',
    ...over,
  });

  test("a sandboxed process gets Docker's default profile for its capabilities; unconfined gets none", () => {
    assert.deepEqual(
      runtimeSpec('/r', [], meta(), root, files).linux.seccomp,
      convert(defaultSeccompProfile),
    );
    // A non-root user has the same bounding set, so the same filter.
    const user = runtimeSpec('/r', [], meta(), { uid: 1000, gid: 1000, additionalGids: [] }, files);
    assert.deepEqual(user.linux.seccomp, convert(defaultSeccompProfile));
    assert.equal(
      runtimeSpec('/r', [], meta({ seccomp: 'unconfined' }), root, files).linux.seccomp,
      undefined,
    );
    const custom: SeccompProfile = {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }],
    };
    assert.deepEqual(runtimeSpec('/r', [], meta({ seccomp: custom }), root, files).linux.seccomp, {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }],
    });
  });

  test('insecure: the capabilities the host holds, no filter, nothing masked, /sys writable, all devices', () => {
    const held = allCapabilities.filter((cap) => cap !== 'CAP_SYS_RESOURCE');
    const s = runtimeSpec('/r', [], meta({ security: 'insecure' }), root, {
      ...files,
      hostCapabilities: held,
    });
    assert.equal(s.linux.seccomp, undefined);
    for (const set of ['bounding', 'effective', 'permitted', 'inheritable', 'ambient'] as const) {
      assert.deepEqual(s.process.capabilities[set], held, set);
    }
    assert.deepEqual(s.linux.maskedPaths, []);
    assert.deepEqual(s.linux.readonlyPaths, []);
    assert.equal(s.mounts.find((m) => m.destination === '/sys')?.options.includes('ro'), false);
    assert.equal(s.mounts.find((m) => m.destination === '/sys/fs/cgroup')?.options.includes('ro'), false);
    assert.deepEqual(
      s.linux.resources.devices.map((d) => d.allow),
      [true, true],
    );
  });

  test('capabilitiesInMask reads /proc/<pid>/status masks', () => {
    assert.deepEqual(capabilitiesInMask('0000000000000001'), ['CAP_CHOWN']);
    assert.equal(capabilitiesInMask('000001ffffffffff').length, 41);
    assert.equal(capabilitiesInMask('000001fffeffffff').includes('CAP_SYS_RESOURCE'), false);
  });
});
