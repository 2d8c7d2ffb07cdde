// "did you mean …?" for the variable rules, as BuildKit's util/suggest.Search picks it: plain
// Levenshtein distance (agext/levenshtein, no transpositions), the first option closer than 3
// edits and closer than every earlier one. parser/suggest.ts ranks instruction names differently
// (transpositions count 1), so the two are kept apart.

export function searchSuggestion(value: string, options: Iterable<string>): string | undefined {
  let match: string | undefined;
  let best = 3;
  for (const option of options) {
    if (option === value) return undefined;
    const distance = levenshtein(value, option);
    if (distance < best) {
      best = distance;
      match = option;
    }
  }
  return match;
}

function levenshtein(a: string, b: string): number {
  const x = Array.from(a);
  const y = Array.from(b);
  let previous = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const row = [i];
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      row.push(
        Math.min((previous[j] as number) + 1, (row[j - 1] as number) + 1, (previous[j - 1] as number) + cost),
      );
    }
    previous = row;
  }
  return previous[y.length] as number;
}
