#!/usr/bin/env bash
# shellcheck disable=SC2016,SC2317  # single-quoted bash -c bodies; functions run through check()
# Interop X11–X12 (conformance §6.8): osslsigncode (Authenticode) with RFC 3161 time-stamps from
# tsad. X11: "osslsigncode sign -ts URL" on a PowerShell script — OpenSSL's HTTP client (HTTP/1.0,
# exact Content-Type, status must be 0), imprint = hash of the signature value, 64-bit nonce,
# certReq TRUE. Also "osslsigncode add -ts URL" on an already-signed file and -h sha512.
# X12: "osslsigncode verify -CAfile … -TSA-CAfile ca_cert.pem" reports
# "Timestamp Server Signature verification: ok"; with the wrong TSA CA it must fail.
# Usage: bash tests/interop/osslsigncode.sh <dir with tsad, tsa-certgen, tsa-verify, tsa-request>
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"

require_client osslsigncode osslsigncode
echo "---- $(osslsigncode --version 2>&1 | head -1)"
# PowerShell-script signing and this verify wording need osslsigncode >= 2.7 (bookworm-backports,
# or the version on these machines); Debian 12's main archive has 2.5.
ossl_version=$(osslsigncode --version 2>&1 | head -1 | sed -nE 's/^osslsigncode ([0-9]+)\.([0-9]+).*/\1 \2/p')
read -r ossl_major ossl_minor <<<"${ossl_version:-0 0}"
if [ "$ossl_major" -lt 2 ] || { [ "$ossl_major" -eq 2 ] && [ "$ossl_minor" -lt 7 ]; }; then
  skip_all "osslsigncode ${ossl_major}.${ossl_minor} cannot sign PowerShell scripts (needs >= 2.7: apt-get install -t bookworm-backports osslsigncode)"
fi

# https mode (lib.sh): osslsigncode's HTTP client (OpenSSL's) sends neither the URL's
# user:password nor a client certificate, so its HTTPS tsad runs without --clients (README "TLS").
export INTEROP_HTTPS_OPEN=1

# --- a code-signing PKI made with openssl ---------------------------------------------------------
CS="$WORK/codesign"
mkdir -p "$CS"
check SETUP "openssl: Authenticode test CA" \
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$CS/ca.key" -out "$CS/ca.pem" \
    -subj "/O=tsad interop/CN=tsad interop Authenticode CA" -days 3650 \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign || finish
printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n' >"$CS/leaf.ext"
check SETUP "openssl: code-signing certificate (RSA-2048, EKU codeSigning)" \
  bash -c 'openssl req -new -newkey rsa:2048 -nodes -keyout "$1/cs.key" -out "$1/cs.csr" -subj "/O=tsad interop/CN=tsad interop Code Signer" &&
           openssl x509 -req -in "$1/cs.csr" -CA "$1/ca.pem" -CAkey "$1/ca.key" -CAcreateserial -days 3650 \
             -extfile "$1/leaf.ext" -out "$1/cs.pem"' _ "$CS" || finish

printf 'Write-Output "hello from the tsad interop test"\r\n' >"$WORK/hello.ps1"

# verify_signed ID FILE — X12 checks on a signed and time-stamped file.
verify_signed() {
  local id="$1" f="$2" out
  expect_ok_output "$id" "osslsigncode verify -CAfile -TSA-CAfile ca_cert.pem: Timestamp Server Signature verification: ok" \
    '^Timestamp Server Signature verification: ok' \
    osslsigncode verify -in "$f" -CAfile "$CS/ca.pem" -TSA-CAfile "$TSAD_CERTS/ca_cert.pem"
  out="$LAST_OUT"
  expect_output "$id" "verify: Signature verification: ok, Succeeded" '^Succeeded' \
    grep -E '^(Signature verification: ok|Succeeded)' "$out"
  expect_output "$id" "verify: the time-stamp chain ends in the tsad TSA certificate" \
    'Subject: /C=XX/O=tsad development/CN=tsad Development TSA' \
    sed -n '/^Timestamp verified using/,/^Timestamp serial number/p' "$out"
  # Negative control: the code-signing CA is not the TSA's CA.
  expect_output "$id" "negative control: -TSA-CAfile with the wrong CA fails" \
    '^Timestamp Server Signature verification: failed' \
    osslsigncode verify -in "$f" -CAfile "$CS/ca.pem" -TSA-CAfile "$CS/ca.pem"
}

run_suite() {
  local kt="$1" id d
  start_tsad "$kt"
  d="$WORK/$kt"
  mkdir -p "$d"
  # https mode (lib.sh): osslsigncode must trust the test CA of tsad's TLS certificate.
  local tls=()
  [[ -n "$TSAD_TLS_CA" ]] && tls=(-HTTPS-CAfile "$TSAD_TLS_CA")

  # X11: sign + time-stamp in one go (default -h sha256).
  id="X11-$kt"
  expect_ok_output "$id" "osslsigncode sign -ts URL (PowerShell script): Succeeded" '^Succeeded' \
    osslsigncode sign -certs "$CS/cs.pem" -key "$CS/cs.key" -ts "$TSAD_URL" "${tls[@]}" -in "$WORK/hello.ps1" -out "$d/signed.ps1"
  expect_output "$id" "tsad logged a granted sha256 query" 'mode=query outcome=granted .*alg=sha256' cat "$TSAD_LOG"
  verify_signed "X12-$kt" "$d/signed.ps1"

  # X11 with -h sha512: the imprint is SHA-512 of the signature value.
  id="X11-$kt-sha512"
  expect_ok_output "$id" "osslsigncode sign -h sha512 -ts URL: Succeeded" '^Succeeded' \
    osslsigncode sign -h sha512 -certs "$CS/cs.pem" -key "$CS/cs.key" -ts "$TSAD_URL" "${tls[@]}" \
      -in "$WORK/hello.ps1" -out "$d/signed512.ps1"
  expect_output "$id" "tsad logged a granted sha512 query" 'mode=query outcome=granted .*alg=sha512' cat "$TSAD_LOG"
  verify_signed "X12-$kt-sha512" "$d/signed512.ps1"

  # X11 via "add": time-stamp a file signed earlier without one.
  id="X11-$kt-add"
  check "$id" "osslsigncode sign without -ts" \
    osslsigncode sign -certs "$CS/cs.pem" -key "$CS/cs.key" -in "$WORK/hello.ps1" -out "$d/nots.ps1"
  expect_ok_output "$id" "osslsigncode add -ts URL: Succeeded" '^Succeeded' \
    osslsigncode add -ts "$TSAD_URL" "${tls[@]}" -in "$d/nots.ps1" -out "$d/added.ps1"
  verify_signed "X12-$kt-add" "$d/added.ps1"

  stop_tsad
}

run_suite rsa3072
run_suite ec-p256
finish
