/* Unit tests for lib/rpc's own unix listeners and connection cuts
 * (gx_rpc_server_listen_unix, gx_rpc_call_auth's peer credentials,
 * gx_rpc_call_cut_connection) on a bare libuv loop (rpc_fixture.h).
 * Connections of other users are made by a child process that takes
 * their uid and hands the socket back (as_user.h); the test speaks gRPC
 * on it itself (fd_call.h) from a thread of its own, while the loop runs
 * the server on the main thread. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <uv.h>

#include <grpc/support/alloc.h>
#include <grpc/support/string_util.h>

#include "lib/gx_err.h"
#include "lib/rpc.h"
#include "lib/rpc_internal.h"
#include "tests/lib/as_user.h"
#include "tests/lib/fd_call.h"
#include "tests/lib/rpc_fixture.h"

/* An unprivileged identity no account on the host has. */
#define OTHER_UID 12345
#define OTHER_GID 12345
/* A uid in neither the socket's owner nor its group. */
#define STRANGER_UID 12346

/* ----------------------------------------------------------- helpers */

/* A call made on a socket from gxt_as_user, on a thread of its own. */
typedef struct {
  pthread_t thread;
  int fd;
  gxt_fd_result res;
  atomic_int done;
} fd_client;

static void *fd_client_main(void *arg) {
  fd_client *c = arg;
  gxt_fd_call(c->fd, METHOD, NULL, 0, WAIT_MS, &c->res);
  atomic_store(&c->done, 1);
  return NULL;
}

static void fd_client_start(fd_client *c, int fd) {
  memset(c, 0, sizeof *c);
  c->fd = fd;
  assert_int_equal(pthread_create(&c->thread, NULL, fd_client_main, c), 0);
}

/* Runs the loop until the client's call ended, then joins its thread. */
static void fd_client_finish(fixture *f, fd_client *c) {
  uint64_t end = uv_hrtime() + (uint64_t)WAIT_MS * 1000000u;
  while (!atomic_load(&c->done) && uv_hrtime() < end)
    uv_run(&f->loop, UV_RUN_ONCE);
  assert_int_equal(atomic_load(&c->done), 1);
  pthread_join(c->thread, NULL);
}

/* Connects as @p uid (gid @p gid, supplementary groups @p groups) to the
 * fixture's socket; returns the socket or -errno. */
static int connect_as(fixture *f, uid_t uid, gid_t gid, const gid_t *groups,
                      size_t n, pid_t *pid) {
  gxt_as_user a;
  assert_int_equal(gxt_as_user_connect(f->target + 5, uid, gid, groups, n,
                                       &a),
                   0);
  if (pid) *pid = a.pid;
  return gxt_as_user_take(&a);
}

static int calls_seen_2(fixture *f) { return f->calls >= 2; }

/* Server: finish every call OK at once. */
static void server_says_ok(side *s, char ev) {
  if (ev == 'N') gx_rpc_call_finish(s->call, GX_STATUS_OK, "");
}

/* Server: note the descriptor the call came on (in rc2), finish OK. */
static void server_notes_fd(side *s, char ev) {
  if (ev != 'N') return;
  s->f->rc2 = s->call->cred.fd;
  gx_rpc_call_finish(s->call, GX_STATUS_OK, "");
}

/* ------------------------------------------------- peer credentials */

/* The fixture's own channel connects from this process, as root: the
 * call reports this process's pid, uid and gid, from the kernel, and the
 * peer string says so. */
static void own_process_is_seen_with_its_credentials(void **state) {
  fixture *f = *state;
  char want[64];
  f->srv_side.script = server_says_ok;
  client_start(f, METHOD);
  assert_true(run_until(f, both_done, WAIT_MS));

  assert_int_equal(f->auth.rc, GX_OK);
  assert_int_equal(f->auth.has_unix_cred, 1);
  assert_int_equal(f->auth.uid, geteuid());
  assert_int_equal(f->auth.gid, getegid());
  assert_int_equal(f->auth.pid, getpid());
  assert_true(f->auth.conn_id > 0);
  assert_string_equal(f->auth.transport, "insecure");
  assert_int_equal(f->auth.authenticated, 0);
  snprintf(want, sizeof want, "unix:pid=%d,uid=%u,gid=%u", (int)getpid(),
           (unsigned)geteuid(), (unsigned)getegid());
  assert_string_equal(f->auth.peer, want);
  assert_int_equal(f->cli.status, GX_STATUS_OK);
}

/* A socket of mode 0660 and group OTHER_GID: a process of another uid
 * in that group (primary or supplementary) connects, and its calls carry
 * its own uid, gid and pid; one outside it is refused by the kernel. The
 * connections have distinct ids. */
static void group_member_is_seen_with_its_credentials(void **state) {
  fixture *f = *state;
  struct stat st;
  pid_t pid;
  fd_client c;
  const gid_t member[1] = {OTHER_GID};
  f->srv_side.script = server_says_ok;
  assert_int_equal(stat(f->target + 5, &st), 0);
  assert_true(S_ISSOCK(st.st_mode));
  assert_int_equal(st.st_mode & 07777, 0660);
  assert_int_equal(st.st_gid, OTHER_GID);
  assert_int_equal(st.st_uid, geteuid());
  assert_int_equal(connect_as(f, STRANGER_UID, STRANGER_UID, NULL, 0, NULL),
                   -EACCES);
  int sup = connect_as(f, STRANGER_UID, STRANGER_UID, member, 1, NULL);
  assert_true(sup >= 0);
  close(sup);

  int fd = connect_as(f, OTHER_UID, OTHER_GID, NULL, 0, &pid);
  assert_true(fd >= 0);
  fd_client_start(&c, fd);
  fd_client_finish(f, &c);
  assert_int_equal(c.res.status, GX_STATUS_OK);
  client_start(f, METHOD); /* and one from this process */
  assert_true(run_until(f, calls_seen_2, WAIT_MS));
  assert_true(run_until(f, client_done, WAIT_MS));

  const auth_seen *a = &f->seen_auth[0], *b = &f->seen_auth[1];
  char want[64];
  assert_int_equal(a->has_unix_cred, 1);
  assert_int_equal(a->uid, OTHER_UID);
  assert_int_equal(a->gid, OTHER_GID);
  assert_int_equal(a->pid, pid);
  snprintf(want, sizeof want, "unix:pid=%d,uid=%d,gid=%d", (int)pid,
           OTHER_UID, OTHER_GID);
  assert_string_equal(a->peer, want);
  assert_int_equal(b->has_unix_cred, 1);
  assert_int_equal(b->uid, geteuid());
  assert_int_equal(b->pid, getpid());
  assert_true(a->conn_id > 0 && b->conn_id > 0 && a->conn_id != b->conn_id);
}

/* ------------------------------------------------ descriptor reuse */

/* Waits until the socket @p cred names is no longer the recorded one
 * (gRPC closed it), running the loop. */
static int wait_socket_gone(fixture *f, rpc_conns *cs,
                            const rpc_peer_cred *cred) {
  uint64_t end = uv_hrtime() + (uint64_t)WAIT_MS * 1000000u;
  while (rpc_conns_current(cs, cred) && uv_hrtime() < end)
    uv_run(&f->loop, UV_RUN_ONCE);
  return !rpc_conns_current(cs, cred);
}

/* Opens /dev/null on every free descriptor below @p n, so that the next
 * descriptor made is @p n; returns how many (closed by unfill). */
static int fill_below(int n, int *held, int max) {
  int k = 0;
  for (int i = 0; i < n && k < max; i++)
    if (fcntl(i, F_GETFD) < 0) held[k++] = open("/dev/null", O_RDONLY);
  return k;
}

static void unfill(const int *held, int k) {
  for (int i = 0; i < k; i++) close(held[i]);
}

static int sides_closed(fixture *f) { return count(&f->srv_side, 'C') > 0; }
static int sides_done(fixture *f) { return count(&f->srv_side, 'D') > 0; }

/* Runs the loop until @p n connections more than @p before were
 * accepted. */
static int wait_accepted(fixture *f, uint64_t before, uint64_t n) {
  uint64_t end = uv_hrtime() + (uint64_t)WAIT_MS * 1000000u;
  while (atomic_load(&rpc_unix_accepted) < before + n && uv_hrtime() < end)
    uv_run(&f->loop, UV_RUN_ONCE);
  return atomic_load(&rpc_unix_accepted) >= before + n;
}

/* A connection of OTHER_UID makes a call the server keeps; the
 * connection is cut. While the call lives, its descriptor stays open on
 * the same socket (gRPC keeps the transport, rpc_conn.c's argument).
 * Once the call ended, gRPC closes it, and the next connection, of root,
 * is accepted under the same number: its call is charged to root and to
 * a new conn_id, the old call's record is gone, never mixed up. */
static void reused_descriptor_is_charged_to_its_new_connection(void **state) {
  fixture *f = *state;
  fd_client c1, c2;
  gxt_as_user root;
  int held[64];
  int fd = connect_as(f, OTHER_UID, OTHER_GID, NULL, 0, NULL);
  assert_true(fd >= 0);
  fd_client_start(&c1, fd);
  assert_true(run_until(f, has_call, WAIT_MS));
  gx_rpc_call *call1 = f->seen[0];
  rpc_peer_cred cred1 = call1->cred;
  rpc_conns *cs = call1->conns;
  assert_int_equal(f->seen_auth[0].uid, OTHER_UID);

  assert_int_equal(gx_rpc_call_cut_connection(call1), GX_OK);
  fd_client_finish(f, &c1);
  assert_int_equal(c1.res.status, GX_STATUS_UNAVAILABLE);
  assert_true(run_until(f, sides_closed, WAIT_MS));
  assert_int_equal(f->srv_side.cancelled, 1);
  run_until(f, never, 200);
  assert_true(rpc_conns_current(cs, &cred1)); /* the live call holds it */
  assert_int_equal(gx_rpc_call_finish(call1, GX_STATUS_OK, ""), GX_OK);
  assert_true(run_until(f, sides_done, WAIT_MS));
  assert_true(wait_socket_gone(f, cs, &cred1));

  int nheld = fill_below(cred1.fd, held, 64);
  assert_true(fcntl(cred1.fd, F_GETFD) < 0); /* the next number made */
  f->srv_side.script = server_notes_fd;
  f->rc2 = -1;
  uint64_t before = atomic_load(&rpc_unix_accepted);
  assert_int_equal(gxt_as_user_connect(f->target + 5, 0, 0, NULL, 0, &root),
                   0);
  assert_true(wait_accepted(f, before, 1)); /* before we take its socket */
  fd = gxt_as_user_take(&root);
  unfill(held, nheld);
  assert_true(fd >= 0);
  fd_client_start(&c2, fd);
  fd_client_finish(f, &c2);
  assert_int_equal(c2.res.status, GX_STATUS_OK);

  assert_int_equal(f->calls, 2);
  const auth_seen *a2 = &f->seen_auth[1];
  assert_int_equal(a2->has_unix_cred, 1);
  assert_int_equal(a2->uid, 0);
  assert_int_equal(f->rc2, cred1.fd); /* the same number */
  assert_int_equal(a2->pid, root.pid);
  assert_true(a2->conn_id > cred1.conn_id);
  assert_false(rpc_conns_current(cs, &cred1));
}

/* A record whose descriptor number now holds another socket (one we did
 * not accept) gives no credentials: the socket's identity is checked at
 * each lookup. Peers that are not "fd:N" never match. */
static void stale_record_gives_no_credentials(void **state) {
  rpc_conns *cs;
  int a[2], b[2];
  char peer[32];
  gx_rpc_call c, d;
  (void)state;
  assert_int_equal(rpc_conns_new(&cs), GX_OK);
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, a), 0);
  assert_int_equal(rpc_conns_record(cs, a[0]), GX_OK);
  snprintf(peer, sizeof peer, "fd:%d", a[0]);
  memset(&c, 0, sizeof c);
  c.is_server = 1;
  c.conns = cs;
  c.peer = gpr_strdup(peer);
  rpc_conns_identify(cs, &c);
  assert_int_equal(c.cred.conn_id, 1);
  assert_int_equal(c.cred.uid, geteuid());
  assert_int_equal(c.cred.fd, a[0]);

  close(a[0]);
  close(a[1]);
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, b), 0);
  assert_int_equal(b[0], c.cred.fd); /* the number, reused */
  memset(&d, 0, sizeof d);
  d.is_server = 1;
  d.conns = cs;
  d.peer = gpr_strdup(peer);
  rpc_conns_identify(cs, &d);
  assert_int_equal(d.cred.conn_id, 0);
  assert_string_equal(d.peer, peer);
  assert_false(rpc_conns_current(cs, &c.cred));
  assert_int_equal(gx_rpc_call_cut_connection(&c), GX_ECLOSED);
  assert_int_equal(gx_rpc_call_cut_connection(&d), GX_EINVAL);

  const char *bad[] = {"fd:", "fd:-1", "fd:99999999999", "fd:3x", "unix:",
                       "ipv4:127.0.0.1:1", "fd:100000"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    gpr_free(d.peer);
    d.peer = gpr_strdup(bad[i]);
    rpc_conns_identify(cs, &d);
    assert_int_equal(d.cred.conn_id, 0);
  }
  gpr_free(c.peer);
  gpr_free(d.peer);
  close(b[0]);
  close(b[1]);
  rpc_conns_free(cs);
}

/* The test directory must be searchable by the other uids (they connect
 * to the socket by a path relative to it). */
static int peer_group_setup(void **state) {
  struct stat st;
  if (group_setup(state) != 0 || stat(".", &st) != 0) return -1;
  return chmod(".", (st.st_mode & 07777) | 0011);
}

static const options own_unix = {.start = 1, .own_unix = 1};
static const options group_socket = {
    .start = 1,
    .own_unix = 1,
    .unix_opts = {.mode = 0660, .set_gid = 1, .gid = OTHER_GID}};

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_prestate_setup_teardown(
          own_process_is_seen_with_its_credentials, setup, teardown,
          (void *)&own_unix),
      cmocka_unit_test_prestate_setup_teardown(
          group_member_is_seen_with_its_credentials, setup, teardown,
          (void *)&group_socket),
      cmocka_unit_test_prestate_setup_teardown(
          reused_descriptor_is_charged_to_its_new_connection, setup,
          teardown, (void *)&group_socket),
      cmocka_unit_test(stale_record_gives_no_credentials),
  };
  return cmocka_run_group_tests_name("lib/rpc peers", tests, peer_group_setup,
                                     group_teardown);
}
