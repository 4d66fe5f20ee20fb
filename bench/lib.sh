# shellcheck shell=bash disable=SC2034,SC2154  # sets and reads the caller's variables
# Shared by bench/run.sh and bench/targets.sh (sourced from the repository's root, not run).
# bench_setup comes first (it sets $work, $BIN, $CEIL, $THREADS); the caller sets $DURATION
# (seconds per wrk run); TSAD overrides the tsad binary (a baseline). Sends traffic only to
# 127.0.0.1.

# bench_setup NAME: installs wrk, builds the bench preset and makes the scratch directory $work
# (/tmp/NAME.XXXXXX), removed on exit with any tsad still running. Sets THREADS, BIN, CEIL, work.
bench_setup() {
  THREADS=$(nproc)
  scripts/install-deps --bench
  cmake --preset bench >/dev/null
  cmake --build --preset bench -j"$THREADS" >/dev/null
  BIN=build-bench/tools
  CEIL=build-bench/bench/tsa-bench-ceiling
  work=$(mktemp -d "/tmp/$1.XXXXXX")
  tsad_pid=""
  trap bench_cleanup EXIT
}

bench_cleanup() {
  [ -n "$tsad_pid" ] && kill "$tsad_pid" 2>/dev/null && wait "$tsad_pid" 2>/dev/null
  rm -rf "$work"
}

rss_kb() { awk "/^$2:/ {print \$2}" "/proc/$1/status"; }

start_tsad() {  # $1 cert dir, $2 db, extra args...   (TSAD: another binary, e.g. a baseline)
  local certs=$1 db=$2
  shift 2
  rm -f "$work/port"
  "${TSAD:-$BIN/tsad}" --host 127.0.0.1 --port 0 --port-file "$work/port" --cert-dir "$certs" --db "$db" \
    --allow-unsynced-clock --no-anchor --log-level warn "$@" >"$work/tsad.log" 2>&1 &
  tsad_pid=$!
  for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
  [ -s "$work/port" ] || { cat "$work/tsad.log"; echo "bench: tsad did not start" >&2; exit 1; }
  port=$(cat "$work/port")
  url="http://127.0.0.1:$port/tsa"
  sleep 0.5
  idle_rss=$(rss_kb "$tsad_pid" VmRSS)
}

stop_tsad() {
  peak_rss=$(rss_kb "$tsad_pid" VmHWM)
  kill "$tsad_pid"
  wait "$tsad_pid" || true
  tsad_pid=""
}

run_wrk() {  # $1 connections, [$2 delay ms] -> sets rps p50 p99 non200 errs
  local c=$1 t=2
  [ "$c" -lt 2 ] && t=1
  local out
  out=$(DELAY_MS=${2:-0} TSQ="$work/q.tsq" wrk -t"$t" -c"$c" -d"${DURATION}s" --timeout 10s -s bench/tsq.lua "$url" | grep '^RESULT')
  rps=$(sed -E 's/.*rps=([0-9.]+).*/\1/' <<<"$out")
  p50=$(sed -E 's/.*p50_ms=([0-9.]+).*/\1/' <<<"$out")
  p99=$(sed -E 's/.*p99_ms=([0-9.]+).*/\1/' <<<"$out")
  non200=$(sed -E 's/.*non200=([0-9]+).*/\1/' <<<"$out")
  errs=$(sed -E 's/.*socket_errors=([0-9]+).*/\1/' <<<"$out")
}

# calibrate_half_peak PEAK_RPS: the pause for a run at half the peak rate on the running tsad
# (then: run_wrk 64 "$half_delay"). 64 connections, each pausing a random (exponential) time
# between requests so the arrivals are close to a Poisson stream at PEAK/2. Two 3 s calibration
# runs measure how long each request itself takes, and the mean pause is corrected for it after
# each (one correction, rounded to whole milliseconds, overshot the target by up to 12%; the mean
# pause is fractional now). Sets half_target and half_delay.
calibrate_half_peak() {
  half_target=$(awk "BEGIN {print $1 / 2}")
  local full_duration=$DURATION
  half_delay=$(awk "BEGIN {d = 64 * 1000 / $half_target; printf \"%.2f\", (d < 1 ? 1 : d)}")
  DURATION=3
  for _ in 1 2; do
    run_wrk 64 "$half_delay"
    half_delay=$(awk "BEGIN {busy = 64 * 1000 / $rps - $half_delay; d = 64 * 1000 / $half_target - busy; printf \"%.2f\", (d < 1 ? 1 : d)}")
  done
  DURATION=$full_duration
}

# tsa_over_ms MS: how many /tsa requests the running tsad answered, and how many took longer than
# MS milliseconds (its request-duration histogram; MS must be one of its bucket bounds).
tsa_over_ms() {
  curl -s "http://127.0.0.1:$port/metrics" | awk -v le="$(awk "BEGIN {print $1 / 1000}")" '
    /^tsad_http_request_duration_seconds_bucket/ && /route="tsa"/ {
      if (index($0, "le=\"" le "\"")) within = $2
      if (index($0, "le=\"+Inf\"")) total = $2
    } END {printf "%d %d", total, total - within}'
}

# make_certs KEY CERT-DIR: a development PKI; for softhsm-TYPE the key is generated in a SoftHSM2
# token under $work (never the machine's token store) and tsa_key.pem holds its pkcs11: URI.
make_certs() {
  local key=$1 certs=$2
  if [[ "$key" != softhsm-* ]]; then
    "$BIN/tsa-certgen" --dir "$certs" --key-type "$key" >/dev/null
    return
  fi
  local type=${key#softhsm-}
  mkdir -p "$work/softhsm/tokens"
  printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' "$work/softhsm/tokens" >"$work/softhsm/softhsm2.conf"
  export SOFTHSM2_CONF="$work/softhsm/softhsm2.conf" TSA_PKCS11_PIN=1234
  softhsm2-util --show-slots 2>/dev/null | grep -q 'Label:[[:space:]]*bench' ||
    softhsm2-util --init-token --free --label bench --pin 1234 --so-pin 5678 >/dev/null
  "$BIN/tsa-certgen" --dir "$certs" --key-type "$type" --pkcs11 "pkcs11:token=bench;object=$type" >/dev/null
  printf 'pkcs11:token=bench;object=%s;type=private\n' "$type" >"$certs/tsa_key.pem"
  chmod 600 "$certs/tsa_key.pem"
}
