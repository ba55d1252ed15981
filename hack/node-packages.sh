#!/usr/bin/env bash
# Installs the Debian packages a real node needs (NODE_DEBIAN_PACKAGES in lib.sh: containerd,
# runc, the CNI plugins, nftables, iptables, iproute2, procps, debootstrap) when missing, with
# apt-get update first. A clean CI machine has none of them; nothing is assumed installed by hand.
set -euo pipefail
LOG_PREFIX=node-packages
source "$(dirname "$0")/lib.sh"
missing=()
for pkg in $NODE_DEBIAN_PACKAGES; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
[ ${#missing[@]} -gt 0 ] || exit 0
[ "$(id -u)" = 0 ] || die "missing Debian packages (${missing[*]}) and not root: apt-get install ${missing[*]}"
log "installing Debian packages: ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
