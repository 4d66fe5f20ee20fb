# shellcheck shell=bash
# Shared helpers for the interop scripts, sourced by each of them.
# tests/CMakeLists.txt turns every tests/interop/*.sh into a CTest test, so this file is also run
# directly as "interop.lib": it then smoke-tests its own helpers (start_tsad, one request, the
# SIGTERM exit status) — see the end of the file.
#
# Usage in a script:
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"    # $1 = dir with tsad, tsa-certgen, ...
#   require_client java openjdk-17-jdk-headless             # optional clients: SKIP or FAIL
#   start_tsad rsa3072                                      # sets TSAD_URL, TSAD_CERTS, TSAD_PORT
#   check X01 "what it proves" cmd args...                  # one PASS/FAIL line per check
#   stop_tsad                                               # SIGTERM, must exit 0
#   finish                                                  # summary; exit 1 on any failure
#
# Environment: INTEROP_KEEP=1 keeps the temporary directory (its path is printed) for debugging.
# TSA_INTEROP_TRANSPORT=https: tsad serves HTTPS (a test CA made with the openssl CLI) and requires
# an API key (--clients); TSAD_URL is then https://interop:KEY@127.0.0.1:PORT/tsa (HTTP Basic in
# the URL, as signing tools take it), TSAD_TLS_CA the CA to trust and CURL_TLS curl's options.

set -u -o pipefail

INTEROP_NAME="$(basename "$0" .sh)"
INTEROP_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$INTEROP_DIR/../.." && pwd)"

# --- the tools under test -------------------------------------------------------------------------
TOOLS="${1:-${TSA_TOOLS_DIR:-$REPO_ROOT/build/tools}}"
if [[ ! -d "$TOOLS" ]]; then
  echo "FAIL setup: tools directory '$TOOLS' not found (pass the dir with the built tsad as \$1)"
  exit 1
fi
TOOLS="$(cd "$TOOLS" && pwd)"
for _t in tsad tsa-certgen tsa-verify tsa-request; do
  if [[ ! -x "$TOOLS/$_t" ]]; then
    echo "FAIL setup: $TOOLS/$_t is missing or not executable (build the tools first)"
    exit 1
  fi
done
TSAD="$TOOLS/tsad"
CERTGEN="$TOOLS/tsa-certgen"
# shellcheck disable=SC2034  # used by the scripts that source this file
TSA_VERIFY="$TOOLS/tsa-verify"
# shellcheck disable=SC2034
TSA_REQUEST="$TOOLS/tsa-request"

# --- counters and reporting -----------------------------------------------------------------------
PASSED=0
FAILED=0
FAILED_IDS=()

# pass ID MESSAGE
pass() {
  PASSED=$((PASSED + 1))
  echo "PASS $1 $2"
}

# fail ID MESSAGE [FILE-WITH-DETAILS...]  — prints the details indented (first 40 lines of each).
fail() {
  local id="$1" msg="$2"
  shift 2
  FAILED=$((FAILED + 1))
  FAILED_IDS+=("$id")
  echo "FAIL $id $msg"
  local f
  for f in "$@"; do
    [[ -s "$f" ]] || continue
    sed -n '1,40s/^/    | /p' "$f"
  done
}

# Exit status of a script that skipped its checks; tests/CMakeLists.txt gives every interop test
# SKIP_RETURN_CODE 77, so CTest reports it as skipped, never as passed.
INTEROP_SKIP=77

# skip_all REASON — only for a client that is absent and may legitimately be (see require_client),
# or one too old for the checks (osslsigncode < 2.7).
skip_all() {
  echo "SKIP: $*"
  exit "$INTEROP_SKIP"
}

# Whether every client scripts/install-deps --test installs must be present: scripts/run-tests sets
# TSA_REQUIRE_INTEROP_CLIENTS=1, and CI systems set CI=true.
clients_required() {
  [[ "${TSA_REQUIRE_INTEROP_CLIENTS:-0}" == 1 || "${CI:-}" == true ]]
}

# check ID DESCRIPTION CMD [ARGS...]
# Runs CMD with stdout+stderr captured in $LAST_OUT; PASS if it exits 0, else FAIL with the output.
LAST_OUT=""
_check_n=0
check() {
  local id="$1" desc="$2"
  shift 2
  _check_n=$((_check_n + 1))
  LAST_OUT="$WORK/check-$_check_n.out"
  "$@" >"$LAST_OUT" 2>&1
  local rc=$?
  if [[ $rc -eq 0 ]]; then
    pass "$id" "$desc"
    return 0
  fi
  fail "$id" "$desc (exit $rc: $*)" "$LAST_OUT"
  return 1
}

# expect_output ID DESCRIPTION REGEX CMD [ARGS...]
# Runs CMD (exit status ignored); PASS if its combined output matches the extended REGEX.
expect_output() {
  local id="$1" desc="$2" re="$3"
  shift 3
  _check_n=$((_check_n + 1))
  LAST_OUT="$WORK/check-$_check_n.out"
  "$@" >"$LAST_OUT" 2>&1
  local rc=$?
  if grep -Eq -- "$re" "$LAST_OUT"; then
    pass "$id" "$desc"
    return 0
  fi
  fail "$id" "$desc (no /$re/ in the output; exit $rc: $*)" "$LAST_OUT"
  return 1
}

# expect_ok_output ID DESCRIPTION REGEX CMD [ARGS...] — like expect_output, and CMD must exit 0.
expect_ok_output() {
  local id="$1" desc="$2" re="$3"
  shift 3
  _check_n=$((_check_n + 1))
  LAST_OUT="$WORK/check-$_check_n.out"
  "$@" >"$LAST_OUT" 2>&1
  local rc=$?
  if [[ $rc -eq 0 ]] && grep -Eq -- "$re" "$LAST_OUT"; then
    pass "$id" "$desc"
    return 0
  fi
  fail "$id" "$desc (want exit 0 and /$re/; exit $rc: $*)" "$LAST_OUT"
  return 1
}

# expect_fail ID DESCRIPTION CMD [ARGS...] — PASS if CMD exits non-zero (negative controls).
expect_fail() {
  local id="$1" desc="$2"
  shift 2
  _check_n=$((_check_n + 1))
  LAST_OUT="$WORK/check-$_check_n.out"
  if "$@" >"$LAST_OUT" 2>&1; then
    fail "$id" "$desc (expected a failure, got exit 0: $*)" "$LAST_OUT"
    return 1
  fi
  pass "$id" "$desc"
}

# finish — summary line and exit status (1 if anything failed).
finish() {
  if [[ $FAILED -gt 0 ]]; then
    echo "RESULT $INTEROP_NAME: FAILED $FAILED, passed $PASSED (failed: ${FAILED_IDS[*]})"
    exit 1
  fi
  echo "RESULT $INTEROP_NAME: all $PASSED checks passed"
  exit 0
}

# --- temporary directory and cleanup --------------------------------------------------------------
WORK="$(mktemp -d "${TMPDIR:-/tmp}/tsad-interop-$INTEROP_NAME.XXXXXX")"
TSAD_PID=""

_cleanup() {
  local rc=$?
  if [[ -n "$TSAD_PID" ]] && kill -0 "$TSAD_PID" 2>/dev/null; then
    kill -TERM "$TSAD_PID" 2>/dev/null
    local i
    for ((i = 0; i < 50; i++)); do kill -0 "$TSAD_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$TSAD_PID" 2>/dev/null
    wait "$TSAD_PID" 2>/dev/null
  fi
  if [[ "${INTEROP_KEEP:-0}" == 1 ]]; then
    echo "(kept $WORK)"
  else
    rm -rf "$WORK"
  fi
  exit "$rc"
}
trap _cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- mandatory and optional clients ---------------------------------------------------------------
# require_mandatory CMD... — openssl and curl: their absence is a failure, never a skip.
require_mandatory() {
  local c
  for c in "$@"; do
    if ! command -v "$c" >/dev/null 2>&1; then
      fail setup "mandatory client '$c' is not installed (run scripts/install-deps --test)"
      finish
    fi
  done
}

# require_client CMD-OR-FILE DEBIAN-PACKAGE
# The client is present: return. It is absent and scripts/install-deps --test lists the package:
# FAIL when clients are required (scripts/run-tests, CI) or when apt could install it here (the
# environment is incomplete, run scripts/install-deps). Otherwise: SKIP (exit 77).
require_client() {
  local what="$1" pkg="$2"
  if [[ "$what" == /* ]]; then
    [[ -e "$what" ]] && return 0
  else
    command -v "$what" >/dev/null 2>&1 && return 0
  fi
  if grep -Eq "^test=\(.*[( ]${pkg}[ )]" "$REPO_ROOT/scripts/install-deps" 2>/dev/null; then
    if clients_required; then
      fail setup "'$what' is missing although scripts/install-deps --test installs $pkg (required here: TSA_REQUIRE_INTEROP_CLIENTS=1 or CI=true)"
      finish
    fi
    if command -v apt-cache >/dev/null 2>&1 &&
       [[ "$(apt-cache policy "$pkg" 2>/dev/null)" =~ Candidate:\ [^\(] ]]; then
      fail setup "'$what' is missing; package $pkg is installable: run scripts/install-deps --test"
      finish
    fi
  fi
  skip_all "$what is not installed and package $pkg cannot be installed by scripts/install-deps here"
}

require_mandatory openssl curl

# --- tsad -----------------------------------------------------------------------------------------
TSAD_PORT=""
TSAD_URL=""
TSAD_CERTS=""
TSAD_LOG=""
TSAD_SUBJECT=""
TSAD_KEY_TYPE=""
CERTGEN_ARGS=()   # extra tsa-certgen arguments for the next start_tsad, e.g. (--days 3650)
TSAD_TLS_CA=""    # https mode: the CA of tsad's TLS certificate
TSAD_API_KEY=""   # https mode: the key of client "interop"
# shellcheck disable=SC2034  # used by the Java scripts
TSAD_TLS_CLIENT_P12=""  # https mode: client "interop"'s certificate and key (PKCS#12, password changeit)
CURL_TLS=()       # https mode: (--cacert CA) for every curl call
_tsad_n=0

# _softhsm_token DIR — a SoftHSM2 token "interop" (PIN 1234) in DIR/tokens, never the machine's
# global token store; exports SOFTHSM2_CONF and TSA_PKCS11_PIN for tsa-certgen and tsad.
_softhsm_token() {
  local dir="$1"
  require_client softhsm2-util softhsm2
  mkdir -p "$dir/tokens"
  printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' "$dir/tokens" >"$dir/softhsm2.conf"
  export SOFTHSM2_CONF="$dir/softhsm2.conf" TSA_PKCS11_PIN=1234
  if ! softhsm2-util --init-token --free --label interop --pin 1234 --so-pin 5678 >"$dir/softhsm.log" 2>&1; then
    fail setup "softhsm2-util --init-token failed" "$dir/softhsm.log"
    finish
  fi
}

# _tls_setup DIR — https mode: a CA, a server certificate for 127.0.0.1 (openssl CLI) and a clients
# file with one client "interop" (tsa-clients) known by an API key and by a client certificate
# (its own CA, --tls-client-ca). Sets TSAD_TLS_CA, TSAD_API_KEY, TSAD_TLS_CLIENT_P12, CURL_TLS and
# _TLS_ARGS (the tsad flags).
_TLS_ARGS=()
_tls_setup() {
  local dir="$1/tls"
  mkdir -p "$dir"
  if ! {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$dir/ca.key" -out "$dir/ca.pem" \
      -subj "/CN=tsad interop TLS CA" -days 2 -addext basicConstraints=critical,CA:TRUE &&
      openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$dir/server.key" \
        -out "$dir/server.csr" -subj "/CN=127.0.0.1" &&
      printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >"$dir/server.ext" &&
      openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -set_serial "$RANDOM$RANDOM" \
        -days 1 -extfile "$dir/server.ext" -out "$dir/server.pem" && chmod 600 "$dir/server.key" &&
      openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$dir/client-ca.key" \
        -out "$dir/client-ca.pem" -subj "/CN=tsad interop client CA" -days 2 -addext basicConstraints=critical,CA:TRUE &&
      openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$dir/client.key" \
        -out "$dir/client.csr" -subj "/CN=interop client" &&
      printf 'extendedKeyUsage=clientAuth\n' >"$dir/client.ext" &&
      openssl x509 -req -in "$dir/client.csr" -CA "$dir/client-ca.pem" -CAkey "$dir/client-ca.key" \
        -set_serial "$RANDOM$RANDOM" -days 1 -extfile "$dir/client.ext" -out "$dir/client.pem" &&
      openssl pkcs12 -export -in "$dir/client.pem" -inkey "$dir/client.key" -name client -passout pass:changeit \
        -out "$dir/client.p12"
  } >"$dir/openssl.log" 2>&1; then
    fail setup "making the TLS test certificates failed" "$dir/openssl.log"
    finish
  fi
  # One client, two credentials: its API key (Basic in the URL) and its certificate (mutual TLS,
  # for Java's HTTP client, which does not send the URL's user:password).
  if ! TSAD_API_KEY="$("$TOOLS/tsa-clients" --file "$1/clients.json" add interop \
    --cert-subject "CN=interop client" 2>"$dir/clients.log")"; then
    fail setup "tsa-clients add interop failed" "$dir/clients.log"
    finish
  fi
  TSAD_TLS_CA="$dir/ca.pem"
  TSAD_TLS_CLIENT_P12="$dir/client.p12"
  CURL_TLS=(--cacert "$TSAD_TLS_CA")
  _TLS_ARGS=(--tls-cert "$dir/server.pem" --tls-key "$dir/server.key" --tls-port 0 --tls-port-file "$1/tls-port"
    --tls-client-ca "$dir/client-ca.pem")
  # A client whose HTTP client sends neither the URL's user:password nor a client certificate
  # (osslsigncode: OpenSSL's HTTP client) sets INTEROP_HTTPS_OPEN=1: HTTPS without --clients.
  if [[ "${INTEROP_HTTPS_OPEN:-0}" == 1 ]]; then
    TSAD_API_KEY=""
  else
    _TLS_ARGS+=(--clients "$1/clients.json")
  fi
}

# start_tsad KEY-TYPE [EXTRA-TSAD-ARGS...]
# With TSA_INTEROP_KEY_SOURCE=softhsm the key is generated in a per-test SoftHSM2 token and tsad
# signs through PKCS#11 (--key pkcs11:...); otherwise it is a PEM file.
# Makes a fresh test PKI with tsa-certgen (rsa2048|rsa3072|ec-p256|ec-p384) and starts tsad on an
# ephemeral loopback port. Sets TSAD_PID, TSAD_PORT, TSAD_URL (…/tsa), TSAD_CERTS (dir with
# ca_cert.pem, tsa_cert.pem, tsa_key.pem, chain.pem), TSAD_LOG, TSAD_SUBJECT (RFC 2253 form).
start_tsad() {
  local key_type="$1"
  shift
  if [[ -n "$TSAD_PID" ]]; then
    fail setup "start_tsad: a tsad is already running (call stop_tsad first)"
    finish
  fi
  _tsad_n=$((_tsad_n + 1))
  local dir="$WORK/tsad-$_tsad_n-$key_type"
  mkdir -p "$dir"
  TSAD_CERTS="$dir/certs"
  TSAD_LOG="$dir/tsad.log"
  TSAD_KEY_TYPE="$key_type"
  local key_args=()
  if [[ "${TSA_INTEROP_KEY_SOURCE:-pem}" == softhsm ]]; then
    # The signing key lives in a SoftHSM2 token of this test only (README "Keys in an HSM").
    _softhsm_token "$dir"
    key_args=(--pkcs11 "pkcs11:token=interop;object=tsa-$key_type")
  fi
  if ! "$CERTGEN" --dir "$TSAD_CERTS" --key-type "$key_type" "${key_args[@]}" "${CERTGEN_ARGS[@]}" >"$dir/certgen.log" 2>&1; then
    fail setup "tsa-certgen --key-type $key_type ${key_args[*]} failed" "$dir/certgen.log"
    finish
  fi
  local signing=(--cert-dir "$TSAD_CERTS")
  [[ ${#key_args[@]} -gt 0 ]] && signing+=(--key "${key_args[1]};type=private")
  TSAD_SUBJECT="$(openssl x509 -in "$TSAD_CERTS/tsa_cert.pem" -noout -subject -nameopt RFC2253 | sed 's/^subject=//')"
  _TLS_ARGS=()
  [[ "${TSA_INTEROP_TRANSPORT:-http}" == https ]] && _tls_setup "$dir"
  "$TSAD" --host 127.0.0.1 --port 0 --port-file "$dir/port" "${signing[@]}" "${_TLS_ARGS[@]}" \
    --db "$dir/audit.db" --allow-unsynced-clock --no-anchor "$@" >"$TSAD_LOG" 2>&1 &
  TSAD_PID=$!
  local i
  for ((i = 0; i < 300; i++)); do   # up to 15 s, normally a few ms
    if [[ -s "$dir/port" ]] && grep -Eq '^[0-9]+$' "$dir/port"; then break; fi
    if ! kill -0 "$TSAD_PID" 2>/dev/null; then
      wait "$TSAD_PID"
      local rc=$?
      TSAD_PID=""
      fail setup "tsad ($key_type) exited with status $rc before listening" "$TSAD_LOG"
      finish
    fi
    sleep 0.05
  done
  if ! grep -Eq '^[0-9]+$' "$dir/port" 2>/dev/null; then
    fail setup "tsad ($key_type) wrote no port file within 15 s" "$TSAD_LOG"
    finish
  fi
  TSAD_PORT="$(cat "$dir/port")"
  TSAD_URL="http://127.0.0.1:$TSAD_PORT/tsa"
  if [[ ${#_TLS_ARGS[@]} -gt 0 ]]; then  # the TLS port file is written before the HTTP one
    TSAD_URL="https://${TSAD_API_KEY:+interop:$TSAD_API_KEY@}127.0.0.1:$(cat "$dir/tls-port")/tsa"
  fi
  local key_where="PEM key"
  [[ ${#key_args[@]} -gt 0 ]] && key_where="key ${key_args[1]} in a SoftHSM2 token"
  local shown="$TSAD_URL"
  [[ -n "$TSAD_API_KEY" ]] && shown="${TSAD_URL/$TSAD_API_KEY/KEY}"
  echo "---- tsad $key_type listening on $shown (TSA: $TSAD_SUBJECT; $key_where)"
}

# stop_tsad — SIGTERM; tsad must exit 0 within 10 s. Reported as the check "STOP-<key type>".
stop_tsad() {
  [[ -n "$TSAD_PID" ]] || return 0
  local pid="$TSAD_PID" i rc id="STOP-$TSAD_KEY_TYPE"
  kill -TERM "$pid" 2>/dev/null
  for ((i = 0; i < 200; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    TSAD_PID=""
    fail "$id" "tsad did not exit within 10 s of SIGTERM (killed)" "$TSAD_LOG"
    return 1
  fi
  wait "$pid"
  rc=$?
  TSAD_PID=""
  if [[ $rc -ne 0 ]]; then
    fail "$id" "tsad exited with status $rc after SIGTERM (want 0)" "$TSAD_LOG"
    return 1
  fi
  pass "$id" "tsad exited 0 on SIGTERM"
}

# --- HTTP helpers ---------------------------------------------------------------------------------
# post_query QUERY-FILE REPLY-FILE [CONTENT-TYPE]
# POSTs a DER request like a real client; sets HTTP_CODE and HTTP_CTYPE. Returns curl's status.
HTTP_CODE=""
HTTP_CTYPE=""
post_query() {
  local q="$1" r="$2" ct="${3:-application/timestamp-query}" meta
  meta="$(curl -sS --max-time 20 "${CURL_TLS[@]}" -o "$r" -w '%{http_code}\n%{content_type}' \
    -H "Content-Type: $ct" --data-binary @"$q" "$TSAD_URL")" || return $?
  HTTP_CODE="$(sed -n 1p <<<"$meta")"
  HTTP_CTYPE="$(sed -n 2p <<<"$meta")"
}

# is_tsr_reply — true if the last reply was HTTP 200 with Content-Type exactly
# application/timestamp-reply (no parameters: jarsigner and OpenSSL 3.0's HTTP client need that).
is_tsr_reply() {
  [[ "$HTTP_CODE" == 200 && "$HTTP_CTYPE" == "application/timestamp-reply" ]]
}

# --- run directly: self-test of the helpers (CTest "interop.lib") ---------------------------------
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  start_tsad rsa2048
  printf 'lib self-test' >"$WORK/data.txt"
  openssl ts -query -data "$WORK/data.txt" -sha256 -cert -out "$WORK/q.tsq" 2>/dev/null
  if post_query "$WORK/q.tsq" "$WORK/r.tsr" && is_tsr_reply; then
    pass L01 "POST application/timestamp-query -> 200 application/timestamp-reply"
  else
    fail L01 "POST -> HTTP '$HTTP_CODE' Content-Type '$HTTP_CTYPE'"
  fi
  expect_ok_output L02 "openssl ts -verify of the reply" '^Verification: OK' \
    openssl ts -verify -queryfile "$WORK/q.tsq" -in "$WORK/r.tsr" -CAfile "$TSAD_CERTS/ca_cert.pem"
  stop_tsad
  finish
fi
