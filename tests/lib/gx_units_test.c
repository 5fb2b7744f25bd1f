/* Unit tests for lib/gx_units: gx_units_parse_size and
 * gx_units_parse_duration_ms. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "lib/gx_units.h"

typedef int (*parse_fn)(const char *, uint64_t *, const char **);

typedef struct {
  const char *in;
  uint64_t want;
} accepted;

typedef struct {
  const char *in;
  int rc;
  const char *why;
} refused;

#define N(a) (sizeof(a) / sizeof *(a))

/* Expects every row parsed to its value, with *why untouched. */
static void expect_accepted(parse_fn parse, const accepted *rows, size_t n) {
  for (size_t i = 0; i < n; i++) {
    uint64_t v = 12345;
    const char *why = "untouched";
    int rc = parse(rows[i].in, &v, &why);
    if (rc != 0) fail_msg("'%s' refused (%d): %s", rows[i].in, rc, why);
    if (v != rows[i].want)
      fail_msg("'%s' gave %llu, want %llu", rows[i].in,
               (unsigned long long)v, (unsigned long long)rows[i].want);
    assert_string_equal(why, "untouched");
  }
}

/* Expects every row refused with its code and reason, the output
 * untouched; and the same refusal without a @p why. */
static void expect_refused(parse_fn parse, const refused *rows, size_t n) {
  for (size_t i = 0; i < n; i++) {
    uint64_t v = 777;
    const char *why = NULL;
    int rc = parse(rows[i].in, &v, &why);
    if (rc != rows[i].rc)
      fail_msg("'%s' gave %d (%llu), want %d",
               rows[i].in ? rows[i].in : "(NULL)", rc,
               (unsigned long long)v, rows[i].rc);
    assert_int_equal(v, 777);
    assert_non_null(why);
    assert_string_equal(why, rows[i].why);
    assert_int_equal(parse(rows[i].in, &v, NULL), rows[i].rc);
    assert_int_equal(v, 777);
  }
}

/* ---------------------------------------------------------------- size */

static const char digits_first[] = "expected digits first";
static const char bad_suffix[] = "unknown suffix (expected K, M or G)";
static const char too_large[] = "too large";

static void size_accepted(void **state) {
  static const accepted rows[] = {
      {"0", 0},
      {"1", 1},
      {"512", 512},
      {"007", 7},
      {"0K", 0},
      {"1K", 1024},
      {"1k", 1024},
      {"4M", 4194304},
      {"4m", 4194304},
      {"1G", 1073741824},
      {"3g", 3221225472ull},
      {"1048576G", 1ull << 50},
      {"18446744073709551615", UINT64_MAX},
      {"17179869183G", 17179869183ull << 30},
      {"17592186044415M", 17592186044415ull << 20},
      {"18014398509481983K", 18014398509481983ull << 10},
  };
  (void)state;
  expect_accepted(gx_units_parse_size, rows, N(rows));
}

static void size_refused(void **state) {
  static const refused rows[] = {
      {NULL, -EINVAL, digits_first},
      {"", -EINVAL, digits_first},
      {"K", -EINVAL, digits_first},
      {"-1", -EINVAL, digits_first},
      {"+1", -EINVAL, digits_first},
      {" 1", -EINVAL, digits_first},
      {" -1", -EINVAL, digits_first},
      {".5K", -EINVAL, digits_first},
      {"inf", -EINVAL, digits_first},
      {"nan", -EINVAL, digits_first},
      {"1 ", -EINVAL, bad_suffix},
      {"1 K", -EINVAL, bad_suffix},
      {"1KB", -EINVAL, bad_suffix},
      {"1Ki", -EINVAL, bad_suffix},
      {"1KK", -EINVAL, bad_suffix},
      {"1Kx", -EINVAL, bad_suffix},
      {"1T", -EINVAL, bad_suffix},
      {"1b", -EINVAL, bad_suffix},
      {"1.5K", -EINVAL, bad_suffix},
      {"0x10", -EINVAL, bad_suffix},
      {"1e6", -EINVAL, bad_suffix},
      {"18446744073709551616", -ERANGE, too_large},
      {"99999999999999999999999999", -ERANGE, too_large},
      {"17179869184G", -ERANGE, too_large},
      {"17592186044416M", -ERANGE, too_large},
      {"18014398509481984K", -ERANGE, too_large},
      /* malformed wins over too large */
      {"99999999999999999999999999X", -EINVAL, bad_suffix},
  };
  (void)state;
  expect_refused(gx_units_parse_size, rows, N(rows));
}

/* ------------------------------------------------------------ duration */

static const char bad_unit[] = "unknown unit (expected ms, s, m or h)";
static const char empty_fraction[] = "expected digits after '.'";
static const char sub_ms[] = "finer than a millisecond";

static void duration_accepted(void **state) {
  static const accepted rows[] = {
      /* the forms of the issue */
      {"1.5", 1500},
      {"30s", 30000},
      {"500ms", 500},
      {"0.25h", 900000},
      {"2m", 120000},
      /* bare numbers are seconds */
      {"0", 0},
      {"30", 30000},
      {"007", 7000},
      {"0.5", 500},
      {"1.25", 1250},
      {"0.001", 1},
      {"0.0010", 1},
      {"9.999", 9999},
      {"10.000", 10000},
      /* each unit, whole and with a fraction */
      {"0ms", 0},
      {"250ms", 250},
      {"1.000ms", 1},
      {"0s", 0},
      {"1s", 1000},
      {"2.5s", 2500},
      {"0.001s", 1},
      {"10m", 600000},
      {"1.5m", 90000},
      {"0.0005m", 30},
      {"0.00005m", 3},
      {"2h", 7200000},
      {"24h", 86400000},
      {"1.5h", 5400000},
      {"0.0000025h", 9}, /* 7 fraction digits, still whole ms */
      {"8760h", 31536000000ull},
      {"1.000000000000000000000h", 3600000}, /* trailing zeros */
      /* the edges of 64 bits */
      {"18446744073709551615ms", UINT64_MAX},
      {"18446744073709551615.000ms", UINT64_MAX},
      {"18446744073709551s", 18446744073709551000ull},
      {"18446744073709551.615s", UINT64_MAX},
      {"18446744073709551.615", UINT64_MAX},
      {"5124095576030h", 18446744073708000000ull},
      {"5124095576030.431h", 18446744073709551600ull},
      {"307445734561825m", 18446744073709500000ull},
  };
  (void)state;
  expect_accepted(gx_units_parse_duration_ms, rows, N(rows));
}

static void duration_refused(void **state) {
  static const refused rows[] = {
      {NULL, -EINVAL, digits_first},
      {"", -EINVAL, digits_first},
      {"s", -EINVAL, digits_first},
      {"ms", -EINVAL, digits_first},
      {".5", -EINVAL, digits_first},
      {".5s", -EINVAL, digits_first},
      {"-1", -EINVAL, digits_first},
      {"-1ms", -EINVAL, digits_first},
      {"+5", -EINVAL, digits_first},
      {" 5", -EINVAL, digits_first},
      {" -5ms", -EINVAL, digits_first},
      {"inf", -EINVAL, digits_first},
      {"nan", -EINVAL, digits_first},
      {"1.", -EINVAL, empty_fraction},
      {"1.s", -EINVAL, empty_fraction},
      {"1..5", -EINVAL, empty_fraction},
      {"5 s", -EINVAL, bad_unit},
      {"5ms ", -EINVAL, bad_unit},
      {"5sec", -EINVAL, bad_unit},
      {"5S", -EINVAL, bad_unit},
      {"5H", -EINVAL, bad_unit},
      {"5MS", -EINVAL, bad_unit},
      {"5d", -EINVAL, bad_unit},
      {"5us", -EINVAL, bad_unit},
      {"5ns", -EINVAL, bad_unit},
      {"1e3", -EINVAL, bad_unit},
      {"1.5e3", -EINVAL, bad_unit},
      {"0x10", -EINVAL, bad_unit},
      {"1,5", -EINVAL, bad_unit},
      {"1.2.3", -EINVAL, bad_unit},
      {"1h30m", -EINVAL, bad_unit},
      {"1.0005", -EINVAL, sub_ms},
      {"0.0001", -EINVAL, sub_ms},
      {"0.0019", -EINVAL, sub_ms},
      {"1.9999", -EINVAL, sub_ms},
      {"0.5ms", -EINVAL, sub_ms},
      {"1.1ms", -EINVAL, sub_ms},
      {"0.00001m", -EINVAL, sub_ms},
      {"0.0000001h", -EINVAL, sub_ms},
      {"0.00000000001", -EINVAL, sub_ms},
      {"0.1000000001", -EINVAL, sub_ms},
      {"18446744073709551616ms", -ERANGE, too_large},
      {"18446744073709551616.0ms", -ERANGE, too_large},
      {"18446744073709552s", -ERANGE, too_large},
      {"18446744073709551.616s", -ERANGE, too_large},
      {"5124095576031h", -ERANGE, too_large},
      {"5124095576030.4315h", -ERANGE, too_large},
      {"307445734561826m", -ERANGE, too_large},
      {"99999999999999999999999999", -ERANGE, too_large},
      /* malformed wins over too large or too fine */
      {"99999999999999999999999999x", -EINVAL, bad_unit},
      {"0.0001x", -EINVAL, bad_unit},
  };
  (void)state;
  expect_refused(gx_units_parse_duration_ms, rows, N(rows));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(size_accepted),
      cmocka_unit_test(size_refused),
      cmocka_unit_test(duration_accepted),
      cmocka_unit_test(duration_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
