#!/usr/bin/env bash
# The full test suite: installs what is missing, then runs every test
# twice, in the normal build and under ASan+UBSan (leak checks on).
# Prints one summary line "N passed, N failed" at the end.
set -uo pipefail
cd "$(dirname "$0")/.."
bash deploy/install-deps.sh || exit 1

run_suite() { # $1 = label, rest = bazel flags
  local label=$1; shift
  local log; log=$(mktemp)
  echo "== $label: bazel test $* //..." >&2
  bazel test "$@" //... 2>&1 | tee "$log" | grep -E \
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

TOTAL_PASS=0
TOTAL_FAIL=0
run_suite "default build"
run_suite "ASan+UBSan build" --config=asan
echo "tests: ${TOTAL_PASS} passed, ${TOTAL_FAIL} failed"
[ "$TOTAL_FAIL" -eq 0 ] && [ "$TOTAL_PASS" -gt 0 ]
