#!/usr/bin/env bash
# Prints the path of a cached tarball holding a fresh Debian 12 (bookworm) root with systemd and the
# packages the tsad .deb depends on, creating it with debootstrap when it is missing.
# The tarball lives in ${TSA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tsad}/debootstrap/, keyed by
# the package list, so that only the first run pays for debootstrap (minutes; a rerun: seconds).
#
# Usage: tests/package/debian12_root.sh      (needs root, debootstrap and a Debian mirror)
# Environment: TSA_DEBIAN_MIRROR (default http://deb.debian.org/debian).
set -euo pipefail

mirror="${TSA_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
cache="${TSA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tsad}/debootstrap"
# systemd: for systemd-analyze verify inside the root. The rest must cover the .deb's Depends (the
# runtime list of scripts/install-deps, adduser for the postinst): dpkg -i in the test names what
# is missing.
include="adduser,ca-certificates,libcpp-httplib0.11,libfmt9,libjemalloc2,libspdlog1.10,libsqlite3-0,libssl3,systemd"
key="$(printf '%s %s' "$mirror" "$include" | sha256sum | cut -c1-16)"
tarball="$cache/bookworm-$key.tar.gz"

if [[ ! -s "$tarball" ]]; then
  mkdir -p "$cache"
  work="$(mktemp -d "$cache/work.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
  log="$cache/bookworm-$key.log"
  echo "debian12_root: debootstrap bookworm with $include (log: $log)" >&2
  if ! debootstrap --variant=minbase --include="$include" bookworm "$work/root" "$mirror" >"$log" 2>&1; then
    echo "debian12_root: debootstrap failed, last lines of $log:" >&2
    tail -n 20 "$log" >&2
    exit 1
  fi
  rm -rf "$work/root/var/cache/apt/archives/"*.deb "$work/root/var/lib/apt/lists/"*_Packages
  tar -C "$work/root" -czf "$work/root.tar.gz" .
  mv "$work/root.tar.gz" "$tarball"
fi
echo "$tarball"
