// "did you mean …?" for unknown instructions and flags (BuildKit: util/suggest, which also ranks by
// edit distance, transpositions included). Hand-written: a 20-line edit distance does not justify a dependency.

/**
 * Edit distance between two strings where insert, delete, substitute and swapping two adjacent
 * characters cost 1 each (optimal string alignment, the restricted Damerau-Levenshtein distance):
 * `bulid` is one edit from `build`, as BuildKit's suggestions treat a transposition.
 */
function editDistance(a: string, b: string): number {
  let before: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, (before[j - 2] as number) + 1);
      }
      row.push(d);
    }
    before = prev;
    prev = row;
  }
  return prev[b.length] as number;
}

/**
 * The candidate closest to `word` (case-insensitively), or undefined when none is close enough:
 * at most a third of the word's length in edits, and at least 1 allowed.
 */
export function suggest(word: string, candidates: Iterable<string>): string | undefined {
  const w = word.toLowerCase();
  const limit = Math.max(1, Math.floor(w.length / 3));
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    const d = editDistance(w, c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return bestDistance <= limit ? best : undefined;
}
