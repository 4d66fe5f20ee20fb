#!/usr/bin/env bash
# Container entrypoint of the tsad image.
#   docker run IMAGE [tsad flags...]   -> tsad with the TSA_* environment and these flags
#   docker run IMAGE COMMAND [args...] -> COMMAND (e.g. tsa-verify, tsa-request, tsa-certgen, bash)
# If there is no TSA certificate and TSA_GENERATE_DEV_CERTS=1, a development CA and TSA certificate
# are created first with tsa-certgen in TSA_DEV_CERT_DIR (default /var/lib/tsad/dev-certs, on the
# data volume, so they survive restarts). Never use those in production: see certs/README.md.
set -euo pipefail

if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
  exec "$@"
fi

log() { echo "docker-entrypoint: $*" >&2; }

cert_dir=${TSA_CERT_DIR:-/etc/tsad/certs}
cert=${TSA_CERT_FILE:-$cert_dir/tsa_cert.pem}
key=${TSA_KEY_FILE:-$cert_dir/tsa_key.pem}

if [ ! -e "$cert" ]; then
  case "${TSA_GENERATE_DEV_CERTS:-0}" in
    1 | true | yes | on)
      dev_dir=${TSA_DEV_CERT_DIR:-/var/lib/tsad/dev-certs}
      if [ ! -e "$dev_dir/tsa_cert.pem" ]; then
        log "no certificate at $cert: creating DEVELOPMENT certificates in $dev_dir (TSA_GENERATE_DEV_CERTS=1)"
        tsa-certgen --dir "$dev_dir" >&2
      else
        log "no certificate at $cert: using the development certificates in $dev_dir"
      fi
      export TSA_CERT_DIR=$dev_dir
      unset TSA_CERT_FILE TSA_KEY_FILE TSA_CHAIN_FILE
      key=$dev_dir/tsa_key.pem
      ;;
    *)
      log "no TSA certificate at $cert: mount yours at /etc/tsad/certs (see certs/README.md)," \
          "or set TSA_GENERATE_DEV_CERTS=1 to create development certificates"
      ;;
  esac
fi

if [ -e "$key" ] && [ ! -r "$key" ]; then
  log "$key is not readable by uid $(id -u): on the host, chown $(id -u) the key file (keep mode 0600); see certs/README.md"
fi

exec tsad "$@"
