#!/bin/bash
# Runs tls_cli_test.py with Debian's python3 (the one that has grpcio).
set -euo pipefail

root="${TEST_SRCDIR:-}/${TEST_WORKSPACE:-gexec}"
if [[ -z "${TEST_SRCDIR:-}" || ! -d "$root/tests/client" ]]; then
  root="$PWD"   # bazel test runs us from the workspace's runfiles root
fi

export GEXEC="$root/client/cli/gexec"
export GEXEC_TLS_PB_DIR="$root/tests/client"
export PYTHONDONTWRITEBYTECODE=1
exec /usr/bin/python3 "$root/tests/client/tls_cli_test.py" "$@"
