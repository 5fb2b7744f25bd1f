/* Unit tests for server/validate's wire scan: gxd_wire_find_nul on real
 * protobuf-c encoded RunRequests. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gexec/v1/exec.pb-c.h"
#include "lib/gx_err.h"
#include "server/validate.h"
#include "tests/server/start_req.h"

/* Asserts that the wire scan named field @p want. */
#define assert_field(got, want)                                        \
  do {                                                                 \
    const char *got_ = (got);                                          \
    if (!got_) fail_msg("no NUL reported, want '%s'", (want));         \
    assert_string_equal(got_, (want));                                 \
  } while (0)

static const char *const TRUE_ARGV[] = {"true", NULL};

/* --------------------------------------------------------- wire scan */

/* Packs RunRequest{start: @p s} into a new buffer of *@p len bytes. */
static uint8_t *pack_start(const Gexec__V1__Start *s, size_t *len) {
  Gexec__V1__RunRequest r = GEXEC__V1__RUN_REQUEST__INIT;
  uint8_t *buf;
  r.event_case = GEXEC__V1__RUN_REQUEST__EVENT_START;
  r.start = (Gexec__V1__Start *)s;
  *len = gexec__v1__run_request__get_packed_size(&r);
  buf = malloc(*len);
  assert_non_null(buf);
  assert_int_equal(gexec__v1__run_request__pack(&r, buf), *len);
  return buf;
}

/* Turns every 'X' of the one occurrence of @p marker into a NUL byte. */
static void patch_marker(uint8_t *buf, size_t len, const char *marker) {
  size_t mlen = strlen(marker);
  uint8_t *at = memmem(buf, len, marker, mlen);
  assert_non_null(at);
  assert_null(memmem(at + 1, len - (size_t)(at + 1 - buf), marker, mlen));
  for (size_t i = 0; i < mlen; i++)
    if (at[i] == 'X') at[i] = 0;
}

/* Packs @p r, patches @p marker, and returns gxd_wire_find_nul's answer. */
static const char *find_nul_patched(const gxt_req *r, const char *marker) {
  size_t len;
  uint8_t *buf = pack_start(&r->s, &len);
  const char *f;
  if (marker) patch_marker(buf, len, marker);
  f = gxd_wire_find_nul(buf, len);
  free(buf);
  return f;
}

/* Fills @p r with every field set, all strings clean. */
static void full_clean_request(gxt_req *r) {
  static const char *const argv[] = {"/bin/echo", "hello", "", "w o r l d",
                                     NULL};
  gxt_req_init(r, argv);
  gxt_req_env(r, "LANG", "C");
  gxt_req_env(r, "MYVAR", "some value");
  r->s.cwd = "/tmp/work";
  r->s.timeout_ms = 123456789;
  r->s.stdin_mode = GEXEC__V1__STDIN_MODE__STDIN_NULL;
  r->s.stdout_mode = GEXEC__V1__OUTPUT_MODE__OUTPUT_PIPE;
  r->s.stderr_mode = GEXEC__V1__OUTPUT_MODE__OUTPUT_TO_STDOUT;
  r->s.kill_grace_ms = 2500;
  r->s.max_output_bytes = 1ull << 40;
}

static void wire_clean_start(void **state) {
  gxt_req r;
  (void)state;
  full_clean_request(&r);
  assert_null(find_nul_patched(&r, NULL));
  gxt_req_init(&r, TRUE_ARGV);
  assert_null(find_nul_patched(&r, NULL));
}

static void wire_nul_in_argv(void **state) {
  static const char *const later[] = {"true", "aXb", NULL};
  static const char *const first[] = {"tXrue", NULL};
  static const char *const edge1[] = {"echo", "Xab", NULL};
  static const char *const edge2[] = {"echo", "abX", NULL};
  static const char *const only[] = {"echo", "X", NULL};
  gxt_req r;
  (void)state;
  gxt_req_init(&r, later);
  assert_field(find_nul_patched(&r, "aXb"), "argv");
  gxt_req_init(&r, first);
  assert_field(find_nul_patched(&r, "tXrue"), "argv");
  gxt_req_init(&r, edge1);
  assert_field(find_nul_patched(&r, "Xab"), "argv");
  gxt_req_init(&r, edge2);
  assert_field(find_nul_patched(&r, "abX"), "argv");
  gxt_req_init(&r, only);
  r.s.cwd = "/srv"; /* a later clean field does not hide it */
  assert_field(find_nul_patched(&r, "\001X"), "argv");
}

/* The NUL is found past a multi-byte length prefix too. */
static void wire_nul_in_long_argv(void **state) {
  char big[301];
  const char *argv[] = {"echo", big, NULL};
  gxt_req r;
  (void)state;
  memset(big, 'a', 300);
  big[300] = '\0';
  memcpy(big + 200, "qXq", 3);
  gxt_req_init(&r, argv);
  assert_field(find_nul_patched(&r, "qXq"), "argv");
}

static void wire_nul_in_env_name(void **state) {
  gxt_req r;
  (void)state;
  gxt_req_init(&r, TRUE_ARGV);
  gxt_req_env(&r, "GOOD", "1");
  gxt_req_env(&r, "AXB", "value");
  assert_field(find_nul_patched(&r, "AXB"), "env name");
}

static void wire_nul_in_env_value(void **state) {
  gxt_req r;
  (void)state;
  gxt_req_init(&r, TRUE_ARGV);
  gxt_req_env(&r, "GOOD", "1");
  gxt_req_env(&r, "KEY", "vXw");
  r.s.cwd = "/";
  assert_field(find_nul_patched(&r, "vXw"), "env value");
}

static void wire_nul_in_cwd(void **state) {
  gxt_req r;
  (void)state;
  full_clean_request(&r);
  r.s.cwd = "/tmXp";
  assert_field(find_nul_patched(&r, "/tmXp"), "cwd");
}

static void wire_nul_in_profile(void **state) {
  gxt_req r;
  (void)state;
  full_clean_request(&r);
  r.s.profile = "restXricted";
  assert_field(find_nul_patched(&r, "restXricted"), "profile");
}

/* "alice\0x" would reach the user database as "alice". */
static void wire_nul_in_user(void **state) {
  gxt_req r;
  (void)state;
  full_clean_request(&r);
  r.s.user = "aliceXroot";
  assert_field(find_nul_patched(&r, "aliceXroot"), "user");
}

/* Protobuf-c really does cut the patched string: that is why the wire
 * bytes must be checked before unpacking. */
static void wire_patched_bytes_unpack_truncated(void **state) {
  static const char *const argv[] = {"true", "aXb", NULL};
  Gexec__V1__RunRequest *u;
  size_t len;
  uint8_t *buf;
  gxt_req r;
  (void)state;
  gxt_req_init(&r, argv);
  buf = pack_start(&r.s, &len);
  patch_marker(buf, len, "aXb");
  u = gexec__v1__run_request__unpack(NULL, len, buf);
  assert_non_null(u);
  assert_int_equal(u->start->n_argv, 2);
  assert_string_equal(u->start->argv[1], "a");
  assert_field(gxd_wire_find_nul(buf, len), "argv");
  gexec__v1__run_request__free_unpacked(u, NULL);
  free(buf);
}

static void wire_stdin_nuls_ignored(void **state) {
  static const uint8_t data[] = {0, 0, 'a', 0, 0xff, 0};
  Gexec__V1__RunRequest r = GEXEC__V1__RUN_REQUEST__INIT;
  uint8_t buf[64];
  size_t len;
  (void)state;
  r.event_case = GEXEC__V1__RUN_REQUEST__EVENT_STDIN;
  r.stdin.data = (uint8_t *)data;
  r.stdin.len = sizeof data;
  len = gexec__v1__run_request__pack(&r, buf);
  assert_int_equal(len, 2 + sizeof data);
  assert_non_null(memchr(buf, 0, len));
  assert_null(gxd_wire_find_nul(buf, len));
}

static void wire_other_events_ignored(void **state) {
  Gexec__V1__RunRequest r = GEXEC__V1__RUN_REQUEST__INIT;
  Gexec__V1__Signal sig = GEXEC__V1__SIGNAL__INIT;
  Gexec__V1__StdinEof eof = GEXEC__V1__STDIN_EOF__INIT;
  uint8_t buf[64];
  size_t len;
  (void)state;
  sig.number = 15;
  r.event_case = GEXEC__V1__RUN_REQUEST__EVENT_SIGNAL;
  r.signal = &sig;
  len = gexec__v1__run_request__pack(&r, buf);
  assert_null(gxd_wire_find_nul(buf, len));
  /* an empty StdinEof encodes as 1a 00 */
  r.event_case = GEXEC__V1__RUN_REQUEST__EVENT_STDIN_EOF;
  r.stdin_eof = &eof;
  len = gexec__v1__run_request__pack(&r, buf);
  assert_int_equal(len, 2);
  assert_int_equal(buf[0], 0x1a);
  assert_int_equal(buf[1], 0x00);
  assert_null(gxd_wire_find_nul(buf, len));
}

/* Empty strings encode a 0x00 length byte; that is not a NUL inside. */
static void wire_empty_strings_clean(void **state) {
  static const char *const argv[] = {"true", "", "x", NULL};
  size_t len;
  uint8_t *buf;
  gxt_req r;
  (void)state;
  gxt_req_init(&r, argv);
  gxt_req_env(&r, "E", "");
  r.s.timeout_ms = 1ull << 21;
  r.s.kill_grace_ms = 128;
  buf = pack_start(&r.s, &len);
  assert_non_null(memchr(buf, 0, len));
  assert_null(gxd_wire_find_nul(buf, len));
  free(buf);
}

/* A message with two `start` fields decodes as the last one, so every
 * occurrence must be scanned. */
static void wire_second_start_scanned(void **state) {
  static const char *const clean[] = {"ok", NULL};
  static const char *const dirty[] = {"aXb", NULL};
  Gexec__V1__RunRequest *u;
  uint8_t *b1, *b2, *buf;
  size_t l1, l2;
  gxt_req r1, r2;
  (void)state;
  gxt_req_init(&r1, clean);
  gxt_req_init(&r2, dirty);
  b1 = pack_start(&r1.s, &l1);
  b2 = pack_start(&r2.s, &l2);
  patch_marker(b2, l2, "aXb");
  buf = malloc(l1 + l2);
  assert_non_null(buf);
  memcpy(buf, b1, l1);
  memcpy(buf + l1, b2, l2);
  u = gexec__v1__run_request__unpack(NULL, l1 + l2, buf);
  assert_non_null(u);
  assert_int_equal(u->event_case, GEXEC__V1__RUN_REQUEST__EVENT_START);
  assert_string_equal(u->start->argv[u->start->n_argv - 1], "a");
  gexec__v1__run_request__free_unpacked(u, NULL);
  assert_field(gxd_wire_find_nul(buf, l1 + l2), "argv");
  free(buf);
  free(b1);
  free(b2);
}

/* Unknown fields of every wire type are stepped over. */
static void wire_unknown_fields_skipped(void **state) {
  /* Start { argv "x"; field 20 fixed64; field 21 fixed32; field 22 varint;
   *         field 23 bytes "\0\0"; cwd "a\0b" } */
  static const uint8_t start[] = {
      0x0a, 1, 'x',
      0xa1, 0x01, 0, 0, 0, 0, 0, 0, 0, 0,
      0xad, 0x01, 0, 0, 0, 0,
      0xb0, 0x01, 0x80, 0x01,
      0xba, 0x01, 2, 0, 0,
      0x1a, 3, 'a', 0, 'b',
  };
  uint8_t buf[2 + sizeof start];
  Gexec__V1__RunRequest *u;
  (void)state;
  buf[0] = 0x0a;
  buf[1] = sizeof start;
  memcpy(buf + 2, start, sizeof start);
  u = gexec__v1__run_request__unpack(NULL, sizeof buf, buf);
  assert_non_null(u);
  assert_string_equal(u->start->cwd, "a");
  gexec__v1__run_request__free_unpacked(u, NULL);
  assert_field(gxd_wire_find_nul(buf, sizeof buf), "cwd");
}

/* Broken input never reads out of bounds; it is left to the parser. */
static void wire_malformed(void **state) {
  static const uint8_t overlong[] = {0x0a, 50, 0x0a, 1, 0};
  static const uint8_t inner_overlong[] = {0x0a, 3, 0x0a, 9, 0};
  static const uint8_t bad_varint[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                       0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  static const uint8_t group[] = {0x0b, 0x0c};
  static const uint8_t cut_fixed[] = {0x11, 0, 0, 0};
  uint8_t *heap;
  (void)state;
  assert_null(gxd_wire_find_nul(overlong, 0));
  assert_null(gxd_wire_find_nul(overlong, sizeof overlong));
  assert_null(gxd_wire_find_nul(inner_overlong, sizeof inner_overlong));
  assert_null(gxd_wire_find_nul(bad_varint, sizeof bad_varint));
  assert_null(gxd_wire_find_nul(group, sizeof group));
  assert_null(gxd_wire_find_nul(cut_fixed, sizeof cut_fixed));
  /* every prefix of a real message, in an exact-size heap buffer so that
   * ASan sees any overread */
  {
    gxt_req r;
    size_t len;
    uint8_t *buf;
    full_clean_request(&r);
    buf = pack_start(&r.s, &len);
    for (size_t n = 0; n <= len; n++) {
      heap = malloc(n ? n : 1);
      assert_non_null(heap);
      memcpy(heap, buf, n);
      assert_null(gxd_wire_find_nul(heap, n));
      free(heap);
    }
    free(buf);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(wire_clean_start),
      cmocka_unit_test(wire_nul_in_argv),
      cmocka_unit_test(wire_nul_in_long_argv),
      cmocka_unit_test(wire_nul_in_env_name),
      cmocka_unit_test(wire_nul_in_env_value),
      cmocka_unit_test(wire_nul_in_cwd),
      cmocka_unit_test(wire_nul_in_profile),
      cmocka_unit_test(wire_nul_in_user),
      cmocka_unit_test(wire_patched_bytes_unpack_truncated),
      cmocka_unit_test(wire_stdin_nuls_ignored),
      cmocka_unit_test(wire_other_events_ignored),
      cmocka_unit_test(wire_empty_strings_clean),
      cmocka_unit_test(wire_second_start_scanned),
      cmocka_unit_test(wire_unknown_fields_skipped),
      cmocka_unit_test(wire_malformed),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
