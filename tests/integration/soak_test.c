/* Integration: the short version of the §6 soak benchmark (bench/soak.c).
 * A daemon of its own serves a mix of runs in every profile and clients
 * SIGKILLed mid-stream whose runs leave setsid() escapees; afterwards it
 * holds exactly the descriptors it held before, no zombies, no run
 * cgroups, no process of the soak anywhere, and its RSS came back. */
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
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

enum { RUNS = 300, KILLS = 15, THREADS = 4, IO = 64 * 1024 };

static char mark[32], escapee[32], instance[64];
static gxt_daemon d;
static gexec_conn *conn;
static const char *const profiles[] = {"host", "baseline", "restricted"};
static atomic_int next_run, failures;

static void *mix(void *arg) {
  static char in[IO];
  const char *const quiet[] = {"true", mark, NULL};
  const char *const out[] = {"sh", "-c", "head -c 65536 /dev/zero", mark,
                             NULL};
  const char *const echo[] = {"sh", "-c", "cat", mark, NULL};
  int i, limit = *(int *)arg;
  while ((i = atomic_fetch_add(&next_run, 1)) < limit) {
    gexec_spec s = {.profile = profiles[(i / 3) % 3], .stdin_null = 1};
    gexec_run_opts io = {0};
    s.argv = i % 3 == 0 ? quiet : i % 3 == 1 ? out : echo;
    if (i % 3 == 2) {
      s.stdin_null = 0;
      io.stdin_data = in;
      io.stdin_len = IO;
    }
    gexec_result r;
    gexec_error e;
    if (gexec_run(conn, &s, &io, &r, &e) != GEXEC_OK) {
      atomic_fetch_add(&failures, 1);
      continue;
    }
    if (r.exit.exit_code || r.exit.signal || r.out_len != (i % 3 ? IO : 0u))
      atomic_fetch_add(&failures, 1);
    gexec_result_free(&r);
  }
  return NULL;
}

static void run_mix(int n) {
  pthread_t t[THREADS];
  atomic_store(&next_run, 0);
  for (int i = 0; i < THREADS; i++) pthread_create(&t[i], NULL, mix, &n);
  for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
}

/* `gexec run` clients whose runs stream output and leave an escapee,
 * each SIGKILLed once its output flows. */
static void kill_clients(int n) {
  char script[128];
  snprintf(script, sizeof script, "setsid sleep %s & exec yes", escapee);
  for (int i = 0; i < n; i++) {
    int out;
    char byte;
    pid_t pid = gxt_cli_run(&d, ARGV("--profile", profiles[i % 3], "--", "sh",
                                     "-c", script, mark), &out);
    assert_int_equal(read(out, &byte, 1), 1); /* mid-stream */
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    close(out);
  }
}

/* The daemon back to idle: @p fds descriptors, nothing of the soak left;
 * then a second and a half for its heap trim. */
static gxt_health settle(int fds) {
  long long until = gxt_now_ms() + 30000;
  gxt_health h;
  for (;;) {
    h = gxt_health_of(d.pid, instance, mark);
    int idle = h.fds <= fds && !h.zombies && !h.leaves && !h.survivors;
    if (idle || gxt_now_ms() > until) break;
    struct timespec ts = {0, 20000000};
    nanosleep(&ts, NULL);
  }
  struct timespec trim = {1, 500000000};
  nanosleep(&trim, NULL);
  h = gxt_health_of(d.pid, instance, mark);
  return h;
}

static void test_soak_leaves_daemon_flat(void **state) {
  (void)state;
  snprintf(mark, sizeof mark, "gxt-soak-%d", (int)getpid());
  snprintf(escapee, sizeof escapee, "87%05d.5", (int)getpid() % 100000);
  snprintf(instance, sizeof instance, "gxt-soak-%d", (int)getpid());
  char flag[96];
  snprintf(flag, sizeof flag, "--instance=%s", instance);
  gxt_daemon_start(&d, ARGV(flag, "--kill-grace=300ms"));
  conn = gxt_connect(&d);
  run_mix(60); /* warm-up: the pools gRPC grows on first use */
  kill_clients(3);
  gxt_health before = settle(1 << 30);
  run_mix(RUNS);
  kill_clients(KILLS);
  gxt_health after = settle(before.fds);
  print_message("fds %d -> %d, threads %d -> %d, RSS %ld -> %ld KiB\n",
                before.fds, after.fds, before.threads, after.threads,
                before.rss_kb, after.rss_kb);
  assert_int_equal(atomic_load(&failures), 0);
  assert_int_equal(after.fds, before.fds);
  assert_int_equal(after.zombies, 0);
  assert_int_equal(after.leaves, 0);
  assert_int_equal(after.survivors, 0);
  assert_true(after.threads <= before.threads + 2); /* gRPC's pools */
  if (after.rss_kb - before.rss_kb > gxt_rss_budget_kb(8 * 1024))
    fail_msg("daemon RSS grew by %ld KiB", after.rss_kb - before.rss_kb);
  gexec_conn_close(conn);
  assert_int_equal(gxt_daemon_stop(&d), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_soak_leaves_daemon_flat),
  };
  return cmocka_run_group_tests_name("integration/soak", tests, NULL, NULL);
}
