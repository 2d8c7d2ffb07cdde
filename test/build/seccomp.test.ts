// Seccomp in RUN and `tbuild run` (issue 12, finding 2): every sandboxed process runs under
// Docker's default profile, so it cannot make user namespaces or use the kernel keyring; `RUN
// --security=insecure` (with --allow security.insecure) and `run --security-opt
// seccomp=unconfined` run without a filter; `--security-opt seccomp=PROFILE.json` applies a profile.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, type TestContext, test } from 'node:test';
import { promisify } from 'node:util';
import { firstReason, needCommands, skipReason } from '../needs.ts';
import { setupBuildTests } from './helpers.ts';

const h = setupBuildTests();
const skip = h.skip || skipReason(firstReason(needCommands('gcc:gcc libc6-dev')));
const it = (name: string, fn: (t: TestContext) => Promise<void>) => test(name, { skip }, fn);

/**
 * A static probe of the kernel keyring (busybox has no keyctl applet): add_key into the process
 * keyring, and keyctl(KEYCTL_GET_KEYRING_ID) of the session keyring. Prints one line per call.
 */
const probeSource = `
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(void) {
  long key = syscall(SYS_add_key, "user", "tbuild-probe", "x", 1, -2 /* KEY_SPEC_PROCESS_KEYRING */);
  printf("add_key: %s\\n", key < 0 ? strerror(errno) : "added");
  long ring = syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3 /* KEY_SPEC_SESSION_KEYRING */, 0);
  printf("keyctl: %s\\n", ring < 0 ? strerror(errno) : "ok");
  return 0;
}
`;

let work = '';
let probe: Buffer;

before(async () => {
  if (skip) return;
  work = await mkdtemp(join(tmpdir(), 'tbuild-seccomp-'));
  await writeFile(join(work, 'probe.c'), probeSource);
  await promisify(execFile)('gcc', ['-static', '-O1', '-o', join(work, 'probe'), join(work, 'probe.c')]);
  probe = await readFile(join(work, 'probe'));
});

after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

const probes =
  'grep -E "^(Seccomp|NoNewPrivs):" /proc/self/status; unshare -U true 2>&1; echo "unshare -U: $?"; /probe';

it('a RUN is filtered: Seccomp 2, no user namespace, no keyring', async (t) => {
  const image = await h.buildOk(
    {
      Dockerfile: `FROM busybox\nCOPY --chmod=755 probe /probe\nRUN { ${probes}; } > /out 2>&1\n`,
      probe,
    },
    { tag: 'seccomp-probe' },
  );
  const out = await image.text('/out');
  // The probe's output inside a RUN, for the closing note.
  t.diagnostic('seccomp probe inside a RUN:');
  for (const line of out.trimEnd().split('\n')) t.diagnostic(`  ${line}`);
  assert.match(out, /^Seccomp:\s+2$/m);
  // BuildKit's RUN cannot gain privileges (containerd's default spec); `docker run` can (below).
  assert.match(out, /^NoNewPrivs:\s+1$/m);
  assert.match(out, /unshare\(0x10000000\): Operation not permitted/);
  assert.match(out, /^unshare -U: 1$/m);
  assert.match(out, /^add_key: Operation not permitted$/m);
  assert.match(out, /^keyctl: Operation not permitted$/m);
});

it('RUN --security=insecure with --allow security.insecure runs unfiltered with every capability held', async () => {
  const image = await h.buildOk(
    {
      Dockerfile:
        'FROM busybox\nRUN --security=insecure grep -E "^(Seccomp|CapEff):" /proc/self/status > /out\n',
    },
    { args: ['--allow', 'security.insecure'] },
  );
  const out = await image.text('/out');
  assert.match(out, /^Seccomp:\s+0$/m);
  const own = /^CapBnd:\s+([0-9a-f]+)$/m.exec(await readFile('/proc/self/status', 'utf8'))?.[1];
  assert.equal(/^CapEff:\s+([0-9a-f]+)$/m.exec(out)?.[1], own, 'the step holds what tbuild holds');
});

it('tbuild run is filtered by default; --security-opt seccomp=unconfined and =PROFILE.json', async () => {
  const run = (...args: string[]) => h.cli(['run', '--rm', ...args]);
  const filtered = await run('seccomp-probe', 'sh', '-c', probes);
  assert.equal(filtered.code, 0, filtered.stderr);
  assert.match(filtered.stdout, /^Seccomp:\s+2$/m);
  assert.match(filtered.stdout, /^NoNewPrivs:\s+0$/m);
  assert.match(filtered.stdout, /^add_key: Operation not permitted$/m);
  assert.match(filtered.stdout, /^unshare -U: 1$/m);

  const unconfined = await run('--security-opt', 'seccomp=unconfined', 'seccomp-probe', 'sh', '-c', probes);
  assert.equal(unconfined.code, 0, unconfined.stderr);
  assert.match(unconfined.stdout, /^Seccomp:\s+0$/m);
  assert.match(unconfined.stdout, /^add_key: added$/m);

  // A profile of one's own: everything allowed but mkdir/mkdirat, which fail with EACCES.
  const profile = join(work, 'no-mkdir.json');
  await writeFile(
    profile,
    JSON.stringify({
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }],
    }),
  );
  const custom = await run(
    '--security-opt',
    `seccomp=${profile}`,
    'seccomp-probe',
    'sh',
    '-c',
    'mkdir /x; echo $?',
  );
  assert.match(custom.stdout + custom.stderr, /Permission denied/);
  assert.match(custom.stdout, /^1$/m);

  const missing = await run('--security-opt', 'seccomp=/nonexistent.json', 'seccomp-probe', 'true');
  assert.equal(missing.code, 125);
  assert.match(missing.stderr, /ERROR: opening seccomp profile \(\/nonexistent\.json\) failed: /);
  await writeFile(join(work, 'bad.json'), '{"syscalls": 3}');
  const bad = await run('--security-opt', `seccomp=${join(work, 'bad.json')}`, 'seccomp-probe', 'true');
  assert.equal(bad.code, 125);
  assert.match(bad.stderr, /ERROR: Decoding seccomp profile failed: syscalls is not a list/);
  const other = await run('--security-opt', 'apparmor=unconfined', 'seccomp-probe', 'true');
  assert.equal(other.code, 125);
  assert.match(other.stderr, /ERROR: invalid --security-opt: "apparmor=unconfined"/);
});
