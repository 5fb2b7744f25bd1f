#!/bin/bash
# Runs a Python test of this directory (the first argument, e.g.
# hosts_test.py) with Debian's python3 (the one that has grpcio), with the
# paths the namespace hosts need (tests/fleet/hosts.py) taken from the
# runfiles; further arguments go to the script.
set -euo pipefail

root="${TEST_SRCDIR:-}/${TEST_WORKSPACE:-gexec}"
if [[ -z "${TEST_SRCDIR:-}" || ! -d "$root/tests/fleet" ]]; then
  root="$PWD"   # bazel test runs us from the workspace's runfiles root
fi
script=$1
shift

export GEXECD="$root/server/gexecd"
export GEXEC_CLI="$root/client/cli/gexec"
export FLEET_HOSTS_SH="$root/deploy/fleet-hosts.sh"
export GEXEC_INTEROP_PB_DIR="$root/tests/interop"
export PYTHONDONTWRITEBYTECODE=1
exec /usr/bin/python3 "$root/tests/fleet/$script" "$@"
