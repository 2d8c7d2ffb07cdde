/**
 * Helpers about other processes, shared by every folder (like errors.ts): several parts of tbuild
 * mark files with the pid of the process that owns them (store temp files and leases, cache claims,
 * the shared network namespace, container names) and take them over once that process is gone.
 */

import { readFileSync } from 'node:fs';

/** True when a process with this pid exists (EPERM counts: it exists but is not ours). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A process's start time in clock ticks since boot (`/proc/<pid>/stat` field 22), or undefined
 * when the process is gone. With the pid it names one process for good: a pid reused after a
 * reboot or a wrap-around has another start time.
 */
export function processStartTime(pid: number): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may itself hold spaces and parentheses.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const start = Number(fields[19]);
  return Number.isInteger(start) ? start : undefined;
}

let ownToken: string | undefined;

/**
 * This process as the owner of a temp file or directory: `<pid>.<start time>`. Temp names begin
 * with it (after a `kind-` prefix), so whoever opens the root can tell the leftovers of a process
 * that died (kill -9, a crash, a power cut) from the files of one still running.
 */
export function ownerToken(): string {
  ownToken ??= `${process.pid}.${processStartTime(process.pid) ?? 0}`;
  return ownToken;
}

/**
 * Whether the owner a temp name records is still running. `name` is `[<kind>-]<pid>.<start>-…`
 * (or `<pid>-…`, the older form without a start time: then the pid alone decides). A name with no
 * owner in it answers undefined: the caller decides what an unowned name means.
 */
export function isOwnerAlive(name: string): boolean | undefined {
  const m = /^(?:[a-z]+-)?(\d+)(?:\.(\d+))?-/.exec(name);
  if (!m) return undefined;
  const pid = Number(m[1]);
  if (!isProcessAlive(pid)) return false;
  if (m[2] === undefined) return true;
  const start = processStartTime(pid);
  // Not readable (another pid namespace, hidepid): alive, the safe direction.
  return start === undefined || start === Number(m[2]);
}
