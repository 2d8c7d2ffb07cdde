#!/usr/bin/env bash
# run.sh - tbuild against Docker's BuildKit, the classic builder and Buildah on the same cases.
#
#   bench/build/run.sh [-n RUNS] [-c "CASES"] [-e "ENGINES"] [-m "cold warm"]
#
# Sets the peers up (setup-peers.sh: apt installs, the journaled loop store, dockerd, busybox),
# runs run-peers.sh (cold = every cache and image but the base dropped before each timed run;
# warm = rebuild after one untimed priming build; median of RUNS), then prints the peers' table
# and one of ratios: tbuild's median / the peer's median (below 1 = tbuild faster).
# Needs root. Results: /var/tmp/bench/results/<timestamp>/ (raw.tsv, summary.md, ratios.md, logs/).
set -euo pipefail
BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RUNS=3 CASES="" ENGINES="tbuild docker_buildkit docker_classic buildah" MODES="cold warm"
while getopts "n:c:e:m:h" o; do
  case $o in n) RUNS=$OPTARG;; c) CASES=$OPTARG;; e) ENGINES=$OPTARG;; m) MODES=$OPTARG;;
             *) sed -n '2,11p' "$0"; exit 2;; esac
done
[ "$(id -u)" = 0 ] || { echo "run.sh needs root (dockerd, runc, overlay mounts)" >&2; exit 1; }
"$BENCH/setup-peers.sh" >/dev/null
# Measure the committed tbuild (HEAD), not a work tree that may be mid-edit: a snapshot of HEAD
# with the repo's node_modules linked in. TBUILD_REPO=DIR measures DIR as it is instead.
if [ -z "${TBUILD_REPO:-}" ]; then
  repo=$(cd "$BENCH/../.." && pwd) src=/var/tmp/bench/tbuild-src
  rm -rf "$src" && mkdir -p "$src"
  git -C "$repo" archive HEAD | tar -x -C "$src"
  ln -s "$repo/node_modules" "$src/node_modules"
  export TBUILD_REPO=$src
  echo "tbuild: $(git -C "$repo" log --oneline -1)" >&2
fi
OUT=/var/tmp/bench/results/$(date +%Y%m%d-%H%M%S)
args=(-n "$RUNS" -e "$ENGINES" -m "$MODES" -o "$OUT")
[ -n "$CASES" ] && args+=(-c "$CASES")
# A repo measured as it is gets a fresh bundle too (bin/tbuild.js falls back to tsx if stale).
[ -f "$TBUILD_REPO/scripts/bundle.mjs" ] && (cd "$TBUILD_REPO" && node scripts/bundle.mjs)
"$BENCH/run-peers.sh" "${args[@]}"
"$BENCH/ratios.sh" "$OUT" | tee "$OUT/ratios.md"
