#!/usr/bin/env bash
# The README's main command: on a fresh Debian 12 machine with Node 20, as root, set up what
# tbuild needs, make a local busybox base image, build examples/hello and run it.
#
#   bash examples/demo.sh
#
# Idempotent: packages, node_modules, the base image and the build cache are reused, so a second
# run only re-runs the container. The store is $TBUILD_ROOT, else /var/lib/tbuild.
set -euo pipefail
cd "$(dirname "$0")/.."
export TBUILD_ROOT=${TBUILD_ROOT:-/var/lib/tbuild}

step() { printf '\n==> %s\n' "$*"; }

if [ "$(id -u)" != 0 ]; then
  echo "demo.sh: run as root (tbuild mounts overlayfs and runs runc)" >&2
  exit 1
fi

packages=(runc busybox-static)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  step "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -d node_modules ]; then
  step "npm ci"
  npm ci --no-audit --no-fund
fi

if ! npx tbuild inspect busybox >/dev/null 2>&1; then
  step "making the busybox base image"
  archive=$(mktemp --suffix=.tar)
  trap 'rm -f "$archive"' EXIT
  bash fixtures/make-busybox-image.sh "$archive"
  npx tbuild load -i "$archive"
fi

step "npx tbuild build -t hello examples/hello"
npx tbuild build -t hello examples/hello

step "npx tbuild run --rm hello"
npx tbuild run --rm hello
