// Test helper: a tiny rootfs made of Debian's static busybox, and the checks that decide whether
// runc tests can run on this machine.
import { execFileSync } from 'node:child_process';
import { copyFile, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { needCommands } from '../needs.ts';

export const busybox = '/bin/busybox';

const applets = [
  'sh',
  'echo',
  'cat',
  'ls',
  'id',
  'sleep',
  'grep',
  'hostname',
  'ps',
  'true',
  'env',
  'pwd',
  'touch',
  'rm',
  'mkdir',
  'stat',
  'wc',
  'head',
  'tr',
  'ln',
];

/**
 * Why runc tests cannot run here, or undefined when they can (root + runc + static busybox).
 * Callers pass it through `skipReason` (test/needs.ts), which fails it under CI.
 */
export function runcSkipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (runc creates namespaces and mounts)';
  const noRunc = needCommands('runc');
  if (noRunc) return noRunc;
  try {
    const out = execFileSync(busybox, ['--help'], { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
    if (!out.includes('BusyBox')) return `${busybox} is not busybox`;
    const file = execFileSync('ldd', [busybox], { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
    if (!file.includes('not a dynamic executable'))
      return `${busybox} is not static (apt-get install busybox-static)`;
  } catch (err) {
    // ldd exits 1 for static binaries on Debian, printing "not a dynamic executable".
    const text =
      String((err as { stdout?: Buffer }).stdout ?? '') + String((err as { stderr?: Buffer }).stderr ?? '');
    if (!text.includes('not a dynamic executable'))
      return `${busybox} missing or not static (apt-get install busybox-static)`;
  }
  return undefined;
}

/**
 * Writes a busybox rootfs into `dir`: /bin/busybox + applet symlinks, /etc/passwd with root,
 * nobody and tester (1000), /etc/group with tester also in `staff` (50), and /tmp. No /proc,
 * /dev, /sys, /etc/hosts or /etc/resolv.conf, so mount stubs would show up if left behind.
 */
export async function writeBusyboxRootfs(dir: string): Promise<void> {
  await mkdir(join(dir, 'bin'), { recursive: true });
  await mkdir(join(dir, 'etc'));
  await mkdir(join(dir, 'tmp'), { mode: 0o1777 });
  await copyFile(busybox, join(dir, 'bin/busybox'));
  for (const applet of applets) await symlink('busybox', join(dir, 'bin', applet));
  await writeFile(
    join(dir, 'etc/passwd'),
    'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/sh\ntester:x:1000:1000:Tester:/home/tester:/bin/sh\n',
  );
  await writeFile(join(dir, 'etc/group'), 'root:x:0:\nstaff:x:50:tester\nnogroup:x:65534:\ntester:x:1000:\n');
}
