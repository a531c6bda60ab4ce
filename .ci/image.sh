#!/usr/bin/env bash
# Make sure the default container image exists. With a registry, pull it; without one
# (as on CI), build a Debian bookworm root file system with Node.js offline and import it.
# Skips everything when the image is already there. Usage: image.sh [IMAGE]
set -euo pipefail

image="${1:-${JCM_IMAGE:-jupyter-container-manager/node:bookworm}}"
log() { printf '[image] %s\n' "$*" >&2; }

if docker image inspect "$image" >/dev/null 2>&1; then
  log "$image already exists"
  exit 0
fi

case "$image" in
  jupyter-container-manager/*) ;;
  *)
    log "pulling $image"
    docker pull "$image" && exit 0
    log "could not pull $image; building it offline instead" ;;
esac

if ! command -v mmdebstrap >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq mmdebstrap >/dev/null
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
log "building $image offline with mmdebstrap (Debian bookworm + Node.js, ~30-60 s)"
mmdebstrap --quiet --variant=apt \
  --include=nodejs,ca-certificates,procps,iproute2 \
  bookworm "$tmp/rootfs.tar"
docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["sleep", "infinity"]' \
  "$tmp/rootfs.tar" "$image" >/dev/null
log "built $image"
