#!/bin/bash
# --run_under wrapper of the tsan config (.bazelrc): runs one test with
# ThreadSanitizer's suppressions (tests/tsan.supp) given by absolute path,
# so that every process of the test finds them (gexec-launch starts in the
# run's cwd, where a relative path would not resolve and TSan would die).
#
# GCC 12's TSan maps its shadow at fixed addresses and aborts ("unexpected
# memory mapping") when the kernel randomizes mmap bases with more than 28
# bits (vm.mmap_rnd_bits, 32 on some newer kernels). This machine has 28;
# on one with more, the test runs with address randomization off
# (setarch -R), which every process it starts inherits.
# --test_env=GEXEC_TSAN_NO_ASLR=1 forces that path (to check it).
set -euo pipefail
supp="${TEST_SRCDIR:?run me through bazel test}/gexec/tests/tsan.supp"
export TSAN_OPTIONS="suppressions=$supp${TSAN_OPTIONS:+:$TSAN_OPTIONS}"
rnd_bits=$(cat /proc/sys/vm/mmap_rnd_bits 2>/dev/null || echo 0)
if [ "${GEXEC_TSAN_NO_ASLR:-0}" = 1 ] || [ "$rnd_bits" -gt 28 ]; then
  exec setarch "$(uname -m)" -R "$@"
fi
exec "$@"
