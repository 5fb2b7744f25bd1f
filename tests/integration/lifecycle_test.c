/* Integration: daemon-level behaviour. Draining on SIGTERM, the session
 * limit, a flood of 10,000 calls opened at once, health ping, and the
 * daemon still serving afterwards. */
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
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "gexec/v1/exec.pb-c.h"
#include "lib/gx_err.h"
#include "lib/rpc.h"
#include "tests/integration/flood.h"
#include "tests/integration/harness.h"

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
  nanosleep(&ts, NULL);
}

static gexec_proc *start(gexec_conn *c, const gexec_spec *spec) {
  gexec_proc *p;
  gexec_error err;
  if (gexec_proc_start(c, spec, &p, &err) != GEXEC_OK)
    fail_msg("start: %s", err.message);
  return p;
}

static void expect_line(gexec_proc *p, const char *line) {
  gexec_event ev;
  gexec_error err;
  assert_int_equal(gexec_proc_read(p, &ev, 30000, &err), GEXEC_OK);
  if (ev.type != GEXEC_EV_STDOUT)
    fail_msg("expected '%s' on stdout, got event %d '%.*s'", line, ev.type,
             (int)ev.len, ev.data ? (const char *)ev.data : "");
  assert_int_equal(ev.len, strlen(line));
  assert_memory_equal(ev.data, line, ev.len);
}

static void test_ping(void **state) {
  (void)state;
  gxt_daemon d;
  gxt_daemon_start(&d, NULL);
  gexec_conn *c = gxt_connect(&d);
  int64_t rtt = -1;
  gexec_error err;
  assert_int_equal(gexec_ping(c, 5000, &rtt, &err), GEXEC_OK);
  assert_true(rtt > 0);
  gexec_conn_close(c);
  assert_int_equal(gxt_daemon_stop(&d), 0);
}

static void test_drain_on_sigterm(void **state) {
  (void)state;
  gxt_daemon d;
  gxt_daemon_start(&d, ARGV("--kill-grace=10s"));
  gexec_conn *c = gxt_connect(&d);
  gexec_spec spec = {
      .argv = ARGV("sh", "-c",
                   "exec 2>/dev/null; trap 'echo term; read x; exit 3' TERM;"
                   " echo ready;"
                   " while :; do sleep 0.05; done")};
  gexec_proc *p = start(c, &spec);
  expect_line(p, "ready\n");
  kill(d.pid, SIGTERM);
  expect_line(p, "term\n"); /* the run got SIGTERM and is in its grace */
  gexec_error err;
  gexec_result r;
  gexec_spec again = {.argv = ARGV("true"), .stdin_null = 1};
  int rc = gexec_run(c, &again, NULL, &r, &err);
  /* its listener is closed: no new connection, the reason from gRPC */
  assert_int_equal(rc, GEXEC_ECONNECT);
  assert_int_equal(err.status, GEXEC_STATUS_UNAVAILABLE);
  assert_non_null(strstr(err.message, "cannot connect to"));
  assert_int_equal(gexec_proc_write(p, "\n", 1, &err), GEXEC_OK);
  gexec_exit x;
  assert_int_equal(gexec_proc_wait(p, &x, &err), GEXEC_OK);
  assert_int_equal(x.exit_code, 3); /* its own clean exit, reported */
  gexec_proc_free(p);
  gexec_conn_close(c);
  int st;
  assert_int_equal(waitpid(d.pid, &st, 0), d.pid);
  assert_true(WIFEXITED(st));
  assert_int_equal(WEXITSTATUS(st), 0);
}

static void test_session_limit(void **state) {
  (void)state;
  gxt_daemon d;
  gxt_daemon_start(&d, ARGV("--max-sessions=2"));
  gexec_conn *c = gxt_connect(&d);
  gexec_spec spec = {.argv = ARGV("sleep", "60"), .stdin_null = 1};
  gexec_proc *a = start(c, &spec), *b = start(c, &spec), *p;
  gexec_error err;
  assert_int_equal(gexec_proc_start(c, &spec, &p, &err), GEXEC_ESTATUS);
  assert_int_equal(err.status, GEXEC_STATUS_RESOURCE_EXHAUSTED);
  assert_non_null(strstr(err.message, "session limit (2"));
  gexec_proc_free(a);
  gexec_proc_free(b);
  /* the slots come back once those runs were reaped */
  gexec_spec t = {.argv = ARGV("true"), .stdin_null = 1};
  gexec_result r;
  long long until = gxt_now_ms() + 30000;
  while (gexec_run(c, &t, NULL, &r, &err) != GEXEC_OK) {
    assert_int_equal(err.status, GEXEC_STATUS_RESOURCE_EXHAUSTED);
    assert_true(gxt_now_ms() < until);
    sleep_ms(10);
  }
  gexec_result_free(&r);
  gexec_conn_close(c);
  assert_int_equal(gxt_daemon_stop(&d), 0);
}

/* ------------------------------------------------------------- flood */

enum { FLOOD = 10000, FLOOD_LIMIT = 100 };

static void test_flood_of_calls(void **state) {
  (void)state;
  char limit[32];
  snprintf(limit, sizeof limit, "--max-sessions=%d", FLOOD_LIMIT);
  gxt_daemon d;
  gxt_daemon_start(&d, (const char *const[]){limit, NULL});
  gxt_flood *f = gxt_flood_start(&d, ARGV("sleep", "60"), FLOOD);
  gxt_flood_counts n = gxt_flood_counts_of(f);
  assert_int_equal(n.other, 0);
  assert_int_equal(n.started, FLOOD_LIMIT);
  assert_int_equal(n.exhausted, FLOOD - FLOOD_LIMIT);
  /* the daemon still serves others while the runs hold every slot */
  gexec_conn *c = gxt_connect(&d);
  int64_t rtt;
  gexec_error err;
  assert_int_equal(gexec_ping(c, 5000, &rtt, &err), GEXEC_OK);
  long rss = gxt_rss_kb(d.pid);
  if (getenv("GEXEC_TEST_VERBOSE")) printf("flood: daemon RSS %ld KiB\n", rss);
  if (rss > gxt_rss_budget_kb(48 * 1024))
    fail_msg("daemon RSS %ld KiB after a 10,000-call flood", rss);
  gxt_flood_end(f);
  gexec_result r;
  gexec_spec t = {.argv = ARGV("echo", "alive"), .stdin_null = 1};
  long long until = gxt_now_ms() + 30000; /* cancelled runs: reaped async */
  while (gexec_run(c, &t, NULL, &r, &err) != GEXEC_OK) {
    assert_true(gxt_now_ms() < until);
    sleep_ms(20);
  }
  assert_string_equal(r.out, "alive\n");
  gexec_result_free(&r);
  gexec_conn_close(c);
  assert_int_equal(gxt_daemon_stop(&d), 0);
}

/* Waits until @p pid is blocked writing to its pipe (its reader, the
 * daemon, stopped reading: its buffer and the stream's window are full);
 * asserts it. */
static void wait_blocked_writing(pid_t pid) {
  long long until = gxt_now_ms() + 30000;
  char path[64], wchan[64] = "";
  snprintf(path, sizeof path, "/proc/%d/wchan", (int)pid);
  while (!strstr(wchan, "pipe_write") && gxt_now_ms() < until) {
    FILE *f = fopen(path, "r");
    if (f) {
      size_t n = fread(wchan, 1, sizeof wchan - 1, f);
      wchan[n] = '\0';
      fclose(f);
    }
    sleep_ms(10);
  }
  assert_non_null(strstr(wchan, "pipe_write"));
}

/* Whether the daemon's log at @p path holds @p needle. */
static int log_has(const char *path, const char *needle) {
  static char buf[1 << 20];
  FILE *f = fopen(path, "r");
  size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
  if (f) fclose(f);
  buf[n] = '\0';
  return strstr(buf, needle) != NULL;
}

/* A client that reads nothing: its run's last output and final status
 * wait in gRPC behind the stream's full window, so its call never ends
 * by itself. SIGTERM stops the run (its 1 s grace), and the calls still
 * open 7 s after the longest grace are cancelled: the daemon exits 0
 * within seconds. Before, that bound was the largest --kill-grace a run
 * may ask for (60 s) plus 5 s, whatever the runs' own graces. */
static void test_drain_bounded_by_the_runs_grace(void **state) {
  (void)state;
  gxt_daemon d;
  gxt_daemon_start(&d, ARGV("--kill-grace=1s"));
  /* one stream that reads `started` and then nothing */
  gxt_flood *f = gxt_flood_start(&d, ARGV("yes", "gexec-marker-drain"), 1);
  assert_int_equal(gxt_flood_counts_of(f).started, 1);
  pid_t pid = gxt_wait_pid_by_arg("gexec-marker-drain", 10000);
  assert_true(pid > 0);
  wait_blocked_writing(pid);
  long long t0 = gxt_now_ms();
  assert_int_equal(gxt_daemon_stop(&d), 0);
  print_message("drained in %lld ms\n", gxt_now_ms() - t0);
  assert_true(log_has(d.log_path, "drain took too long"));
  assert_false(gxt_pid_alive(pid));
  gxt_flood_end(f); /* its stream ended with the daemon */
}

/* Review finding: a cancel while output was backed up left the session
 * (and its slot) stuck forever, and the daemon could not drain. */
static void test_cancel_with_backed_up_output_frees_slot(void **state) {
  (void)state;
  gxt_daemon d;
  gxt_daemon_start(&d, ARGV("--max-sessions=1", "--kill-grace=100ms"));
  gexec_conn *c = gxt_connect(&d);
  gexec_spec spec = {.argv = ARGV("yes", "gexec-marker-yes"), .stdin_null = 1};
  gexec_proc *p = start(c, &spec);
  pid_t pid = gxt_wait_pid_by_arg("gexec-marker-yes", 10000);
  assert_true(pid > 0);
  gexec_event ev;
  gexec_error err;
  assert_int_equal(gexec_proc_read(p, &ev, 30000, &err), GEXEC_OK);
  /* stop reading: the daemon's buffer fills and yes blocks; wait for it */
  wait_blocked_writing(pid);
  gexec_proc_free(p); /* cancels with output pending */
  assert_true(gxt_wait_pid_gone(pid, 10000));
  gexec_spec t = {.argv = ARGV("true"), .stdin_null = 1};
  gexec_result r;
  long long until = gxt_now_ms() + 10000;
  while (gexec_run(c, &t, NULL, &r, &err) != GEXEC_OK) {
    assert_int_equal(err.status, GEXEC_STATUS_RESOURCE_EXHAUSTED);
    if (gxt_now_ms() > until) fail_msg("the slot was never freed");
    sleep_ms(10);
  }
  gexec_result_free(&r);
  gexec_conn_close(c);
  assert_int_equal(gxt_daemon_stop(&d), 0);
}

/* Review finding: a stream that never sends start held a slot forever. */
static void silent_status(void *ud, int code, const char *msg) {
  int *out = ud;
  (void)msg;
  __atomic_store_n(out, code + 1000, __ATOMIC_SEQ_CST);
}

static void test_stream_without_start_times_out(void **state) {
  (void)state;
  gxt_daemon d;
  gxt_daemon_start(&d, ARGV("--max-sessions=1", "--start-timeout=300ms"));
  gx_rpc_channel *ch;
  assert_int_equal(gx_rpc_channel_new(d.target, NULL, NULL, &ch), GX_OK);
  static int status;
  static const gx_rpc_handlers h = {NULL, NULL, NULL, silent_status, NULL};
  gx_rpc_call *call;
  status = 0;
  assert_int_equal(gx_rpc_call_start(ch, "/gexec.v1.Exec/Run", 30000, 1, &h,
                                     &status, &call), GX_OK);
  long long until = gxt_now_ms() + 20000;
  while (__atomic_load_n(&status, __ATOMIC_SEQ_CST) == 0 &&
         gxt_now_ms() < until)
    sleep_ms(10);
  assert_int_equal(status, 1000 + GX_STATUS_DEADLINE_EXCEEDED);
  gx_rpc_channel_free(ch);
  gexec_conn *c = gxt_connect(&d);
  gexec_result r;
  gexec_error err;
  gexec_spec t = {.argv = ARGV("true"), .stdin_null = 1};
  until = gxt_now_ms() + 10000;
  while (gexec_run(c, &t, NULL, &r, &err) != GEXEC_OK) {
    if (gxt_now_ms() > until) fail_msg("slot not freed: %s", err.message);
    sleep_ms(10);
  }
  gexec_result_free(&r);
  gexec_conn_close(c);
  assert_int_equal(gxt_daemon_stop(&d), 0);
}

/* Review finding: a daemon that failed to start spun forever. */
static void test_second_daemon_on_same_socket_exits(void **state) {
  (void)state;
  gxt_daemon d;
  gxt_daemon_start(&d, NULL);
  char listen[256], log[4096];
  snprintf(listen, sizeof listen, "--listen=%s", d.target);
  /* the harness adds a fresh socket of its own; ours is taken */
  int st = gxt_daemon_run_to_exit(ARGV(listen), log, sizeof log);
  assert_non_null(strstr(log, "another daemon is listening there"));
  assert_true(WIFEXITED(st));
  assert_int_equal(WEXITSTATUS(st), 1);
  /* and the first one still serves */
  gexec_conn *c = gxt_connect(&d);
  int64_t rtt;
  gexec_error err;
  assert_int_equal(gexec_ping(c, 5000, &rtt, &err), GEXEC_OK);
  gexec_conn_close(c);
  assert_int_equal(gxt_daemon_stop(&d), 0);
}

/* The launcher vanished after start-up: the run is refused INTERNAL,
 * naming the launcher, never NOT_FOUND blaming the client's program. */
static void test_missing_launcher_is_internal(void **state) {
  (void)state;
  char dir[256], copy[300], flag[320], src[512], expect[400];
  const char *t = getenv("TEST_TMPDIR");
  snprintf(dir, sizeof dir, "%s/launcher-%d", t && *t ? t : "/tmp",
           (int)getpid());
  snprintf(copy, sizeof copy, "%s/gexec-launch", dir);
  snprintf(src, sizeof src, "%s/gexec/server/gexec-launch",
           getenv("TEST_SRCDIR"));
  assert_int_equal(mkdir(dir, 0755), 0);
  gxt_copy_file(src, copy, 0755);
  snprintf(flag, sizeof flag, "--launcher=%s", copy);
  gxt_daemon d;
  /* per-run exec: the fork server would have started it already */
  gxt_daemon_start(&d, ARGV(flag, "--launch-mode=exec"));
  assert_int_equal(unlink(copy), 0);
  gexec_conn *c = gxt_connect(&d);
  gexec_spec spec = {.argv = ARGV("true"), .stdin_null = 1};
  gexec_result r;
  gexec_error err;
  assert_int_equal(gexec_run(c, &spec, NULL, &r, &err), GEXEC_ESTATUS);
  assert_int_equal(err.status, GEXEC_STATUS_INTERNAL);
  snprintf(expect, sizeof expect,
           "cannot start the launcher %s: No such file or directory", copy);
  assert_string_equal(err.message, expect);
  gexec_conn_close(c);
  assert_int_equal(gxt_daemon_stop(&d), 0);
  rmdir(dir);
}

/* The daemon's fork server: its child whose argv has "--serve". */
static pid_t fork_server_of(pid_t daemon) {
  char path[64], buf[512];
  for (pid_t pid = 2; pid < 4194304; pid++) {
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    char *rp = strrchr(buf, ')');
    int ppid = 0;
    if (!rp || sscanf(rp + 2, "%*c %d", &ppid) != 1 || ppid != daemon) continue;
    snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
    if (fd >= 0) close(fd);
    for (ssize_t i = 0; i + 7 <= n; i++)
      if (memcmp(buf + i, "--serve", 7) == 0) return pid;
  }
  return 0;
}

/* The fork server dies under a running run: the run is killed (its
 * launcher had the server as parent), the client hears of it, and the
 * next run gets a new fork server. */
static void test_fork_server_death_ends_its_runs(void **state) {
  (void)state;
  gxt_daemon d;
  gxt_daemon_start(&d, NULL);
  gexec_conn *c = gxt_connect(&d);
  gexec_spec spec = {.argv = ARGV("sh", "-c", "sleep 1000; exit 0", "gxt-fs-death"),
                     .stdin_null = 1};
  gexec_proc *p = start(c, &spec);
  assert_true(gxt_wait_pid_by_arg("gxt-fs-death", 5000) > 0);
  pid_t fs = fork_server_of(d.pid);
  assert_true(fs > 0);
  assert_int_equal(kill(fs, SIGKILL), 0);
  gexec_exit ex;
  gexec_error err;
  assert_int_equal(gexec_proc_wait(p, &ex, &err), GEXEC_OK);
  assert_int_equal(ex.signal, SIGKILL);
  assert_true(gxt_wait_arg_gone("gxt-fs-death", 5000));
  gexec_proc_free(p);
  gexec_result r;
  gxt_run(c, ARGV("true"), &r);
  assert_int_equal(r.exit.exit_code, 0);
  assert_int_equal(r.exit.signal, 0);
  pid_t again = fork_server_of(d.pid);
  assert_true(again > 0 && again != fs);
  gexec_result_free(&r);
  gexec_conn_close(c);
  assert_int_equal(gxt_daemon_stop(&d), 0);
}

typedef struct {
  const gxt_daemon *d;
  int rc, status;
  char message[600];
} racer;

static void *race_start(void *arg) {
  racer *r = arg;
  gexec_conn *c = gxt_connect(r->d);
  gexec_spec spec = {.argv = ARGV("sleep", "61.91"), .stdin_null = 1,
                     .timeout_ms = 2000};
  gexec_result res;
  gexec_error err;
  r->rc = gexec_run(c, &spec, NULL, &res, &err);
  if (r->rc == GEXEC_OK) gexec_result_free(&res);
  else r->status = err.status;
  snprintf(r->message, sizeof r->message, "%s", r->rc ? err.message : "");
  gexec_conn_close(c);
  return NULL;
}

/* A fork server that stops answering costs only the runs that waited
 * for it (RESOURCE_EXHAUSTED after a bounded wait), never the daemon nor
 * the runs already going; killed while starts are queued, it is replaced
 * within the same loop turn (a libuv handle was reused while closing:
 * the daemon aborted); the runs it answers late are killed at once. */
static void test_stalled_then_killed_fork_server(void **state) {
  (void)state;
  gxt_daemon d;
  gxt_daemon_start(&d, NULL);
  gexec_conn *c = gxt_connect(&d);
  gexec_spec bg = {.argv = ARGV("sh", "-c", "sleep 1000; exit 0", "61.92"),
                   .stdin_null = 1};
  gexec_proc *p = start(c, &bg);
  assert_true(gxt_wait_pid_by_arg("61.92", 5000) > 0);
  pid_t fs = fork_server_of(d.pid);
  assert_true(fs > 0);
  assert_int_equal(kill(fs, SIGSTOP), 0);
  racer r[4];
  pthread_t t[4];
  for (int i = 0; i < 4; i++) {
    r[i] = (racer){.d = &d};
    assert_int_equal(pthread_create(&t[i], NULL, race_start, &r[i]), 0);
  }
  sleep_ms(300);
  assert_int_equal(kill(fs, SIGKILL), 0);
  for (int i = 0; i < 4; i++) {
    pthread_join(t[i], NULL);
    /* given up (the wait, or the server's death): never a crash */
    if (r[i].rc != GEXEC_OK)
      assert_int_equal(r[i].status, GEXEC_STATUS_RESOURCE_EXHAUSTED);
  }
  assert_true(gxt_pid_alive(d.pid));
  gexec_result res;
  gxt_run(c, ARGV("true"), &res); /* a new server */
  assert_int_equal(res.exit.exit_code, 0);
  gexec_result_free(&res);
  assert_true(fork_server_of(d.pid) > 0);
  gexec_exit ex;
  gexec_error err;
  assert_int_equal(gexec_proc_wait(p, &ex, &err), GEXEC_OK);
  assert_int_equal(ex.signal, SIGKILL); /* it was the dead server's */
  gexec_proc_free(p);
  assert_true(gxt_wait_arg_gone("61.91", 10000));
  gexec_conn_close(c);
  assert_int_equal(gxt_daemon_stop(&d), 0);
}

/* A stalled fork server: the spawn that waits gives up after a bounded
 * time; once the server answers, that run is killed at once (a KILL is
 * never dropped) and the next run is served normally. */
static void test_stalled_fork_server_recovers(void **state) {
  (void)state;
  gxt_daemon d;
  gxt_daemon_start(&d, NULL);
  gexec_conn *c = gxt_connect(&d);
  pid_t fs = fork_server_of(d.pid);
  assert_true(fs > 0);
  assert_int_equal(kill(fs, SIGSTOP), 0);
  racer r = {.d = &d};
  race_start(&r);
  assert_int_equal(r.rc, GEXEC_ESTATUS);
  assert_int_equal(r.status, GEXEC_STATUS_RESOURCE_EXHAUSTED);
  assert_int_equal(kill(fs, SIGCONT), 0);
  assert_true(gxt_wait_arg_gone("61.91", 10000)); /* the late one */
  gexec_result res;
  gxt_run(c, ARGV("true"), &res);
  assert_int_equal(res.exit.exit_code, 0);
  gexec_result_free(&res);
  assert_int_equal(fork_server_of(d.pid), fs); /* the same server */
  gexec_conn_close(c);
  assert_int_equal(gxt_daemon_stop(&d), 0);
}

/* Each run's launcher leads its own session: the scheduler gives every
 * run its own autogroup, not the fork server's shared one. */
static void test_runs_have_their_own_session(void **state) {
  (void)state;
  gxt_daemon d;
  gxt_daemon_start(&d, NULL);
  gexec_conn *c = gxt_connect(&d);
  gexec_spec s1 = {.argv = ARGV("sh", "-c", "sleep 1000; exit 0", "61.93"),
                   .stdin_null = 1, .profile = "host"};
  gexec_spec s2 = {.argv = ARGV("sh", "-c", "sleep 1000; exit 0", "61.94"),
                   .stdin_null = 1, .profile = "host"};
  gexec_proc *a = start(c, &s1), *b = start(c, &s2);
  pid_t pa = gxt_wait_pid_by_arg("61.93", 5000);
  pid_t pb = gxt_wait_pid_by_arg("61.94", 5000);
  pid_t fs = fork_server_of(d.pid);
  assert_true(pa > 0 && pb > 0 && fs > 0);
  pid_t la = (pid_t)gexec_proc_pid(a), lb = (pid_t)gexec_proc_pid(b);
  assert_int_equal(getsid(la), la);
  assert_int_equal(getsid(lb), lb);
  assert_int_equal(getsid(pa), la); /* the command is in its launcher's */
  assert_true(getsid(fs) != la && getsid(fs) != lb);
  gexec_proc_cancel(a);
  gexec_proc_cancel(b);
  gexec_proc_free(a);
  gexec_proc_free(b);
  gexec_conn_close(c);
  assert_int_equal(gxt_daemon_stop(&d), 0);
}

/* A start-up failure names the errno: here the socket's directory is a
 * full filesystem (a tmpfs without a free inode, in a mount namespace of
 * the daemon's own). */
static void test_listen_failure_names_errno(void **state) {
  (void)state;
  char dir[] = "/tmp/gxt-full-XXXXXX", log[256], sock[300], text[4096];
  const char *t = getenv("TEST_TMPDIR");
  assert_non_null(mkdtemp(dir));
  snprintf(log, sizeof log, "%s/full-%d.log", t && *t ? t : "/tmp",
           (int)getpid());
  snprintf(sock, sizeof sock, "--listen=unix:%s/gexecd.sock", dir);
  pid_t pid = fork();
  if (pid == 0) {
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 2);
    if (unshare(CLONE_NEWNS) != 0 ||
        mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
        mount("tmpfs", dir, "tmpfs", 0, "size=64k,nr_inodes=2") != 0)
      _exit(100);
    char fill[300];
    snprintf(fill, sizeof fill, "%s/fill", dir); /* takes the last inode */
    if (open(fill, O_WRONLY | O_CREAT, 0644) < 0) _exit(101);
    execl(gxt_daemon_path(), "gexecd", sock, (char *)NULL);
    _exit(127);
  }
  int st;
  long long until = gxt_now_ms() + 60000;
  while (waitpid(pid, &st, WNOHANG) == 0 && gxt_now_ms() < until)
    sleep_ms(20);
  assert_true(WIFEXITED(st));
  assert_int_equal(WEXITSTATUS(st), 1);
  FILE *f = fopen(log, "r");
  size_t n = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  text[n] = '\0';
  char expect[400];
  snprintf(expect, sizeof expect,
           "cannot listen on unix:%s/gexecd.sock: No space left on device",
           dir);
  if (!strstr(text, expect)) fail_msg("log lacks '%s':\n%s", expect, text);
  rmdir(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ping),
      cmocka_unit_test(test_drain_on_sigterm),
      cmocka_unit_test(test_drain_bounded_by_the_runs_grace),
      cmocka_unit_test(test_session_limit),
      cmocka_unit_test(test_flood_of_calls),
      cmocka_unit_test(test_cancel_with_backed_up_output_frees_slot),
      cmocka_unit_test(test_stream_without_start_times_out),
      cmocka_unit_test(test_second_daemon_on_same_socket_exits),
      cmocka_unit_test(test_missing_launcher_is_internal),
      cmocka_unit_test(test_fork_server_death_ends_its_runs),
      cmocka_unit_test(test_stalled_then_killed_fork_server),
      cmocka_unit_test(test_stalled_fork_server_recovers),
      cmocka_unit_test(test_runs_have_their_own_session),
      cmocka_unit_test(test_listen_failure_names_errno),
  };
  return cmocka_run_group_tests_name("integration/lifecycle", tests, NULL,
                                     NULL);
}
