#!/usr/bin/env bash
# setup-peers.sh - one-shot, idempotent setup of the peer build engines (docker 20.10 classic +
# BuildKit, buildah) on a Debian 12 machine as root. Adapted from the shared peer harness:
#   1. apt-get install docker.io buildah podman runc skopeo busybox-static (only when something is missing)
#   2. mount the journaled loop ext4 store (store.sh: the root fs here has no journal, see there)
#   3. start dockerd (dockerd.sh), load busybox:latest into docker and containers-storage
#      (PEERS_DOCKERD=0: no dockerd, busybox only as files and in containers-storage; the
#      container benches start dockerds of their own)
# The benchmark cases only need busybox, so debian:bookworm and the registry are left out.
set -euo pipefail
BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export DEBIAN_FRONTEND=noninteractive
need=()
for pair in docker:docker.io buildah:buildah podman:podman runc:runc skopeo:skopeo; do
  [ -x "/usr/bin/${pair%%:*}" ] || [ -x "/usr/sbin/${pair%%:*}" ] || need+=("${pair#*:}")
done
[ -x /bin/busybox ] || need+=(busybox-static)
if [ "${#need[@]}" -gt 0 ]; then
  apt-get update -q
  apt-get install -y -q "${need[@]}"
fi
"$BENCH/store.sh" mount
export CONTAINERS_STORAGE_CONF=$BENCH/storage.conf CONTAINERS_CONF=$BENCH/containers.conf
if [ "${PEERS_DOCKERD:-1}" = 0 ]; then
  if [ ! -f /var/tmp/bench/images/busybox.docker.tar ] \
    || ! buildah inspect --type image docker.io/library/busybox:latest >/dev/null 2>&1; then
    OUT=/var/tmp/bench/images NO_LOAD=1 "$BENCH/images/make-busybox.sh"
    skopeo copy -q docker-archive:/var/tmp/bench/images/busybox.docker.tar \
      containers-storage:docker.io/library/busybox:latest
  fi
else
  "$BENCH/dockerd.sh" start
  if ! /usr/bin/docker image inspect busybox:latest >/dev/null 2>&1 \
    || ! buildah inspect --type image docker.io/library/busybox:latest >/dev/null 2>&1; then
    OUT=/var/tmp/bench/images "$BENCH/images/make-busybox.sh"
  fi
fi
echo "peers ready"
