#!/usr/bin/env bash
# Installs the tsad Debian package into a fresh Debian 12 root and checks what an operator gets:
# the binaries and their --version, man pages, the tsad user, no keys, the conffile, the systemd
# unit (systemd-analyze verify), a tsad started exactly as the unit starts it (its config file,
# its user) answering /health, and a purge that keeps the audit log.
#
# Usage: tests/package/install_test.sh [DIR-WITH-THE-DEB]     (default build-package; make test-package)
# Needs root (chroot), debootstrap and a Debian mirror for the first run: the fresh root is a cached
# tarball (tests/package/debian12_root.sh; debootstrap took about 4.5 minutes here, a rerun with
# the cache about 30 s). Not part of scripts/run-tests for that reason: CI runs it in its own job.
# Exit status: 0 every check passed, 1 a check failed, 77 skipped (not root or no debootstrap,
# and CI is not set).
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
dir="${1:-$repo/build-package}"

skip() {
  if [ "${CI:-}" = "true" ]; then
    echo "FAIL setup: $1 (required under CI=true)"
    exit 1
  fi
  echo "SKIP: $1"
  exit 77
}
[ "$(id -u)" -eq 0 ] || skip "needs root (chroot into the Debian root)"
command -v debootstrap >/dev/null || skip "debootstrap is not installed (scripts/install-deps --package)"
shopt -s nullglob
debs=("$dir"/tsad_*.deb)
[ ${#debs[@]} -eq 1 ] || { echo "FAIL setup: expected one tsad_*.deb in $dir (scripts/package), found ${#debs[@]}"; exit 1; }
deb="${debs[0]}"

passed=0
failed=0
check() {  # check ID DESCRIPTION command...
  local id="$1" what="$2"
  shift 2
  local out
  if out=$("$@" 2>&1); then
    passed=$((passed + 1))
    echo "PASS $id $what"
  else
    failed=$((failed + 1))
    echo "FAIL $id $what"
    printf '%s\n' "$out" | head -n 30 | sed 's/^/    /'
  fi
}

tarball="$("$here/debian12_root.sh")" || { echo "FAIL setup: no Debian 12 root"; exit 1; }
root="$(mktemp -d "${TMPDIR:-/tmp}/tsad-pkg.XXXXXX")"
tsad_pid=""
cleanup() {
  [ -n "$tsad_pid" ] && kill "$tsad_pid" 2>/dev/null
  rm -rf "$root"
}
trap cleanup EXIT
tar -C "$root" -xzf "$tarball"
cp "$deb" "$root/tmp/tsad.deb"
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"; }
echo "package: $(basename "$deb") into a fresh Debian 12 root ($root)"

check P01 "dpkg -i installs it (its Depends are met by Debian 12)" in_root dpkg -i /tmp/tsad.deb
version_line() { in_root tsad --version | grep -Ex 'tsad [0-9]+\.[0-9]+\.[0-9]+ \(git [^ ()]+\)'; }
check P02 "tsad --version prints the version and the git commit" version_line
bins=(tsad tsa-certgen tsa-request tsa-verify tsa-audit tsa-audit-verify)
for b in "${bins[@]}"; do
  check "P03-$b" "/usr/bin/$b --version runs" in_root "/usr/bin/$b" --version
  check "P04-$b" "$b has a man page that renders its name" \
    bash -c "zcat '$root'/usr/share/man/man[18]/$b.[18].gz | grep -q '^$b'"
done
user_created() { in_root getent passwd tsad | grep -q ':/var/lib/tsad:/usr/sbin/nologin$'; }
check P05 "postinst created the system user tsad (home /var/lib/tsad, no shell)" user_created
no_keys() {
  # stat in the root: user and group names are the root's, not the host's.
  [ "$(in_root stat -c '%U:%G %a' /etc/tsad/certs)" = "root:tsad 750" ] || { in_root stat /etc/tsad/certs; return 1; }
  [ -z "$(ls -A "$root/etc/tsad/certs")" ] || { ls -l "$root/etc/tsad/certs"; return 1; }
}
check P06 "/etc/tsad/certs is root:tsad 0750 and empty: postinst generated no key" no_keys
check P07 "/etc/tsad/tsad.conf is a conffile" \
  bash -c "chroot '$root' dpkg-query -W -f='\${Conffiles}' tsad | grep -q '/etc/tsad/tsad.conf'"
# --man=no: the fresh root has no man-db to look man:tsad(8) up with; P04 checks the man pages.
check P08 "systemd-analyze verify accepts tsad.service" \
  bash -c "out=\$(chroot '$root' systemd-analyze verify --man=no /usr/lib/systemd/system/tsad.service 2>&1); rc=\$?; echo \"\$out\";
           [ \$rc -eq 0 ] && ! printf '%s' \"\$out\" | grep -q 'tsad.service'"
check P09 "the unit is hardened (own user, StateDirectory, ProtectSystem=strict, NoNewPrivileges, CAP_SYS_NICE, LimitNOFILE)" \
  bash -c "u='$root/usr/lib/systemd/system/tsad.service'; for k in User=tsad StateDirectory=tsad ProtectSystem=strict NoNewPrivileges=yes \
           AmbientCapabilities=CAP_SYS_NICE CapabilityBoundingSet=CAP_SYS_NICE LimitNOFILE=; do grep -q \"^\$k\" \"\$u\" || { echo \"missing \$k\"; exit 1; }; done"

# tsad as the unit starts it: its user, its config file, its state directory (systemd would create
# /var/lib/tsad). Development certificates and an unsynchronised clock only for this test.
install -d -o "$(stat -c %u "$root/etc/tsad/certs")" -m 0750 "$root/var/lib/tsad"
chroot "$root" chown tsad:tsad /var/lib/tsad
chroot "$root" tsa-certgen --dir /etc/tsad/certs --key-type ec-p256 >/dev/null
chroot "$root" chown tsad /etc/tsad/certs/tsa_key.pem
chroot --userspec=tsad:tsad "$root" /usr/bin/env -i PATH=/usr/bin:/bin \
  tsad --config /etc/tsad/tsad.conf --host 127.0.0.1 --port 0 --port-file /var/lib/tsad/port \
  --no-anchor --allow-unsynced-clock >"$root/tmp/tsad.log" 2>&1 &
tsad_pid=$!
for _ in $(seq 150); do [ -s "$root/var/lib/tsad/port" ] && break; sleep 0.1; done
port="$(cat "$root/var/lib/tsad/port" 2>/dev/null || true)"
check P10 "tsad starts with /etc/tsad/tsad.conf as user tsad, and /health reports its version and commit" \
  bash -c "[ -n '$port' ] || { cat '$root/tmp/tsad.log'; exit 1; }
           h=\$(curl -fsS http://127.0.0.1:$port/health) || exit 1; echo \"\$h\"
           v=\$(chroot '$root' tsad --version); [[ \"\$v\" == *\$(printf '%s' \"\$h\" | python3 -c 'import json,sys; j=json.load(sys.stdin); print(j[\"version\"] + \" (git \" + j[\"commit\"] + \")\")') ]]"
check P11 "its audit log is /var/lib/tsad/audit_chain.db, from the config file" test -s "$root/var/lib/tsad/audit_chain.db"
kill -TERM "$tsad_pid" 2>/dev/null
wait "$tsad_pid"
tsad_status=$?
tsad_pid=""
check P12 "tsad stops cleanly on SIGTERM (exit 0)" bash -c "[ $tsad_status -eq 0 ] || { echo 'exit $tsad_status'; cat '$root/tmp/tsad.log'; exit 1; }"

check P13 "dpkg --purge removes the package and its conffile but keeps the audit log" \
  bash -c "chroot '$root' dpkg --purge tsad && [ ! -e '$root/usr/bin/tsad' ] && [ ! -e '$root/etc/tsad/tsad.conf' ] &&
           [ -s '$root/var/lib/tsad/audit_chain.db' ]"

echo "package: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
