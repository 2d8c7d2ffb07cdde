/**
 * Network namespaces that outlive the command that made them: the namespace file of a process
 * bind-mounted onto a file, as `ip netns add` and Podman do, made and entered with util-linux
 * (`unshare --net=FILE`, `nsenter --net=FILE`). A namespace is alive while its file is an nsfs
 * mount; a file that is not one (a kill -9 between the touch and the mount, a reboot) is a dead
 * namespace and is simply made again.
 *
 * Why files and not holder processes (executor/netns.ts holds the build's loopback namespace with
 * one): these must survive every tbuild process (containers run on after `run -d` returns) and be
 * found again by path by the next command, and netavark's teardown needs the container's
 * namespace by path even after the container's process is gone.
 */
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { mustRunTool, networkTool, runTool } from './tools.ts';

/** True when `path` is a mounted namespace file (nsfs in /proc/self/mountinfo). */
export function isNamespaceMounted(path: string): boolean {
  return mountedNamespaces().has(path);
}

/** Every nsfs mount point of this mount namespace. */
export function mountedNamespaces(): Set<string> {
  const out = new Set<string>();
  let text: string;
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return out;
  }
  for (const line of text.split('\n')) {
    // "36 35 0:4 net:[4026532] /run/x rw shared:1 - nsfs nsfs rw": the mount point is field 5,
    // the file system type is the first field after the " - " separator.
    const dash = line.indexOf(' - ');
    if (dash < 0 || !line.slice(dash + 3).startsWith('nsfs ')) continue;
    const point = line.split(' ')[4];
    if (point !== undefined) out.add(unescapeMountPath(point));
  }
  return out;
}

/** mountinfo escapes space, tab, newline and backslash as octal (\040). */
function unescapeMountPath(path: string): string {
  return path.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}

/** Makes a new network namespace bound to `path` with its loopback up. */
export async function createNamespace(path: string): Promise<void> {
  await removeNamespace(path);
  closeSync(openSync(path, 'w', 0o600));
  const ip = networkTool('ip');
  await mustRunTool('could not create a network namespace', [
    networkTool('unshare'),
    `--net=${path}`,
    ip,
    'link',
    'set',
    'lo',
    'up',
  ]);
}

/** Unbinds and deletes a namespace file; the namespace ends with its last user. Idempotent. */
export async function removeNamespace(path: string): Promise<void> {
  // A namespace file may be mounted more than once (two racing creates): unmount them all.
  for (let i = 0; i < 8 && isNamespaceMounted(path); i++) {
    const result = await runTool(['umount', path]);
    if (result.code !== 0 && isNamespaceMounted(path)) await runTool(['umount', '-l', path]);
  }
  rmSync(path, { force: true });
}

/** argv that runs `argv` inside the namespace bound to `path` (its network namespace only). */
export function inNamespace(path: string, argv: readonly string[]): string[] {
  return [networkTool('nsenter'), `--net=${path}`, ...argv];
}
