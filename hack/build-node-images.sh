#!/usr/bin/env bash
# Builds the images the real node runs, as OCI archives cached in $GAFFER_CACHE/images (keyed by
# a hash of this script and its inputs), without Docker or a registry:
#   localhost/gaffer-pause:1   the pod sandbox: a static Go program (hack/images/pause)
#   localhost/gaffer-py:1      Debian bookworm minbase (debootstrap) with python3-distributed (Dask)
#                              and python3-locust (Locust), for examples/real/ and test/real/
# Prints nothing on stdout; hack/real-node-up.sh imports the archives into containerd.
set -euo pipefail
LOG_PREFIX=images
source "$(dirname "$0")/lib.sh"
export PATH=$ROOT_DIR/node_modules/.bin:$PATH
IMAGES=$GAFFER_CACHE/images
mkdir -p "$IMAGES"
MIRROR=${GAFFER_DEBIAN_MIRROR:-http://deb.debian.org/debian}
PY_PACKAGES="python3-distributed,python3-locust"

key() { { cat "$HACK_DIR/build-node-images.sh" "$HACK_DIR/oci-image.ts" "$@"; } | sha256sum | cut -c1-12; }

# ---- pause ----
pause_tar=$IMAGES/pause-$(key "$HACK_DIR/images/pause/main.go" <(go version)).tar
if [ ! -f "$pause_tar" ]; then
  stage=$(mktemp -d)
  CGO_ENABLED=0 GOTOOLCHAIN=local go -C "$HACK_DIR/images/pause" build -trimpath -ldflags "-s -w" -o "$stage/pause" .
  node --import tsx "$ROOT_DIR/hack/oci-image.ts" --out "$pause_tar" --ref "$PAUSE_IMAGE" --entrypoint '["/pause"]' "$stage" >/dev/null
  rm -rf "$stage"
  log "built $PAUSE_IMAGE"
fi

# ---- python frameworks (Dask, Locust) ----
py_tar=$IMAGES/py-$(key <(echo "$MIRROR $PY_PACKAGES")).tar
if [ ! -f "$py_tar" ]; then
  command -v debootstrap >/dev/null || die "debootstrap is missing (apt-get install debootstrap; hack/build-node-tools.sh installs it)"
  root=$IMAGES/py-rootfs.tmp
  # debootstrap mounts /proc and /sys inside the target; a failed run can leave them behind.
  unmount_root() { findmnt -rn -o TARGET | { grep "^$root/" || true; } | sort -r | while read -r m; do umount -l "$m"; done; }
  cleanup_root() { unmount_root; rm -rf "$root"; }
  cleanup_root
  # /proc is mounted in the chroot below: unmounted (and the tree removed) however this ends.
  trap cleanup_root EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  start=$SECONDS
  log "building $PY_IMAGE with debootstrap (bookworm minbase + $PY_PACKAGES; a few minutes, downloads ~100 MB)"
  # A minbase system first, then apt-get inside it: debootstrap --include fails to order the
  # configuration of this many packages (python3-zmq is configured before its dependencies).
  build_log=$IMAGES/py-build.log
  fail() { tail -20 "$build_log" >&2; cp "$root/debootstrap/debootstrap.log" "$IMAGES/py-debootstrap.log" 2>/dev/null; cleanup_root; die "$1 (log: $build_log)"; }
  debootstrap --variant=minbase bookworm "$root" "$MIRROR" > "$build_log" 2>&1 || fail "debootstrap failed"
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  mount -t proc proc "$root/proc"
  chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
    sh -c "apt-get update -qq && apt-get install -y -qq --no-install-recommends ${PY_PACKAGES//,/ }" >> "$build_log" 2>&1 \
    || { unmount_root; fail "apt-get install ${PY_PACKAGES//,/ } in the image failed"; }
  unmount_root
  : > "$root/etc/resolv.conf" # the kubelet provides it
  # Debian's python3-locust (2.12.1-1) ships locust/_version.py with `version = ''`; a worker
  # then sends an empty version and the master rejects it as "an old (pre 2.0) worker", so
  # distributed mode cannot work. Write the package's upstream version there.
  locust_version=$(chroot "$root" dpkg-query -W -f='${Version}' python3-locust)
  locust_version=${locust_version%-*}
  printf "version = '%s'\n" "$locust_version" > "$root/usr/lib/python3/dist-packages/locust/_version.py"
  # What a container does not need: package caches, docs, man pages.
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/usr/share/doc "$root"/usr/share/man "$root"/usr/share/locale
  node --import tsx "$ROOT_DIR/hack/oci-image.ts" --out "$py_tar" --ref "$PY_IMAGE" --cmd '["python3"]' \
    --env PYTHONUNBUFFERED=1 --env HOME=/tmp "$root" >/dev/null
  cleanup_root
  trap - EXIT INT TERM
  log "built $PY_IMAGE in $((SECONDS - start))s ($(du -h "$py_tar" | cut -f1))"
fi
printf '%s\n%s\n' "$pause_tar" "$py_tar" > "$IMAGES/current"
# Older builds of these images (another version of this script) are only disk use now.
for f in "$IMAGES"/pause-*.tar "$IMAGES"/py-*.tar; do
  [ "$f" = "$pause_tar" ] || [ "$f" = "$py_tar" ] || rm -f "$f"
done
