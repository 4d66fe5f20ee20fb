# tsad container image: an RFC 3161 time-stamping authority.
#
# The build stage uses the same two steps as scripts/quickstart and CI (scripts/install-deps --build,
# then the "release" preset of CMakePresets.json), so the image contains what was tested.
# The runtime stage has only the shared libraries (scripts/install-deps --runtime) and runs as the
# unprivileged user tsad (uid 10001).
#
#   docker build -t tsad .
#   docker run -p 5000:5000 -v "$PWD/certs:/etc/tsad/certs:ro" -v tsad-data:/var/lib/tsad tsad
#   docker run -p 5000:5000 -e TSA_GENERATE_DEV_CERTS=1 -e TSA_ALLOW_UNSYNCED_CLOCK=1 tsad   # try it out
#
# Configuration: TSA_* environment variables (see .env.example) or tsad flags after the image name.
# Certificates: /etc/tsad/certs/{tsa_key.pem,tsa_cert.pem[,chain.pem]} (see certs/README.md).
# Database:     /var/lib/tsad/audit_chain.db (a volume).

ARG DEBIAN_IMAGE=debian:bookworm-slim

FROM ${DEBIAN_IMAGE} AS build
WORKDIR /src
# Dependencies first: this layer stays cached while only the sources change.
COPY scripts/install-deps scripts/install-deps
RUN bash scripts/install-deps --build && rm -rf /var/lib/apt/lists/*
COPY . .
# .git is not in the build context: the release workflow passes the commit for --version and /health.
ARG TSA_GIT_COMMIT=
RUN cmake --preset release -DTSA_GIT_COMMIT="${TSA_GIT_COMMIT}" \
 && cmake --build --preset release -j"$(nproc)" \
 && cmake --install build --prefix /opt/tsad --strip

FROM ${DEBIAN_IMAGE} AS runtime
LABEL org.opencontainers.image.title="tsad" \
      org.opencontainers.image.description="RFC 3161 time-stamping authority"
COPY scripts/install-deps /tmp/install-deps
RUN bash /tmp/install-deps --runtime && rm -rf /var/lib/apt/lists/* /tmp/install-deps
# A fixed uid/gid, so that mounted key files can be given to it (certs/README.md).
RUN groupadd --system --gid 10001 tsad \
 && useradd --system --uid 10001 --gid tsad --home-dir /var/lib/tsad --no-create-home \
            --shell /usr/sbin/nologin tsad \
 && install -d -o tsad -g tsad -m 0750 /var/lib/tsad \
 && install -d -m 0755 /etc/tsad /etc/tsad/certs
COPY --from=build /opt/tsad/bin/ /usr/local/bin/
COPY docker/entrypoint.sh /usr/local/bin/docker-entrypoint
RUN chmod 0755 /usr/local/bin/docker-entrypoint

# tsad's own defaults are relative paths for a source checkout; these are the container's places.
ENV TSA_HOST=0.0.0.0 \
    TSA_PORT=5000 \
    TSA_CERT_DIR=/etc/tsad/certs \
    TSA_DB=/var/lib/tsad/audit_chain.db

# Numeric, so that runtimes enforcing "run as non-root" can check it.
USER 10001:10001
WORKDIR /var/lib/tsad
VOLUME ["/var/lib/tsad"]
EXPOSE 5000
# /health answers 200 {"status":"ok",...} or 503 when the certificate, clock or database is unusable.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD curl -fsS -o /dev/null "http://127.0.0.1:${TSA_PORT:-5000}/health" || exit 1
# tsad stops cleanly (exit 0) on SIGTERM after finishing the requests in flight.
STOPSIGNAL SIGTERM
ENTRYPOINT ["docker-entrypoint"]
