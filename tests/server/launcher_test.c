/* Unit tests for server/launcher.c, the daemon's side of the fork server,
 * on a bare uv loop: the test plays the fork server on the other end of a
 * socket pair (gxd__launcher_new_attached), from a thread when the
 * launcher waits for an answer. One test starts the real gexec-launch
 * --serve (a server replaced within one loop turn). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "server/launcher_internal.h"
#include "server/reaper.h"

static uv_loop_t loop;
static gxd_launcher *l;
static int srv = -1; /* the test's end: it is the fork server */

typedef struct {
  int calls, status;
  struct rusage ru;
} exit_seen;

static void on_exit_cb(void *ud, int status, const struct rusage *ru) {
  exit_seen *e = ud;
  e->calls++;
  e->status = status;
  e->ru = *ru;
}

static int setup(void **state) {
  int sv[2];
  (void)state;
  assert_int_equal(uv_loop_init(&loop), 0);
  assert_int_equal(gxd_reaper_init(&loop), 0);
  assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
  srv = sv[1];
  char path[512];
  snprintf(path, sizeof path, "%s/gexec/server/gexec-launch",
           getenv("TEST_SRCDIR"));
  assert_int_equal(gxd__launcher_new_attached(&loop, path, sv[0], 0, &l), 0);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  gxd_launcher_free(l);
  gxd_reaper_close();
  uv_run(&loop, UV_RUN_DEFAULT);
  assert_int_equal(uv_loop_close(&loop), 0);
  if (srv >= 0) close(srv);
  srv = -1;
  return 0;
}

/* The next message the launcher sent us (waits up to @p ms). */
static gxl_fs_msg server_recv(int ms) {
  gxl_fs_msg m;
  int fds[GXL_FS_RUN_FDS];
  uint64_t raw;
  char why[128];
  struct pollfd p = {srv, POLLIN, 0};
  assert_int_equal(poll(&p, 1, ms), 1);
  assert_int_equal(gxl_fs_recv(srv, &m, fds, &raw, why, sizeof why), 1);
  for (int i = 0; i < GXL_FS_RUN_FDS; i++)
    if (fds[i] >= 0) close(fds[i]);
  return m;
}

static void server_send(gxl_fs_type type, uint64_t id, int pid, int status) {
  gxl_fs_msg m = {.type = type, .run_id = id, .pid = pid,
                  .err = type == GXL_FS_FAILED ? pid : 0,
                  .wait_status = status, .user_us = 7, .sys_us = 11};
  if (type == GXL_FS_FAILED) m.pid = 0;
  assert_int_equal(gxl_fs_send(srv, &m, NULL, 0, 0), 0);
}

/* The fork server's side of one spawn: a RUN, then STARTED with @p pid
 * (or FAILED with errno -pid). */
typedef struct {
  uint64_t id;
  int pid;
} answer;

static void *answer_run(void *arg) {
  answer *a = arg;
  gxl_fs_msg m = server_recv(5000);
  assert_int_equal(m.type, GXL_FS_RUN);
  assert_true(m.run_id == a->id);
  if (a->pid > 0) server_send(GXL_FS_STARTED, a->id, a->pid, 0);
  else server_send(GXL_FS_FAILED, a->id, -a->pid, 0);
  return NULL;
}

/* gxd_launcher_spawn of run @p id answered by the test's server. */
static int spawn(uint64_t id, int answer_pid, exit_seen *e, pid_t *pid) {
  static char *const argv[] = {"true", NULL}, *const env[] = {NULL};
  gxl_request req = {.cwd = "/", .argv = argv, .argc = 1, .envp = env};
  gxl_run run = {.run_id = id, .profile = GXI_PROFILE_HOST};
  int rep[2];
  assert_int_equal(pipe2(rep, O_CLOEXEC), 0);
  gxd_launch_fds fds = {-1, -1, -1, rep[1]};
  answer a = {id, answer_pid};
  pthread_t t;
  if (answer_pid) assert_int_equal(pthread_create(&t, NULL, answer_run, &a), 0);
  int rc = gxd_launcher_spawn(l, &run, &req, &fds, on_exit_cb, e, pid);
  if (answer_pid) pthread_join(t, NULL);
  close(rep[0]);
  close(rep[1]);
  return rc;
}

static void run_loop(int ms) {
  uint64_t until = uv_now(&loop) + (uint64_t)ms;
  while (uv_now(&loop) < until) {
    uv_run(&loop, UV_RUN_NOWAIT);
    usleep(1000);
    uv_update_time(&loop);
  }
}

/* STARTED gives the launcher's pid; EXITED, later, its wait status and
 * usage, from the loop (never inside a call); FAILED is the spawn's
 * -errno and no callback. */
static void started_exited_failed(void **state) {
  exit_seen e = {0}, f = {0};
  pid_t pid = 0;
  (void)state;
  assert_int_equal(spawn(1, 4242, &e, &pid), 0);
  assert_int_equal(pid, 4242);
  server_send(GXL_FS_EXITED, 1, 4242, 3 << 8);
  assert_int_equal(e.calls, 0);
  run_loop(50);
  assert_int_equal(e.calls, 1);
  assert_int_equal(e.status, 3 << 8);
  assert_int_equal(e.ru.ru_utime.tv_usec, 7);
  assert_int_equal(e.ru.ru_stime.tv_usec, 11);
  assert_int_equal(spawn(2, -EAGAIN, &f, &pid), -EAGAIN);
  run_loop(20);
  assert_int_equal(f.calls, 0);
}

/* A server that does not answer in time costs that run only: the spawn
 * gives up (-EAGAIN) after GXD__LAUNCHER_REPLY_WAIT_MS; the late STARTED
 * gets a KILL at once; its EXITED reaches nobody; the server is kept. */
static void slow_server_costs_one_run(void **state) {
  exit_seen e = {0}, g = {0};
  pid_t pid = 0;
  (void)state;
  uint64_t t0 = uv_hrtime();
  assert_int_equal(spawn(3, 0, &e, &pid), -EAGAIN);
  assert_true(uv_hrtime() - t0 >= GXD__LAUNCHER_REPLY_WAIT_MS * 1000000ull);
  gxl_fs_msg m = server_recv(0);
  assert_int_equal(m.type, GXL_FS_RUN);
  server_send(GXL_FS_STARTED, 3, 77, 0);
  run_loop(50);
  m = server_recv(1000);
  assert_int_equal(m.type, GXL_FS_KILL);
  assert_true(m.run_id == 3);
  server_send(GXL_FS_EXITED, 3, 77, SIGKILL);
  run_loop(50);
  assert_int_equal(e.calls, 0);
  assert_int_equal(spawn(4, 88, &g, &pid), 0); /* the same server */
  assert_int_equal(pid, 88);
  server_send(GXL_FS_EXITED, 4, 88, 0);
  run_loop(50);
  assert_int_equal(g.calls, 1);
}

/* Drains the KILLs of run @p id waiting on our end; returns how many. */
static int drain_kills(uint64_t id) {
  int n = 0;
  struct pollfd p = {srv, POLLIN, 0};
  while (poll(&p, 1, 0) == 1) {
    gxl_fs_msg m = server_recv(0);
    assert_int_equal(m.type, GXL_FS_KILL);
    assert_true(m.run_id == id);
    n++;
  }
  return n;
}

/* A KILL that finds the socket full waits for room: it is never dropped
 * (and is queued once, however often it is asked for). */
static void kill_waits_for_room(void **state) {
  exit_seen e = {0};
  pid_t pid;
  (void)state;
  assert_int_equal(spawn(5, 55, &e, &pid), 0);
  for (int i = 0; i < 5000; i++) gxd_launcher_kill(l, 5); /* fills it */
  int fitted = drain_kills(5);
  assert_true(fitted > 0 && fitted < 5000); /* the socket was full */
  assert_int_equal(drain_kills(5), 0);      /* nothing more by itself */
  run_loop(20);                             /* room: the queued one goes */
  assert_int_equal(drain_kills(5), 1);
  run_loop(20);
  assert_int_equal(drain_kills(5), 0);
  server_send(GXL_FS_EXITED, 5, 55, SIGKILL);
  run_loop(50);
  assert_int_equal(e.calls, 1);
}

/* The server's socket closes with two runs going: both end as SIGKILLed,
 * from the loop; a spawn in the same loop turn starts a real fork server
 * (the old one's handle still closing: it was reused, and libuv
 * aborted), whose launcher runs and is reported. */
static void server_gone_then_replaced(void **state) {
  exit_seen a = {0}, b = {0}, c = {0};
  pid_t pid = 0;
  (void)state;
  assert_int_equal(spawn(6, 66, &a, &pid), 0);
  assert_int_equal(spawn(7, 67, &b, &pid), 0);
  close(srv);
  srv = -1;
  assert_int_equal(spawn(8, 0, &c, &pid), -EAGAIN); /* finds it gone */
  assert_int_equal(a.calls + b.calls, 0);           /* not inside a call */
  assert_int_equal(spawn(9, 0, &c, &pid), 0);       /* a new, real server */
  assert_true(pid > 0);
  for (int i = 0; i < 500 && !(a.calls && b.calls && c.calls); i++)
    run_loop(10);
  assert_int_equal(a.calls, 1);
  assert_int_equal(a.status, SIGKILL);
  assert_int_equal(b.calls, 1);
  assert_int_equal(c.calls, 1); /* the real launcher ran `true` and ended */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(started_exited_failed, setup, teardown),
      cmocka_unit_test_setup_teardown(slow_server_costs_one_run, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(kill_waits_for_room, setup, teardown),
      cmocka_unit_test_setup_teardown(server_gone_then_replaced, setup,
                                      teardown),
  };
  return cmocka_run_group_tests_name("server/launcher", tests, NULL, NULL);
}
