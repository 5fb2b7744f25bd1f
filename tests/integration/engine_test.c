/* libgexec's engine and event queue against a real gexecd: 1,000
 * connections on their own sockets within the thread bound, runs on many
 * connections finishing in any order from one thread, connect failures
 * with their reasons (refused, no such socket, timed out), the queue's
 * file descriptor, non-blocking stdin, cancelling a run that waits for its
 * connection, and the size-checked structs. */
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "client/gexec.h"
#include "tests/integration/harness.h"

/* ------------------------------------------------------------ helpers */

static int count_dir(const char *path, const char *link_prefix) {
  DIR *d = opendir(path);
  int n = 0;
  assert_non_null(d);
  for (struct dirent *e; (e = readdir(d));) {
    if (e->d_name[0] == '.') continue;
    if (link_prefix) {
      char p[512], l[128];
      snprintf(p, sizeof p, "%s/%s", path, e->d_name);
      ssize_t k = readlink(p, l, sizeof l - 1);
      if (k < 0) continue;
      l[k] = '\0';
      if (strncmp(l, link_prefix, strlen(link_prefix)) != 0) continue;
    }
    n++;
  }
  closedir(d);
  return n;
}

static int count_threads(void) { return count_dir("/proc/self/task", NULL); }
static int count_sockets(void) { return count_dir("/proc/self/fd", "socket:"); }

static void raise_nofile(void) {
  struct rlimit r;
  assert_int_equal(getrlimit(RLIMIT_NOFILE, &r), 0);
  r.rlim_cur = r.rlim_max;
  assert_int_equal(setrlimit(RLIMIT_NOFILE, &r), 0);
}

/* The next event, waiting up to 60 s (a hung test fails, never hangs). */
static const gexec_run_event *next_event(gexec_evq *q) {
  const gexec_run_event *ev = NULL;
  gexec_error e = {0};
  int rc = gexec_evq_next(q, &ev, 60000, &e);
  if (rc != GEXEC_OK) fail_msg("gexec_evq_next: %d %s", rc, e.message);
  return ev;
}

static gexec_conn *lazy_conn(const char *target, int64_t connect_ms) {
  gexec_conn_opts *o;
  gexec_conn *c = NULL;
  gexec_error e = {0};
  assert_int_equal(gexec_conn_opts_new(&o), GEXEC_OK);
  assert_int_equal(gexec_conn_opts_set_connect_timeout(o, connect_ms),
                   GEXEC_OK);
  assert_int_equal(gexec_conn_opts_set_lazy(o, 1), GEXEC_OK);
  int rc = gexec_connect(target, o, &c, &e);
  gexec_conn_opts_free(o);
  if (rc != GEXEC_OK) fail_msg("connect %s: %s", target, e.message);
  return c;
}

static gexec_proc *start(gexec_conn *c, gexec_evq *q, const char *const *argv,
                         void *ud) {
  gexec_spec s = GEXEC_SPEC_INIT;
  gexec_proc *p = NULL;
  gexec_error e = {0};
  s.argv = argv;
  int rc = gexec_proc_start_async(c, &s, q, ud, &p, &e);
  if (rc != GEXEC_OK) fail_msg("start_async: %s", e.message);
  return p;
}

/* Writes all of @p s to a run through try_write and WRITABLE events;
 * events of other runs that come meanwhile are not expected. */
static void write_all(gexec_evq *q, gexec_proc *p, const char *s) {
  size_t len = strlen(s), off = 0;
  while (off < len) {
    size_t n = 0;
    gexec_error e = {0};
    int rc = gexec_proc_try_write(p, s + off, len - off, &n, &e);
    if (rc == GEXEC_EAGAIN) {
      const gexec_run_event *ev = next_event(q);
      assert_int_equal(ev->type, GEXEC_EV_WRITABLE);
      assert_ptr_equal(ev->proc, p);
      continue;
    }
    if (rc != GEXEC_OK) fail_msg("try_write: %s", e.message);
    off += n;
  }
}

/* A TCP port on 127.0.0.1 where nothing listens: bound (so that nobody
 * else takes it while the test runs) but not listening, so connecting is
 * refused. The caller closes *fd. */
static int closed_port(int *fd) {
  struct sockaddr_in a = {.sin_family = AF_INET,
                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t l = sizeof a;
  *fd = socket(AF_INET, SOCK_STREAM, 0);
  assert_int_equal(bind(*fd, (struct sockaddr *)&a, sizeof a), 0);
  assert_int_equal(getsockname(*fd, (struct sockaddr *)&a, &l), 0);
  return ntohs(a.sin_port);
}

/* A listener whose accept queue is full: the kernel drops further SYNs,
 * so a connection attempt hangs (as to a host that does not answer).
 * Returns the port; the fds to close go to @p fds[3]. */
static int silent_port(int fds[3]) {
  struct sockaddr_in a = {.sin_family = AF_INET,
                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t l = sizeof a;
  fds[0] = socket(AF_INET, SOCK_STREAM, 0);
  assert_int_equal(bind(fds[0], (struct sockaddr *)&a, sizeof a), 0);
  assert_int_equal(listen(fds[0], 0), 0);
  assert_int_equal(getsockname(fds[0], (struct sockaddr *)&a, &l), 0);
  for (int i = 1; i < 3; i++) { /* backlog 0 holds one; the next waits */
    fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    connect(fds[i], (struct sockaddr *)&a, sizeof a);
  }
  usleep(100 * 1000);
  return ntohs(a.sin_port);
}

/* ------------------------------------------------------------- tests */

/* 1,000 connections, each with its own socket and a run in flight (cat,
 * waiting for its stdin), all followed from this one thread through one
 * queue: the process stays within 16 threads. Then each run gets its own
 * line, echoes it and exits 0. */
static void test_thousand_connections(void **state) {
  (void)state;
  enum { N = 1000 };
  static gexec_conn *conns[N];
  static gexec_proc *procs[N];
  static int got_out[N], exited[N];
  raise_nofile();
  gxt_daemon d;
  gxt_daemon_start(&d, ARGV("--default-profile=host", "--max-sessions=1100"));
  gexec_evq *q;
  assert_int_equal(gexec_evq_new(&q, NULL), GEXEC_OK);
  for (int i = 0, started = 0; i < N;) {
    conns[i] = lazy_conn(d.target, -1);
    procs[i] = start(conns[i], q, ARGV("cat"), (void *)(intptr_t)i);
    if (++i != 1 && i != 100 && i != N) continue;
    for (; started < i; started++) {
      const gexec_run_event *ev = next_event(q);
      if (ev->type == GEXEC_EV_ERROR) fail_msg("run: %s", ev->error->message);
      assert_int_equal(ev->type, GEXEC_EV_STARTED);
    }
    int threads = count_threads(), sockets = count_sockets();
    print_message("%d runs in flight: %d threads, %d sockets\n", i,
                  threads, sockets);
    assert_true(threads <= 16);
    assert_true(sockets >= i); /* one per connection, none shared */
  }
  for (int i = 0; i < N; i++) {
    char line[32];
    snprintf(line, sizeof line, "%d\n", i);
    write_all(q, procs[i], line);
    assert_int_equal(gexec_proc_close_stdin(procs[i], NULL), GEXEC_OK);
  }
  for (int done = 0; done < N;) {
    const gexec_run_event *ev = next_event(q);
    int i = (int)(intptr_t)ev->user_data;
    char want[32];
    snprintf(want, sizeof want, "%d\n", i);
    if (ev->type == GEXEC_EV_WRITABLE) continue;
    if (ev->type == GEXEC_EV_ERROR) fail_msg("run %d: %s", i, ev->error->message);
    if (ev->type == GEXEC_EV_STDOUT) {
      assert_int_equal(ev->len, strlen(want));
      assert_memory_equal(ev->data, want, ev->len);
      got_out[i]++;
      continue;
    }
    assert_int_equal(ev->type, GEXEC_EV_EXIT);
    assert_int_equal(ev->exit->exit_code, 0);
    assert_int_equal(ev->exit->signal, 0);
    assert_int_equal(got_out[i], 1);
    exited[i]++;
    done++;
  }
  for (int i = 0; i < N; i++) {
    assert_int_equal(exited[i], 1);
    gexec_proc_free(procs[i]);
    gexec_conn_close(conns[i]);
  }
  gexec_evq_free(q);
  assert_int_equal(gxt_daemon_stop(&d), 0);
}

/* 32 runs on 8 connections; each waits for a line, which we send in a
 * shuffled order, one at a time: the exits come in exactly that order,
 * each with its own output, through one queue. */
static void test_any_order(void **state) {
  (void)state;
  enum { C = 8, R = 4, N = C * R };
  gexec_conn *conns[C];
  gexec_proc *procs[N];
  int order[N];
  gxt_daemon d;
  gxt_daemon_start(&d, ARGV("--default-profile=host"));
  gexec_evq *q;
  assert_int_equal(gexec_evq_new(&q, NULL), GEXEC_OK);
  for (int c = 0; c < C; c++) conns[c] = lazy_conn(d.target, 0);
  for (int i = 0; i < N; i++) {
    procs[i] = start(conns[i % C], q,
                     ARGV("sh", "-c", "read x && echo got-$x && exit 7"),
                     (void *)(intptr_t)i);
    order[i] = i;
  }
  for (int started = 0; started < N; started++)
    assert_int_equal(next_event(q)->type, GEXEC_EV_STARTED);
  srand(7);
  for (int i = N - 1; i > 0; i--) {
    int j = rand() % (i + 1), t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  for (int k = 0; k < N; k++) {
    int i = order[k];
    char line[16], want[32];
    snprintf(line, sizeof line, "%d\n", i);
    snprintf(want, sizeof want, "got-%d\n", i);
    write_all(q, procs[i], line);
    const gexec_run_event *ev;
    while ((ev = next_event(q))->type == GEXEC_EV_WRITABLE) {
    }
    assert_int_equal(ev->type, GEXEC_EV_STDOUT);
    assert_ptr_equal(ev->proc, procs[i]);
    assert_int_equal(ev->len, strlen(want));
    assert_memory_equal(ev->data, want, ev->len);
    ev = next_event(q);
    assert_int_equal(ev->type, GEXEC_EV_EXIT);
    assert_int_equal((int)(intptr_t)ev->user_data, i);
    assert_int_equal(ev->exit->exit_code, 7);
    assert_int_equal(ev->exit->pid, gexec_proc_pid(procs[i]));
    assert_true(ev->exit->run_id > 0);
    gexec_proc_free(procs[i]);
  }
  gexec_error e;
  assert_int_equal(gexec_evq_next(q, &(const gexec_run_event *){0}, 0, &e),
                   GEXEC_ETIMEDOUT);
  for (int c = 0; c < C; c++) gexec_conn_close(conns[c]);
  gexec_evq_free(q);
  assert_int_equal(gxt_daemon_stop(&d), 0);
}

/* The one event of a run that cannot connect: GEXEC_EV_ERROR with
 * GEXEC_ECONNECT and a reason containing @p reason. */
static void expect_connect_error(const char *target, int64_t connect_ms,
                                 const char *reason) {
  gexec_evq *q;
  assert_int_equal(gexec_evq_new(&q, NULL), GEXEC_OK);
  gexec_conn *c = lazy_conn(target, connect_ms);
  gexec_proc *p = start(c, q, ARGV("true"), NULL);
  const gexec_run_event *ev = next_event(q);
  assert_int_equal(ev->type, GEXEC_EV_ERROR);
  assert_ptr_equal(ev->proc, p);
  print_message("%s: %s\n", target, ev->error->message);
  assert_int_equal(ev->error->code, GEXEC_ECONNECT);
  assert_non_null(strstr(ev->error->message, reason));
  assert_non_null(strstr(ev->error->message, target));
  gexec_proc_free(p);
  gexec_conn_close(c);
  gexec_evq_free(q);
}

static void test_connect_errors(void **state) {
  (void)state;
  char target[64];
  int fds[3], cfd;
  expect_connect_error("unix:/nonexistent/gexecd.sock", -1, "no such socket");
  snprintf(target, sizeof target, "127.0.0.1:%d", closed_port(&cfd));
  expect_connect_error(target, -1, "connection refused");
  snprintf(target, sizeof target, "127.0.0.1:%d", silent_port(fds));
  expect_connect_error(target, 300, "timed out after 300 ms");
  /* the blocking connect says the same */
  gexec_conn_opts *o;
  gexec_conn *c = NULL;
  gexec_error e = {0};
  assert_int_equal(gexec_conn_opts_new(&o), GEXEC_OK);
  gexec_conn_opts_set_connect_timeout(o, 300);
  assert_int_equal(gexec_connect(target, o, &c, &e), GEXEC_ECONNECT);
  assert_non_null(strstr(e.message, "timed out after"));
  snprintf(target, sizeof target, "127.0.0.1:%d", closed_port(&cfd));
  assert_int_equal(gexec_connect(target, o, &c, &e), GEXEC_ECONNECT);
  assert_non_null(strstr(e.message, "connection refused"));
  assert_null(c);
  gexec_conn_opts_free(o);
  for (int i = 0; i < 3; i++) close(fds[i]);
  close(cfd);
}

/* Once a connection was refused, gRPC reports it failed until it is
 * ready again: later runs on it must fail at once with the reason, not
 * wait out the connect timeout (60 s here; the test allows 20). */
static void test_refused_again_fails_fast(void **state) {
  (void)state;
  char target[64];
  int cfd;
  snprintf(target, sizeof target, "127.0.0.1:%d", closed_port(&cfd));
  gexec_evq *q;
  assert_int_equal(gexec_evq_new(&q, NULL), GEXEC_OK);
  gexec_conn *c = lazy_conn(target, 60000);
  for (int i = 0; i < 3; i++) {
    gexec_proc *p = start(c, q, ARGV("true"), NULL);
    const gexec_run_event *ev = NULL;
    gexec_error e = {0};
    assert_int_equal(gexec_evq_next(q, &ev, 20000, &e), GEXEC_OK);
    assert_int_equal(ev->type, GEXEC_EV_ERROR);
    assert_int_equal(ev->error->code, GEXEC_ECONNECT);
    assert_non_null(strstr(ev->error->message, "connection refused"));
    gexec_proc_free(p);
  }
  gexec_conn_close(c);
  gexec_evq_free(q);
  close(cfd);
}

/* A run waiting for its connection can be cancelled (one ERROR event) or
 * freed (no event at all). */
static void test_cancel_waiting(void **state) {
  (void)state;
  int fds[3];
  char target[64];
  snprintf(target, sizeof target, "127.0.0.1:%d", silent_port(fds));
  gexec_evq *q;
  assert_int_equal(gexec_evq_new(&q, NULL), GEXEC_OK);
  gexec_conn *c = lazy_conn(target, 60000);
  gexec_proc *a = start(c, q, ARGV("true"), NULL);
  gexec_proc *b = start(c, q, ARGV("true"), NULL);
  gexec_proc_free(b);
  gexec_proc_cancel(a);
  const gexec_run_event *ev = next_event(q);
  assert_int_equal(ev->type, GEXEC_EV_ERROR);
  assert_ptr_equal(ev->proc, a);
  assert_int_equal(ev->error->status, GEXEC_STATUS_CANCELLED);
  assert_string_equal(ev->error->message, "cancelled by the client");
  gexec_error e;
  assert_int_equal(gexec_evq_next(q, &ev, 0, &e), GEXEC_ETIMEDOUT);
  gexec_proc_free(a);
  gexec_conn_close(c);
  gexec_evq_free(q);
  for (int i = 0; i < 3; i++) close(fds[i]);
}

/* The queue's fd is readable exactly while an event waits; the blocking
 * readers refuse a queued run; 4 MiB through try_write come back whole. */
static void test_fd_and_stdin(void **state) {
  (void)state;
  gxt_daemon d;
  gxt_daemon_start(&d, ARGV("--default-profile=host"));
  gexec_evq *q;
  assert_int_equal(gexec_evq_new(&q, NULL), GEXEC_OK);
  struct pollfd pf = {.fd = gexec_evq_fd(q), .events = POLLIN};
  assert_int_equal(poll(&pf, 1, 0), 0);
  gexec_conn *c = lazy_conn(d.target, 0);
  gexec_proc *p = start(c, q, ARGV("sh", "-c", "wc -c; exit 3"), NULL);
  assert_int_equal(poll(&pf, 1, 30000), 1);
  const gexec_run_event *ev;
  assert_int_equal(gexec_evq_next(q, &ev, 0, NULL), GEXEC_OK);
  assert_int_equal(ev->type, GEXEC_EV_STARTED);
  gexec_error e = {0};
  gexec_event bev;
  assert_int_equal(gexec_proc_read(p, &bev, 0, &e), GEXEC_EINVAL);
  assert_int_equal(gexec_proc_wait(p, NULL, &e), GEXEC_EINVAL);
  size_t len = 4u << 20;
  char *big = malloc(len + 1);
  memset(big, 'x', len);
  big[len] = '\0';
  write_all(q, p, big);
  free(big);
  assert_int_equal(gexec_proc_close_stdin(p, NULL), GEXEC_OK);
  size_t n = 0;
  assert_int_equal(gexec_proc_try_write(p, "y", 1, &n, &e), GEXEC_ECLOSED);
  while ((ev = next_event(q))->type == GEXEC_EV_WRITABLE) {
  }
  assert_int_equal(ev->type, GEXEC_EV_STDOUT);
  assert_int_equal(ev->len, 8);
  assert_memory_equal(ev->data, "4194304\n", 8);
  ev = next_event(q);
  assert_int_equal(ev->type, GEXEC_EV_EXIT);
  assert_int_equal(ev->exit->exit_code, 3);
  assert_int_equal(gexec_evq_next(q, &ev, 0, &e), GEXEC_ETIMEDOUT);
  assert_int_equal(poll(&pf, 1, 0), 0);
  gexec_proc_free(p);
  gexec_conn_close(c);
  gexec_evq_free(q);
  assert_int_equal(gxt_daemon_stop(&d), 0);
}

/* A gexec_spec from a "newer" program: a larger size is fine while the
 * unknown tail is zero, refused (EINVAL, nothing started) once it sets
 * something; size 0 is the 0.2 layout. */
static void test_sized_structs(void **state) {
  (void)state;
  gxt_daemon d;
  gxt_daemon_start(&d, ARGV("--default-profile=host"));
  gexec_conn *c = gxt_connect(&d);
  struct {
    gexec_spec s;
    uint64_t future;
  } big = {.s = GEXEC_SPEC_INIT};
  big.s.size = sizeof big;
  big.s.argv = ARGV("true");
  gexec_run_opts ro = GEXEC_RUN_OPTS_INIT;
  gexec_result r;
  gexec_error e = {0};
  assert_int_equal(gexec_run(c, &big.s, &ro, &r, &e), GEXEC_OK);
  gexec_result_free(&r);
  big.future = 1;
  assert_int_equal(gexec_run(c, &big.s, &ro, &r, &e), GEXEC_EINVAL);
  assert_non_null(strstr(e.message, "does not know"));
  gexec_spec old = {.size = 0, .argv = ARGV("sh", "-c", "exit 4")};
  assert_int_equal(gexec_run(c, &old, NULL, &r, &e), GEXEC_OK);
  assert_int_equal(r.exit.exit_code, 4);
  gexec_result_free(&r);
  gexec_conn_close(c);
  assert_int_equal(gxt_daemon_stop(&d), 0);
}

int main(void) {
  /* gRPC sizes its executor and timer pools by the CPUs it may use: pin
   * the test to at most two (this project's machines), so that the bound
   * of 16 threads tests the library's design (one thread of its own, the
   * same count for 1 or 1,000 connections) rather than the CI host's
   * core count. Before any gRPC call. */
  cpu_set_t all, two;
  CPU_ZERO(&two);
  if (sched_getaffinity(0, sizeof all, &all) == 0)
    for (int cpu = 0, n = 0; cpu < CPU_SETSIZE && n < 2; cpu++)
      if (CPU_ISSET(cpu, &all)) {
        CPU_SET(cpu, &two);
        n++;
      }
  if (CPU_COUNT(&two) > 0) sched_setaffinity(0, sizeof two, &two);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_any_order),
      cmocka_unit_test(test_connect_errors),
      cmocka_unit_test(test_refused_again_fails_fast),
      cmocka_unit_test(test_cancel_waiting),
      cmocka_unit_test(test_fd_and_stdin),
      cmocka_unit_test(test_sized_structs),
      cmocka_unit_test(test_thousand_connections),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
