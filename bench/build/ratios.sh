#!/usr/bin/env bash
# ratios.sh RESULTS_DIR : tbuild's median wall time over each peer's, per case and mode, from the
# raw.tsv of run-peers.sh. "x0.80" = tbuild takes 80% of the peer's time; "-" = no successful run.
set -euo pipefail
D=${1:?results dir}
awk -F'\t' '
function median(k,   n, i, j, t, a) {
  n = cnt[k]; if (!n) return -1;
  for (i = 1; i <= n; i++) a[i] = v[k, i];
  for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j+1] = a[j]; a[j+1] = t }
  return (n % 2) ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2;
}
FNR == 1 { next }
$8 == 0 && ($3 == "cold" || $3 == "warm") {
  k = $1 SUBSEP $2 SUBSEP $3; v[k, ++cnt[k]] = $5;
  if (!($1 in seenc)) { seenc[$1] = 1; cases[++nc] = $1 }
  if ($2 != "tbuild" && !($2 in seene)) { seene[$2] = 1; peers[++np] = $2 }
}
END {
  printf "| case | mode | tbuild s |"; for (p = 1; p <= np; p++) printf " %s s | tbuild/%s |", peers[p], peers[p]; print "";
  printf "|---|---|---|"; for (p = 1; p <= np; p++) printf "---|---|"; print "";
  for (c = 1; c <= nc; c++) for (m = 1; m <= 2; m++) {
    mode = (m == 1) ? "cold" : "warm"; t = median(cases[c] SUBSEP "tbuild" SUBSEP mode);
    found = (t >= 0); for (p = 1; p <= np; p++) if (median(cases[c] SUBSEP peers[p] SUBSEP mode) >= 0) found = 1;
    if (!found) continue;
    printf "| %s | %s | %s |", cases[c], mode, ((t >= 0) ? sprintf("%.2f", t) : "-");
    for (p = 1; p <= np; p++) {
      x = median(cases[c] SUBSEP peers[p] SUBSEP mode);
      printf " %s | %s |", ((x >= 0) ? sprintf("%.2f", x) : "-"), ((x > 0 && t >= 0) ? sprintf("x%.2f", t / x) : "-");
    }
    print "";
  }
}' "$D/raw.tsv"
