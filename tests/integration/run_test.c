/* Integration: the blocking run against a real gexecd over a unix socket.
 * Exit codes, signals, exact output bytes, stdin, merged order, env, cwd,
 * fds, spawn errors, timeouts and output caps. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/integration/harness.h"

#define daemon_ gxt_group_daemon
#define conn gxt_group_conn

static int setup(void **state) {
  (void)state;
  static const char *const args[] = {"--kill-grace=500ms", NULL};
  gxt_group_start(args);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  gxt_group_stop();
  return 0;
}

static void test_echo_exact_bytes(void **state) {
  (void)state;
  gexec_result r;
  gxt_run(conn, ARGV("echo", "hello", "world"), &r);
  assert_int_equal(r.out_len, 12);
  assert_memory_equal(r.out, "hello world\n", 12);
  assert_int_equal(r.err_len, 0);
  assert_int_equal(r.exit.exit_code, 0);
  assert_int_equal(r.exit.signal, 0);
  assert_false(r.exit.timed_out);
  assert_true(r.exit.pid > 0);
  assert_true(r.exit.wall_time_us > 0);
  gexec_result_free(&r);
}

static void test_exit_code_and_stderr(void **state) {
  (void)state;
  gexec_result r;
  gxt_run(conn, ARGV("sh", "-c", "printf out; printf 'e\\0rr' >&2; exit 42"),
          &r);
  assert_int_equal(r.exit.exit_code, 42);
  assert_int_equal(r.exit.signal, 0);
  assert_int_equal(r.out_len, 3);
  assert_memory_equal(r.out, "out", 3);
  assert_int_equal(r.err_len, 4);
  assert_memory_equal(r.err, "e\0rr", 4);
  gexec_result_free(&r);
}

static void test_killed_by_signal(void **state) {
  (void)state;
  gexec_result r;
  gxt_run(conn, ARGV("sh", "-c", "kill -KILL $$"), &r);
  assert_int_equal(r.exit.signal, SIGKILL);
  assert_false(r.exit.timed_out);
  gexec_result_free(&r);
}

static void test_core_dump_flag_and_signal(void **state) {
  (void)state;
  gexec_result r;
  /* SIGQUIT's default action dumps core; the flag depends on RLIMIT_CORE */
  gxt_run(conn, ARGV("sh", "-c", "kill -QUIT $$"), &r);
  assert_int_equal(r.exit.signal, SIGQUIT);
  gexec_result_free(&r);
}

static void test_binary_stdin_round_trip(void **state) {
  (void)state;
  size_t n = 3 * 1024 * 1024 + 17; /* several chunks, odd size */
  uint8_t *in = malloc(n);
  for (size_t i = 0; i < n; i++) in[i] = (uint8_t)(i * 131 + (i >> 9));
  gexec_spec spec = {.argv = ARGV("cat")};
  gexec_run_opts o = {.stdin_data = in, .stdin_len = n};
  gexec_result r;
  gexec_error err;
  assert_int_equal(gexec_run(conn, &spec, &o, &r, &err), GEXEC_OK);
  assert_int_equal(r.exit.exit_code, 0);
  assert_int_equal(r.out_len, n);
  assert_memory_equal(r.out, in, n);
  gexec_result_free(&r);
  free(in);
}

static void test_empty_stdin_reaches_eof(void **state) {
  (void)state;
  gexec_spec spec = {.argv = ARGV("wc", "-c")};
  gexec_result r;
  gexec_error err;
  assert_int_equal(gexec_run(conn, &spec, NULL, &r, &err), GEXEC_OK);
  assert_string_equal(r.out, "0\n");
  gexec_result_free(&r);
}

static void test_stdin_null(void **state) {
  (void)state;
  gexec_result r;
  gxt_run(conn, ARGV("sh", "-c", "cat; echo rc=$?"), &r);
  assert_string_equal(r.out, "rc=0\n");
  gexec_result_free(&r);
}

static void test_merged_order_is_kept(void **state) {
  (void)state;
  gexec_spec spec = {
      .argv = ARGV("sh", "-c",
                   "i=0; while [ $i -lt 200 ]; do echo o$i; echo e$i >&2;"
                   " i=$((i+1)); done"),
      .stdin_null = 1,
      .stderr_mode = GEXEC_OUT_MERGE};
  gexec_result r;
  gexec_error err;
  assert_int_equal(gexec_run(conn, &spec, NULL, &r, &err), GEXEC_OK);
  char expect[8192];
  size_t k = 0;
  for (int i = 0; i < 200; i++)
    k += (size_t)snprintf(expect + k, sizeof expect - k, "o%d\ne%d\n", i, i);
  assert_int_equal(r.out_len, k);
  assert_memory_equal(r.out, expect, k);
  assert_int_equal(r.err_len, 0);
  gexec_result_free(&r);
}

static void test_discard_modes(void **state) {
  (void)state;
  gexec_spec spec = {.argv = ARGV("sh", "-c", "echo out; echo err >&2"),
                     .stdin_null = 1,
                     .stdout_mode = GEXEC_OUT_DISCARD,
                     .stderr_mode = GEXEC_OUT_PIPE};
  gexec_result r;
  gexec_error err;
  assert_int_equal(gexec_run(conn, &spec, NULL, &r, &err), GEXEC_OK);
  assert_int_equal(r.out_len, 0);
  assert_string_equal(r.err, "err\n");
  gexec_result_free(&r);
}

static void test_env_is_clean_and_requested(void **state) {
  (void)state;
  setenv("GEXEC_TEST_LEAK", "daemon-secret", 1);
  gexec_spec spec = {.argv = ARGV("env"),
                     .env = ARGV("FOO=bar baz", "LANG=C", "EMPTY="),
                     .stdin_null = 1};
  gexec_result r;
  gexec_error err;
  assert_int_equal(gexec_run(conn, &spec, NULL, &r, &err), GEXEC_OK);
  /* exact environment: defaults (LANG overridden) then requested */
  assert_string_equal(r.out,
                      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:"
                      "/usr/bin:/sbin:/bin\nHOME=/root\nFOO=bar baz\n"
                      "LANG=C\nEMPTY=\n");
  gexec_result_free(&r);
}

static void test_cwd(void **state) {
  (void)state;
  gexec_spec spec = {.argv = ARGV("pwd"), .cwd = "/usr/share",
                     .stdin_null = 1};
  gexec_result r;
  gexec_error err;
  assert_int_equal(gexec_run(conn, &spec, NULL, &r, &err), GEXEC_OK);
  assert_string_equal(r.out, "/usr/share\n");
  gexec_result_free(&r);
  spec.cwd = NULL;
  assert_int_equal(gexec_run(conn, &spec, NULL, &r, &err), GEXEC_OK);
  assert_string_equal(r.out, "/\n");
  gexec_result_free(&r);
  /* a relative program is found relative to the run's cwd */
  gexec_spec rel = {.argv = ARGV("./echo", "rel"), .cwd = "/bin",
                    .stdin_null = 1};
  assert_int_equal(gexec_run(conn, &rel, NULL, &r, &err), GEXEC_OK);
  assert_string_equal(r.out, "rel\n");
  gexec_result_free(&r);
}

static void test_only_stdio_fds_open(void **state) {
  (void)state;
  gexec_result r;
  /* ls lists its own fds: 0-2 from the daemon, 3 is its opendir of
   * /proc/self/fd; nothing the daemon had (sockets, epoll, pipes) */
  gxt_run(conn, ARGV("ls", "-1", "/proc/self/fd"), &r);
  assert_string_equal(r.out, "0\n1\n2\n3\n");
  gexec_result_free(&r);
}

/* gexecd blocks SIGTERM, SIGINT, SIGHUP and SIGCHLD in all its threads
 * (server/signals.h): a run must not inherit that mask, in any profile,
 * or a SIGTERM from its timeout or its client would wait, blocked. */
static void test_no_blocked_signals(void **state) {
  (void)state;
  static const char *const profiles[] = {"host", "baseline", "restricted"};
  for (size_t i = 0; i < sizeof profiles / sizeof *profiles; i++) {
    gexec_spec spec = {.argv = ARGV("grep", "^SigBlk", "/proc/self/status"),
                       .stdin_null = 1, .profile = profiles[i]};
    gexec_result r;
    gexec_error err;
    if (gexec_run(conn, &spec, NULL, &r, &err) != GEXEC_OK)
      fail_msg("%s: %s", profiles[i], err.message);
    if (strcmp(r.out, "SigBlk:\t0000000000000000\n") != 0)
      fail_msg("%s: %s", profiles[i], r.out);
    gexec_result_free(&r);
  }
}

static void expect_status(const gexec_spec *spec, int status,
                          const char *needle) {
  gexec_result r;
  gexec_error err;
  assert_int_equal(gexec_run(conn, spec, NULL, &r, &err), GEXEC_ESTATUS);
  assert_int_equal(err.status, status);
  if (!strstr(err.message, needle))
    fail_msg("message '%s' lacks '%s'", err.message, needle);
}

static void test_spawn_errors(void **state) {
  (void)state;
  gexec_spec spec = {.argv = ARGV("no-such-program-xyz"), .stdin_null = 1};
  expect_status(&spec, GEXEC_STATUS_NOT_FOUND, "no-such-program-xyz");
  char plain[] = "/tmp/gxt-plain-XXXXXX"; /* a file without x bits */
  int fd = mkstemp(plain);
  assert_true(fd >= 0);
  close(fd);
  chmod(plain, 0644);
  spec.argv = (const char *const[]){plain, NULL};
  expect_status(&spec, GEXEC_STATUS_PERMISSION_DENIED, "permission denied");
  unlink(plain);
  spec.argv = ARGV("/usr");
  expect_status(&spec, GEXEC_STATUS_PERMISSION_DENIED, "/usr");
  spec.argv = ARGV("true");
  spec.cwd = "/nonexistent/dir";
  expect_status(&spec, GEXEC_STATUS_FAILED_PRECONDITION, "does not exist");
  spec.cwd = "relative";
  expect_status(&spec, GEXEC_STATUS_INVALID_ARGUMENT, "absolute");
  spec.cwd = NULL;
  spec.timeout_ms = 365ull * 24 * 3600 * 1000;
  expect_status(&spec, GEXEC_STATUS_INVALID_ARGUMENT, "maximum");
}

static void test_timeout_kills_grandchild_ignoring_term(void **state) {
  (void)state;
  gexec_spec spec = {
      .argv = ARGV("sh", "-c",
                   "trap '' TERM; sh -c 'trap \"\" TERM; sleep 60.11' & "
                   "echo started; sleep 60"),
      .stdin_null = 1,
      .timeout_ms = 300,
      .kill_grace_ms = 200};
  gexec_result r;
  gexec_error err;
  long long t0 = gxt_now_ms();
  assert_int_equal(gexec_run(conn, &spec, NULL, &r, &err), GEXEC_OK);
  assert_true(r.exit.timed_out);
  assert_int_equal(r.exit.signal, SIGKILL); /* TERM was ignored */
  assert_true(r.exit.wall_time_us >= 300000);
  assert_string_equal(r.out, "started\n");
  assert_true(gxt_wait_arg_gone("60.11", 10000));
  assert_true(gxt_now_ms() - t0 < 30000); /* not the 60 s sleeps */
  gexec_result_free(&r);
}

static void test_timeout_term_is_enough(void **state) {
  (void)state;
  gexec_spec spec = {.argv = ARGV("sleep", "60"), .stdin_null = 1,
                     .timeout_ms = 200};
  gexec_result r;
  gexec_error err;
  assert_int_equal(gexec_run(conn, &spec, NULL, &r, &err), GEXEC_OK);
  assert_true(r.exit.timed_out);
  assert_int_equal(r.exit.signal, SIGTERM);
  gexec_result_free(&r);
}

static void test_background_child_does_not_hold_the_run(void **state) {
  (void)state;
  gexec_result r;
  long long t0 = gxt_now_ms();
  gxt_run(conn, ARGV("sh", "-c", "sleep 60.12 & echo bg"), &r);
  assert_int_equal(r.exit.exit_code, 0);
  assert_string_equal(r.out, "bg\n");
  assert_true(gxt_wait_arg_gone("60.12", 10000)); /* killed with the run */
  assert_true(gxt_now_ms() - t0 < 30000);
  gexec_result_free(&r);
}

static void test_setsid_background_neither_holds_nor_survives(void **state) {
  (void)state;
  /* it left the process group and holds stdout: the run still ends at
   * once, and the launcher (PID namespace / subreaper sweep) kills it */
  gexec_result r;
  long long t0 = gxt_now_ms();
  gxt_run(conn, ARGV("sh", "-c", "setsid sleep 60.13 & echo x"), &r);
  assert_string_equal(r.out, "x\n");
  assert_true(gxt_now_ms() - t0 < 30000);
  assert_true(gxt_wait_arg_gone("60.13", 10000));
  gexec_result_free(&r);
}

static void test_max_output_bytes(void **state) {
  (void)state;
  gexec_spec spec = {.argv = ARGV("sh", "-c", "head -c 1000000 /dev/zero"),
                     .stdin_null = 1,
                     .max_output_bytes = 1000};
  gexec_result r;
  gexec_error err;
  assert_int_equal(gexec_run(conn, &spec, NULL, &r, &err), GEXEC_OK);
  assert_int_equal(r.out_len, 1000);
  assert_true(r.exit.output_truncated);
  assert_int_equal(r.exit.exit_code, 0); /* output was drained, not killed */
  gexec_result_free(&r);
}

static void test_rusage_reported(void **state) {
  (void)state;
  gexec_result r;
  gxt_run(conn, ARGV("sh", "-c", "i=0; while [ $i -lt 200000 ]; do "
                                 "i=$((i+1)); done"), &r);
  assert_true(r.exit.user_time_us + r.exit.system_time_us > 1000);
  assert_true(r.exit.max_rss_kb > 100);
  assert_true(r.exit.wall_time_us >= r.exit.user_time_us / 2);
  gexec_result_free(&r);
}

static void test_capture_max_client_side(void **state) {
  (void)state;
  gexec_spec spec = {.argv = ARGV("seq", "1", "1000"), .stdin_null = 1};
  gexec_run_opts o = {.capture_max = 10};
  gexec_result r;
  gexec_error err;
  assert_int_equal(gexec_run(conn, &spec, &o, &r, &err), GEXEC_OK);
  assert_int_equal(r.out_len, 10);
  assert_memory_equal(r.out, "1\n2\n3\n4\n5\n", 10);
  assert_true(r.out_truncated);
  gexec_result_free(&r);
}

/* The "run" field of the daemon's log line for the run whose argv holds
 * @p mark, or 0 if there is none. */
static unsigned long long logged_run_id(const char *mark) {
  char line[4096];
  unsigned long long id = 0;
  FILE *f = fopen(daemon_.log_path, "r");
  assert_non_null(f);
  while (fgets(line, sizeof line, f)) {
    const char *run = strstr(line, "\"run\":");
    if (strstr(line, "\"event\":\"run\"") && strstr(line, mark) && run)
      id = strtoull(run + 6, NULL, 10);
  }
  fclose(f);
  return id;
}

/* Every run has an id: in `started` (gexec_run's exit, the streaming
 * handle), distinct per run, and the one in the daemon's log line. */
static void test_run_ids(void **state) {
  (void)state;
  gexec_result r;
  gexec_error err;
  gexec_proc *p;
  gexec_exit x;
  gxt_run(conn, ARGV("echo", "run-id-mark-one"), &r);
  uint64_t first = r.exit.run_id;
  gexec_result_free(&r);
  gexec_spec spec = {.argv = ARGV("echo", "run-id-mark-two"),
                     .stdin_null = 1};
  assert_int_equal(gexec_proc_start(conn, &spec, &p, &err), GEXEC_OK);
  uint64_t second = gexec_proc_run_id(p);
  assert_int_equal(gexec_proc_wait(p, &x, &err), GEXEC_OK);
  assert_int_equal(x.run_id, second);
  gexec_proc_free(p);
  assert_true(first > 0);
  assert_true(second > 0);
  assert_true(first != second);
  assert_int_equal(logged_run_id("run-id-mark-one"), first);
  assert_int_equal(logged_run_id("run-id-mark-two"), second);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_echo_exact_bytes),
      cmocka_unit_test(test_exit_code_and_stderr),
      cmocka_unit_test(test_killed_by_signal),
      cmocka_unit_test(test_core_dump_flag_and_signal),
      cmocka_unit_test(test_binary_stdin_round_trip),
      cmocka_unit_test(test_empty_stdin_reaches_eof),
      cmocka_unit_test(test_stdin_null),
      cmocka_unit_test(test_merged_order_is_kept),
      cmocka_unit_test(test_discard_modes),
      cmocka_unit_test(test_env_is_clean_and_requested),
      cmocka_unit_test(test_cwd),
      cmocka_unit_test(test_only_stdio_fds_open),
      cmocka_unit_test(test_no_blocked_signals),
      cmocka_unit_test(test_spawn_errors),
      cmocka_unit_test(test_timeout_kills_grandchild_ignoring_term),
      cmocka_unit_test(test_timeout_term_is_enough),
      cmocka_unit_test(test_background_child_does_not_hold_the_run),
      cmocka_unit_test(test_setsid_background_neither_holds_nor_survives),
      cmocka_unit_test(test_max_output_bytes),
      cmocka_unit_test(test_rusage_reported),
      cmocka_unit_test(test_capture_max_client_side),
      cmocka_unit_test(test_run_ids),
  };
  return cmocka_run_group_tests_name("integration/run", tests, setup,
                                     teardown);
}
