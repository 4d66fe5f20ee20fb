#!/usr/bin/env bash
# shellcheck disable=SC2016,SC2317  # single-quoted bash -c bodies; functions run through check()
# Interop X01–X04 (conformance §6.8) with the OpenSSL CLI + curl, plus the seed's raw-data
# request, -token_in verification, a rejection (H16), the token's Accuracy and TSA name, and
# tsa-request → openssl ts -verify. Runs against an RSA-3072 and an EC P-256 tsad.
# Usage: bash tests/interop/openssl_cli.sh <dir with tsad, tsa-certgen, tsa-verify, tsa-request>
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"

printf 'interop test data for openssl ts\n' >"$WORK/data.txt"

run_suite() {
  local kt="$1" p="$1" d
  start_tsad "$kt"
  local ca="$TSAD_CERTS/ca_cert.pem" tsa="$TSAD_CERTS/tsa_cert.pem"
  d="$WORK/$kt"
  mkdir -p "$d"

  # X01–X03: -cert queries with each accepted digest; full verification against the CA.
  local alg id n=0
  for alg in sha256 sha384 sha512; do
    n=$((n + 1))
    id="X0$n-$p"
    if ! openssl ts -query -data "$WORK/data.txt" -"$alg" -cert -out "$d/$alg.tsq" 2>"$d/$alg.qerr"; then
      fail "$id" "openssl ts -query -$alg -cert" "$d/$alg.qerr"
      continue
    fi
    if post_query "$d/$alg.tsq" "$d/$alg.tsr" && is_tsr_reply; then
      pass "$id" "$alg -cert query: HTTP 200, Content-Type application/timestamp-reply"
    else
      fail "$id" "$alg -cert query: HTTP '$HTTP_CODE' Content-Type '$HTTP_CTYPE'"
      continue
    fi
    expect_ok_output "$id" "openssl ts -verify -queryfile ($alg, -CAfile ca_cert.pem)" '^Verification: OK' \
      openssl ts -verify -queryfile "$d/$alg.tsq" -in "$d/$alg.tsr" -CAfile "$ca"
    expect_ok_output "$id" "openssl ts -verify -data ($alg)" '^Verification: OK' \
      openssl ts -verify -data "$WORK/data.txt" -in "$d/$alg.tsr" -CAfile "$ca"
    expect_output "$id" "token carries the TSA certificate (certReq TRUE)" 'subject=.*tsad' \
      bash -c 'openssl ts -reply -in "$1" -token_out -out "$1.tst" && openssl pkcs7 -inform DER -in "$1.tst" -print_certs -noout' _ "$d/$alg.tsr"
    expect_ok_output "$id" "tsa-verify --request --data ($alg)" 'Signature OK' \
      "$TSA_VERIFY" "$d/$alg.tsr" "$tsa" --ca "$ca" --request "$d/$alg.tsq" --data "$WORK/data.txt"
  done

  # X04: no nonce, no certReq → no certificates in the token; verify with -untrusted tsa_cert.pem.
  id="X04-$p"
  openssl ts -query -data "$WORK/data.txt" -sha256 -no_nonce -out "$d/nn.tsq" 2>/dev/null
  if post_query "$d/nn.tsq" "$d/nn.tsr" && is_tsr_reply; then
    pass "$id" "-no_nonce query without -cert: HTTP 200, application/timestamp-reply"
  else
    fail "$id" "-no_nonce query: HTTP '$HTTP_CODE' Content-Type '$HTTP_CTYPE'"
  fi
  expect_ok_output "$id" "openssl ts -verify -untrusted tsa_cert.pem" '^Verification: OK' \
    openssl ts -verify -queryfile "$d/nn.tsq" -in "$d/nn.tsr" -CAfile "$ca" -untrusted "$tsa"
  expect_fail "$id" "without -untrusted the verification fails (no certificates in the token)" \
    openssl ts -verify -queryfile "$d/nn.tsq" -in "$d/nn.tsr" -CAfile "$ca"
  check "$id" "token has no certificates (certReq FALSE)" \
    bash -c 'openssl ts -reply -in "$1" -token_out -out "$1.tst" && ! openssl pkcs7 -inform DER -in "$1.tst" -print_certs -noout | grep -q subject=' _ "$d/nn.tsr"
  expect_output "$id" "reply text: Nonce: unspecified" '^Nonce: unspecified' \
    openssl ts -reply -in "$d/nn.tsr" -text
  expect_ok_output "$id" "tsa-verify --request on the certReq FALSE reply" 'Signature OK' \
    "$TSA_VERIFY" "$d/nn.tsr" "$tsa" --ca "$ca" --request "$d/nn.tsq"

  # The seed's raw-data request: curl -X POST URL --data-binary "hello world" (form content type).
  id="SEED-$p"
  if curl -sS --max-time 20 "${CURL_TLS[@]}" -X POST "$TSAD_URL" --data-binary "hello world" -o "$d/t.tsr" \
      -w '%{http_code}\n%{content_type}\n' >"$d/t.meta" 2>&1 &&
     [[ "$(sed -n 1p "$d/t.meta")" == 200 && "$(sed -n 2p "$d/t.meta")" == application/timestamp-reply ]]; then
    pass "$id" "curl -X POST --data-binary \"hello world\": HTTP 200, application/timestamp-reply"
  else
    fail "$id" "curl --data-binary \"hello world\"" "$d/t.meta"
  fi
  expect_ok_output "$id" "openssl ts -verify -data <(printf 'hello world')" '^Verification: OK' \
    openssl ts -verify -data <(printf 'hello world') -in "$d/t.tsr" -CAfile "$ca"
  expect_fail "$id" "negative control: other data does not verify" \
    openssl ts -verify -data <(printf 'hello world!') -in "$d/t.tsr" -CAfile "$ca"
  expect_ok_output "$id" "tsa-verify --data" 'Signature OK' \
    "$TSA_VERIFY" "$d/t.tsr" "$tsa" --ca "$ca" --data <(printf 'hello world')

  # -token_in: the bare token extracted with -token_out.
  id="TOKEN-$p"
  check "$id" "openssl ts -reply -token_out" openssl ts -reply -in "$d/sha256.tsr" -token_out -out "$d/sha256.tst"
  expect_ok_output "$id" "openssl ts -verify -token_in -queryfile" '^Verification: OK' \
    openssl ts -verify -token_in -in "$d/sha256.tst" -queryfile "$d/sha256.tsq" -CAfile "$ca"
  expect_ok_output "$id" "tsa-verify on the bare token" 'Signature OK' \
    "$TSA_VERIFY" "$d/sha256.tst" "$tsa" --ca "$ca" --data "$WORK/data.txt"

  # Token contents: Accuracy and the TSA name (the TSA certificate's subject).
  id="TEXT-$p"
  openssl ts -reply -in "$d/sha256.tsr" -text >"$d/sha256.txt" 2>&1
  expect_output "$id" "reply text: Status: Granted" '^Status: Granted' cat "$d/sha256.txt"
  expect_output "$id" "reply text: Accuracy present" '^Accuracy: 0x[0-9A-Fa-f]+ seconds' cat "$d/sha256.txt"
  local cn
  cn="$(openssl x509 -in "$tsa" -noout -subject -nameopt oneline,-space_eq | sed -n 's/.*CN=\([^,]*\).*/\1/p')"
  expect_output "$id" "reply text: TSA: DirName with the TSA subject (CN=$cn)" "^TSA: DirName:.*CN ?= ?$cn" cat "$d/sha256.txt"
  expect_output "$id" "reply text: Nonce echoed" '^Nonce: 0x[0-9A-F]+' cat "$d/sha256.txt"

  # H16: rejections are HTTP 200 + application/timestamp-reply with status 2 and failInfo.
  local bad
  for bad in sha1 md5; do
    id="REJ-$bad-$p"
    openssl ts -query -data "$WORK/data.txt" -"$bad" -cert -out "$d/$bad.tsq" 2>/dev/null
    if post_query "$d/$bad.tsq" "$d/$bad.tsr" && is_tsr_reply; then
      pass "$id" "$bad query: HTTP 200, Content-Type exactly application/timestamp-reply"
    else
      fail "$id" "$bad query: HTTP '$HTTP_CODE' Content-Type '$HTTP_CTYPE' (want 200 application/timestamp-reply)"
    fi
    expect_output "$id" "reply text: Status: Rejected" '^Status: Rejected' openssl ts -reply -in "$d/$bad.tsr" -text
    expect_output "$id" "reply text: failInfo badAlg" '^Failure info: unrecognized or unsupported algorithm identifier' \
      cat "$LAST_OUT"
    expect_output "$id" "reply text: no token" '^Not included' cat "$LAST_OUT"
  done
  id="REJ-empty-$p"
  : >"$d/empty.tsq"
  if post_query "$d/empty.tsq" "$d/empty.tsr" && is_tsr_reply; then
    pass "$id" "empty query body: HTTP 200, application/timestamp-reply"
  else
    fail "$id" "empty query body: HTTP '$HTTP_CODE' Content-Type '$HTTP_CTYPE'"
  fi
  expect_output "$id" "reply text: Rejected, badDataFormat" '^Failure info: the data submitted has the wrong format' \
    openssl ts -reply -in "$d/empty.tsr" -text

  # tsa-request → openssl ts -verify.
  id="REQ-$p"
  check "$id" "tsa-request --url --data x --out --query-out" \
    "$TSA_REQUEST" --url "$TSAD_URL" ${TSAD_TLS_CA:+--ca-file "$TSAD_TLS_CA"} --data x --out "$d/a.tsr" --query-out "$d/a.tsq" --timeout 20
  if [[ -n "$TSAD_API_KEY" ]]; then
    expect_output "$id" "https: the requests came with the API key in the URL (client_name=interop)" \
      'client_name=interop .*outcome=granted' cat "$TSAD_LOG"
  fi
  expect_ok_output "$id" "openssl ts -verify -queryfile on tsa-request's files" '^Verification: OK' \
    openssl ts -verify -queryfile "$d/a.tsq" -in "$d/a.tsr" -CAfile "$ca"
  expect_ok_output "$id" "openssl ts -verify -data <(printf x)" '^Verification: OK' \
    openssl ts -verify -data <(printf x) -in "$d/a.tsr" -CAfile "$ca"

  stop_tsad
}

run_suite rsa3072
run_suite ec-p256
finish
