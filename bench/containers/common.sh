# common.sh - what run.sh and ports.sh share (sourced, bash; needs $HERE = bench/containers).
#   peers_ready          bench/build/setup-peers.sh without its shared dockerd (apt installs,
#                        the journaled store, busybox) and tbuild's bundle
#   podman_private DIR   podman with its own root, runroot and tmpdir under DIR (on the journaled
#                        store), busybox loaded: cli_podman runs it; podman_private_cleanup
#                        removes its containers, mounts and DIR
#   dockerd_private DIR FLAGS...
#                        a dockerd 20.10 of the bench's own (data root, exec root, socket,
#                        pidfile under DIR on the store; FLAGS as the caller needs), busybox
#                        loaded: cli_docker talks to it; dockerd_private_stop removes its
#                        containers, stops it and removes DIR. Why not bench/build's dockerd on
#                        the default socket: other sessions may use (and prune) that one.
#   load1                the 1-minute load average
#   unmount_under DIR    lazily unmounts everything mounted below DIR (deepest first)
BENCH=$(cd "$HERE/../build" && pwd)   # engines.sh and the plug-ins expect $BENCH = bench/build
STORE_TMP=/var/tmp/bench/store/tmp    # made by store.sh on the journaled loop fs

load1() { cut -d' ' -f1 /proc/loadavg; }
unmount_under() {
  findmnt -rn -o TARGET | grep "^$1/" | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
}

# $DOCKER, podman's containers.conf (engines.sh); _tbuild, $BUSYBOX_TAR (engines.d/tbuild.sh).
peer_env() {
  # shellcheck source=../build/engines.sh
  source "$BENCH/engines.sh"
  # shellcheck source=../build/engines.d/tbuild.sh
  source "$BENCH/engines.d/tbuild.sh"
}
peers_ready() {
  [ "$(id -u)" = 0 ] || { echo "needs root (dockerd, runc, overlay mounts, namespaces)" >&2; exit 1; }
  PEERS_DOCKERD=0 "$BENCH/setup-peers.sh" >/dev/null
  peer_env
  [ -d "$TBUILD_REPO/node_modules" ] || { echo "tbuild: run 'npm ci' in $TBUILD_REPO first" >&2; exit 1; }
  # bin/tbuild.js runs the bundle only while it is fresh (else tsx): make it so, as an install would.
  (cd "$TBUILD_REPO" && node scripts/bundle.mjs >/dev/null)
}

DOCKERD_DIR= DOCKERD_PID=
dockerd_private() {
  DOCKERD_DIR=$1; shift
  dockerd --data-root "$DOCKERD_DIR/data" --exec-root "$DOCKERD_DIR/exec" \
    --pidfile "$DOCKERD_DIR/dockerd.pid" -H "unix://$DOCKERD_DIR/docker.sock" "$@" \
    > "$DOCKERD_DIR/dockerd.log" 2>&1 < /dev/null &
  DOCKERD_PID=$!
  local _
  for _ in $(seq 1 150); do cli_docker info >/dev/null 2>&1 && break; sleep 0.2; done
  cli_docker load -q -i "$BUSYBOX_TAR" >/dev/null
}
cli_docker() { "$DOCKER" -H "unix://$DOCKERD_DIR/docker.sock" "$@"; }
dockerd_private_stop() {
  [ -n "$DOCKERD_PID" ] || return 0
  local c; c=$(cli_docker ps -aq 2>/dev/null) || true
  [ -z "$c" ] || cli_docker rm -f $c >/dev/null 2>&1 || true
  kill "$DOCKERD_PID" 2>/dev/null || true
  wait "$DOCKERD_PID" 2>/dev/null || true
  DOCKERD_PID=
  unmount_under "$DOCKERD_DIR"
  rm -rf "$DOCKERD_DIR"
}

PODMAN_DIR=
podman_private() {
  PODMAN_DIR=$1
  mkdir -p "$PODMAN_DIR/root" "$PODMAN_DIR/run" "$PODMAN_DIR/tmp"
  # podman 4.3 names a docker-archive's "busybox:latest" localhost/busybox:latest.
  cli_podman load -q -i "$BUSYBOX_TAR" >/dev/null
  cli_podman tag localhost/busybox:latest docker.io/library/busybox:latest
}
# --events-backend file: no journald here; podman would fall back to it with a warning per call.
cli_podman() {
  podman --root "$PODMAN_DIR/root" --runroot "$PODMAN_DIR/run" --tmpdir "$PODMAN_DIR/tmp" \
    --events-backend file "$@"
}
podman_private_cleanup() {
  [ -n "$PODMAN_DIR" ] && [ -d "$PODMAN_DIR" ] || return 0
  local c; c=$(cli_podman ps -aq 2>/dev/null) || true
  [ -z "$c" ] || cli_podman rm -f -t 0 $c >/dev/null 2>&1 || true
  unmount_under "$PODMAN_DIR"
  mountpoint -q "$PODMAN_DIR/root/overlay" && umount -l "$PODMAN_DIR/root/overlay"
  rm -rf "$PODMAN_DIR"
}
