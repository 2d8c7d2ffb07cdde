/**
 * `logs` from conmon's k8s-file log, shown as Docker shows its json-file log. Each line of the
 * file is `TIME STREAM TAG CONTENT`: TIME is RFC 3339 with nanoseconds and the host's offset,
 * STREAM `stdout` or `stderr`, TAG `F` for a full line (its newline was stripped) or `P` for a
 * partial one (no newline yet: a prompt, the last bytes before exit, or a line longer than
 * conmon's buffer). Docker prints each message's content, `-t` puts the time in front in UTC
 * with nine fraction digits (moby jsonmessage.RFC3339NanoFixed), `--tail N` keeps the last N
 * lines, `--since`/`--until` keep messages in a time window.
 */
import { open, readFile } from 'node:fs/promises';
import { ContainerError } from './errors.ts';

export interface LogEntry {
  /** Nanoseconds since the epoch. */
  time: bigint;
  stream: 'stdout' | 'stderr';
  /** The content, with its newline when the entry ends a line. */
  text: string;
}

/** Parses complete lines of a k8s-file log; lines that do not parse are skipped. */
export function parseK8sLog(text: string): LogEntry[] {
  const out: LogEntry[] = [];
  for (const line of text.split('\n')) {
    const a = line.indexOf(' ');
    const b = line.indexOf(' ', a + 1);
    const c = line.indexOf(' ', b + 1);
    if (a < 0 || b < 0) continue;
    const time = parseRfc3339Nano(line.slice(0, a));
    const stream = line.slice(a + 1, b);
    if (time === undefined || (stream !== 'stdout' && stream !== 'stderr')) continue;
    const tag = c < 0 ? line.slice(b + 1) : line.slice(b + 1, c);
    const content = c < 0 ? '' : line.slice(c + 1);
    out.push({ time, stream, text: tag.includes('P') ? content : `${content}\n` });
  }
  return out;
}

/** RFC 3339 with up to nine fraction digits and any offset, as nanoseconds since the epoch. */
export function parseRfc3339Nano(text: string): bigint | undefined {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(text);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(ms)) return undefined;
  return BigInt(ms) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}

/** Docker's `-t` prefix: UTC, always nine fraction digits. */
export function formatLogTime(ns: bigint): string {
  const seconds = ns / 1_000_000_000n;
  const fraction = (ns % 1_000_000_000n).toString().padStart(9, '0');
  return `${new Date(Number(seconds) * 1000).toISOString().slice(0, 19)}.${fraction}Z`;
}

/**
 * Docker's `--since`/`--until` values (docker/cli opts and moby api/types/time
 * GetTimestamp): a Go duration before now (`10m`, `1h30m`), a Unix time (`1700000000.5`), or
 * an RFC 3339 date or time (one without an offset is local time, as Docker takes it).
 */
export function parseLogTime(value: string, flag: string, nowMs = Date.now()): bigint {
  const duration = parseGoDuration(value);
  if (duration !== undefined) return BigInt(Math.round((nowMs - duration) * 1e6));
  if (/^\d+(\.\d{1,9})?$/.test(value)) {
    const [s, f = ''] = value.split('.');
    return BigInt(s as string) * 1_000_000_000n + BigInt(f.padEnd(9, '0'));
  }
  const exact = parseRfc3339Nano(value);
  if (exact !== undefined) return exact;
  const ms = Date.parse(value);
  if (!Number.isNaN(ms) && /^\d{4}-\d\d-\d\d/.test(value)) return BigInt(ms) * 1_000_000n;
  throw new ContainerError(
    `invalid value for "${flag}": failed to parse value as time or duration: "${value}"`,
  );
}

function parseGoDuration(text: string): number | undefined {
  const unit: Record<string, number> = {
    ns: 1e-6,
    us: 1e-3,
    µs: 1e-3,
    ms: 1,
    s: 1000,
    m: 60_000,
    h: 3_600_000,
  };
  if (!/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(text)) return undefined;
  let total = 0;
  for (const m of text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g))
    total += Number(m[1]) * (unit[m[2] as string] as number);
  return total;
}

export interface LogSelection {
  since?: bigint;
  until?: bigint;
  /** Keep the last N lines (a line is the entries up to one ending in a newline). */
  tail?: number;
}

/** The entries Docker would show for these options. Pure. */
export function selectLogEntries(entries: LogEntry[], selection: LogSelection): LogEntry[] {
  let out = entries.filter(
    (e) =>
      (selection.since === undefined || e.time >= selection.since) &&
      (selection.until === undefined || e.time <= selection.until),
  );
  if (selection.tail !== undefined) {
    let lines = 0;
    let start = out.length;
    for (let i = out.length - 1; i >= 0; i--) {
      // A line ends with a newline; a last partial entry (no newline before exit) is a line too.
      if ((out[i] as LogEntry).text.endsWith('\n') || i === out.length - 1) {
        if (lines === selection.tail) break;
        lines++;
      }
      start = i;
    }
    out = selection.tail === 0 ? [] : out.slice(start);
  }
  return out;
}

/** Reads the whole log; a missing file (never started) is empty. Returns the entries and the byte offset read to. */
export async function readLog(path: string): Promise<{ entries: LogEntry[]; offset: number }> {
  const data = await readFile(path).catch(() => Buffer.alloc(0));
  const end = data.lastIndexOf(10) + 1;
  return { entries: parseK8sLog(data.subarray(0, end).toString('utf8')), offset: end };
}

/** Reads complete lines appended since `offset`. */
export async function readLogFrom(
  path: string,
  offset: number,
): Promise<{ entries: LogEntry[]; offset: number }> {
  const handle = await open(path, 'r').catch(() => undefined);
  if (!handle) return { entries: [], offset };
  try {
    const { size } = await handle.stat();
    if (size <= offset) return { entries: [], offset };
    const buffer = Buffer.alloc(size - offset);
    await handle.read(buffer, 0, buffer.length, offset);
    const end = buffer.lastIndexOf(10) + 1;
    return { entries: parseK8sLog(buffer.subarray(0, end).toString('utf8')), offset: offset + end };
  } finally {
    await handle.close();
  }
}
