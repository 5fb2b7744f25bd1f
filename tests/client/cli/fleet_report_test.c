/* Unit tests for client/cli/fleet_report and fleet_host: outcomes, the
 * fleet exit status, the summary lines, gathered (-b) and --diff output,
 * and the --json document, on hosts made up by the test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmocka.h>

#include "client/cli/fleet_report.h"

#define NH 8
static gxc_host hosts[NH];
static char names[NH][16];

static void reset(size_t n) {
  memset(hosts, 0, sizeof hosts);
  for (size_t i = 0; i < n; i++) {
    snprintf(names[i], sizeof names[i], "n%02u", (unsigned)(i + 1) % 1000);
    hosts[i].index = i;
    hosts[i].name = names[i];
    hosts[i].address = names[i];
    hosts[i].out_fd[0] = hosts[i].out_fd[1] = -1;
  }
}

static void exited(size_t i, int code) {
  gexec_exit e = {.exit_code = code, .pid = 100 + (uint32_t)i};
  gxc_host_set_exit(&hosts[i], &e);
}

static void killed(size_t i, int sig, int timed_out, uint64_t timeout_ms) {
  gexec_exit e = {.signal = sig, .timed_out = timed_out};
  hosts[i].timeout_ms = timeout_ms;
  gxc_host_set_exit(&hosts[i], &e);
}

static void failed(size_t i, int rc, int status, const char *msg,
                   int started) {
  gexec_error e = {.code = rc, .status = status};
  snprintf(e.message, sizeof e.message, "%s", msg);
  gxc_host_set_error(&hosts[i], rc, &e, started);
}

static void output(size_t i, const char *out, const char *err) {
  gxc_capture_add(&hosts[i].cap[0], (const uint8_t *)out, strlen(out));
  gxc_capture_add(&hosts[i].cap[1], (const uint8_t *)err, strlen(err));
}

static void release(size_t n) {
  for (size_t i = 0; i < n; i++) gxc_host_release(&hosts[i]);
}

/* An output into memory: a memfd read back by text(). */
static gxc_out mem(void) {
  gxc_out o = {.fd = memfd_create("out", 0)};
  assert_true(o.fd >= 0);
  return o;
}

static char *text(gxc_out *o) {
  static char buf[8][8192];
  static int k;
  char *b = buf[k++ % 8];
  gxc_out_free(o);
  off_t len = lseek(o->fd, 0, SEEK_CUR);
  assert_true(len >= 0 && len < 8192);
  assert_int_equal(pread(o->fd, b, (size_t)len, 0), len);
  b[len] = '\0';
  close(o->fd);
  return b;
}

static void statuses(void **state) {
  (void)state;
  reset(4);
  for (size_t i = 0; i < 4; i++) exited(i, 0);
  assert_int_equal(gxc_fleet_status(hosts, 4), 0);
  exited(1, 3);
  killed(2, 9, 0, 0);
  assert_int_equal(hosts[2].outcome, GXC_OUTCOME_SIGNALED);
  assert_int_equal(gxc_fleet_status(hosts, 4), 137);
  killed(2, 15, 1, 5000);
  assert_int_equal(hosts[2].outcome, GXC_OUTCOME_TIMED_OUT);
  assert_int_equal(gxc_fleet_status(hosts, 4), 124);
  failed(3, GEXEC_ESTATUS, GEXEC_STATUS_NOT_FOUND, "no such program", 0);
  assert_int_equal(hosts[3].outcome, GXC_OUTCOME_FAILED);
  assert_int_equal(gxc_host_status(&hosts[3]), 127);
  assert_int_equal(gxc_fleet_status(hosts, 4), 127);
  failed(0, GEXEC_EREFUSED, GEXEC_STATUS_PERMISSION_DENIED, "rule r", 0);
  assert_int_equal(hosts[0].outcome, GXC_OUTCOME_REFUSED);
  assert_int_equal(gxc_fleet_status(hosts, 4), 255);
  failed(0, GEXEC_ECONNECT, 0, "connection refused", 0);
  assert_int_equal(hosts[0].outcome, GXC_OUTCOME_UNREACHABLE);
  assert_int_equal(gxc_fleet_status(hosts, 4), 255);
  failed(0, GEXEC_ECONNECT, 0,
         "the server's certificate failed verification: not issued by a CA "
         "in the CA file", 0);
  assert_int_equal(hosts[0].outcome, GXC_OUTCOME_REFUSED);
  /* lost after it started: failed, 255, but not "unreachable" */
  failed(0, GEXEC_ESTATUS, GEXEC_STATUS_UNAVAILABLE, "connection lost", 1);
  assert_int_equal(hosts[0].outcome, GXC_OUTCOME_FAILED);
  assert_int_equal(gxc_host_status(&hosts[0]), 255);
  release(4);
}

/* A daemon's message in a summary line: control characters (escape
 * sequences, newlines) and invalid UTF-8 escaped, other UTF-8 kept. */
static void summary_escapes(void **state) {
  gxc_out err = mem();
  (void)state;
  reset(2);
  failed(0, GEXEC_EREFUSED, 7, "rule \033]0;owned\007 x\ny \xc3\xa9\xff", 0);
  failed(1, GEXEC_ESTATUS, GEXEC_STATUS_INTERNAL, "\r\033[2Kfake ok", 1);
  assert_int_equal(gxc_fleet_summary(hosts, 2, &err), 0);
  assert_string_equal(
      text(&err),
      "gexec: n01: refused by policy: rule \\x1b]0;owned\\x07 x\\x0ay "
      "\xc3\xa9\\xff\n"
      "gexec: n02: failed: \\x0d\\x1b[2Kfake ok\n"
      "gexec: 2 hosts: 0 ok, 1 failed, 0 timed out, 0 unreachable, "
      "1 refused\n");
  release(2);
}

static void summary_lines(void **state) {
  gxc_out err = mem();
  (void)state;
  reset(8);
  exited(0, 0);
  exited(1, 0);
  exited(2, 1);
  exited(3, 1);
  exited(4, 1);
  failed(5, GEXEC_ECONNECT, 0, "connection refused", 0);
  killed(6, 15, 1, 5000);
  failed(7, GEXEC_EREFUSED, 7, "rule 'ops' does not allow 'rm'", 0);
  assert_int_equal(gxc_fleet_summary(hosts, 8, &err), 0);
  assert_string_equal(
      text(&err),
      "gexec: n[03-05]: exited with 1\n"
      "gexec: n06: unreachable (connection refused)\n"
      "gexec: n07: timed out after 5 s (process tree killed)\n"
      "gexec: n08: refused by policy: rule 'ops' does not allow 'rm'\n"
      "gexec: 8 hosts: 2 ok, 3 failed, 1 timed out, 1 unreachable, "
      "1 refused\n");
  /* one host: "1 host" */
  reset(1);
  exited(0, 2);
  err = mem();
  assert_int_equal(gxc_fleet_summary(hosts, 1, &err), 0);
  assert_string_equal(text(&err),
                      "gexec: n01: exited with 2\n"
                      "gexec: 1 host: 0 ok, 1 failed, 0 timed out, "
                      "0 unreachable, 0 refused\n");
  /* all well: nothing at all */
  reset(2);
  exited(0, 0);
  exited(1, 0);
  err = mem();
  assert_int_equal(gxc_fleet_summary(hosts, 2, &err), 0);
  assert_string_equal(text(&err), "");
  release(8);
}

static void reasons(void **state) {
  char buf[700];
  (void)state;
  reset(1);
  killed(0, 9, 0, 0);
  assert_string_equal(gxc_host_reason(&hosts[0], buf, sizeof buf),
                      "killed by signal 9 (KILL)");
  hosts[0].exit.oom_killed = 1;
  assert_string_equal(gxc_host_reason(&hosts[0], buf, sizeof buf),
                      "killed by the memory limit (OOM)");
  killed(0, 15, 1, 2500);
  assert_string_equal(gxc_host_reason(&hosts[0], buf, sizeof buf),
                      "timed out after 2.5 s (process tree killed)");
  killed(0, 15, 1, 2999); /* a deadline's time left */
  assert_string_equal(gxc_host_reason(&hosts[0], buf, sizeof buf),
                      "timed out after 3 s (process tree killed)");
  killed(0, 15, 1, 300);
  assert_string_equal(gxc_host_reason(&hosts[0], buf, sizeof buf),
                      "timed out after 300 ms (process tree killed)");
  failed(0, GEXEC_ECONNECT, 0, "the server refused our certificate", 0);
  assert_string_equal(gxc_host_reason(&hosts[0], buf, sizeof buf),
                      "refused: TLS: the server refused our certificate");
  failed(0, GEXEC_ESTATUS, GEXEC_STATUS_NOT_FOUND, "nope: not found", 0);
  assert_string_equal(gxc_host_reason(&hosts[0], buf, sizeof buf),
                      "command not found: nope: not found");
  failed(0, GEXEC_ESTATUS, GEXEC_STATUS_PERMISSION_DENIED, "x: denied", 0);
  assert_string_equal(gxc_host_reason(&hosts[0], buf, sizeof buf),
                      "cannot execute: x: denied");
  exited(0, 0);
  assert_string_equal(gxc_host_reason(&hosts[0], buf, sizeof buf), "");
  release(1);
}

static void gathered(void **state) {
  gxc_out out = mem(), err = mem();
  (void)state;
  reset(6);
  for (size_t i = 0; i < 4; i++) {
    output(i, "Linux\n", "");
    exited(i, 0);
  }
  output(2, "", "warn\n"); /* n03: same stdout, a stderr line */
  output(4, "BSD", "");    /* n05: no final newline */
  exited(4, 0);
  failed(5, GEXEC_ECONNECT, 0, "connection refused", 0);
  assert_int_equal(gxc_fleet_gather(hosts, 6, 0, &out, &err), 0);
  assert_string_equal(text(&out),
                      "---------------\n"
                      "n[01-02,04] (3)\n"
                      "---------------\n"
                      "Linux\n"
                      "---------------\n"
                      "n03 (1)\n"
                      "---------------\n"
                      "Linux\n"
                      "---------------\n"
                      "n05 (1)\n"
                      "---------------\n"
                      "BSD\n");
  assert_string_equal(text(&err), "n03: warn\n");
  release(6);
}

/* The same output with another status is another group. */
/* -b on many hosts whose outputs all differ (`hostname`): grouping is
 * linear in memory. It used to give each new group room for every host
 * (n * n indexes: 1.1 GB of address space for 12,000 hosts), so under a
 * 512 MiB address-space limit the gathered output was lost. The limit is
 * not set under ASan, whose shadow memory needs terabytes of it. */
#define MANY 12000
#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
static void gathered_many_distinct(void **state) {
  (void)state;
  gxc_host *many = calloc(MANY, sizeof *many);
  char(*nm)[16] = calloc(MANY, 16);
  assert_non_null(many);
  assert_non_null(nm);
#if !defined(UNDER_ASAN)
  struct rlimit old, lim;
  assert_int_equal(getrlimit(RLIMIT_AS, &old), 0);
  lim = (struct rlimit){512u << 20, old.rlim_max}; /* the soft one only */
  assert_int_equal(setrlimit(RLIMIT_AS, &lim), 0);
#endif
  for (size_t i = 0; i < MANY; i++) {
    snprintf(nm[i], 16, "h%05u", (unsigned)i % 100000);
    many[i].name = many[i].address = nm[i];
    many[i].out_fd[0] = many[i].out_fd[1] = -1;
    gexec_exit e = {.exit_code = 0};
    gxc_host_set_exit(&many[i], &e);
    char line[24];
    int n = snprintf(line, sizeof line, "%s\n", nm[i]);
    gxc_capture_add(&many[i].cap[0], (const uint8_t *)line, (size_t)n);
  }
  gxc_out out = mem(), err = mem();
  assert_int_equal(gxc_fleet_gather(many, MANY, 0, &out, &err), 0);
  gxc_out_free(&out);
  /* each host its own group: "---------------\nh00042 (1)\n"
   * "---------------\nh00042\n", 50 bytes, in the hosts' order */
  static char got[MANY * 50 + 1];
  assert_int_equal(pread(out.fd, got, sizeof got, 0), MANY * 50);
  close(out.fd);
  assert_memory_equal(got + 42 * 50,
                      "---------------\nh00042 (1)\n---------------\n"
                      "h00042\n", 50);
  assert_string_equal(text(&err), "");
#if !defined(UNDER_ASAN)
  assert_int_equal(setrlimit(RLIMIT_AS, &old), 0);
#endif
  for (size_t i = 0; i < MANY; i++) gxc_host_release(&many[i]);
  free(many);
  free(nm);
}

static void gathered_by_status(void **state) {
  gxc_out out = mem(), err = mem();
  (void)state;
  reset(3);
  for (size_t i = 0; i < 3; i++) output(i, "x\n", "");
  exited(0, 0);
  exited(1, 2);
  exited(2, 0);
  assert_int_equal(gxc_fleet_gather(hosts, 3, 0, &out, &err), 0);
  assert_string_equal(text(&out),
                      "---------------\nn[01,03] (2)\n---------------\nx\n"
                      "---------------\nn02 (1)\n---------------\nx\n");
  text(&err);
  release(3);
}

static void diffs(void **state) {
  gxc_out out = mem(), err = mem();
  (void)state;
  reset(5);
  for (size_t i = 0; i < 5; i++) {
    output(i, i == 3 ? "a\nB\nc\n" : "a\nb\nc\n", i == 4 ? "oops\n" : "");
    exited(i, 0);
  }
  assert_int_equal(gxc_fleet_gather(hosts, 5, 1, &out, &err), 0);
  assert_string_equal(text(&out),
                      "--- n[01-03] (3 hosts)\n"
                      "+++ n04 (1 host)\n"
                      "@@ -1,3 +1,3 @@\n"
                      " a\n"
                      "-b\n"
                      "+B\n"
                      " c\n"
                      "--- n[01-03] (3 hosts) (stderr)\n"
                      "+++ n05 (1 host) (stderr)\n"
                      "@@ -0,0 +1 @@\n"
                      "+oops\n");
  assert_string_equal(text(&err), "");
  release(5);
}

static void json_document(void **state) {
  (void)state;
  static const char *const argv[] = {"uname", "-n", NULL};
  reset(3);
  output(0, "n01\n", "");
  exited(0, 0);
  hosts[0].run_id = 7;
  snprintf(hosts[0].identity, sizeof hosts[0].identity, "node01.test");
  killed(1, 15, 1, 1000);
  failed(2, GEXEC_ECONNECT, 0, "connection refused", 0);
  json_object *doc = gxc_fleet_json(hosts, 3, argv, 1234);
  assert_non_null(doc);
  size_t len;
  const char *t = json_object_to_json_string_ext(
      json_object_object_get(doc, "summary"), JSON_C_TO_STRING_PLAIN);
  (void)len;
  assert_string_equal(t,
                      "{\"hosts\":3,\"ok\":1,\"failed\":0,\"timed_out\":1,"
                      "\"unreachable\":1,\"refused\":0,\"max_exit_code\":255,"
                      "\"wall_time_us\":1234}");
  json_object *arr = json_object_object_get(doc, "hosts");
  assert_int_equal(json_object_array_length(arr), 3);
  json_object *h0 = json_object_array_get_idx(arr, 0);
  static const char *const keys[] = {
      "target", "argv", "exit_code", "signal", "core_dumped", "timed_out",
      "oom_killed", "output_truncated", "pid", "run_id", "user_time_us",
      "system_time_us", "max_rss_kb", "wall_time_us", "isolation", "stdout",
      "stderr", "error", "address", "identity", NULL};
  size_t nkeys = 0;
  json_object_object_foreach(h0, k, v) {
    (void)v;
    assert_string_equal(k, keys[nkeys]);
    nkeys++;
  }
  assert_null(keys[nkeys]);
  assert_string_equal(
      json_object_get_string(json_object_object_get(h0, "stdout")), "n01\n");
  assert_string_equal(
      json_object_get_string(json_object_object_get(h0, "identity")),
      "node01.test");
  assert_int_equal(json_object_get_int(json_object_object_get(h0, "run_id")),
                   7);
  json_object *h1 = json_object_array_get_idx(arr, 1);
  assert_true(json_object_get_boolean(json_object_object_get(h1, "timed_out")));
  assert_null(json_object_object_get(h1, "identity"));
  json_object *h2 = json_object_array_get_idx(arr, 2);
  json_object *e2 = json_object_object_get(h2, "error");
  assert_string_equal(
      json_object_get_string(json_object_object_get(e2, "message")),
      "connection refused");
  assert_null(json_object_object_get(h2, "exit_code"));
  json_object_put(doc);
  release(3);
}

static void capture_bound(void **state) {
  gxc_capture c = {0};
  static uint8_t chunk[1 << 20];
  (void)state;
  for (int i = 0; i < 16; i++)
    assert_int_equal(gxc_capture_add(&c, chunk, sizeof chunk), 0);
  assert_int_equal(c.len, GXC_FLEET_CAPTURE_MAX);
  assert_int_equal(c.truncated, 0);
  assert_int_equal(gxc_capture_add(&c, chunk, 1), 1);
  assert_int_equal(c.truncated, 1);
  assert_int_equal(c.len, GXC_FLEET_CAPTURE_MAX);
  free(c.buf);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(statuses),      cmocka_unit_test(summary_lines),
      cmocka_unit_test(summary_escapes),
      cmocka_unit_test(gathered_many_distinct),
      cmocka_unit_test(reasons),       cmocka_unit_test(gathered),
      cmocka_unit_test(gathered_by_status), cmocka_unit_test(diffs),
      cmocka_unit_test(json_document), cmocka_unit_test(capture_bound),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
