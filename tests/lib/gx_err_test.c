/* Unit tests for lib/gx_err: gx_strerror and gx_status_name. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lib/gx_err.h"

static void strerror_names_every_code(void **state) {
  (void)state;
  assert_string_equal(gx_strerror(GX_OK), "success");
  assert_string_equal(gx_strerror(GX_EINVAL), "invalid argument");
  assert_string_equal(gx_strerror(GX_ENOMEM), "out of memory");
  assert_string_equal(gx_strerror(GX_ESYS), "system call failed");
  assert_string_equal(gx_strerror(GX_ERPC), "RPC layer refused the operation");
  assert_string_equal(gx_strerror(GX_ECLOSED), "already closed or finished");
  assert_string_equal(gx_strerror(GX_EBUSY),
                      "an operation of this kind is already in flight");
  assert_string_equal(gx_strerror(GX_ETIMEDOUT), "timed out");
  assert_string_equal(gx_strerror(GX_E2BIG),
                      "input exceeds a configured bound");
  assert_string_equal(gx_strerror(GX_ESTATUS),
                      "the call ended with a non-OK status");
}

/* Codes are fixed: 0 success, -1..-9 failures (other code depends on it). */
static void err_codes_are_stable(void **state) {
  (void)state;
  assert_int_equal(GX_OK, 0);
  assert_int_equal(GX_EINVAL, -1);
  assert_int_equal(GX_ENOMEM, -2);
  assert_int_equal(GX_ESYS, -3);
  assert_int_equal(GX_ERPC, -4);
  assert_int_equal(GX_ECLOSED, -5);
  assert_int_equal(GX_EBUSY, -6);
  assert_int_equal(GX_ETIMEDOUT, -7);
  assert_int_equal(GX_E2BIG, -8);
  assert_int_equal(GX_ESTATUS, -9);
}

static void strerror_unknown_codes(void **state) {
  static const int unknown[] = {1, 2, 9, -10, -100, INT_MIN, INT_MAX};
  (void)state;
  for (size_t i = 0; i < sizeof unknown / sizeof *unknown; i++)
    assert_string_equal(gx_strerror(unknown[i]), "unknown error");
}

/* Every known code has its own text, distinct from the fallback. */
static void strerror_texts_distinct(void **state) {
  (void)state;
  for (int a = GX_ESTATUS; a <= GX_OK; a++) {
    assert_string_not_equal(gx_strerror(a), "unknown error");
    for (int b = a + 1; b <= GX_OK; b++)
      assert_string_not_equal(gx_strerror(a), gx_strerror(b));
  }
}

static void status_names_follow_grpc_numbering(void **state) {
  static const char *const want[] = {
      "OK",
      "CANCELLED",
      "UNKNOWN",
      "INVALID_ARGUMENT",
      "DEADLINE_EXCEEDED",
      "NOT_FOUND",
      "ALREADY_EXISTS",
      "PERMISSION_DENIED",
      "RESOURCE_EXHAUSTED",
      "FAILED_PRECONDITION",
      "ABORTED",
      "OUT_OF_RANGE",
      "UNIMPLEMENTED",
      "INTERNAL",
      "UNAVAILABLE",
      "DATA_LOSS",
      "UNAUTHENTICATED",
  };
  (void)state;
  assert_int_equal(sizeof want / sizeof *want, 17);
  for (int i = 0; i < 17; i++) assert_string_equal(gx_status_name(i), want[i]);
}

static void status_enum_matches_spec(void **state) {
  (void)state;
  assert_string_equal(gx_status_name(GX_STATUS_OK), "OK");
  assert_string_equal(gx_status_name(GX_STATUS_CANCELLED), "CANCELLED");
  assert_string_equal(gx_status_name(GX_STATUS_INVALID_ARGUMENT),
                      "INVALID_ARGUMENT");
  assert_string_equal(gx_status_name(GX_STATUS_DEADLINE_EXCEEDED),
                      "DEADLINE_EXCEEDED");
  assert_string_equal(gx_status_name(GX_STATUS_NOT_FOUND), "NOT_FOUND");
  assert_string_equal(gx_status_name(GX_STATUS_PERMISSION_DENIED),
                      "PERMISSION_DENIED");
  assert_string_equal(gx_status_name(GX_STATUS_RESOURCE_EXHAUSTED),
                      "RESOURCE_EXHAUSTED");
  assert_string_equal(gx_status_name(GX_STATUS_FAILED_PRECONDITION),
                      "FAILED_PRECONDITION");
  assert_string_equal(gx_status_name(GX_STATUS_UNIMPLEMENTED),
                      "UNIMPLEMENTED");
  assert_string_equal(gx_status_name(GX_STATUS_INTERNAL), "INTERNAL");
  assert_string_equal(gx_status_name(GX_STATUS_UNAVAILABLE), "UNAVAILABLE");
  assert_string_equal(gx_status_name(GX_STATUS_UNAUTHENTICATED),
                      "UNAUTHENTICATED");
  assert_int_equal(GX_STATUS_UNAUTHENTICATED, 16);
}

static void status_name_out_of_range(void **state) {
  static const int bad[] = {-1, 17, 18, 100, INT_MIN, INT_MAX};
  (void)state;
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    assert_string_equal(gx_status_name(bad[i]), "UNKNOWN_STATUS");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(strerror_names_every_code),
      cmocka_unit_test(err_codes_are_stable),
      cmocka_unit_test(strerror_unknown_codes),
      cmocka_unit_test(strerror_texts_distinct),
      cmocka_unit_test(status_names_follow_grpc_numbering),
      cmocka_unit_test(status_enum_matches_spec),
      cmocka_unit_test(status_name_out_of_range),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
