/* Unit tests for client/cli/exitcode: every row of the exit-status table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "client/cli/exitcode.h"

static int from_exit(int code, int sig, int timed_out) {
  gexec_exit e;
  memset(&e, 0, sizeof e);
  e.exit_code = code;
  e.signal = sig;
  e.timed_out = timed_out;
  return gxc_exit_from_exit(&e);
}

static int from_status(int status) {
  gexec_error err;
  memset(&err, 0, sizeof err);
  err.code = GEXEC_ESTATUS;
  err.status = status;
  return gxc_exit_from_error(GEXEC_ESTATUS, &err);
}

static void constants(void **state) {
  (void)state;
  assert_int_equal(GXC_EXIT_USAGE, 2);
  assert_int_equal(GXC_EXIT_TIMEOUT, 124);
  assert_int_equal(GXC_EXIT_NOEXEC, 126);
  assert_int_equal(GXC_EXIT_NOTFOUND, 127);
  assert_int_equal(GXC_EXIT_SIGNAL_BASE, 128);
  assert_int_equal(GXC_EXIT_EPIPE, 141);
  assert_int_equal(GXC_EXIT_ERROR, 255);
}

/* Row: the program exited with N -> N. */
static void exited_with_code(void **state) {
  (void)state;
  assert_int_equal(from_exit(0, 0, 0), 0);
  assert_int_equal(from_exit(1, 0, 0), 1);
  assert_int_equal(from_exit(42, 0, 0), 42);
  assert_int_equal(from_exit(124, 0, 0), 124);
  assert_int_equal(from_exit(255, 0, 0), 255);
}

/* Codes outside 0..255 never turn into a false success. */
static void exit_code_out_of_range(void **state) {
  (void)state;
  assert_int_equal(from_exit(256, 0, 0), 255);
  assert_int_equal(from_exit(512, 0, 0), 255);
  assert_int_equal(from_exit(-1, 0, 0), 255);
}

/* Row: killed by signal N -> 128 + N (the exit code is ignored). */
static void killed_by_signal(void **state) {
  (void)state;
  assert_int_equal(from_exit(0, 1, 0), 129);
  assert_int_equal(from_exit(0, 2, 0), 130);
  assert_int_equal(from_exit(0, 9, 0), 137);
  assert_int_equal(from_exit(0, 13, 0), 141);
  assert_int_equal(from_exit(0, 15, 0), 143);
  assert_int_equal(from_exit(7, 64, 0), 192);
  assert_int_equal(from_exit(0, 128, 0), 255);
  assert_int_equal(from_exit(0, -3, 0), 255);
}

static void core_dump_does_not_matter(void **state) {
  gexec_exit e;
  (void)state;
  memset(&e, 0, sizeof e);
  e.signal = 11;
  e.core_dumped = 1;
  assert_int_equal(gxc_exit_from_exit(&e), 139);
}

/* Row: timed out -> 124, whatever stopped the program. */
static void timed_out(void **state) {
  (void)state;
  assert_int_equal(from_exit(0, 15, 1), 124);
  assert_int_equal(from_exit(0, 9, 1), 124);
  assert_int_equal(from_exit(0, 0, 1), 124);
  assert_int_equal(from_exit(3, 0, 1), 124);
}

/* Rows: not found -> 127, not executable / not permitted -> 126. */
static void refused_not_found_or_denied(void **state) {
  (void)state;
  assert_int_equal(from_status(GEXEC_STATUS_NOT_FOUND), 127);
  assert_int_equal(from_status(GEXEC_STATUS_PERMISSION_DENIED), 126);
}

/* Row: any other status -> 255. */
static void refused_other_status(void **state) {
  static const int others[] = {
      GEXEC_STATUS_CANCELLED,          GEXEC_STATUS_INVALID_ARGUMENT,
      GEXEC_STATUS_DEADLINE_EXCEEDED,  GEXEC_STATUS_RESOURCE_EXHAUSTED,
      GEXEC_STATUS_FAILED_PRECONDITION, GEXEC_STATUS_UNIMPLEMENTED,
      GEXEC_STATUS_INTERNAL,           GEXEC_STATUS_UNAVAILABLE,
      2, 6, 10, 11, 15, 16, 0};
  (void)state;
  for (size_t i = 0; i < sizeof others / sizeof *others; i++)
    assert_int_equal(from_status(others[i]), 255);
}

/* Row: connect, transport, local failures -> 255, whatever err says. */
static void local_failures(void **state) {
  static const int codes[] = {GEXEC_EINVAL, GEXEC_ENOMEM, GEXEC_ECONNECT,
                              GEXEC_ECLOSED, GEXEC_ETIMEDOUT, -99};
  gexec_error err;
  (void)state;
  memset(&err, 0, sizeof err);
  err.status = GEXEC_STATUS_NOT_FOUND; /* must not leak into the result */
  for (size_t i = 0; i < sizeof codes / sizeof *codes; i++) {
    assert_int_equal(gxc_exit_from_error(codes[i], &err), 255);
    assert_int_equal(gxc_exit_from_error(codes[i], NULL), 255);
  }
  assert_int_equal(gxc_exit_from_error(GEXEC_ESTATUS, NULL), 255);
}

static void status_of_failures(void **state) {
  gexec_error err;
  (void)state;
  memset(&err, 0, sizeof err);
  err.status = GEXEC_STATUS_NOT_FOUND;
  assert_int_equal(gxc_status_of(GEXEC_ESTATUS, &err), 5);
  err.status = GEXEC_STATUS_PERMISSION_DENIED;
  assert_int_equal(gxc_status_of(GEXEC_ESTATUS, &err), 7);
  err.status = 0; /* ESTATUS always carries a non-OK status */
  assert_int_equal(gxc_status_of(GEXEC_ESTATUS, &err), 13);
  assert_int_equal(gxc_status_of(GEXEC_ESTATUS, NULL), 13);
  assert_int_equal(gxc_status_of(GEXEC_ECONNECT, NULL), 14);
  assert_int_equal(gxc_status_of(GEXEC_EINVAL, NULL), 3);
  assert_int_equal(gxc_status_of(GEXEC_ENOMEM, NULL), 8);
  assert_int_equal(gxc_status_of(GEXEC_ETIMEDOUT, NULL), 4);
  assert_int_equal(gxc_status_of(GEXEC_ECLOSED, NULL), 13);
  assert_int_equal(gxc_status_of(-99, NULL), 13);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(constants),
      cmocka_unit_test(exited_with_code),
      cmocka_unit_test(exit_code_out_of_range),
      cmocka_unit_test(killed_by_signal),
      cmocka_unit_test(core_dump_does_not_matter),
      cmocka_unit_test(timed_out),
      cmocka_unit_test(refused_not_found_or_denied),
      cmocka_unit_test(refused_other_status),
      cmocka_unit_test(local_failures),
      cmocka_unit_test(status_of_failures),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
