/**
 * The running side of one network: its own network namespace (holding the bridge, the host ends
 * of the containers' veth pairs, NAT and aardvark-dns), slirp4netns for the way out, and the
 * address allocations. Made when the first container joins, kept between commands while any
 * container is on it, torn down when the last one leaves, remade when found dead (a reboot-like
 * wipe of /run, a killed slirp4netns).
 *
 * One namespace per network, rather than one for all bridges: networks are then isolated by
 * construction, as Docker's DOCKER-ISOLATION rules make them (no route between two networks'
 * namespaces, no firewall rule to keep right), an `--internal` network is simply a namespace
 * without slirp4netns, and `network rm` removes a namespace. The cost is one slirp4netns process
 * (~2 MiB) per network with running containers.
 *
 * Everything here runs under the network's lock (withNetworkLock); a container's start takes it
 * after its own container lock, never the other way round.
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { acquireLock } from '../../locks.ts';
import { writeJsonAtomic } from '../container-store.ts';
import type { NetworkDefinition } from './definitions.ts';
import {
  type HelperProcess,
  helperOf,
  isHelperAlive,
  stopHelper,
  stopStrayHelpers,
} from './helper-process.ts';
import type { Allocations } from './ipam.ts';
import { createNamespace, isNamespaceMounted, removeNamespace } from './namespace.ts';
import { ensureRunDir, networkLockPath, networkRunDir } from './run-dir.ts';
import { startSlirp } from './slirp.ts';

/** `state.json` of a running network. */
export interface NetworkRuntimeState {
  /** slirp4netns; absent on an --internal network. */
  slirp?: HelperProcess;
  allocations: Allocations;
}

/** A network's runtime, opened under its lock. */
export interface NetworkRuntime {
  networkId: string;
  dir: string;
  /** The network's namespace file. */
  netns: string;
  /** netavark's --config directory (aardvark-dns's files). */
  dnsDir: string;
  state: NetworkRuntimeState;
}

/** Runs `fn` holding the network's lock. */
export async function withNetworkLock<T>(root: string, networkId: string, fn: () => Promise<T>): Promise<T> {
  ensureRunDir(root);
  const lock = await acquireLock(networkLockPath(root, networkId));
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}

function runtimePaths(root: string, networkId: string) {
  const dir = networkRunDir(root, networkId);
  return { dir, netns: join(dir, 'netns'), dnsDir: join(dir, 'dns'), state: join(dir, 'state.json') };
}

function readRuntimeState(path: string): NetworkRuntimeState {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as NetworkRuntimeState;
  } catch {
    return { allocations: {} };
  }
}

/**
 * The network's runtime, alive: made (or made again, after whatever killed it is cleared away)
 * when its namespace is gone, slirp4netns restarted when it died. Caller holds the lock.
 */
export async function openNetworkRuntime(root: string, network: NetworkDefinition): Promise<NetworkRuntime> {
  const paths = runtimePaths(root, network.Id);
  let state = readRuntimeState(paths.state);
  if (!isNamespaceMounted(paths.netns)) {
    // A dead namespace takes every veth of it along: its allocations and helpers are void.
    await clearRuntime(root, network.Id);
    mkdirSync(paths.dnsDir, { recursive: true, mode: 0o700 });
    await createNamespace(paths.netns);
    state = { allocations: {} };
  }
  if (!network.Internal && !isHelperAlive(state.slirp)) {
    // One a killed command started but never recorded would hold tap0, and the new one would fail.
    await stopStrayHelpers([paths.netns]);
    state.slirp = await startSlirp(paths.netns, join(paths.dir, 'slirp4netns.log'));
  }
  const runtime = { networkId: network.Id, dir: paths.dir, netns: paths.netns, dnsDir: paths.dnsDir, state };
  saveNetworkRuntime(runtime);
  return runtime;
}

/** The network's runtime if its namespace is alive, else undefined (nothing is made). Caller holds the lock. */
export function findNetworkRuntime(root: string, networkId: string): NetworkRuntime | undefined {
  const paths = runtimePaths(root, networkId);
  if (!isNamespaceMounted(paths.netns)) return undefined;
  return {
    networkId,
    dir: paths.dir,
    netns: paths.netns,
    dnsDir: paths.dnsDir,
    state: readRuntimeState(paths.state),
  };
}

export function saveNetworkRuntime(runtime: NetworkRuntime): void {
  writeJsonAtomic(join(runtime.dir, 'state.json'), runtime.state);
}

/** Tears the runtime down when no container holds an address on it any more. Caller holds the lock. */
export async function closeNetworkRuntimeIfUnused(root: string, runtime: NetworkRuntime): Promise<boolean> {
  if (Object.keys(runtime.state.allocations).length > 0) return false;
  await clearRuntime(root, runtime.networkId);
  return true;
}

/**
 * Removes everything of the network's runtime whether alive or not: slirp4netns, aardvark-dns
 * (netavark stops it with the last container's teardown; one left by a killed command is
 * stopped here), any helper still naming the directory (started by a command killed before it
 * recorded the pid), the namespace and the directory. Caller holds the lock.
 */
export async function clearRuntime(root: string, networkId: string): Promise<void> {
  const paths = runtimePaths(root, networkId);
  if (!existsSync(paths.dir)) return;
  const state = readRuntimeState(paths.state);
  await stopHelper(state.slirp);
  await stopAardvark(paths.dnsDir);
  await stopStrayHelpers([paths.dir]);
  await removeNamespace(paths.netns);
  rmSync(paths.dir, { recursive: true, force: true });
}

/** aardvark-dns writes its pid under netavark's config directory; its argv names that directory. */
async function stopAardvark(dnsDir: string): Promise<void> {
  let pid: number;
  try {
    pid = Number(readFileSync(join(dnsDir, 'aardvark-dns', 'aardvark.pid'), 'utf8').trim());
  } catch {
    return;
  }
  if (!(pid > 0)) return;
  let argv: string;
  try {
    argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return;
  }
  if (!argv.includes('aardvark-dns') || !argv.includes(dnsDir)) return;
  await stopHelper(helperOf(pid));
}
