#!/bin/bash
# Runs a Python test of this directory with Debian's python3 (the one that
# has grpcio): interop_test.py, or the script named by a first argument
# ending in .py (sh_test args); further arguments go to the script.
set -euo pipefail

root="${TEST_SRCDIR:-}/${TEST_WORKSPACE:-gexec}"
if [[ -z "${TEST_SRCDIR:-}" || ! -d "$root/tests/interop" ]]; then
  root="$PWD"   # bazel test runs us from the workspace's runfiles root
fi

script=interop_test.py
if [[ "${1:-}" == *.py ]]; then
  script=$1
  shift
fi

export GEXECD="$root/server/gexecd"
export GEXEC_CLI="$root/client/cli/gexec"
export GEXEC_INTEROP_PB_DIR="$root/tests/interop"
export GEXEC_MKCERTS="$root/tests/tls/mkcerts.sh"
export GEXEC_FACTS_DUMP="$root/tests/interop/facts_dump"
export PYTHONDONTWRITEBYTECODE=1
exec /usr/bin/python3 "$root/tests/interop/$script" "$@"
