#!/usr/bin/env bash
# The full test suite: installs what is missing, then
#  1. runs every test in the default build,
#  2. runs every test again under ASan+UBSan (leak checks on),
#  3. builds every target with -c opt (the only mode with _FORTIFY_SOURCE;
#     counts as one passed or one failed check),
#  4. runs the integration, interop and rpc tests under ThreadSanitizer.
# Prints one summary line "tests: N passed, N failed" at the end.
set -uo pipefail
cd "$(dirname "$0")/.."
bash deploy/install-deps.sh || exit 1

run_suite() { # $1 = label, rest = bazel test flags and targets
  local label=$1; shift
  local log; log=$(mktemp)
  echo "== $label: bazel test $*" >&2
  bazel test "$@" 2>&1 | tee "$log" | grep -E \
    'PASSED in|FAILED in|TIMEOUT in|NO STATUS|ERROR:|Executed' >&2
  local rc=${PIPESTATUS[0]}
  local pass fail
  pass=$(grep -cE '^//[^ ]+ +(\(cached\) )?PASSED in' "$log")
  fail=$(grep -cE '^//[^ ]+ +(\(cached\) )?(FAILED|TIMEOUT|FAILED TO BUILD|NO STATUS)' "$log")
  if [ "$rc" -ne 0 ] && [ "$fail" -eq 0 ]; then fail=1; fi # build error
  rm -f "$log"
  TOTAL_PASS=$((TOTAL_PASS + pass))
  TOTAL_FAIL=$((TOTAL_FAIL + fail))
}

run_build() { # $1 = label, rest = bazel build flags and targets
  local label=$1; shift
  echo "== $label: bazel build $*" >&2
  bazel build "$@" 2>&1 | grep -E 'ERROR:|error:|warning:|Build completed' >&2
  if [ "${PIPESTATUS[0]}" -eq 0 ]; then
    TOTAL_PASS=$((TOTAL_PASS + 1))
  else
    TOTAL_FAIL=$((TOTAL_FAIL + 1))
  fi
}

TOTAL_PASS=0
TOTAL_FAIL=0
run_suite "default build" //...
run_suite "ASan+UBSan build" --config=asan //...
run_build "optimized build" -c opt //...
run_suite "TSan build" --config=tsan //tests/integration/... \
  //tests/interop/... //tests/lib:rpc_test //tests/lib:rpc_unary_test \
  //tests/lib:rpc_tls_test //tests/lib:rpc_peer_test \
  //tests/lib:rpc_tls_client_test //tests/client:keepalive_test \
  //tests/client:tls_cli_test //tests/client/cli:fleet_cli_test \
  //tests/fleet:fleet_time_test
echo "tests: ${TOTAL_PASS} passed, ${TOTAL_FAIL} failed"
[ "$TOTAL_FAIL" -eq 0 ] && [ "$TOTAL_PASS" -gt 0 ]
