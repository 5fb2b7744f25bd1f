/* Unit tests for lib/gx_addr: parsing "unix:/path", "host:port" and
 * "[v6]:port", loopback classification, and the default address. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/gx_addr.h"

#define assert_contains(hay, needle)                                   \
  do {                                                                 \
    if (!strstr((hay), (needle)))                                      \
      fail_msg("'%s' does not contain '%s'", (hay), (needle));         \
  } while (0)

/* Parses @p s expecting success; the result is in @p a. */
static void parse_ok(const char *s, gx_addr *a) {
  char why[300] = "";
  int rc = gx_addr_parse(s, a, why, sizeof why);
  if (rc != 0) fail_msg("gx_addr_parse('%s') failed: %s", s, why);
}

/* Parses @p s expecting failure with @p needle in the reason. */
static void parse_fails(const char *s, const char *needle) {
  gx_addr a;
  char why[300] = "";
  if (gx_addr_parse(s, &a, why, sizeof why) != -1)
    fail_msg("gx_addr_parse('%s') unexpectedly succeeded", s);
  assert_contains(why, needle);
}

/* ---------------------------------------------------------------- unix */

static void unix_absolute_path(void **state) {
  gx_addr a;
  (void)state;
  parse_ok("unix:/tmp/gexec/gexecd.sock", &a);
  assert_int_equal(a.kind, GX_ADDR_UNIX);
  assert_string_equal(a.path, "/tmp/gexec/gexecd.sock");
  assert_string_equal(a.host, "");
  assert_int_equal(a.port, 0);
  assert_int_equal(a.is_loopback, 0);
}

static void unix_url_form(void **state) {
  gx_addr a;
  (void)state;
  parse_ok("unix:///run/x.sock", &a);
  assert_int_equal(a.kind, GX_ADDR_UNIX);
  assert_string_equal(a.path, "/run/x.sock");
}

static void unix_relative_path_refused(void **state) {
  (void)state;
  parse_fails("unix:rel/x.sock", "unix socket path 'rel/x.sock' must be "
                                 "absolute");
  parse_fails("unix:", "must be absolute");
  /* "unix://" followed by a relative path is not silently made absolute */
  parse_fails("unix://tmp/x.sock", "'tmp/x.sock' must be absolute");
}

static void unix_path_length_limit(void **state) {
  char s[5 + 120 + 1], why[300] = "";
  gx_addr a;
  (void)state;
  /* 107 bytes is the longest that fits sun_path with its NUL */
  memcpy(s, "unix:/", 6);
  memset(s + 6, 'p', 106);
  s[6 + 106] = '\0';
  assert_int_equal(strlen(s + 5), 107);
  assert_int_equal(gx_addr_parse(s, &a, why, sizeof why), 0);
  assert_int_equal(strlen(a.path), 107);
  assert_string_equal(a.path, s + 5);

  memset(s + 6, 'p', 107);
  s[6 + 107] = '\0';
  assert_int_equal(strlen(s + 5), 108);
  assert_int_equal(gx_addr_parse(s, &a, why, sizeof why), -1);
  assert_contains(why, "is longer than 107 bytes");
}

/* ----------------------------------------------------------------- tcp */

static void tcp_ipv4(void **state) {
  gx_addr a;
  (void)state;
  parse_ok("127.0.0.1:7000", &a);
  assert_int_equal(a.kind, GX_ADDR_TCP);
  assert_string_equal(a.host, "127.0.0.1");
  assert_int_equal(a.port, 7000);
  assert_int_equal(a.is_loopback, 1);
  assert_string_equal(a.path, "");
}

static void tcp_ipv6_brackets(void **state) {
  gx_addr a;
  (void)state;
  parse_ok("[::1]:7001", &a);
  assert_int_equal(a.kind, GX_ADDR_TCP);
  assert_string_equal(a.host, "::1");
  assert_int_equal(a.port, 7001);
  assert_int_equal(a.is_loopback, 1);

  parse_ok("[fe80::1]:22", &a);
  assert_string_equal(a.host, "fe80::1");
  assert_int_equal(a.port, 22);
  assert_int_equal(a.is_loopback, 0);
}

static void tcp_hostname(void **state) {
  gx_addr a;
  (void)state;
  parse_ok("localhost:7000", &a);
  assert_int_equal(a.kind, GX_ADDR_TCP);
  assert_string_equal(a.host, "localhost");
  assert_int_equal(a.port, 7000);
  assert_int_equal(a.is_loopback, 1);

  parse_ok("example.com:443", &a);
  assert_string_equal(a.host, "example.com");
  assert_int_equal(a.port, 443);
  assert_int_equal(a.is_loopback, 0);
}

/* Loopback means exactly 127.0.0.0/8, ::1 and "localhost". */
static void loopback_classification(void **state) {
  static const struct {
    const char *addr;
    int loopback;
  } cases[] = {
      {"127.0.0.1:1", 1},          {"127.255.255.254:1", 1},
      {"127.1.2.3:1", 1},          {"[::1]:1", 1},
      {"[0:0:0:0:0:0:0:1]:1", 1},  {"localhost:1", 1},
      {"126.255.255.255:1", 0},    {"128.0.0.1:1", 0},
      {"0.0.0.0:1", 0},            {"10.0.0.1:1", 0},
      {"192.168.1.5:1", 0},        {"[::]:1", 0},
      {"[::2]:1", 0},              {"[::ffff:127.0.0.1]:1", 0},
      {"localhost.example.com:1", 0}, {"mylocalhost:1", 0},
      {"127.0.0.1.example.com:1", 0},
  };
  (void)state;
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    gx_addr a;
    parse_ok(cases[i].addr, &a);
    if (a.is_loopback != cases[i].loopback)
      fail_msg("%s: is_loopback %d, want %d", cases[i].addr, a.is_loopback,
               cases[i].loopback);
  }
}

static void port_bounds(void **state) {
  gx_addr a;
  (void)state;
  parse_ok("127.0.0.1:0", &a);
  assert_int_equal(a.port, 0);
  parse_ok("127.0.0.1:65535", &a);
  assert_int_equal(a.port, 65535);
  parse_ok("[::1]:65535", &a);
  assert_int_equal(a.port, 65535);

  parse_fails("127.0.0.1:65536", "address '127.0.0.1:65536': port must be "
                                 "0..65535");
  parse_fails("127.0.0.1:-1", "port must be 0..65535");
  parse_fails("127.0.0.1:", "port must be 0..65535");
  parse_fails("127.0.0.1:http", "port must be 0..65535");
  parse_fails("127.0.0.1:80x", "port must be 0..65535");
  parse_fails("127.0.0.1:99999999999999999999", "port must be 0..65535");
  parse_fails("[::1]:", "port must be 0..65535");
  parse_fails("[::1]:7x", "address '[::1]:7x': port must be 0..65535");
}

/* A port is digits only: no sign, no blanks (gRPC gets the string). */
static void port_digits_only(void **state) {
  (void)state;
  parse_fails("127.0.0.1:+80", "port must be 0..65535");
  parse_fails("127.0.0.1: 80", "port must be 0..65535");
  parse_fails("127.0.0.1:\t80", "port must be 0..65535");
  parse_fails("127.0.0.1:-0", "port must be 0..65535");
}

static void tcp_malformed(void **state) {
  (void)state;
  parse_fails("localhost", "address 'localhost': expected host:port or "
                           "unix:/path");
  parse_fails("", "expected host:port or unix:/path");
  parse_fails(":7000", "address ':7000': bad host part");
  parse_fails("[::1]", "address '[::1]': expected [v6-address]:port");
  parse_fails("[::1:7000", "expected [v6-address]:port");
  parse_fails("[::1]7000", "expected [v6-address]:port");
  parse_fails("[::1]x:7000", "expected [v6-address]:port");
}

/* The reason quotes the address as given, brackets included. */
static void empty_brackets_quoted_whole(void **state) {
  (void)state;
  parse_fails("[]:7000", "address '[]:7000': bad host part");
}

static void host_length_limit(void **state) {
  char s[300];
  gx_addr a;
  char why[600] = "";
  (void)state;
  memset(s, 'h', 255);
  memcpy(s + 255, ":1", 3);
  assert_int_equal(gx_addr_parse(s, &a, why, sizeof why), 0);
  assert_int_equal(strlen(a.host), 255);
  assert_int_equal(a.port, 1);

  memset(s, 'h', 256);
  memcpy(s + 256, ":1", 3);
  assert_int_equal(gx_addr_parse(s, &a, why, sizeof why), -1);
  assert_contains(why, "bad host part");
}

/* The output is reset: nothing of an earlier parse survives. */
static void parse_resets_output(void **state) {
  gx_addr a;
  (void)state;
  memset(&a, 0x5a, sizeof a);
  parse_ok("127.0.0.1:9", &a);
  assert_string_equal(a.path, "");
  memset(&a, 0x5a, sizeof a);
  parse_ok("unix:/s", &a);
  assert_string_equal(a.host, "");
  assert_int_equal(a.port, 0);
  assert_int_equal(a.is_loopback, 0);
}

/* A small reason buffer is truncated, never overflowed. */
static void reason_is_bounded(void **state) {
  gx_addr a;
  char why[8];
  (void)state;
  memset(why, 'z', sizeof why);
  assert_int_equal(gx_addr_parse("unix:relative", &a, why, 5), -1);
  assert_string_equal(why, "unix");
  assert_int_equal(why[5], 'z');
}

/* ------------------------------------------------------------- default */

static void default_uses_xdg_runtime_dir(void **state) {
  char buf[128];
  (void)state;
  assert_int_equal(setenv("XDG_RUNTIME_DIR", "/run/user/1000", 1), 0);
  assert_int_equal(gx_addr_default(buf, sizeof buf), 0);
  assert_string_equal(buf, "unix:/run/user/1000/gexec/gexecd.sock");
}

static void default_without_xdg(void **state) {
  char buf[128];
  (void)state;
  assert_int_equal(unsetenv("XDG_RUNTIME_DIR"), 0);
  assert_int_equal(gx_addr_default(buf, sizeof buf), 0);
  assert_string_equal(buf, "unix:/run/gexec/gexecd.sock");
}

/* An empty or relative XDG_RUNTIME_DIR is ignored. */
static void default_ignores_unusable_xdg(void **state) {
  char buf[128];
  (void)state;
  assert_int_equal(setenv("XDG_RUNTIME_DIR", "", 1), 0);
  assert_int_equal(gx_addr_default(buf, sizeof buf), 0);
  assert_string_equal(buf, "unix:/run/gexec/gexecd.sock");
  assert_int_equal(setenv("XDG_RUNTIME_DIR", "run/user/1", 1), 0);
  assert_int_equal(gx_addr_default(buf, sizeof buf), 0);
  assert_string_equal(buf, "unix:/run/gexec/gexecd.sock");
}

static void default_buffer_too_small(void **state) {
  static const char want[] = "unix:/x/gexec/gexecd.sock";
  char buf[64];
  (void)state;
  assert_int_equal(setenv("XDG_RUNTIME_DIR", "/x", 1), 0);
  assert_int_equal(gx_addr_default(buf, sizeof want), 0);
  assert_string_equal(buf, want);
  assert_int_equal(gx_addr_default(buf, sizeof want - 1), -1);
  assert_int_equal(unsetenv("XDG_RUNTIME_DIR"), 0);
  assert_int_equal(gx_addr_default(buf, 10), -1);
}

/* The default address is itself a valid unix address. */
static void default_parses(void **state) {
  char buf[128];
  gx_addr a;
  (void)state;
  assert_int_equal(setenv("XDG_RUNTIME_DIR", "/run/user/7", 1), 0);
  assert_int_equal(gx_addr_default(buf, sizeof buf), 0);
  parse_ok(buf, &a);
  assert_int_equal(a.kind, GX_ADDR_UNIX);
  assert_string_equal(a.path, "/run/user/7/gexec/gexecd.sock");
}

/* The computation itself, with XDG_RUNTIME_DIR as a parameter: the
 * environment is not read. */
static void default_for_given_xdg(void **state) {
  char buf[128];
  (void)state;
  assert_int_equal(setenv("XDG_RUNTIME_DIR", "/from/env", 1), 0);
  assert_int_equal(gx_addr_default_for("/run/user/0", buf, sizeof buf), 0);
  assert_string_equal(buf, "unix:/run/user/0/gexec/gexecd.sock");
  assert_int_equal(gx_addr_default_for(NULL, buf, sizeof buf), 0);
  assert_string_equal(buf, "unix:/run/gexec/gexecd.sock");
  assert_int_equal(gx_addr_default_for("", buf, sizeof buf), 0);
  assert_string_equal(buf, "unix:/run/gexec/gexecd.sock");
  assert_int_equal(gx_addr_default_for("relative", buf, sizeof buf), 0);
  assert_string_equal(buf, "unix:/run/gexec/gexecd.sock");
  assert_int_equal(gx_addr_default_for("/x", buf, 8), -1);
  assert_string_equal(buf, "unix:/x");
  assert_string_equal("unix:" GX_ADDR_DEFAULT_RUN_DIR GX_ADDR_DEFAULT_SUBPATH,
                      "unix:/run/gexec/gexecd.sock");
  assert_int_equal(unsetenv("XDG_RUNTIME_DIR"), 0);
}

/* ------------------------------------------------------ default port */

static void expect_completed(const char *in, const char *want) {
  char buf[GX_ADDR_TEXT_MAX];
  assert_int_equal(gx_addr_with_default_port(in, buf, sizeof buf), 0);
  assert_string_equal(buf, want);
}

static void default_port_added_to_bare_hosts(void **state) {
  (void)state;
  assert_int_equal(GX_ADDR_DEFAULT_PORT, 7443);
  assert_string_equal(GX_ADDR_DEFAULT_PORT_TEXT, "7443");
  expect_completed("node07", "node07:7443");
  expect_completed("10.0.0.1", "10.0.0.1:7443");
  expect_completed("[fd00::1]", "[fd00::1]:7443");
  expect_completed("localhost", "localhost:7443");
}

static void default_port_leaves_other_forms(void **state) {
  (void)state;
  expect_completed("node07:7000", "node07:7000");
  expect_completed("[::1]:7001", "[::1]:7001");
  expect_completed("unix:/run/x.sock", "unix:/run/x.sock");
  expect_completed("unix:rel", "unix:rel");
  expect_completed("", "");
  expect_completed("::1", "::1");
  expect_completed("[::1", "[::1");
}

static void default_port_completed_parses(void **state) {
  char buf[GX_ADDR_TEXT_MAX];
  gx_addr a;
  (void)state;
  assert_int_equal(gx_addr_with_default_port("[fd00::1]", buf, sizeof buf),
                   0);
  parse_ok(buf, &a);
  assert_int_equal(a.kind, GX_ADDR_TCP);
  assert_string_equal(a.host, "fd00::1");
  assert_int_equal(a.port, 7443);
}

static void default_port_too_small(void **state) {
  char buf[10];
  (void)state;
  assert_int_equal(gx_addr_with_default_port("node07", buf, sizeof buf), -1);
  assert_string_equal(buf, "node07:74");
  assert_int_equal(gx_addr_with_default_port("node07:7", buf, 9), 0);
  assert_int_equal(gx_addr_with_default_port("node07:70", buf, 9), -1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(unix_absolute_path),
      cmocka_unit_test(unix_url_form),
      cmocka_unit_test(unix_relative_path_refused),
      cmocka_unit_test(unix_path_length_limit),
      cmocka_unit_test(tcp_ipv4),
      cmocka_unit_test(tcp_ipv6_brackets),
      cmocka_unit_test(tcp_hostname),
      cmocka_unit_test(loopback_classification),
      cmocka_unit_test(port_bounds),
      cmocka_unit_test(port_digits_only),
      cmocka_unit_test(tcp_malformed),
      cmocka_unit_test(empty_brackets_quoted_whole),
      cmocka_unit_test(host_length_limit),
      cmocka_unit_test(parse_resets_output),
      cmocka_unit_test(reason_is_bounded),
      cmocka_unit_test(default_uses_xdg_runtime_dir),
      cmocka_unit_test(default_without_xdg),
      cmocka_unit_test(default_ignores_unusable_xdg),
      cmocka_unit_test(default_buffer_too_small),
      cmocka_unit_test(default_parses),
      cmocka_unit_test(default_for_given_xdg),
      cmocka_unit_test(default_port_added_to_bare_hosts),
      cmocka_unit_test(default_port_leaves_other_forms),
      cmocka_unit_test(default_port_completed_parses),
      cmocka_unit_test(default_port_too_small),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
