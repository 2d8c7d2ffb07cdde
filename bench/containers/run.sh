#!/usr/bin/env bash
# run.sh - kept containers: tbuild against docker 20.10 and podman (issue 15).
#
#   sudo bench/containers/run.sh [-n CONTAINERS] [-r REPETITIONS] [-e "ENGINES"]
#                                (default 50, 3, "tbuild docker podman")
#
# Each repetition runs every engine in turn (the order rotates, so none always goes first), with
# N containers (busybox `sleep`, --network none on every engine: the bench dockerd has no bridge,
# and none keeps the work the same), timing each command on its own:
#   run     N x `run -d --network none --name NAME busybox sleep`; each returns once the
#           container runs (docker, podman and tbuild all start the process before printing the id)
#   ps      `ps` with the N running, 5 times
#   exec    N x `exec NAME true`
#   stop    N x `stop -t 0 NAME` (the process is pid 1 and ignores SIGTERM, so -t 0 measures the
#           machinery, not a grace period)
#   rm      N x `rm NAME`
# Prints per-repetition medians with the 1-minute load average at the start/end of the engine's
# turn, then the medians over all repetitions and tbuild's over each peer's (below 1 = tbuild
# faster). The machine may be shared: compare ratios, and prefer the repetitions with low load.
#
# From a fresh clone (as root, after `npm ci`): bench/build/setup-peers.sh installs docker.io,
# podman, runc, skopeo and busybox-static if missing and mounts the journaled loop store. docker
# gets a dockerd 20.10 of its own with bench/build/dockerd.sh's flags (no bridge, no iptables),
# podman its own root/runroot/tmpdir, both under temp dirs on the store, removed at the end;
# tbuild's root is /var/tmp/bench/store/tbuild-containers.
# Results: /var/tmp/bench/results/containers-<timestamp>/{raw.tsv,summary.md,env.txt}.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=common.sh
source "$HERE/common.sh"
N=50 REPS=3 ENGINES="tbuild docker podman"
while getopts "n:r:e:h" o; do
  case $o in n) N=$OPTARG;; r) REPS=$OPTARG;; e) ENGINES=$OPTARG;; *) sed -n '2,26p' "$0"; exit 2;; esac
done
# A root of its own beside the build bench's, on the same journaled store.
root=${TBUILD_ROOT_DIR:-/var/tmp/bench/store/tbuild-containers}
peers_ready
TBUILD_ROOT_DIR=$root

# The container CLI of each engine, Docker's spellings for all three (cli_docker, cli_podman:
# common.sh).
cli_tbuild() { _tbuild "$@"; }
# run_d ENGINE NAME: a kept busybox container; the peers with --pull never (no registry traffic,
# tbuild never pulls for run).
run_d() {
  case $1 in
    tbuild) cli_tbuild run -d --network none --name "$2" busybox:latest sleep 100000;;
    docker) cli_docker run -d --pull never --network none --name "$2" busybox:latest sleep 100000;;
    podman) cli_podman run -d --pull never --network none --name "$2" docker.io/library/busybox:latest sleep 100000;;
  esac
}

names() { for i in $(seq 1 "$N"); do echo "bench-ctr-$i"; done; }
remove_bench_containers() {
  local c; c=$("cli_$1" ps -aq --filter name=bench-ctr- 2>/dev/null) || true
  [ -z "$c" ] || "cli_$1" rm -f $c >/dev/null 2>&1 || true
}
cleanup_all() {
  set +e
  case " $ENGINES " in *" tbuild "*) remove_bench_containers tbuild;; esac
  podman_private_cleanup
  dockerd_private_stop
}
trap cleanup_all EXIT

# bench/build/dockerd.sh's flags: no bridge, no iptables, nothing of the host's network touched.
case " $ENGINES " in *" docker "*) dockerd_private "$(mktemp -d "$STORE_TMP/docker.XXXXXX")" \
  --bridge=none --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false;; esac
case " $ENGINES " in *" podman "*) podman_private "$(mktemp -d "$STORE_TMP/podman.XXXXXX")";; esac
case " $ENGINES " in *" tbuild "*)
  _tbuild inspect busybox:latest >/dev/null 2>&1 || _tbuild load -i "$BUSYBOX_TAR" >/dev/null;; esac

OUT=/var/tmp/bench/results/containers-$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT"
{
  date -u; echo "commit $(git -C "$TBUILD_REPO" rev-parse --short HEAD)"; uname -r; nproc
  cli_docker version --format 'docker client {{.Client.Version}} server {{.Server.Version}}' 2>&1 || true
  podman --version; runc --version | head -1; conmon --version | head -1
  echo "containers: $N, repetitions: $REPS"
} > "$OUT/env.txt"
printf 'rep\tengine\tmetric\tvalue\tload\n' > "$OUT/raw.tsv"
TURN=$OUT/turn.tsv

now() { date +%s%N; }
# sample REP ENGINE OP CMD...: runs CMD once, records its wall time in ms.
sample() {
  local rep=$1 eng=$2 op=$3; shift 3
  local t0 t1; t0=$(now); "$@" >/dev/null; t1=$(now)
  printf '%s\t%s\t%s\t%s\n' "$rep" "$eng" "$op" $(( (t1 - t0) / 1000000 )) >> "$TURN"
}
turn() {
  local rep=$1 eng=$2 n k start
  remove_bench_containers "$eng"
  sync
  : > "$TURN"
  start=$(load1)
  for n in $(names); do sample "$rep" "$eng" run run_d "$eng" "$n"; done
  running=$("cli_$eng" ps -q --filter name=bench-ctr- | wc -l)
  [ "$running" = "$N" ] || { echo "$eng: $running of $N running after run -d" >&2; exit 1; }
  for k in 1 2 3 4 5; do sample "$rep" "$eng" ps "cli_$eng" ps; done
  for n in $(names); do sample "$rep" "$eng" exec "cli_$eng" exec "$n" true; done
  for n in $(names); do sample "$rep" "$eng" stop "cli_$eng" stop -t 0 "$n"; done
  for n in $(names); do sample "$rep" "$eng" rm "cli_$eng" rm "$n"; done
  awk -v load="$start-$(load1)" 'BEGIN { OFS = "\t" } { print $0, load }' "$TURN" >> "$OUT/raw.tsv"
  echo "rep $rep: $eng done (load $start-$(load1))" >&2
}

# A failed turn is kept out of the results, noted in failures.txt (with the tail of dockerd's log
# for docker) and run once more after the engine's busybox is loaded again (a second failure is
# noted and the bench goes on without that turn). Why: in 3 of 4 full runs at a load of ~20,
# docker's `run -d` failed after tens of containers with `exec: "sleep": executable file not
# found`, its log showing the new container's shim disconnecting at once (once with containerd
# timing out and running containers' shims gone too); the one retry failed as well.
reload_busybox() {
  case $1 in
    docker) cli_docker rmi -f busybox:latest >/dev/null 2>&1; cli_docker load -q -i "$BUSYBOX_TAR" >/dev/null;;
    podman) cli_podman rmi -f docker.io/library/busybox:latest >/dev/null 2>&1
      podman_private "$PODMAN_DIR";;
    tbuild) _tbuild inspect busybox:latest >/dev/null 2>&1 || _tbuild load -i "$BUSYBOX_TAR" >/dev/null;;
  esac
}
read -ra order <<< "$ENGINES"
for rep in $(seq 1 "$REPS"); do
  for i in "${!order[@]}"; do
    eng=${order[$(( (i + rep - 1) % ${#order[@]} ))]}
    set +e; ( set -e; turn "$rep" "$eng" ); rc=$?; set -e   # (no && here: it would switch -e off inside)
    [ "$rc" = 0 ] && continue
    { echo "rep $rep, $eng: turn failed at $(date -u +%T), load $(load1); retried"
      [ "$eng" != docker ] || tail -n 30 "$DOCKERD_DIR/dockerd.log"; } >> "$OUT/failures.txt"
    reload_busybox "$eng"
    set +e; ( set -e; turn "$rep" "$eng" ); rc=$?; set -e
    [ "$rc" = 0 ] || echo "rep $rep, $eng: failed again; no result for this turn" >> "$OUT/failures.txt"
  done
done
rm -f "$TURN"
(cd "$TBUILD_REPO" && node --import tsx "$HERE/medians.ts" "$OUT/raw.tsv" ms) | tee "$OUT/summary.md"
echo "results: $OUT" >&2
