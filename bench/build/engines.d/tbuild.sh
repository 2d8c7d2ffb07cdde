# tbuild as an engine of run-peers.sh (sourced, bash). Its store lives on the journaled loop fs
# of store.sh like every peer's (the root fs here has no journal: see store.sh), and RUN steps
# use --network none like the peers (dockerd runs without a bridge here).
TBUILD_REPO=${TBUILD_REPO:-$(cd "$BENCH/../.." && pwd)}
TBUILD_ROOT_DIR=${TBUILD_ROOT_DIR:-/var/tmp/bench/store/tbuild}
BUSYBOX_TAR=${BUSYBOX_TAR:-/var/tmp/bench/images/busybox.docker.tar}   # the peers' busybox image
# bin/tbuild.js runs the esbuild bundle (dist/, made by `npm run bundle`) while it is fresh, as an
# installed tbuild would; the bench makes sure it is.
_tbuild() { node "$TBUILD_REPO/bin/tbuild.js" --root "$TBUILD_ROOT_DIR" "$@"; }

build_tbuild() { _tbuild build --network none --progress plain -t "$2" "$1"; }
# Cold: a fresh root with only the base image, its layer already unpacked (as docker and buildah
# keep their base images' layers unpacked). tbuild has no prune yet, so the root is remade.
prune_tbuild() {
  # A build killed mid-way can leave mounts under its root (overlays, the shared netns file).
  findmnt -rn -o TARGET | grep "^$TBUILD_ROOT_DIR/" | sort -r | xargs -r -n1 umount -l 2>/dev/null
  rm -rf "$TBUILD_ROOT_DIR"
  _tbuild load -i "$BUSYBOX_TAR" >/dev/null
  _tbuild run --rm --network none busybox:latest true >/dev/null   # unpacks the base layer's snapshot
}
# "SIZE_BYTES LAYER_COUNT" from tbuild inspect.
inspect_tbuild() {
  _tbuild inspect "$1" | node -e '
    const [img] = JSON.parse(require("fs").readFileSync(0, "utf8"));
    console.log(`${img.Size ?? "-"} ${img.RootFS.Layers.length}`);'
}
run_tbuild() { local t=$1; shift; _tbuild run --rm --network none "$t" "$@"; }
available_tbuild() { command -v node >/dev/null && [ -f "$TBUILD_REPO/cli/main.ts" ]; }
