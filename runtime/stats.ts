/**
 * `stats`: a container's resource use from its cgroup, as dockerd reports it. runc reads the
 * cgroup (v1 or v2) for us (`runc events --stats`); the numbers are Docker's:
 *  - CPU %: the container's CPU time over the host's (/proc/stat, all CPUs) between two samples
 *    one second apart (dockerd's collector interval), times the online CPUs (docker-cli
 *    calculateCPUPercentUnix);
 *  - memory: usage minus the inactive file cache (cgroup v1 total_inactive_file, v2
 *    inactive_file; docker-cli calculateMemUsageUnixNoCache), the limit capped at the host's
 *    memory (dockerd's machineMemory);
 *  - block I/O: the cgroup's read and write bytes; PIDs: pids.current;
 *  - network: 0 for the host and none networks, which have no interfaces of the container's own.
 * A container that is not running has zeros everywhere, as Docker shows it.
 */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import type { Container } from './container.ts';
import { containersRuncRoot } from './container-store.ts';
import { runc } from './monitor.ts';

export interface ContainerStats {
  id: string;
  name: string;
  cpuPercent: number;
  memoryUsage: number;
  memoryLimit: number;
  memoryPercent: number;
  networkRx: number;
  networkTx: number;
  blockRead: number;
  blockWrite: number;
  pids: number;
}

/** What runc says of one cgroup (the fields read here). */
interface RuncStats {
  cpu?: { usage?: { total?: number } };
  memory?: { usage?: { usage?: number; limit?: number }; raw?: Record<string, number> };
  pids?: { current?: number };
  blkio?: { ioServiceBytesRecursive?: { op?: string; value?: number }[] };
}

interface Sample {
  stats: RuncStats | undefined;
  /** The host's CPU time in nanoseconds when the sample was taken. */
  system: number;
}

/** Samples every running container twice, `intervalMs` apart, and computes Docker's numbers. */
export async function containerStats(
  root: string,
  containers: Container[],
  intervalMs = 1000,
): Promise<ContainerStats[]> {
  const first = await Promise.all(containers.map((c) => sample(root, c)));
  if (containers.some(isRunning)) await new Promise((r) => setTimeout(r, intervalMs));
  const second = await Promise.all(containers.map((c) => sample(root, c)));
  return containers.map((c, i) => compute(c, first[i] as Sample, second[i] as Sample));
}

function isRunning(c: Container): boolean {
  return c.state.Status === 'running' || c.state.Status === 'paused';
}

async function sample(root: string, container: Container): Promise<Sample> {
  if (!isRunning(container)) return { stats: undefined, system: 0 };
  const r = await runc(containersRuncRoot(root), ['events', '--stats', container.record.Id]);
  const system = systemCpuNs();
  if (r.code !== 0) return { stats: undefined, system };
  try {
    return { stats: (JSON.parse(r.stdout) as { data?: RuncStats }).data, system };
  } catch {
    return { stats: undefined, system };
  }
}

function compute(container: Container, before: Sample, after: Sample): ContainerStats {
  const zero = {
    id: container.record.Id,
    name: container.record.Name,
    cpuPercent: 0,
    memoryUsage: 0,
    memoryLimit: 0,
    memoryPercent: 0,
    networkRx: 0,
    networkTx: 0,
    blockRead: 0,
    blockWrite: 0,
    pids: 0,
  };
  const stats = after.stats;
  if (stats === undefined) return zero;
  const cpuDelta = (stats.cpu?.usage?.total ?? 0) - (before.stats?.cpu?.usage?.total ?? 0);
  const systemDelta = after.system - before.system;
  const cpuPercent =
    before.stats !== undefined && cpuDelta > 0 && systemDelta > 0
      ? (cpuDelta / systemDelta) * cpus().length * 100
      : 0;
  const usage = stats.memory?.usage?.usage ?? 0;
  const raw = stats.memory?.raw ?? {};
  const inactive = raw.total_inactive_file ?? raw.inactive_file;
  const memoryUsage = inactive !== undefined && inactive < usage ? usage - inactive : usage;
  const hostMemory = hostMemoryBytes();
  const cgroupLimit = stats.memory?.usage?.limit ?? 0;
  const memoryLimit =
    hostMemory > 0 && (cgroupLimit === 0 || cgroupLimit > hostMemory) ? hostMemory : cgroupLimit;
  let blockRead = 0;
  let blockWrite = 0;
  for (const entry of stats.blkio?.ioServiceBytesRecursive ?? []) {
    const op = (entry.op ?? '').toLowerCase();
    if (op === 'read') blockRead += entry.value ?? 0;
    if (op === 'write') blockWrite += entry.value ?? 0;
  }
  return {
    ...zero,
    cpuPercent,
    memoryUsage,
    memoryLimit,
    memoryPercent: memoryLimit > 0 ? (memoryUsage / memoryLimit) * 100 : 0,
    blockRead,
    blockWrite,
    pids: stats.pids?.current ?? 0,
  };
}

/** The host's CPU time (the first seven fields of /proc/stat's `cpu` line) in nanoseconds. */
function systemCpuNs(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const ticks = line
    .split(/\s+/)
    .slice(1, 8)
    .reduce((n, field) => n + Number(field), 0);
  // USER_HZ is 100 on Linux (what dockerd's clockTicksPerSecond reads with sysconf).
  return (ticks * 1e9) / 100;
}

function hostMemoryBytes(): number {
  const m = /^MemTotal:\s+(\d+) kB$/m.exec(readFileSync('/proc/meminfo', 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}
