#!/usr/bin/env bash
# Installs the Debian 12 packages gexec needs to build, test and run.
# Idempotent: does nothing (and needs no network) when all are present.
set -euo pipefail

PACKAGES=(
  bazel-bootstrap bazel-platforms        # build (offline, see BUILD docs)
  gcc libc6-dev pkg-config               # C toolchain
  libgrpc-dev                            # gRPC C core
  libssl-dev                             # X.509, CRLs (server/tls.c); TLS files (libgexec)
  libprotobuf-c-dev protobuf-c-compiler  # messages (protoc-c)
  protobuf-compiler                      # Python stubs for the interop test
  libuv1-dev                             # event loop
  libjson-c-dev                          # JSON logs and --json output
  libcmocka-dev                          # tests
  grpc-proto                             # grpc/health/v1/health.proto
  python3-grpcio python3-protobuf        # interop test (stock gRPC client)
  openssl procps iproute2 hostname python3 bubblewrap  # test and bench tooling
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: need root to install: ${missing[*]}" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
