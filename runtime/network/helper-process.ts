/**
 * The long-lived helpers the network layer leaves running between commands (slirp4netns per
 * network, a port forwarder per container with published ports), named on disk by pid and start
 * time so that a pid reused by another process is never signalled.
 */
import { isMonitorAlive, pollUntil, processStartTicks } from '../monitor.ts';

/** A process as recorded on disk. */
export interface HelperProcess {
  pid: number;
  /** Start time in clock ticks since boot (/proc/<pid>/stat field 22). */
  startTicks: number;
}

export function helperOf(pid: number): HelperProcess {
  return { pid, startTicks: processStartTicks(pid) ?? 0 };
}

export function isHelperAlive(helper: HelperProcess | undefined): boolean {
  return helper !== undefined && isMonitorAlive(helper.pid, helper.startTicks);
}

/** SIGKILLs the helper if it is still the recorded process, and waits for it to be gone. */
export async function stopHelper(helper: HelperProcess | undefined): Promise<void> {
  if (helper === undefined || !isHelperAlive(helper)) return;
  try {
    process.kill(helper.pid, 'SIGKILL');
  } catch {
    return;
  }
  await pollUntil(() => !isHelperAlive(helper), 5000, 10);
}
