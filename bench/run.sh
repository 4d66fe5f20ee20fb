#!/usr/bin/env bash
# Loopback benchmark of tsad (docs/performance.md). One command:
#     bench/run.sh                 # full run (about 4 minutes on 2 cores)
#     DURATION=5 bench/run.sh      # shorter runs per point
#     BASELINE=../old/build-bench/tools/tsad bench/run.sh   # also the 64-connection points of another tsad
#     LAYOUT_ONLY=1 bench/run.sh   # only the audit log's storage cost (layouts, disk bytes/token, tile GETs)
# Builds tsad in release mode (preset bench), makes P-256 and RSA-3072 development certificates
# (PEM keys, and the same key types in a SoftHSM2 token: rows softhsm-ec-p256, softhsm-rsa3072),
# measures the in-process signing ceiling (tsa-bench-ceiling on nproc threads: OpenSSL's TS_RESP, the
# reference, and tsad's direct encoder beside it), then drives tsad
# over 127.0.0.1 with wrk at 1, 8, 64 and 256 connections with the audit chain on, once more with
# it off, a fixed-rate run at half the peak for p99, and 1000 idle connections (RSS and threads
# they add) with 256 busy ones beside them. The "on" rows use tsad's layout for a new log: tiles,
# the default since issue 12, or TSA_LOG_LAYOUT=sqlite bench/run.sh for the earlier figures; the
# layout table (layout_costs) names off, sqlite and tiles explicitly whatever TSA_LOG_LAYOUT says.
# Prints a Markdown table: tokens/s, its ratio to the ceiling, p50/p99 latency, non-200 replies,
# tsad's idle and peak RSS. Sends traffic only to 127.0.0.1; every run is bounded in time.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
DURATION=${DURATION:-10}
CONNS=${CONNS:-"1 8 64 256"}
# softhsm-*: the same key type generated in a SoftHSM2 token of this run, signing through PKCS#11.
KEYS=${KEYS:-"ec-p256 rsa3072 softhsm-ec-p256 softhsm-rsa3072"}
# shellcheck source=bench/lib.sh
. bench/lib.sh
bench_setup tsad-bench

# The audit log's storage cost (AUDIT_CHAIN.md "On-disk layout: tiles"), P-256 at 64 connections
# in one run: the log off, in the sqlite layout and in the tiles layout. Per layout: tokens/s, the
# log's cost against off, the bytes tsad wrote to disk per token (/proc/<pid>/io write_bytes over
# the wrk run, divided by the tokens it granted: every thread, the WAL checkpointer's included) next
# to the token's size, and (tiles) the median time of 200 GETs of a full hash tile and entry bundle.
# LAYOUT_ONLY=1 bench/run.sh runs only this table.
granted() { curl -s "http://127.0.0.1:$port/metrics" | awk '/^tsad_tokens_granted_total/ {s += $2} END {printf "%d", s}'; }
write_bytes() { awk '/^write_bytes:/ {print $2}' "/proc/$1/io"; }
median_ms() { sort -n | awk '{t[NR] = $1} END {printf "%.3f", 1000 * t[int((NR + 1) / 2)]}'; }
# $1 path below /log/: "new/kept" = the median of 200 GETs each on a new connection (connect
# included) / of 200 GETs on one kept-alive connection (what a monitor or a cache in front sees), ms.
tile_ms() {
  local url="http://127.0.0.1:$port/log/$1" new kept
  new=$(for _ in $(seq 200); do curl -s -o /dev/null -w '%{time_total}\n' "$url"; done | median_ms)
  kept=$(for _ in $(seq 200); do printf -- '-o /dev/null %s ' "$url"; done |
    xargs curl -s -w '%{time_total}\n' | median_ms)
  echo "$new/$kept"
}
layout_costs() {
  local certs="$work/certs-layout" off_rps=0 token_size
  make_certs ec-p256 "$certs"
  echo "| audit log | connections | tokens/s | cost vs off | disk bytes/token | token bytes | x token | full tile GET ms, new/kept connection (hash, entries) |"
  echo "|---|---|---|---|---|---|---|---|"
  for layout in off sqlite tiles; do
    local args=(--log-layout "$layout")
    [ "$layout" = off ] && args=(--no-audit-log)
    start_tsad "$certs" "$work/db-layout-$layout.db" "${args[@]}"
    token_size=$(curl -s -H 'Content-Type: application/timestamp-query' --data-binary @"$work/q.tsq" "$url" | wc -c)
    local n0 w0 n1 w1 per cost="–" tiles="–"
    n0=$(granted)
    w0=$(write_bytes "$tsad_pid")
    run_wrk 64
    n1=$(granted)
    w1=$(write_bytes "$tsad_pid")
    per=$(((w1 - w0) / (n1 > n0 ? n1 - n0 : 1)))
    [ "$layout" = off ] && off_rps=$rps
    [ "$layout" != off ] && cost="$(awk "BEGIN {printf \"%.0f%%\", 100 * (1 - $rps / $off_rps)}")"
    [ "$layout" = tiles ] && tiles="$(tile_ms tile/0/000), $(tile_ms tile/entries/000)"
    stop_tsad
    echo "| $layout | 64 | $(printf %.0f "$rps") | $cost | $per | $token_size | $(awk "BEGIN {printf \"%.1f\", $per / $token_size}") | $tiles |"
  done
}

openssl ts -query -digest "$(printf 'bench' | sha256sum | cut -d' ' -f1)" -sha256 -cert -out "$work/q.tsq" 2>/dev/null
echo "tsad loopback benchmark: $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, ${DURATION}s per point, wrk on the same machine"
echo
if [ -n "${LAYOUT_ONLY:-}" ]; then
  layout_costs
  exit 0
fi
echo
echo "| key | audit log | connections | tokens/s | % of ceiling | p50 ms | p99 ms | non-200 | socket errors | RSS idle MB | RSS peak MB |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
for key in $KEYS; do
  certs="$work/certs-$key"
  make_certs "$key" "$certs"
  ceiling=$("$CEIL" --cert-dir "$certs" --request "$work/q.tsq" --threads "$THREADS" --seconds "$DURATION" | sed -E 's/.*"tokens_per_s":([0-9.]+).*/\1/')
  echo "| $key | (in-process ceiling, $THREADS threads) | – | $(printf %.0f "$ceiling") | 100 | – | – | – | – | – | – |"
  # tsad signs with its own DER encoder: its in-process rate, next to the TS_RESP reference.
  direct=$("$CEIL" --engine direct --cert-dir "$certs" --request "$work/q.tsq" --threads "$THREADS" --seconds "$DURATION" | sed -E 's/.*"tokens_per_s":([0-9.]+).*/\1/')
  echo "| $key | (in-process, tsad's direct encoder, $THREADS threads) | – | $(printf %.0f "$direct") | $(awk "BEGIN {printf \"%.0f\", 100 * $direct / $ceiling}") | – | – | – | – | – | – |"
  peak_rps=0
  for audit in on off; do
    flag=--audit-log
    [ "$audit" = off ] && flag=--no-audit-log
    for c in $CONNS; do
      [ "$audit" = off ] && [ "$c" != 64 ] && continue  # audit off: the comparison point only
      start_tsad "$certs" "$work/db-$key-$audit-$c.db" "$flag"
      run_wrk "$c"
      stop_tsad
      pct=$(awk "BEGIN {printf \"%.0f\", 100 * $rps / $ceiling}")
      label=$audit
      [ "$audit" = on ] && label="on (${TSA_LOG_LAYOUT:-tiles})"
      echo "| $key | $label | $c | $(printf %.0f "$rps") | $pct | $p50 | $p99 | $non200 | $errs | $((idle_rss / 1024)) | $((peak_rss / 1024)) |"
      if [ "$audit" = on ] && awk "BEGIN {exit !($rps > $peak_rps)}"; then peak_rps=$rps; fi
    done
  done
  # The same comparison points with a baseline tsad (BASELINE=path/to/tsad, e.g. a build of the
  # previous release), measured in this run next to this build's.
  if [ -n "${BASELINE:-}" ]; then
    for flag in --audit-log --no-audit-log; do
      TSAD=$BASELINE start_tsad "$certs" "$work/db-$key-baseline$flag.db" "$flag"
      run_wrk 64
      stop_tsad
      pct=$(awk "BEGIN {printf \"%.0f\", 100 * $rps / $ceiling}")
      echo "| $key | baseline ${flag#--} | 64 | $(printf %.0f "$rps") | $pct | $p50 | $p99 | $non200 | $errs | $((idle_rss / 1024)) | $((peak_rss / 1024)) |"
    done
  fi
  start_tsad "$certs" "$work/db-$key-half.db"
  calibrate_half_peak "$peak_rps"
  run_wrk 64 "$half_delay"
  stop_tsad
  echo "| $key | on, half peak ($(printf %.0f "$rps")/s target $(printf %.0f "$half_target")) | 64 | $(printf %.0f "$rps") | – | $p50 | $p99 | $non200 | $errs | $((idle_rss / 1024)) | $((peak_rss / 1024)) |"
done

# 1000 idle connections alone (RSS and threads before and after), then 256 busy ones beside them.
certs="$work/certs-ec-p256"
start_tsad "$certs" "$work/db-idle.db" --keep-alive-timeout 120
threads_before=$(rss_kb "$tsad_pid" Threads)
rss_before=$(rss_kb "$tsad_pid" VmRSS)
python3 - "$port" "$((DURATION + 10))" <<'PY' &
import socket, sys, time
port, hold = int(sys.argv[1]), float(sys.argv[2])
socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(1000)]
time.sleep(hold)
PY
idle_pid=$!
sleep 3
threads_idle=$(rss_kb "$tsad_pid" Threads)
rss_idle=$(rss_kb "$tsad_pid" VmRSS)
run_wrk 256
wait "$idle_pid" || true
stop_tsad
echo "| ec-p256 | on, +1000 idle connections | 256 | $(printf %.0f "$rps") | – | $p50 | $p99 | $non200 | $errs | $((idle_rss / 1024)) | $((peak_rss / 1024)) |"
echo
echo "1000 idle connections: RSS $((rss_before / 1024)) -> $((rss_idle / 1024)) MB (+$(((rss_idle - rss_before) / 1024)) MB), threads $threads_before -> $threads_idle"
echo
layout_costs
