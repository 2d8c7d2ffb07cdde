#!/usr/bin/env bash
# run.sh - kept containers: tbuild against docker 20.10 and podman (issue 15).
#
#   bench/containers/run.sh [-n CONTAINERS] [-e "ENGINES"]      (default 50, "tbuild docker podman")
#
# For each engine, one after the other, with N containers (busybox, --network none):
#   run     N x `run -d` one by one; each returns once the container runs (docker, podman and
#           tbuild all start the process before printing the id)
#   ps      `ps` with the N running, 5 times
#   exec    N x `exec NAME true`
#   stop    N x `stop -t 0 NAME` (the process is pid 1 and ignores SIGTERM, so -t 0 measures the
#           machinery, not a grace period)
#   rm      N x `rm NAME`
# and prints per-operation means (ms) and tbuild's mean over each peer's (below 1 = tbuild faster),
# with the load average before and after (the machine is shared: read ratios, not absolute times).
# Reuses bench/build: setup-peers.sh (apt installs, the journaled loop store, dockerd 20.10
# without a bridge, busybox everywhere) and its engine plug-ins (engines.sh: $DOCKER, podman's
# containers.conf quirks; engines.d/tbuild.sh: _tbuild). Needs root.
# Results: /var/tmp/bench/results/containers-<timestamp>/{raw.tsv,ratios.md}.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BENCH=$(cd "$HERE/../build" && pwd)   # engines.sh and the plug-ins expect $BENCH = bench/build
N=50 ENGINES="tbuild docker podman"
while getopts "n:e:h" o; do
  case $o in n) N=$OPTARG;; e) ENGINES=$OPTARG;; *) sed -n '2,20p' "$0"; exit 2;; esac
done
[ "$(id -u)" = 0 ] || { echo "run.sh needs root (dockerd, runc, overlay mounts)" >&2; exit 1; }
"$BENCH/setup-peers.sh" >/dev/null
# A root of its own beside the build bench's, on the same journaled store.
export TBUILD_ROOT_DIR=${TBUILD_ROOT_DIR:-/var/tmp/bench/store/tbuild-containers}
# shellcheck source=../build/engines.sh
source "$BENCH/engines.sh"
# shellcheck source=../build/engines.d/tbuild.sh
source "$BENCH/engines.d/tbuild.sh"
# bin/tbuild.js runs the bundle only while it is fresh (else tsx): make it so, as an install would.
(cd "$TBUILD_REPO" && node scripts/bundle.mjs >/dev/null)

# The container CLI of each engine, Docker's spellings for all three.
cli_tbuild() { _tbuild "$@"; }
cli_docker() { "$DOCKER" "$@"; }
cli_podman() { podman "$@"; }
image_tbuild=busybox:latest image_docker=busybox:latest image_podman=docker.io/library/busybox:latest
_tbuild inspect busybox:latest >/dev/null 2>&1 || _tbuild load -i "$BUSYBOX_TAR" >/dev/null

OUT=/var/tmp/bench/results/containers-$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT"
printf 'engine\top\tcount\ttotal_ms\n' > "$OUT/raw.tsv"
now() { date +%s%N; }
# timed ENGINE OP COUNT CMD...: runs CMD (a function looping COUNT times), records total ms.
timed() {
  local eng=$1 op=$2 count=$3; shift 3
  local t0 t1; t0=$(now); "$@"; t1=$(now)
  printf '%s\t%s\t%s\t%s\n' "$eng" "$op" "$count" $(( (t1 - t0) / 1000000 )) >> "$OUT/raw.tsv"
}
names() { for i in $(seq 1 "$N"); do echo "bench-ctr-$i"; done; }
cleanup() { local c; c=$("cli_$1" ps -aq --filter name=bench-ctr- 2>/dev/null) || true; [ -z "$c" ] || "cli_$1" rm -f $c >/dev/null 2>&1 || true; }
do_run() { local img="image_$1" n; for n in $(names); do "cli_$1" run -d --network none --name "$n" "${!img}" sleep 100000 >/dev/null; done; }
do_ps() { local k; for k in 1 2 3 4 5; do "cli_$1" ps >/dev/null; done; }
do_exec() { local n; for n in $(names); do "cli_$1" exec "$n" true; done; }
do_stop() { local n; for n in $(names); do "cli_$1" stop -t 0 "$n" >/dev/null; done; }
do_rm() { local n; for n in $(names); do "cli_$1" rm "$n" >/dev/null; done; }

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$OUT/load.txt" >&2
for eng in $ENGINES; do
  cleanup "$eng"
  sync
  timed "$eng" run "$N" do_run "$eng"
  running=$("cli_$eng" ps -q --filter name=bench-ctr- | wc -l)
  [ "$running" = "$N" ] || { echo "$eng: $running of $N running after run -d" >&2; exit 1; }
  timed "$eng" ps 5 do_ps "$eng"
  timed "$eng" exec "$N" do_exec "$eng"
  timed "$eng" stop "$N" do_stop "$eng"
  timed "$eng" rm "$N" do_rm "$eng"
  cleanup "$eng"
  echo "$eng done" >&2
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/load.txt" >&2

# Means per operation and tbuild's ratio to each peer.
awk -F'\t' '
  NR > 1 { mean[$1, $2] = $4 / $3; engines[$1] = 1; ops[$2] = 1 }
  END {
    printf "| op | "; for (e in engines) printf "%s ms | ", e; printf "tbuild/docker | tbuild/podman |\n"
    for (o in ops) {
      printf "| %s | ", o; for (e in engines) printf "%.0f | ", mean[e, o]
      d = mean["docker", o]; q = mean["podman", o]; t = mean["tbuild", o]
      printf "%s | %s |\n", (d > 0 && t > 0 ? sprintf("%.2f", t / d) : "-"), (q > 0 && t > 0 ? sprintf("%.2f", t / q) : "-")
    }
  }' "$OUT/raw.tsv" | tee "$OUT/ratios.md"
cat "$OUT/load.txt"
echo "results: $OUT" >&2
