#!/usr/bin/env bash
# Where a token's CPU goes: runs a tsad under wrk (64 connections, DURATION seconds) and prints
# each thread's user and system CPU per token, read from /proc/<pid>/task/*/stat before and after
# the load, with the share of the two cores left idle. docs/performance.md ("where each token's
# CPU goes") has figures and how to read them.
#
#   bench/thread-cpu.sh TSAD CERT_DIR [tsad flags...]
#   bench/thread-cpu.sh build-bench/tools/tsad certs --log-layout tiles
#   bench/thread-cpu.sh build-bench/tools/tsad certs --no-audit-log
#
# CERT_DIR is a tsa-certgen directory. Needs wrk (scripts/install-deps --bench). Exit 2 on bad
# arguments, 1 when tsad does not start or wrk fails.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -lt 2 ] || [ ! -x "$1" ] || [ ! -d "$2" ]; then
  echo "usage: bench/thread-cpu.sh TSAD CERT_DIR [tsad flags...]" >&2
  exit 2
fi
tsad=$1 certs=$2
shift 2
command -v wrk >/dev/null || { echo "thread-cpu: wrk is missing (scripts/install-deps --bench)" >&2; exit 1; }
work=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
"$tsad" --host 127.0.0.1 --port 0 --port-file "$work/port" --cert-dir "$certs" --db "$work/audit.db" \
  --allow-unsynced-clock --no-anchor --log-level warn "$@" >"$work/tsad.log" 2>&1 &
pid=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
[ -s "$work/port" ] || { echo "thread-cpu: tsad did not start: $(tail -1 "$work/tsad.log")" >&2; exit 1; }
url="http://127.0.0.1:$(cat "$work/port")/tsa"
openssl ts -query -digest "$(printf 'bench' | sha256sum | cut -d' ' -f1)" -sha256 -cert -out "$work/q.tsq" 2>/dev/null
snap() {  # thread name, user ticks, system ticks (threads of one name summed)
  for t in /proc/"$pid"/task/*; do echo "$(tr ' ' _ <"$t/comm") $(awk '{print $14, $15}' "$t/stat")"; done |
    awk '{u[$1] += $2; s[$1] += $3} END {for (k in u) print k, u[k], s[k]}' | sort
}
snap >"$work/before"
cpu1=$(head -1 /proc/stat)
out=$(TSQ="$work/q.tsq" wrk -t2 -c64 -d"${DURATION:-6}s" --timeout 10s -s bench/tsq.lua "$url" | grep '^RESULT') ||
  { echo "thread-cpu: wrk failed" >&2; exit 1; }
cpu2=$(head -1 /proc/stat)
snap >"$work/after"
tokens=$(sed -E 's/.*requests=([0-9]+).*/\1/' <<<"$out")
hz=$(getconf CLK_TCK)
echo "$out"
echo "$cpu1 $cpu2" | awk '{t1 = 0; t2 = 0; for (i = 2; i <= 11; i++) t1 += $i; for (i = 13; i <= 22; i++) t2 += $i;
  printf "cores idle or waiting: %.0f%%\n", ($16 - $5 + $17 - $6) * 100 / (t2 - t1)}'
join "$work/before" "$work/after" | awk -v n="$tokens" -v hz="$hz" '{
  u = ($4 - $2) * 1000 / hz; s = ($5 - $3) * 1000 / hz
  if (u + s > 0) printf "%-18s user %6d ms  sys %6d ms  %7.1f us/token\n", $1, u, s, (u + s) * 1000 / n }'
