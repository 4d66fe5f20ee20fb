#!/usr/bin/env bash
# tsad's HTTPS listener as an independent scanner sees it (README "TLS"): Debian's sslscan
# connects to a real tsad with every protocol and cipher it knows and must find SSLv2/SSLv3 and
# TLS 1.0/1.1 disabled, TLS 1.2 and 1.3 enabled, only strong ciphers accepted (ECDHE + AEAD),
# no compression, no renegotiation, not vulnerable to Heartbleed. Bounded: sslscan is stopped
# after 60 s. Plain HTTP to the HTTPS port must get the 400 and tsad must keep running.
# Usage: bash tests/interop/tls_scan.sh <dir with tsad, tsa-certgen, tsa-verify, tsa-request>
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"

require_client sslscan sslscan
require_client timeout coreutils
echo "---- $(sslscan --version 2>&1 | grep -m1 -Eo '[0-9]+\.[0-9]+\.[0-9]+' | sed 's/^/sslscan /')"

export TSA_INTEROP_TRANSPORT=https
start_tsad ec-p256
TLS_PORT="$(sed -E 's#^https://[^@]*@127\.0\.0\.1:([0-9]+)/.*#\1#' <<<"$TSAD_URL")"
XML="$WORK/sslscan.xml"

check S00 "sslscan --xml finishes within 60 s" \
  timeout 60 sslscan --no-colour --show-certificate --xml="$XML" "127.0.0.1:$TLS_PORT" || { stop_tsad; finish; }
cp "$LAST_OUT" "$WORK/sslscan.txt"
sed -n '1,200s/^/    | /p' "$WORK/sslscan.txt" | grep -E 'TLSv|SSLv|Accepted|Preferred|Compression|renegotiation|heartbleed' || true

# protocol TYPE VERSION WANT — <protocol type="ssl|tls" version="..." enabled="0|1" />
protocol() {
  grep -Eq "<protocol type=\"$1\" version=\"$2\" enabled=\"$3\"" "$XML"
}
check S01 "SSLv2 disabled" protocol ssl 2 0
check S02 "SSLv3 disabled" protocol ssl 3 0
check S03 "TLS 1.0 disabled" protocol tls 1.0 0
check S04 "TLS 1.1 disabled" protocol tls 1.1 0
check S05 "TLS 1.2 enabled" protocol tls 1.2 1
check S06 "TLS 1.3 enabled" protocol tls 1.3 1

ACCEPTED="$WORK/accepted.txt"
grep -E '<cipher status="(accepted|preferred)"' "$XML" >"$ACCEPTED"
check S07 "some ciphers accepted" test -s "$ACCEPTED"
expect_fail S08 "no accepted cipher below strong/acceptable (sslscan's rating)" \
  grep -Ev 'strength="(strong|acceptable)"' "$ACCEPTED"
expect_fail S09 "no CBC, RC4, 3DES, NULL, export, anonymous or static-RSA suite" \
  grep -Ei 'cipher="([^"]*(CBC|RC4|DES|NULL|EXP|ANON|ADH|AECDH|MD5)[^"]*|AES(128|256)-(GCM-)?SHA[0-9]*|[^"]*-SHA)"' "$ACCEPTED"
expect_fail S10 "every TLS 1.2 suite is ECDHE" \
  bash -c 'grep "sslversion=\"TLSv1.2\"" "$1" | grep -v "cipher=\"ECDHE-"' _ "$ACCEPTED"
expect_fail S11 "no TLS compression" grep -Eq '<compression supported="1"' "$XML"
expect_fail S12 "no renegotiation" grep -Eq '<renegotiation supported="1"' "$XML"
expect_fail S13 "not vulnerable to Heartbleed" grep -Eq '<heartbleed [^>]*vulnerable="1"' "$XML"
# sslscan gives a group's security strength: P-256 and X25519 are 128 bits.
expect_fail S14 "no key-exchange group below 128-bit security (no small curves, no weak DH)" \
  grep -Eq '<group [^>]*bits="([0-9]{1,2}|1[01][0-9]|12[0-7])"' "$XML"

expect_output S15 "plain HTTP to the HTTPS port: 400, then closed" '^HTTP/1.1 400 .*|plain HTTP sent to the HTTPS port' \
  curl -sS -i --max-time 10 "http://127.0.0.1:$TLS_PORT/health"
check S16 "tsad still serves HTTPS after the scan" \
  curl -sS --max-time 10 "${CURL_TLS[@]}" -o /dev/null --fail "https://127.0.0.1:$TLS_PORT/health"
expect_output S17 "tsad counted the scanner's failed handshakes" '^tsad_tls_handshake_failures_total\{reason="handshake"\} [1-9]' \
  curl -sS --max-time 10 "http://127.0.0.1:$TSAD_PORT/metrics"

stop_tsad
finish
