#!/usr/bin/env bash
# ports.sh - throughput through a published port: tbuild against podman and docker 20.10 (issue 16).
#
#   sudo bench/containers/ports.sh [-r REPETITIONS] [-e "ENGINES"] [-d DOWNLOADS] [-c CONNECTIONS]
#                                  (default 3, "tbuild podman docker", 5, 200)
#
# Each engine runs `run -d -p 127.0.0.1:PORT:80 -v filesrv:/filesrv busybox /filesrv 80 /tmp` on
# its default bridge network (filesrv.c: busybox httpd's model with a backlog that takes 200
# connections at once; see there), the container writes /tmp/big (100 MiB of /dev/urandom) and
# /tmp/part (100 MiB / CONNECTIONS), and curl on the host side of the published port measures:
#   stream   DOWNLOADS x GET /big, one at a time: MiB/s from curl's own time_total
#   conns    CONNECTIONS concurrent GET /part (curl --parallel, one connection each, since busybox
#            filesrv closes every connection): 100 MiB over the wall time of the whole round
# Intact: /big and /part are checksummed (sha256 inside the container = sha256 of a download),
# every one of the concurrent answers must be HTTP 200 with the full size.
# Prints per-repetition medians (MiB/s) with the load, and tbuild's median over each peer's
# (ABOVE 1 = tbuild faster here, as these are rates).
#
# The host's network set-up is never changed:
#   tbuild   runs in the host's namespaces as a user would: its networks live in namespaces of its
#            own and it only listens on 127.0.0.1:PORT (runtime/README.md)
#   podman   rootful podman programs iptables (netavark) where it runs, and docker 20.10 needs its
#   docker   own dockerd with a bridge (bench/build's has --bridge=none): both run, with their
#            client and curl, inside `unshare --net --mount` (loopback up, a tmpfs on /run so that
#            no netns file or socket reaches the host's /run); dockerd gets a data root, exec
#            root, socket and pidfile under a temp dir. The namespace dies with its last process.
# Before and after every turn the host's links, addresses, routes, rules, iptables tables,
# net.ipv4.ip_forward and /run/netns are compared with a snapshot taken at the start; any
# difference aborts the bench (exit 3) and prints it.
# Needs gcc + libc6-dev (installed if missing) for filesrv.c.
# Results: /var/tmp/bench/results/ports-<timestamp>/{raw.tsv,summary.md,env.txt,host-net.txt}.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SELF=$HERE/$(basename "${BASH_SOURCE[0]}")
# shellcheck source=common.sh
source "$HERE/common.sh"

now() { date +%s%N; }
# sample METRIC VALUE: one sample of this turn ($REP, $ENG; the load is added when the turn ends).
sample() { printf '%s\t%s\t%s\t%s\n' "$REP" "$ENG" "$1" "$2" >> "$TURN"; }
fail() { echo "ports.sh: $ENG: $*" >&2; exit 1; }

# measure PORT SHA_BIG SHA_PART: the client side, wherever the published port is reachable.
measure() {
  local port=$1 sha_big=$2 sha_part=$3 url k out t0 t1 ok
  url=http://127.0.0.1:$port
  [ "$(curl -sf "$url/big" | sha256sum | cut -d' ' -f1)" = "$sha_big" ] || fail "/big arrived damaged"
  [ "$(curl -sf "$url/part" | sha256sum | cut -d' ' -f1)" = "$sha_part" ] || fail "/part arrived damaged"
  for k in $(seq 1 "$DOWNLOADS"); do
    out=$(curl -sf -o /dev/null -w '%{size_download} %{time_total}' "$url/big") || fail "GET /big failed"
    [ "${out%% *}" = $((BIG_MIB * 1048576)) ] || fail "GET /big: ${out%% *} bytes"
    sample stream "$(awk -v o="$out" 'BEGIN { split(o, a, " "); printf "%.1f", a[1] / 1048576 / a[2] }')"
  done
  local args=()
  for k in $(seq 1 "$CONNS"); do args+=(-o /dev/null "$url/part?$k"); done
  for k in 1 2 3; do
    t0=$(now)
    out=$(curl -s --no-progress-meter --parallel --parallel-immediate --parallel-max "$CONNS" \
      -w '%{http_code} %{size_download}\n' "${args[@]}" 2>/dev/null) || true
    t1=$(now)
    ok=$(grep -cx "200 $PART_BYTES" <<< "$out" || true)
    [ "$ok" = "$CONNS" ] || fail "$ok of $CONNS concurrent GETs answered whole"
    sample conns "$(awk -v b=$((CONNS * PART_BYTES)) -v ns=$((t1 - t0)) 'BEGIN { printf "%.1f", b / 1048576 / (ns / 1e9) }')"
  done
}

# serve CLI...: start the web container with CLI (a command prefix ending before the image), fill
# it, wait until the port answers, and measure.
serve() {
  local port=$1; shift
  "$@" -p "127.0.0.1:$port:80" -v "$FILESRV:/filesrv:ro" --name bench-web busybox:latest \
    /filesrv 80 /tmp >/dev/null
}
fill_and_measure() {
  local exec_cli=$1 port=$2 sums k
  $exec_cli bench-web dd if=/dev/urandom of=/tmp/big bs=1048576 count="$BIG_MIB" 2>/dev/null
  $exec_cli bench-web dd if=/tmp/big of=/tmp/part bs="$PART_BYTES" count=1 2>/dev/null
  sums=$($exec_cli bench-web sha256sum /tmp/big /tmp/part | cut -d' ' -f1 | tr '\n' ' ')
  for k in $(seq 1 100); do curl -sf -o /dev/null "http://127.0.0.1:$port/part" && break; sleep 0.1; done
  # shellcheck disable=SC2086 # two words: the two sums
  measure "$port" $sums
}

# ---------------------------------------------------------------- inside a private namespace
if [ "${1:-}" = --inner ]; then
  ENG=$2
  peer_env
  mount -t tmpfs -o mode=755 tmpfs /run
  ip link set lo up
  case $ENG in
    podman)
      podman_private "$(mktemp -d "$STORE_TMP/podman.XXXXXX")"
      trap podman_private_cleanup EXIT
      # containers.conf (bench/build) says netns = "none" for the build bench: ask for the bridge.
      serve 8080 cli_podman run -d --pull never --network bridge
      fill_and_measure "cli_podman exec" 8080
      cli_podman rm -f -t 0 bench-web >/dev/null;;
    docker)
      trap dockerd_private_stop EXIT
      dockerd_private "$(mktemp -d "$STORE_TMP/docker.XXXXXX")"   # the default bridge, in here
      serve 8080 cli_docker run -d --pull never
      fill_and_measure "cli_docker exec" 8080
      cli_docker rm -f bench-web >/dev/null;;
    *) echo "no private-namespace turn for $ENG" >&2; exit 2;;
  esac
  exit 0
fi

# ---------------------------------------------------------------- the bench
REPS=3 ENGINES="tbuild podman docker" DOWNLOADS=5 CONNS=200
while getopts "r:e:d:c:h" o; do
  case $o in r) REPS=$OPTARG;; e) ENGINES=$OPTARG;; d) DOWNLOADS=$OPTARG;; c) CONNS=$OPTARG;;
             *) sed -n '2,31p' "$0"; exit 2;; esac
done
BIG_MIB=100 PART_BYTES=$((100 * 1048576 / CONNS))
export BIG_MIB PART_BYTES DOWNLOADS CONNS
root=${TBUILD_ROOT_DIR:-/var/tmp/bench/store/tbuild-ports}
peers_ready
TBUILD_ROOT_DIR=$root

host_net() {
  ip -o link; ip -o addr; ip route show table all; ip -6 route show table all
  ip rule; for t in filter nat mangle raw; do iptables -t "$t" -S; ip6tables -t "$t" -S; done
  sysctl net.ipv4.ip_forward net.ipv4.conf.all.route_localnet; ls /run/netns 2>/dev/null || true
}
OUT=/var/tmp/bench/results/ports-$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT"
command -v gcc >/dev/null && [ -f /usr/lib/x86_64-linux-gnu/libc.a ] \
  || apt-get install -y -q gcc libc6-dev >/dev/null
export FILESRV=$OUT/filesrv
gcc -static -O2 -o "$FILESRV" "$HERE/filesrv.c"
host_net > "$OUT/host-net.txt"
host_net_unchanged() {
  diff "$OUT/host-net.txt" <(host_net) > "$OUT/host-net.diff" && return 0
  echo "ports.sh: the host's network set-up changed ($1); aborting:" >&2; cat "$OUT/host-net.diff" >&2; exit 3
}
tbuild_cleanup() {
  local c; c=$(_tbuild ps -aq --filter name=bench-web 2>/dev/null) || true
  [ -z "$c" ] || _tbuild rm -f $c >/dev/null 2>&1 || true
}
trap 'set +e; case " $ENGINES " in *" tbuild "*) tbuild_cleanup;; esac' EXIT
case " $ENGINES " in *" tbuild "*)
  _tbuild inspect busybox:latest >/dev/null 2>&1 || _tbuild load -i "$BUSYBOX_TAR" >/dev/null;; esac
free_port() {
  local p; for p in $(seq 20080 20999); do ss -Htln "sport = :$p" | grep -q . || { echo "$p"; return; }; done
  echo "no free port in 20080-20999" >&2; exit 1
}
{
  date -u; echo "commit $(git -C "$TBUILD_REPO" rev-parse --short HEAD)"; uname -r; nproc
  "$DOCKER" --version; podman --version
  /usr/lib/podman/netavark --version 2>&1 || true; curl --version | head -1
  echo "repetitions: $REPS, stream downloads: $DOWNLOADS x $BIG_MIB MiB, concurrent: $CONNS x $PART_BYTES bytes"
} > "$OUT/env.txt"
printf 'rep\tengine\tmetric\tvalue\tload\n' > "$OUT/raw.tsv"
export TURN=$OUT/turn.tsv

read -ra order <<< "$ENGINES"
for REP in $(seq 1 "$REPS"); do
  export REP
  for i in "${!order[@]}"; do
    ENG=${order[$(( (i + REP - 1) % ${#order[@]} ))]}
    : > "$TURN"; sync; start=$(load1)
    if [ "$ENG" = tbuild ]; then
      tbuild_cleanup
      port=$(free_port)
      serve "$port" _tbuild run -d
      fill_and_measure "_tbuild exec" "$port"
      _tbuild rm -f bench-web >/dev/null
    else
      unshare --net --mount --propagation private -- "$SELF" --inner "$ENG"
    fi
    host_net_unchanged "after $ENG, repetition $REP"
    awk -v load="$start-$(load1)" 'BEGIN { OFS = "\t" } { print $0, load }' "$TURN" >> "$OUT/raw.tsv"
    echo "rep $REP: $ENG done (load $start-$(load1))" >&2
  done
done
rm -f "$TURN" "$OUT/host-net.diff"
echo "host network set-up: unchanged (links, addresses, routes, rules, iptables, ip_forward, /run/netns)" > "$OUT/host-net.check"
(cd "$TBUILD_REPO" && node --import tsx "$HERE/medians.ts" "$OUT/raw.tsv" MiB/s) | tee "$OUT/summary.md"
echo "results: $OUT" >&2
