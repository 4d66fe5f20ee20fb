#!/usr/bin/env bash
# The compose files (README "Docker"): both validate with "docker compose config" (no engine
# needed), and both pass tsad exactly the shared list of TSA_* variables (docker-compose.env.yml):
# every tsad variable of .env.example except those the image fixes (TSA_HOST, TSA_PORT, TSA_DB,
# TSA_CERT_DIR) or that concern the host (TSA_PUBLISH_PORT, TSA_PORT_FILE). The audit file refuses
# to render without GITHUB_REPOSITORY and TSA_ANCHOR_TSAS. Skipped (exit 77) without a compose
# client: "docker compose" (v2 plugin) or docker-compose (v1, Debian's package).
# Usage: bash tests/interop/docker_compose.sh <dir with tsad, tsa-certgen, tsa-verify, tsa-request>
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"

if docker compose version >/dev/null 2>&1; then
  COMPOSE=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then
  COMPOSE=(docker-compose)
else
  require_client docker-compose docker-compose   # FAIL in CI, else SKIP (exit 77)
  COMPOSE=(docker-compose)
fi
echo "---- $("${COMPOSE[@]}" version 2>&1 | head -1)"

# An empty env file: a developer's .env must not change what is checked.
: >"$WORK/empty.env"
render() {   # render FILE OUT [VAR=VALUE...] — "config" with only the given variables set
  local file="$1" out="$2"
  shift 2
  env -i PATH="$PATH" HOME="$WORK" "$@" "${COMPOSE[@]}" --env-file "$WORK/empty.env" \
    -f "$REPO_ROOT/$file" config >"$out" 2>&1
}

# The TSA_* keys under the service's environment: in the rendered YAML.
env_keys() {
  awk '/^    environment:$/ { inside = 1; next }
       inside && /^      [A-Z_0-9]+:/ { sub(/^ +/, ""); sub(/:.*/, ""); print; next }
       inside && !/^      / { inside = 0 }' "$1" | sort -u
}

grep -oE '^#? ?TSA_[A-Z0-9_]+=' "$REPO_ROOT/.env.example" | sed -E 's/^#? ?//; s/=$//' |
  grep -vxE 'TSA_(HOST|PORT|DB|CERT_DIR|PUBLISH_PORT|PORT_FILE)' | sort -u >"$WORK/expected"

check D01 "docker-compose.local.yml validates (compose config)" render docker-compose.local.yml "$WORK/local.yml"
check D02 "docker-compose.audit.yml validates with GITHUB_REPOSITORY and TSA_ANCHOR_TSAS" \
  render docker-compose.audit.yml "$WORK/audit.yml" GITHUB_REPOSITORY=example/tsad TSA_ANCHOR_TSAS=http://127.0.0.1:1/tsr
expect_fail D03 "docker-compose.audit.yml refuses to render without GITHUB_REPOSITORY" \
  render docker-compose.audit.yml "$WORK/audit-no-repo.yml" TSA_ANCHOR_TSAS=http://127.0.0.1:1/tsr
expect_fail D04 "docker-compose.audit.yml refuses to render without TSA_ANCHOR_TSAS" \
  render docker-compose.audit.yml "$WORK/audit-no-tsas.yml" GITHUB_REPOSITORY=example/tsad

if [[ $(wc -l <"$WORK/expected") -lt 30 ]]; then
  fail D05 "found only $(wc -l <"$WORK/expected") TSA_* variables in .env.example" "$WORK/expected"
fi
for f in local audit; do
  env_keys "$WORK/$f.yml" >"$WORK/$f.keys"
  if diff -u "$WORK/expected" "$WORK/$f.keys" >"$WORK/$f.diff"; then
    pass D05 "docker-compose.$f.yml passes every TSA_* variable of .env.example ($(wc -l <"$WORK/expected"))"
  else
    fail D05 "docker-compose.$f.yml: TSA_* variables differ from .env.example (- missing, + extra)" "$WORK/$f.diff"
  fi
done
expect_output D06 "the local file keeps its development defaults" 'TSA_ALLOW_UNSYNCED_CLOCK: .?true' cat "$WORK/local.yml"
expect_output D06 "the audit file turns anchoring on" 'TSA_ANCHOR: .?true' cat "$WORK/audit.yml"
expect_output D06 "an unset variable renders empty (tsad's default)" 'TSA_IO_THREADS: .?.?$' cat "$WORK/audit.yml"
# Every variable tsad reads (its --help names them) is documented in .env.example, so an option
# added later cannot be forgotten there and in docker-compose.env.yml.
"$TSAD" --help | grep -oE 'Env:TSA_[A-Z0-9_]+' | sed 's/^Env://' | sort -u >"$WORK/tsad.vars"
grep -oE '^#? ?TSA_[A-Z0-9_]+=' "$REPO_ROOT/.env.example" | sed -E 's/^#? ?//; s/=$//' | sort -u >"$WORK/documented"
if comm -23 "$WORK/tsad.vars" "$WORK/documented" >"$WORK/undocumented" && [[ ! -s "$WORK/undocumented" ]]; then
  pass D07 "every TSA_* variable of tsad --help ($(wc -l <"$WORK/tsad.vars")) is in .env.example"
else
  fail D07 "tsad reads TSA_* variables .env.example does not list" "$WORK/undocumented"
fi
finish
