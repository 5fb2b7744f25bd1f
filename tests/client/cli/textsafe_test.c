/* Unit tests for client/cli/textsafe: what is kept, what is escaped, and
 * the bound (never past cap, never half a character or escape). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "client/cli/textsafe.h"

static const char *safe(const char *s, size_t cap) {
  static char out[256];
  memset(out, 'Z', sizeof out);
  return gxc_text_safe(s, out, cap);
}

static void kept_and_escaped(void **state) {
  (void)state;
  assert_string_equal(safe("plain text: ok (1/2) ~", 256),
                      "plain text: ok (1/2) ~");
  /* C0 controls, tab and newline included, and DEL */
  assert_string_equal(safe("a\tb\nc\rd\033[2Je\x7f", 256),
                      "a\\x09b\\x0ac\\x0dd\\x1b[2Je\\x7f");
  /* UTF-8: kept, but not the C1 controls (U+009B is CSI) */
  assert_string_equal(safe("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 256),
                      "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
  assert_string_equal(safe("\xc2\x9b" "2J\xc2\xa0", 256),
                      "\\xc2\\x9b2J\xc2\xa0");
  /* invalid UTF-8: lone bytes, truncated, overlong, surrogate */
  assert_string_equal(safe("\x9b\xff\xe2\x82 \xc0\xaf\xed\xa0\x80", 256),
                      "\\x9b\\xff\\xe2\\x82 \\xc0\\xaf\\xed\\xa0\\x80");
}

static void bounded(void **state) {
  (void)state;
  assert_string_equal(safe("abcdef", 4), "abc");
  assert_string_equal(safe("ab\033", 6), "ab"); /* "\x1b" needs 5 */
  assert_string_equal(safe("ab\033", 7), "ab\\x1b");
  assert_string_equal(safe("a\xe2\x82\xac", 4), "a"); /* whole euro: 5 */
  assert_string_equal(safe("a\xe2\x82\xac", 5), "a\xe2\x82\xac");
  assert_string_equal(safe("x", 1), "");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(kept_and_escaped),
      cmocka_unit_test(bounded),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
