import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Reads `--progress plain` output: which steps were CACHED and which ran. Step names are the
 * display names (`[2/3] COPY a.txt /a`); internal vertices are included under their own names.
 */
export interface StepOutcome {
  cached: Set<string>;
  ran: Set<string>;
}

export function stepOutcomes(stderr: string): StepOutcome {
  const names = new Map<string, string>();
  const cached = new Set<string>();
  const ran = new Set<string>();
  for (const line of stderr.split('\n')) {
    const m = /^#(\d+) (.*)$/.exec(line);
    if (!m) continue;
    const [, id, rest] = m as unknown as [string, string, string];
    if (!names.has(id)) names.set(id, rest);
    else if (rest === 'CACHED') cached.add(names.get(id) as string);
    else if (/^DONE /.test(rest)) ran.add(names.get(id) as string);
  }
  return { cached, ran };
}

/** The `[i/n] …` steps only (not `[internal] …`), sorted, for compact assertions. */
export function steps(set: Set<string>): string[] {
  return [...set].filter((name) => /^\[(?!internal\])/.test(name)).sort();
}

/** The image ID printed by `writing image sha256:…`. */
export function imageId(stderr: string): string {
  const m = /writing image (sha256:[a-f0-9]{64})/.exec(stderr);
  if (!m) throw new Error(`no image id in:\n${stderr}`);
  return m[1] as string;
}

/**
 * Waits until each of `count` builds holds `<root>/cache/gc.lock` (as /proc/locks lists its
 * inode) or has already finished (`finished()` of them).
 */
export async function allHoldingCache(root: string, count: number, finished: () => number): Promise<void> {
  const lock = join(root, 'cache', 'gc.lock');
  const deadline = Date.now() + 60_000;
  for (;;) {
    const ino = await stat(lock).then(
      (s) => s.ino,
      () => undefined,
    );
    const held =
      ino === undefined
        ? 0
        : (await readFile('/proc/locks', 'utf8'))
            .split('\n')
            .filter((line) => !line.includes('->') && line.includes('FLOCK') && line.includes(`:${ino} `))
            .length;
    if (held + finished() >= count) return;
    assert.ok(Date.now() < deadline, `only ${held + finished()} of ${count} builds took the cache lock`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
