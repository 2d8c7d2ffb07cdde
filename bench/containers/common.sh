# common.sh - what run.sh and ports.sh share (sourced, bash; needs $HERE = bench/containers).
#   peers_ready          bench/build/setup-peers.sh (apt installs, the journaled store, busybox)
#                        and tbuild's bundle; remembers whether dockerd was already up, so that
#                        cleanup_all stops only a dockerd this bench started
#   podman_private DIR   podman with its own root, runroot and tmpdir under DIR (on the journaled
#                        store), busybox loaded: cli_podman runs it; podman_private_cleanup
#                        removes its containers, mounts and DIR
#   load1                the 1-minute load average
#   unmount_under DIR    lazily unmounts everything mounted below DIR (deepest first)
BENCH=$(cd "$HERE/../build" && pwd)   # engines.sh and the plug-ins expect $BENCH = bench/build
STORE_TMP=/var/tmp/bench/store/tmp    # made by store.sh on the journaled loop fs

load1() { cut -d' ' -f1 /proc/loadavg; }
unmount_under() {
  findmnt -rn -o TARGET | grep "^$1/" | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
}

peers_ready() {
  [ "$(id -u)" = 0 ] || { echo "needs root (dockerd, runc, overlay mounts, namespaces)" >&2; exit 1; }
  DOCKERD_WAS_UP=0
  "$BENCH/dockerd.sh" status >/dev/null 2>&1 && DOCKERD_WAS_UP=1
  "$BENCH/setup-peers.sh" >/dev/null
  # shellcheck source=../build/engines.sh
  source "$BENCH/engines.sh"
  # shellcheck source=../build/engines.d/tbuild.sh
  source "$BENCH/engines.d/tbuild.sh"
  [ -f "$BUSYBOX_TAR" ] || OUT=/var/tmp/bench/images NO_LOAD=1 "$BENCH/images/make-busybox.sh" >/dev/null
  [ -d "$TBUILD_REPO/node_modules" ] || { echo "tbuild: run 'npm ci' in $TBUILD_REPO first" >&2; exit 1; }
  # bin/tbuild.js runs the bundle only while it is fresh (else tsx): make it so, as an install would.
  (cd "$TBUILD_REPO" && node scripts/bundle.mjs >/dev/null)
}

stop_dockerd_if_ours() {
  [ "${DOCKERD_WAS_UP:-1}" = 1 ] || "$BENCH/dockerd.sh" stop >/dev/null 2>&1 || true
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
