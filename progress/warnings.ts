import type { WarningEvent } from './events.ts';

/**
 * The warnings block buildx prints once the progress display is done (commands/build.go
 * printWarnings): a blank line, ` N warnings found (use docker --debug to expand):` (yellow on a
 * terminal), then ` - ` and each warning's short form. Identical warnings are shown once, as
 * buildx's dedupWarnings does; buildx then prints them in Go map order, we by file and line (those
 * without a place first, as BuildKit's lint output sorts them). Returns '' when there are none.
 */
export function formatWarningSummary(warnings: readonly WarningEvent[], color: boolean): string {
  const seen = new Set<string>();
  const unique = warnings.filter((w) => {
    const key = JSON.stringify([w.rule, w.message, w.location, w.url]);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  if (unique.length === 0) return '';
  unique.sort((a, b) => {
    const [fileA, lineA] = place(a);
    const [fileB, lineB] = place(b);
    return fileA === fileB ? lineA - lineB : fileA < fileB ? -1 : 1;
  });
  const count = unique.length === 1 ? '1 warning found' : `${unique.length} warnings found`;
  const heading = `${count} (use docker --debug to expand):\n`;
  const lines = unique.map((w) => ` - ${w.message}\n`).join('');
  return `\n ${color ? `\x1b[33m${heading}\x1b[0m` : heading}${lines}`;
}

/** `Dockerfile:12` → ['Dockerfile', 12]; no place sorts before everything. */
function place(warning: WarningEvent): [string, number] {
  const match = /^(.*):(\d+)$/.exec(warning.location ?? '');
  return match ? [match[1] as string, Number(match[2])] : ['', 0];
}
