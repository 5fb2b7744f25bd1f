#!/bin/bash
# Runs interop_test.py with Debian's python3 (the one that has grpcio).
set -euo pipefail

root="${TEST_SRCDIR:-}/${TEST_WORKSPACE:-gexec}"
if [[ -z "${TEST_SRCDIR:-}" || ! -d "$root/tests/interop" ]]; then
  root="$PWD"   # bazel test runs us from the workspace's runfiles root
fi

export GEXECD="$root/server/gexecd"
export GEXEC_INTEROP_PB_DIR="$root/tests/interop"
export PYTHONDONTWRITEBYTECODE=1
exec /usr/bin/python3 "$root/tests/interop/interop_test.py" "$@"
