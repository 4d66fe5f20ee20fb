#!/usr/bin/env bash
# Interop X05–X07 (conformance §6.8): Bouncy Castle's TimeStampResponse.validate(request) and
# TimeStampToken.validate(verifier) against tsad (SHA-256 and SHA-512, certReq TRUE and FALSE),
# via tests/interop/java/BcTsaCheck.java, compiled here against the Debian BC jars.
# Usage: bash tests/interop/bouncycastle.sh <dir with tsad, tsa-certgen, tsa-verify, tsa-request>
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"

for c in java javac keytool; do require_client "$c" openjdk-17-jdk-headless; done
BC_JARS=()
for j in bcprov:libbcprov-java bcutil:libbcutil-java bcpkix:libbcpkix-java; do
  jar="/usr/share/java/${j%%:*}.jar"
  require_client "$jar" "${j#*:}"
  BC_JARS+=("$jar")
done
BC_CP="$(IFS=:; echo "${BC_JARS[*]}")"

# Faster JVM start-up (no effect on the checks); UTF-8 output whatever the locale (none in CI).
J=(-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Dfile.encoding=UTF-8)
check SETUP "javac BcTsaCheck.java against ${BC_CP//:/ }" \
  javac -encoding UTF-8 -J-XX:TieredStopAtLevel=1 -J-XX:+UseSerialGC -Xlint:-options -cp "$BC_CP" -d "$WORK/classes" \
    "$INTEROP_DIR/java/BcTsaCheck.java" || finish

run_suite() {
  local kt="$1" out rc np nf
  start_tsad "$kt"
  out="$WORK/bc-$kt.out"
  # https mode (lib.sh): trust the TLS test CA; the API key travels as Basic from the URL.
  local tls=()
  if [[ -n "$TSAD_TLS_CA" ]]; then
    check "SETUP-$kt" "keytool: truststore with tsad's TLS CA" \
      keytool -importcert -noprompt -alias tlsca -file "$TSAD_TLS_CA" -keystore "$WORK/tls-trust-$kt.p12" \
        -storetype PKCS12 -storepass changeit || { stop_tsad; return; }
    tls=("-Djavax.net.ssl.trustStore=$WORK/tls-trust-$kt.p12" -Djavax.net.ssl.trustStorePassword=changeit
      -Djavax.net.ssl.trustStoreType=PKCS12)
  fi
  java "${J[@]}" "${tls[@]}" -cp "$BC_CP:$WORK/classes" BcTsaCheck "$TSAD_URL" "$TSAD_CERTS/tsa_cert.pem" \
    "$TSAD_CERTS/ca_cert.pem" "$kt" >"$out" 2>&1
  rc=$?
  grep -E '^(PASS|FAIL) ' "$out"   # one line per check, printed by BcTsaCheck
  np=$(grep -c '^PASS ' "$out")
  nf=$(grep -c '^FAIL ' "$out")
  PASSED=$((PASSED + np))
  if [[ $nf -gt 0 ]]; then
    FAILED=$((FAILED + nf))
    mapfile -t -O "${#FAILED_IDS[@]}" FAILED_IDS < <(sed -n 's/^FAIL \([^ ]*\) .*/\1/p' "$out")
  fi
  if [[ $rc -ne 0 && $nf -eq 0 ]] || [[ $np -eq 0 ]]; then
    fail "X05-07-$kt" "BcTsaCheck exited $rc with $np passed checks" "$out"
  elif grep -vEq '^(PASS|FAIL|BcTsaCheck) ' "$out"; then
    echo "    (other BcTsaCheck output:)"
    grep -vE '^(PASS|FAIL|BcTsaCheck) ' "$out" | sed -n '1,40s/^/    | /p'
  fi
  stop_tsad
}

run_suite rsa3072
run_suite ec-p256
finish
