/**
 * Helpers about other processes, shared by every folder (like errors.ts): several parts of tbuild
 * mark files with the pid of the process that owns them (store temp files and leases, cache claims,
 * the shared network namespace, container names) and take them over once that process is gone.
 */

/** True when a process with this pid exists (EPERM counts: it exists but is not ours). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
