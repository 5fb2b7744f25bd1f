/* Integration: the streaming handle against a real gexecd. Signals,
 * cancel and deadline killing the whole tree, backpressure in both
 * directions with bounded daemon memory, live streaming, and many
 * concurrent runs over one connection. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/integration/harness.h"

#define daemon_ gxt_group_daemon

/* The documented per-stream bounds (README), with room for gRPC's own
 * per-stream state. */
#define GXT_STDIN_KB_PER_STREAM 1536
#define GXT_OUTPUT_KB_PER_STREAM 1280
#define conn gxt_group_conn

static int setup(void **state) {
  (void)state;
  static const char *const args[] = {"--kill-grace=300ms", NULL};
  gxt_group_start(args);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  gxt_group_stop();
  return 0;
}

static gexec_proc *start(const gexec_spec *spec) {
  gexec_proc *p;
  gexec_error err;
  if (gexec_proc_start(conn, spec, &p, &err) != GEXEC_OK)
    fail_msg("start: %s", err.message);
  return p;
}

/* Reads stdout until @p n bytes arrived; returns them NUL-terminated. */
static char *read_n(gexec_proc *p, size_t n) {
  char *buf = calloc(1, n + 1);
  size_t got = 0;
  gexec_event ev;
  gexec_error err;
  while (got < n) {
    assert_int_equal(gexec_proc_read(p, &ev, 30000, &err), GEXEC_OK);
    if (ev.type != GEXEC_EV_STDOUT)
      fail_msg("expected stdout, got event %d: '%.*s' (exit %d signal %d)",
               ev.type, (int)ev.len, ev.data ? (const char *)ev.data : "",
               ev.exit.exit_code, ev.exit.signal);
    assert_true(got + ev.len <= n);
    memcpy(buf + got, ev.data, ev.len);
    got += ev.len;
  }
  return buf;
}

static void test_signal_message_reaches_run(void **state) {
  (void)state;
  gexec_spec spec = {.argv = ARGV("sh", "-c", "echo ready; exec sleep 60"),
                     .stdin_null = 1};
  gexec_proc *p = start(&spec);
  free(read_n(p, 6));
  gexec_error err;
  assert_int_equal(gexec_proc_signal(p, SIGUSR1, &err), GEXEC_OK);
  gexec_exit x;
  assert_int_equal(gexec_proc_wait(p, &x, &err), GEXEC_OK);
  assert_int_equal(x.signal, SIGUSR1);
  assert_false(x.timed_out);
  gexec_proc_free(p);
}

/* A signal sent right after `started` may reach the launcher before the
 * command exists: it must still end up at the command. */
static void test_signal_right_after_start(void **state) {
  (void)state;
  const char *profiles[] = {"host", "baseline", "restricted"};
  for (int i = 0; i < 30; i++) {
    gexec_spec spec = {.argv = ARGV("sleep", "30"), .stdin_null = 1,
                       .profile = profiles[i % 3]};
    gexec_proc *p = start(&spec);
    gexec_error err;
    assert_int_equal(gexec_proc_signal(p, SIGUSR1, &err), GEXEC_OK);
    gexec_exit x;
    if (gexec_proc_wait(p, &x, &err) != GEXEC_OK) fail_msg("%s run %d: %s", profiles[i % 3], i, err.message);
    if (x.signal != SIGUSR1)
      fail_msg("%s run %d: signal %d, exit %d", profiles[i % 3], i, x.signal,
               x.exit_code);
    gexec_proc_free(p);
  }
}

static void test_trapped_signal_and_exit_code(void **state) {
  (void)state;
  gexec_spec spec = {
      .argv = ARGV("sh", "-c",
                   "trap 'echo got-int; exit 5' INT; echo ready;"
                   " while :; do sleep 0.05; done")};
  gexec_proc *p = start(&spec);
  free(read_n(p, 6));
  gexec_error err;
  assert_int_equal(gexec_proc_signal(p, SIGINT, &err), GEXEC_OK);
  char *s = read_n(p, 8);
  assert_string_equal(s, "got-int\n");
  free(s);
  gexec_exit x;
  assert_int_equal(gexec_proc_wait(p, &x, &err), GEXEC_OK);
  assert_int_equal(x.exit_code, 5);
  assert_int_equal(x.signal, 0);
  gexec_event ev;
  assert_int_equal(gexec_proc_read(p, &ev, 0, &err), GEXEC_ECLOSED);
  gexec_proc_free(p);
}

static void test_invalid_signal_refused_locally(void **state) {
  (void)state;
  gexec_spec spec = {.argv = ARGV("true"), .stdin_null = 1};
  gexec_proc *p = start(&spec);
  gexec_error err;
  assert_int_equal(gexec_proc_signal(p, 99, &err), GEXEC_EINVAL);
  assert_non_null(strstr(err.message, "99"));
  gexec_exit x;
  assert_int_equal(gexec_proc_wait(p, &x, &err), GEXEC_OK);
  assert_int_equal(x.exit_code, 0);
  gexec_proc_free(p);
}

/* A tree: the shell, a child that ignores TERM and a grandchild in a
 * subshell; prints their pids. */
/* A tree: the shell, a child that ignores TERM, and a grandchild in a
 * subshell that called setsid; found on the host by their markers. */
static const char *const tree_argv[] = {
    "sh", "-c",
    "sh -c 'trap \"\" TERM; sleep 60.21' & (setsid sleep 60.22; :) &"
    " echo ready; wait", NULL};

static void read_tree(gexec_proc *p, pid_t *a, pid_t *b) {
  char *s = read_n(p, 6);
  assert_string_equal(s, "ready\n");
  free(s);
  *a = gxt_wait_pid_by_arg("60.21", 10000);
  *b = gxt_wait_pid_by_arg("60.22", 10000);
  assert_true(*a > 0 && *b > 0);
}

static void test_cancel_kills_tree(void **state) {
  (void)state;
  gexec_spec spec = {.argv = tree_argv, .stdin_null = 1};
  gexec_proc *p = start(&spec);
  pid_t main_pid = (pid_t)gexec_proc_pid(p), a, b;
  read_tree(p, &a, &b);
  gexec_proc_cancel(p);
  gexec_exit x;
  gexec_error err;
  assert_int_equal(gexec_proc_wait(p, &x, &err), GEXEC_ESTATUS);
  assert_int_equal(err.status, GEXEC_STATUS_CANCELLED);
  gexec_proc_free(p);
  assert_true(gxt_wait_pid_gone(a, 10000));
  assert_true(gxt_wait_pid_gone(b, 10000));
  assert_true(gxt_wait_pid_gone(main_pid, 10000));
}

static void test_free_without_wait_kills_tree(void **state) {
  (void)state;
  gexec_spec spec = {.argv = tree_argv, .stdin_null = 1};
  gexec_proc *p = start(&spec);
  pid_t a, b;
  read_tree(p, &a, &b);
  gexec_proc_free(p); /* like a client that disconnects */
  assert_true(gxt_wait_pid_gone(a, 10000));
  assert_true(gxt_wait_pid_gone(b, 10000));
}

static void test_deadline_kills_tree(void **state) {
  (void)state;
  gexec_spec spec = {.argv = tree_argv, .stdin_null = 1, .deadline_ms = 1500};
  gexec_proc *p = start(&spec);
  pid_t a, b;
  read_tree(p, &a, &b);
  gexec_exit x;
  gexec_error err;
  assert_int_equal(gexec_proc_wait(p, &x, &err), GEXEC_ESTATUS);
  assert_int_equal(err.status, GEXEC_STATUS_DEADLINE_EXCEEDED);
  gexec_proc_free(p);
  assert_true(gxt_wait_pid_gone(a, 10000));
  assert_true(gxt_wait_pid_gone(b, 10000));
}

static void test_output_streams_before_exit(void **state) {
  (void)state;
  gexec_spec spec = {.argv = ARGV("sh", "-c", "echo first; read x; echo $x")};
  gexec_proc *p = start(&spec);
  char *s = read_n(p, 6); /* arrives while the run waits for stdin */
  assert_string_equal(s, "first\n");
  free(s);
  gexec_error err;
  assert_int_equal(gexec_proc_write(p, "second\n", 7, &err), GEXEC_OK);
  assert_int_equal(gexec_proc_close_stdin(p, &err), GEXEC_OK);
  assert_int_equal(gexec_proc_write(p, "x", 1, &err), GEXEC_ECLOSED);
  s = read_n(p, 7);
  assert_string_equal(s, "second\n");
  free(s);
  gexec_exit x;
  assert_int_equal(gexec_proc_wait(p, &x, &err), GEXEC_OK);
  assert_int_equal(x.exit_code, 0);
  gexec_proc_free(p);
}

/* Polls @p value until it stops changing for 500 ms (bounded). */
static long long settle(long long (*get)(void *), void *arg) {
  long long last = -1, stable_since = gxt_now_ms(),
            until = gxt_now_ms() + 60000;
  for (;;) {
    long long v = get(arg);
    if (v != last) {
      last = v;
      stable_since = gxt_now_ms();
    } else if (gxt_now_ms() - stable_since > 500 || gxt_now_ms() > until) {
      return v;
    }
    struct timespec ts = {0, 20000000};
    nanosleep(&ts, NULL);
  }
}

static long long proc_wchar(void *arg) {
  char path[64], line[128];
  long long v = -1;
  snprintf(path, sizeof path, "/proc/%d/io", *(int *)arg);
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "wchar: %lld", &v) == 1) break;
  fclose(f);
  return v;
}

/* A client that dies while its output is backed up (a send blocked in
 * flow control) gets its run stopped like any disconnect: SIGTERM, then
 * kill_grace_ms to clean up, then SIGKILL. Here the run's TERM trap
 * must get to write its file. */
static void test_dead_client_with_backed_up_output_gets_grace(void **state) {
  (void)state;
  char file[256], script[512], got[64] = "";
  const char *t = getenv("TEST_TMPDIR");
  snprintf(file, sizeof file, "%s/bye-%d", t && *t ? t : "/tmp",
           (int)getpid());
  unlink(file);
  snprintf(script, sizeof script,
           "trap 'sleep 1; echo bye > %s; exit 3' TERM; yes 61.93 & wait",
           file);
  /* a client (the CLI, its own process) whose stdout nobody reads: it
   * stops reading the stream, so the daemon's sends block */
  int out;
  pid_t client = gxt_cli_run(&daemon_, ARGV("--profile", "host", "--kill-grace",
                                            "5", "--", "sh", "-c", script),
                             &out);
  assert_true(gxt_wait_pid_by_arg("61.93", 10000) > 0);
  /* the writer stalls once the daemon's send is blocked */
  pid_t yes = gxt_find_pid_by_arg("61.93");
  assert_true(settle(proc_wchar, &yes) > 0);
  kill(client, SIGKILL);
  waitpid(client, NULL, 0);
  long long until = gxt_now_ms() + 10000;
  while (!got[0] && gxt_now_ms() < until) {
    FILE *f = fopen(file, "r");
    if (f) {
      if (!fgets(got, sizeof got, f)) got[0] = '\0';
      fclose(f);
    }
    if (!got[0]) {
      struct timespec ts = {0, 10000000};
      nanosleep(&ts, NULL);
    }
  }
  assert_string_equal(got, "bye\n");
  assert_true(gxt_wait_arg_gone("61.93", 10000));
  close(out);
  unlink(file);
}

static void test_slow_reader_bounds_daemon_memory(void **state) {
  (void)state;
  const long long total = 256ll << 20;
  long base_rss = gxt_rss_kb(daemon_.pid);
  gexec_spec spec = {.argv = ARGV("head", "-c", "268435456", "/dev/zero"),
                     .stdin_null = 1};
  gexec_proc *p = start(&spec);
  int pid = (int)gxt_wait_pid_by_arg("268435456", 10000);
  assert_true(pid > 0);
  /* do not read: the writer must stall, far short of the total */
  long long written = settle(proc_wchar, &pid);
  assert_true(written > 0);
  /* the client's HTTP/2 window (grown by gRPC's BDP probe, more on a
   * loaded machine) holds some: measured 6-12 MiB idle, >64 MiB loaded */
  assert_true(written < total / 2);
  long rss = gxt_rss_kb(daemon_.pid);
  if (rss - base_rss > gxt_rss_budget_kb(16 * 1024))
    fail_msg("daemon RSS grew by %ld KiB with a stalled reader",
             rss - base_rss);
  /* now read everything: every byte arrives */
  long long got = 0;
  gexec_event ev;
  gexec_error err;
  while (gexec_proc_read(p, &ev, 60000, &err) == GEXEC_OK &&
         ev.type != GEXEC_EV_EXIT)
    got += (long long)ev.len;
  assert_int_equal(ev.type, GEXEC_EV_EXIT);
  assert_int_equal(got, total);
  assert_int_equal(ev.exit.exit_code, 0);
  gexec_proc_free(p);
}

typedef struct {
  gexec_proc *p;
  long long chunks;
  int last_rc;
} writer_arg;

static long long writer_chunks(void *arg) {
  return __atomic_load_n(&((writer_arg *)arg)->chunks, __ATOMIC_SEQ_CST);
}

static void *writer(void *arg) {
  writer_arg *w = arg;
  static char chunk[1 << 20];
  gexec_error err;
  while ((w->last_rc = gexec_proc_write(w->p, chunk, sizeof chunk, &err)) ==
             GEXEC_OK &&
         w->chunks < 4096)
    __atomic_add_fetch(&w->chunks, 1, __ATOMIC_SEQ_CST);
  return NULL;
}

static void test_stdin_backpressure(void **state) {
  (void)state;
  long base_rss = gxt_rss_kb(daemon_.pid);
  gexec_spec spec = {.argv = ARGV("sleep", "60")}; /* never reads stdin */
  writer_arg w = {.p = start(&spec)};
  pthread_t t;
  pthread_create(&t, NULL, writer, &w);
  long long chunks = settle(writer_chunks, &w);
  assert_true(chunks < 64); /* blocked, not 4 GiB buffered somewhere */
  long rss = gxt_rss_kb(daemon_.pid);
  if (rss - base_rss > gxt_rss_budget_kb(16 * 1024))
    fail_msg("daemon RSS grew by %ld KiB with a child not reading stdin",
             rss - base_rss);
  gexec_proc_cancel(w.p);
  pthread_join(t, NULL);
  assert_int_equal(w.last_rc, GEXEC_ECLOSED);
  gexec_proc_free(w.p);
}

static long long total_chunks(void *arg) {
  writer_arg *w = arg;
  long long n = 0;
  for (int i = 0; i < 100; i++) n += writer_chunks(&w[i]);
  return n;
}

static long long daemon_rss(void *arg) { return gxt_rss_kb(*(pid_t *)arg); }

/* Per-stream daemon memory, measured across 100 streams on a daemon of
 * their own (README "Flow control and bounds"): stdin pushed at runs
 * that never read it, then output nobody reads. */
static void test_per_stream_memory_100_streams(void **state) {
  (void)state;
  enum { N = 100 };
  gxt_daemon d;
  gxt_daemon_start(&d, NULL);
  gexec_conn *c = gxt_connect(&d);
  gexec_proc *warm;
  gexec_error err;
  gexec_spec ws = {.argv = ARGV("true"), .stdin_null = 1};
  assert_int_equal(gexec_proc_start(c, &ws, &warm, &err), GEXEC_OK);
  gexec_proc_free(warm);
  long base = settle(daemon_rss, &d.pid);
  static writer_arg w[N];
  pthread_t t[N];
  gexec_spec in = {.argv = ARGV("sleep", "60")}; /* never reads stdin */
  for (int i = 0; i < N; i++) {
    memset(&w[i], 0, sizeof w[i]);
    assert_int_equal(gexec_proc_start(c, &in, &w[i].p, &err), GEXEC_OK);
    pthread_create(&t[i], NULL, writer, &w[i]);
  }
  settle(total_chunks, w);
  long in_kb = settle(daemon_rss, &d.pid) - base;
  print_message("stdin not read: %ld KiB per stream\n", in_kb / N);
  for (int i = 0; i < N; i++) gexec_proc_cancel(w[i].p);
  for (int i = 0; i < N; i++) {
    pthread_join(t[i], NULL);
    gexec_proc_free(w[i].p);
  }
  base = settle(daemon_rss, &d.pid);
  gexec_proc *out[N];
  gexec_spec o = {.argv = ARGV("yes", "61.95"), .stdin_null = 1};
  for (int i = 0; i < N; i++)
    assert_int_equal(gexec_proc_start(c, &o, &out[i], &err), GEXEC_OK);
  long out_kb = settle(daemon_rss, &d.pid) - base;
  print_message("output not read: %ld KiB per stream\n", out_kb / N);
  for (int i = 0; i < N; i++) {
    gexec_proc_cancel(out[i]);
    gexec_proc_free(out[i]);
  }
  gexec_conn_close(c);
  assert_int_equal(gxt_daemon_stop(&d), 0);
  if (in_kb / N > gxt_rss_budget_kb(GXT_STDIN_KB_PER_STREAM))
    fail_msg("stdin: %ld KiB per stream", in_kb / N);
  if (out_kb / N > gxt_rss_budget_kb(GXT_OUTPUT_KB_PER_STREAM))
    fail_msg("output: %ld KiB per stream", out_kb / N);
}

static void test_many_concurrent_runs_one_connection(void **state) {
  (void)state;
  enum { N = 100 };
  gexec_proc *ps[N];
  gexec_spec spec = {.argv = ARGV("sh", "-c", "read x; echo got-$x")};
  for (int i = 0; i < N; i++) ps[i] = start(&spec);
  gexec_error err;
  for (int i = 0; i < N; i++) {
    char line[32];
    int n = snprintf(line, sizeof line, "%d\n", i);
    assert_int_equal(gexec_proc_write(ps[i], line, (size_t)n, &err), GEXEC_OK);
  }
  for (int i = N - 1; i >= 0; i--) {
    char expect[32];
    snprintf(expect, sizeof expect, "got-%d\n", i);
    char *s = read_n(ps[i], strlen(expect));
    assert_string_equal(s, expect);
    free(s);
    gexec_exit x;
    assert_int_equal(gexec_proc_wait(ps[i], &x, &err), GEXEC_OK);
    assert_int_equal(x.exit_code, 0);
    gexec_proc_free(ps[i]);
  }
}

/* Review finding: input arriving after exited was being sent used the
 * freed child (heap use-after-free, visible under ASan). */
static void test_input_after_exit_is_ignored(void **state) {
  (void)state;
  size_t n = 64u << 20;
  char *big = calloc(1, n);
  gexec_spec spec = {.argv = ARGV("true")}; /* never reads its stdin */
  gexec_run_opts o = {.stdin_data = big, .stdin_len = n};
  gexec_result r;
  gexec_error err;
  assert_int_equal(gexec_run(conn, &spec, &o, &r, &err), GEXEC_OK);
  assert_int_equal(r.exit.exit_code, 0);
  gexec_result_free(&r);
  free(big);
  for (int i = 0; i < 50; i++) { /* signals racing the end of runs */
    gexec_spec t = {.argv = ARGV("true"), .stdin_null = 1};
    gexec_proc *p = start(&t);
    while (gexec_proc_signal(p, SIGWINCH, &err) == GEXEC_OK) {
    }
    gexec_exit x;
    assert_int_equal(gexec_proc_wait(p, &x, &err), GEXEC_OK);
    gexec_proc_free(p);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_signal_message_reaches_run),
      cmocka_unit_test(test_signal_right_after_start),
      cmocka_unit_test(test_trapped_signal_and_exit_code),
      cmocka_unit_test(test_invalid_signal_refused_locally),
      cmocka_unit_test(test_cancel_kills_tree),
      cmocka_unit_test(test_free_without_wait_kills_tree),
      cmocka_unit_test(test_deadline_kills_tree),
      cmocka_unit_test(test_output_streams_before_exit),
      cmocka_unit_test(test_slow_reader_bounds_daemon_memory),
      cmocka_unit_test(test_dead_client_with_backed_up_output_gets_grace),
      cmocka_unit_test(test_stdin_backpressure),
      cmocka_unit_test(test_per_stream_memory_100_streams),
      cmocka_unit_test(test_many_concurrent_runs_one_connection),
      cmocka_unit_test(test_input_after_exit_is_ignored),
  };
  return cmocka_run_group_tests_name("integration/stream", tests, setup,
                                     teardown);
}
