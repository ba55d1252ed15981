#!/usr/bin/env bash
# npm run image: builds the operator image without Docker and writes it as an OCI archive,
# build/gaffer-image.tar (ref localhost/gaffer:dev unless GAFFER_IMAGE is set). Same layout as
# the Dockerfile's distroless image:
#   layer 1  Debian's runtime libraries (libc6, libgcc-s1, libstdc++6: the .debs from apt-get
#            download, unpacked with dpkg -x), /etc/passwd with nonroot (65532), /tmp; no shell
#   layer 2  /nodejs/bin/node: the Node 24 binary of the npm `node` package (the devDependency)
#   layer 3  /app: dist/ (npm run build), production node_modules (npm ci --omit=dev), package.json
# Entrypoint /nodejs/bin/node dist/src/cli.js operator, user 65532:65532.
set -euo pipefail
cd "$(dirname "$0")/.."
LOG_PREFIX=image
source hack/lib.sh
ensure_node_deps
REF=${GAFFER_IMAGE:-localhost/gaffer:dev}
OUT=${GAFFER_IMAGE_ARCHIVE:-$ROOT_DIR/build/gaffer-image.tar}
start=$SECONDS

STAGE=$ROOT_DIR/build/image-stage
rm -rf "$STAGE" && mkdir -p "$STAGE"/{base,node,app}

# ---- layer 1: Debian runtime libraries, fetched as packages and cached by file name ----
DEBS=$GAFFER_CACHE/debs
mkdir -p "$DEBS"
base_pkgs="libc6 libgcc-s1 libstdc++6"
# shellcheck disable=SC2086
if ! (cd "$DEBS" && apt-get download $base_pkgs >/dev/null 2>&1); then
  log "apt-get download failed; running apt-get update first"
  apt-get update -qq
  # shellcheck disable=SC2086
  (cd "$DEBS" && apt-get download $base_pkgs >/dev/null)
fi
for pkg in $base_pkgs; do
  ver=$(apt-cache policy "$pkg" | awk '/Candidate:/{print $2}' | sed 's/:/%3a/')
  deb=$(ls "$DEBS/${pkg}_${ver}_"*.deb)
  dpkg -x "$deb" "$STAGE/base"
done
# Documentation and locales are not needed at run time (distroless keeps only copyright files).
find "$STAGE/base/usr/share" -mindepth 1 -maxdepth 1 ! -name doc -exec rm -rf {} +
find "$STAGE/base/usr/share/doc" -type f ! -name copyright -delete
mkdir -p "$STAGE/base/etc" "$STAGE/base/tmp" "$STAGE/base/home/nonroot"
chmod 1777 "$STAGE/base/tmp"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' > "$STAGE/base/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' > "$STAGE/base/etc/group"
chown 65532:65532 "$STAGE/base/home/nonroot"
[ ! -e "$STAGE/base/bin/sh" ] || die "the base layer has a shell; it must not"

# ---- layer 2: Node 24 from the npm `node` package ----
mkdir -p "$STAGE/node/nodejs/bin"
cp "$(readlink -f node_modules/.bin/node)" "$STAGE/node/nodejs/bin/node"

# ---- layer 3: the app: compiled dist/ and production dependencies only ----
log "compiling (npm run build) and installing production dependencies"
npm run -s build
cp -r dist package.json package-lock.json "$STAGE/app/"
(cd "$STAGE/app" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
rm "$STAGE/app/package-lock.json"
mkdir -p "$STAGE/app-root" && mv "$STAGE/app" "$STAGE/app-root/app"

node --import tsx hack/oci-image.ts --out "$OUT" --ref "$REF" --user 65532:65532 --workdir /app \
  --entrypoint '["/nodejs/bin/node","dist/src/cli.js"]' --cmd '["operator"]' \
  "$STAGE/base" "$STAGE/node" "$STAGE/app-root"
rm -rf "$STAGE"
log "image $REF written to $OUT ($(du -h "$OUT" | cut -f1), $((SECONDS - start))s)"
