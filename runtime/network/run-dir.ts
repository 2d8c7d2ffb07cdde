/**
 * Where the network layer keeps what lives only as long as the machine runs: network namespace
 * files (bind mounts of nsfs), the address allocations, the pids of slirp4netns and the port
 * forwarders, aardvark-dns's configuration, and each running container's attachment record.
 *
 *   /run/tbuild/<hash of the root>/boot_id                this boot's id; another one = stale dir
 *   /run/tbuild/<hash>/locks/<network id>.lock             flock per network (never deleted: see below)
 *   /run/tbuild/<hash>/networks/<network id>/netns         the network's namespace (bridge, NAT, DNS)
 *   /run/tbuild/<hash>/networks/<network id>/state.json    slirp4netns's pid, the address allocations
 *   /run/tbuild/<hash>/networks/<network id>/dns/          netavark's --config (aardvark-dns's files)
 *   /run/tbuild/<hash>/netns/<container id>                a container's own namespace
 *   /run/tbuild/<hash>/attachments/<container id>.json     what a start set up, for its teardown
 *   /run/tbuild/<hash>/attachments/<container id>.host-loopback.log  its host-gateway slirp4netns's log
 *
 * /run, as Podman's runroot: a reboot empties it, and with it every record of a namespace,
 * process or address that the reboot ended anyway, so nothing stale is ever taken for live. A
 * /run that survives a reboot (not a tmpfs) is caught by the boot id. The persistent side (the
 * network definitions) lives under the root (definitions.ts). One directory per root, named by
 * a hash of its path, so that roots never share a namespace.
 *
 * Lock files live outside the directories that teardown removes: a process waiting on a lock in
 * a directory that another one deletes would hold a lock on an unlinked file while a third takes
 * the new one.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The base of every root's run directory; tests may point it elsewhere. */
export function runBase(): string {
  return process.env.TBUILD_RUN_DIR || '/run/tbuild';
}

/** This root's run directory (not created). */
export function runDir(root: string): string {
  const hash = createHash('sha256').update(resolve(root)).digest('hex').slice(0, 16);
  return join(runBase(), hash);
}

export function networkRunDir(root: string, networkId: string): string {
  return join(runDir(root), 'networks', networkId);
}

export function networkLockPath(root: string, networkId: string): string {
  return join(runDir(root), 'locks', `${networkId}.lock`);
}

export function containerNetnsPath(root: string, containerId: string): string {
  return join(runDir(root), 'netns', containerId);
}

export function attachmentsDir(root: string): string {
  return join(runDir(root), 'attachments');
}

export function hostLoopbackLogPath(root: string, containerId: string): string {
  return join(attachmentsDir(root), `${containerId}.host-loopback.log`);
}

/**
 * Makes the run directory, first removing one a previous boot left (a /run that is not a tmpfs):
 * its namespaces and processes are gone, and its records would name pids that are someone else's.
 */
export function ensureRunDir(root: string): string {
  const dir = runDir(root);
  const bootId = currentBootId();
  const recorded = readText(join(dir, 'boot_id'));
  if (recorded !== undefined && recorded !== bootId) rmSync(dir, { recursive: true, force: true });
  for (const sub of ['locks', 'networks', 'netns', 'attachments']) {
    mkdirSync(join(dir, sub), { recursive: true, mode: 0o700 });
  }
  if (recorded !== bootId) {
    writeFileSync(join(dir, 'boot_id'), bootId);
    writeFileSync(join(dir, 'root'), `${resolve(root)}\n`);
  }
  return dir;
}

function currentBootId(): string {
  return readText('/proc/sys/kernel/random/boot_id') ?? 'unknown';
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}
