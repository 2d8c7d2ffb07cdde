/**
 * The long-lived helpers the network layer leaves running between commands (slirp4netns per
 * network, a port forwarder per container with published ports), named on disk by pid and start
 * time so that a pid reused by another process is never signalled.
 */
import { readdirSync, readFileSync } from 'node:fs';
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

/**
 * SIGKILLs every process whose argv names one of `paths` (an argument equal to it, under it as a
 * directory, or `--net=` it): the helpers of a namespace or run directory that a command killed
 * between starting them and recording their pid left behind. Only for paths of tbuild's run
 * directory, under the lock that owns them, so none of these is anyone else's or in the making.
 */
export async function stopStrayHelpers(paths: readonly string[]): Promise<void> {
  const names = (arg: string) =>
    paths.some((p) => arg === p || arg.startsWith(`${p}/`) || arg === `--net=${p}`);
  const strays: HelperProcess[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
    } catch {
      continue; // gone meanwhile
    }
    if (argv.some(names)) strays.push(helperOf(Number(entry)));
  }
  await Promise.all(strays.map(stopHelper));
}
