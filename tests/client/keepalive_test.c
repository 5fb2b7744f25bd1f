/* libgexec's keepalive: a daemon that stops answering without closing
 * (here: a server process frozen with SIGSTOP, whose kernel still
 * acknowledges TCP) ends the run with UNAVAILABLE within keepalive time +
 * timeout, instead of never.
 *
 * The server is lib/rpc in a child forked before this process touches
 * gRPC: it answers each gexec.v1.Exec/Run with `started` and then holds
 * the call open, silent, like a long command without output. */
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
#include <uv.h>

#include "client/gexec.h"
#include "gexec/v1/exec.pb-c.h"
#include "lib/rpc.h"

#define KEEPALIVE_MS GEXEC_KEEPALIVE_MIN_MS
#define KEEPALIVE_TIMEOUT_MS 1000

static pid_t server_pid;
static int server_port;

/* Child: a new call gets `started`, then nothing. */
static void on_call(void *ud, gx_rpc_call *call, int method) {
  (void)ud;
  Gexec__V1__RunResponse r = GEXEC__V1__RUN_RESPONSE__INIT;
  Gexec__V1__Started st = GEXEC__V1__STARTED__INIT;
  if (method != 0) {
    gx_rpc_call_finish(call, 12, "unknown method");
    return;
  }
  st.pid = 4242;
  st.run_id = 7;
  r.event_case = GEXEC__V1__RUN_RESPONSE__EVENT_STARTED;
  r.started = &st;
  gx_rpc_call_set_handlers(call, &(gx_rpc_handlers){0}, NULL);
  gx_rpc_call_recv(call); /* the Start message; later ones stay unread */
  gx_rpc_call_send(call, &r.base);
}

/* Child: serves on 127.0.0.1 and writes the port to @p fd; never returns. */
static void serve(int fd) {
  uv_loop_t loop;
  gx_rpc_server *srv;
  uv_loop_init(&loop);
  if (gx_rpc_server_new(&loop, NULL, &srv) != 0 ||
      gx_rpc_server_add_method(srv, "/gexec.v1.Exec/Run") != 0)
    _exit(1);
  int port = gx_rpc_server_listen(srv, "127.0.0.1:0", NULL);
  if (port <= 0 || gx_rpc_server_start(srv, on_call, NULL) != 0) _exit(1);
  if (write(fd, &port, sizeof port) != sizeof port) _exit(1);
  close(fd);
  uv_run(&loop, UV_RUN_DEFAULT);
  _exit(0);
}

static int group_setup(void **state) {
  int fds[2];
  (void)state;
  if (pipe(fds) != 0) return -1;
  server_pid = fork();
  if (server_pid < 0) return -1;
  if (server_pid == 0) {
    close(fds[0]);
    serve(fds[1]);
  }
  close(fds[1]);
  ssize_t n = read(fds[0], &server_port, sizeof server_port);
  close(fds[0]);
  return n == sizeof server_port ? 0 : -1;
}

static int group_teardown(void **state) {
  (void)state;
  kill(server_pid, SIGKILL);
  waitpid(server_pid, NULL, 0);
  return 0;
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void frozen_server_ends_the_run(void **state) {
  (void)state;
  char target[64];
  const char *argv[] = {"sleep", "3600", NULL};
  gexec_spec spec = GEXEC_SPEC_INIT;
  gexec_conn_opts *o;
  gexec_conn *c;
  gexec_proc *p;
  gexec_event ev;
  gexec_error err = {0};
  spec.argv = argv;
  spec.stdin_null = 1;
  snprintf(target, sizeof target, "127.0.0.1:%d", server_port);
  assert_int_equal(gexec_conn_opts_new(&o), GEXEC_OK);
  assert_int_equal(gexec_conn_opts_set_keepalive(o, KEEPALIVE_MS,
                                                 KEEPALIVE_TIMEOUT_MS),
                   GEXEC_OK);
  assert_int_equal(gexec_connect(target, o, &c, &err), GEXEC_OK);
  gexec_conn_opts_free(o);
  assert_int_equal(gexec_proc_start(c, &spec, &p, &err), GEXEC_OK);
  assert_int_equal(gexec_proc_pid(p), 4242);
  int64_t t0 = now_ms();
  assert_int_equal(kill(server_pid, SIGSTOP), 0);
  /* Without keepalive, nothing would end this wait. */
  int rc = gexec_proc_read(p, &ev, 30000, &err);
  int64_t waited = now_ms() - t0;
  kill(server_pid, SIGCONT);
  assert_int_equal(rc, GEXEC_ESTATUS);
  assert_int_equal(err.status, GEXEC_STATUS_UNAVAILABLE);
  /* the first ping after KEEPALIVE_MS of silence, then its timeout */
  if (waited < KEEPALIVE_MS - 500 ||
      waited > KEEPALIVE_MS + KEEPALIVE_TIMEOUT_MS + 5000)
    fail_msg("the run ended after %lld ms", (long long)waited);
  gexec_proc_free(p);
  gexec_conn_close(c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(frozen_server_ends_the_run),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
