#!/usr/bin/env bash
# bench/cache/run.sh - the build-cache benchmarks of issue 5, on bench/build's peer harness (no
# second harness: same cases, engines, store and result format).
#
#   bench/cache/run.sh [-n RUNS] [-e "ENGINES"]   (defaults: 5 runs; tbuild docker_buildkit buildah;
#                                                  env CASES to run a subset)
#
#   rebuild-nochange   warm: 20,000-file context rebuilt with nothing changed
#   rebuild-onechange  warm: the same after one file that only the last COPY reads changed
#   ctx-many           cold: COPY of that 20,000-file context with an empty cache
#   ctx-big            cold: COPY of one 500 MiB file; peak RSS is the client_rss_kb column
# Prints bench/build's ratio table (tbuild / peer, below 1 = tbuild faster). Needs root.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RUNS=5 ENGINES="tbuild docker_buildkit buildah"
while getopts "n:e:h" o; do
  case $o in n) RUNS=$OPTARG;; e) ENGINES=$OPTARG;; *) sed -n '2,13p' "$0"; exit 2;; esac
done
exec "$here/../build/run.sh" -n "$RUNS" -e "$ENGINES" \
  -c "${CASES:-rebuild-nochange rebuild-onechange ctx-many ctx-big}"
