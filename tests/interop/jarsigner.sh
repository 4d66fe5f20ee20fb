#!/usr/bin/env bash
# shellcheck disable=SC2016,SC2317  # single-quoted bash -c bodies; functions run through check()
# Interop X08–X10 (conformance §6.8): the JDK's jarsigner (sun.security.timestamp.HttpTimestamper)
# against tsad. X08/X09: jarsigner -tsa URL -tsadigestalg SHA-256/SHA-384 — the JDK checks the exact
# reply Content-Type, Content-Length, status, nonce, imprint, policy, that the TSA certificate is in
# the token and that its EKU is critical timeStamping. X10: jarsigner -verify -verbose -certs -strict
# with a truststore holding the code-signing CA and the tsad CA reports "Timestamped by <TSA>" and
# no warning at all (-strict turns any warning into a non-zero exit).
# Trust for -verify comes from "-keystore truststore -storepass …" (jarsigner takes its trust
# anchors from the keystore's certificate entries plus cacerts); -J-Djavax.net.ssl.trustStore does
# not apply to signature/timestamp chains.
# Usage: bash tests/interop/jarsigner.sh <dir with tsad, tsa-certgen, tsa-verify, tsa-request>
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"

for c in java jarsigner keytool jar; do require_client "$c" openjdk-17-jdk-headless; done

SP=interop-pass
J=(-J-XX:TieredStopAtLevel=1 -J-XX:+UseSerialGC)   # faster JVM start-up; no effect on the checks
KS="$WORK/signer.p12"      # code-signing CA + signer key; the tsad CA as a trusted entry
TS="$WORK/trust.p12"       # the verifier's truststore: code-signing CA + tsad CA
TS_NOTSA="$WORK/trust-without-tsad.p12"   # negative control: code-signing CA only

# --- a code-signing PKI in PKCS12 keystores, made with keytool (EC keys: quick to generate) -----
check SETUP "keytool: code-signing CA key pair" \
  keytool "${J[@]}" -genkeypair -alias codeca -keyalg EC -groupname secp256r1 \
    -dname "CN=tsad interop Code Signing CA,O=tsad interop" -ext bc:c -ext ku:c=keyCertSign,cRLSign \
    -validity 3650 -keystore "$KS" -storetype PKCS12 -storepass "$SP" || finish
check SETUP "keytool: signer key pair" \
  keytool "${J[@]}" -genkeypair -alias signer -keyalg EC -groupname secp256r1 \
    -dname "CN=tsad interop Jar Signer,O=tsad interop" -validity 3650 \
    -keystore "$KS" -storetype PKCS12 -storepass "$SP" || finish
issue_signer_cert() {   # certreq | gencert: the CA issues the signer a codeSigning certificate
  keytool "${J[@]}" -certreq -alias signer -keystore "$KS" -storepass "$SP" |
    keytool "${J[@]}" -gencert -alias codeca -keystore "$KS" -storepass "$SP" -rfc -validity 3650 \
      -ext ku:c=digitalSignature -ext eku=codeSigning >"$WORK/signer.pem"
}
check SETUP "keytool: certreq | gencert (codeSigning EKU, issued by the CA)" issue_signer_cert || finish
check SETUP "keytool: install the certificate reply" \
  keytool "${J[@]}" -importcert -noprompt -alias signer -file "$WORK/signer.pem" -keystore "$KS" -storepass "$SP" || finish
check SETUP "keytool: export the CA certificate" \
  keytool "${J[@]}" -exportcert -rfc -alias codeca -file "$WORK/codeca.pem" -keystore "$KS" -storepass "$SP" || finish
check SETUP "keytool: truststore with the code-signing CA" \
  keytool "${J[@]}" -importcert -noprompt -alias codeca -file "$WORK/codeca.pem" \
    -keystore "$TS" -storetype PKCS12 -storepass "$SP" || finish
cp "$TS" "$TS_NOTSA"

printf 'Main-Class: Hello\n' >"$WORK/manifest.txt"
mkdir -p "$WORK/jar"
printf 'interop test resource\n' >"$WORK/jar/hello.txt"
check SETUP "jar: a small jar" jar cfm "$WORK/app.jar" "$WORK/manifest.txt" -C "$WORK/jar" hello.txt || finish

# Java prints a subject as "CN=a, O=b, C=c".
java_subject() { echo "${1//,/, }"; }

# import_tsad_ca KEY-TYPE — the tsad CA as a trusted entry in the signer keystore and the truststore.
import_tsad_ca() {
  keytool "${J[@]}" -importcert -noprompt -alias "tsadca-$1" -file "$TSAD_CERTS/ca_cert.pem" -keystore "$KS" -storepass "$SP" &&
    keytool "${J[@]}" -importcert -noprompt -alias "tsadca-$1" -file "$TSAD_CERTS/ca_cert.pem" -keystore "$TS" -storepass "$SP"
}

run_suite() {
  local kt="$1" alg id n=7 signed out
  CERTGEN_ARGS=(--days 3650)   # no "timestamp will expire within one year" warning under -strict
  start_tsad "$kt"
  local subj
  subj="$(java_subject "$TSAD_SUBJECT")"
  check "SETUP-$kt" "keytool: import the tsad CA into the signer keystore and the truststore" \
    import_tsad_ca "$kt" || { stop_tsad; return; }
  # https mode (lib.sh): trust the TLS test CA; authenticate with the client certificate (Java's
  # HTTP client does not send the URL's user:password as Basic credentials).
  local tls=()
  if [[ -n "$TSAD_TLS_CA" ]]; then
    check "SETUP-$kt" "keytool: truststore with tsad's TLS CA" \
      keytool "${J[@]}" -importcert -noprompt -alias tlsca -file "$TSAD_TLS_CA" -keystore "$WORK/tls-trust-$kt.p12" \
        -storetype PKCS12 -storepass changeit || { stop_tsad; return; }
    tls=("-J-Djavax.net.ssl.trustStore=$WORK/tls-trust-$kt.p12" -J-Djavax.net.ssl.trustStorePassword=changeit
      -J-Djavax.net.ssl.trustStoreType=PKCS12 "-J-Djavax.net.ssl.keyStore=$TSAD_TLS_CLIENT_P12"
      -J-Djavax.net.ssl.keyStorePassword=changeit -J-Djavax.net.ssl.keyStoreType=PKCS12)
  fi

  for alg in SHA-256 SHA-384; do
    n=$((n + 1))
    id="X0$n-$kt"
    signed="$WORK/signed-$kt-$alg.jar"
    # X08/X09: sign and time-stamp; -strict makes any warning (e.g. an invalid TSA chain) an error.
    expect_ok_output "$id" "jarsigner -strict -tsa URL -tsadigestalg $alg: jar signed" '^jar signed\.' \
      jarsigner "${J[@]}" "${tls[@]}" -strict -keystore "$KS" -storepass "$SP" -tsa "$TSAD_URL" -tsadigestalg "$alg" \
        -signedjar "$signed" "$WORK/app.jar" signer
    if grep -Eiq 'warning|invalid|not valid|exception' "$LAST_OUT"; then
      fail "$id" "jarsigner printed warnings while signing" "$LAST_OUT"
    else
      pass "$id" "no warnings while signing (TSA chain valid at signing time)"
    fi
    if [[ ${#tls[@]} -gt 0 ]]; then
      expect_output "$id" "https: tsad authenticated jarsigner by its client certificate" \
        'client_name=interop .*outcome=granted .*cert="CN=interop client"' cat "$TSAD_LOG"
    fi
    # X10: verify with the truststore.
    id="X10-$kt-$alg"
    expect_ok_output "$id" "jarsigner -verify -verbose -certs -strict: jar verified" '^jar verified\.' \
      jarsigner "${J[@]}" -verify -verbose -certs -strict -keystore "$TS" -storepass "$SP" "$signed"
    out="$LAST_OUT"
    expect_output "$id" "Timestamped by \"$subj\"" "^ *Timestamped by \"$subj\" on " cat "$out"
    expect_output "$id" "Timestamp digest algorithm: $alg" "^ *Timestamp digest algorithm: $alg\$" cat "$out"
    expect_output "$id" "TSA certificate listed under >>> TSA" "^ *>>> TSA" cat "$out"
    # Informational lines such as "The timestamp will expire on 2036-…" are fine; warnings are not.
    if grep -Ei 'warning|invalid|not valid|has expired|expire within|unsigned|not timestamped|not (be )?trusted' \
         "$out" >"$out.warnings"; then
      fail "$id" "jarsigner -verify printed warnings" "$out.warnings"
    else
      pass "$id" "no warnings, no \"timestamp … not valid\" in the verification"
    fi
  done

  # Negative control: without the tsad CA in the truststore the timestamp chain must not validate.
  id="X10-$kt-neg"
  out="$WORK/neg-$kt.out"
  jarsigner "${J[@]}" -verify -strict -keystore "$TS_NOTSA" -storepass "$SP" "$WORK/signed-$kt-SHA-256.jar" >"$out" 2>&1
  local rc=$?
  if [[ $rc -ne 0 ]] && grep -q 'TSA certificate chain is invalid' "$out"; then
    pass "$id" "negative control: without the tsad CA, \"TSA certificate chain is invalid\" and -strict exits $rc"
  else
    fail "$id" "negative control: want a non-zero exit and \"TSA certificate chain is invalid\" (exit $rc)" "$out"
  fi
  stop_tsad
}

run_suite rsa3072
run_suite ec-p256
finish
