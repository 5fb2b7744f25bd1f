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
  assert_true(c.cred.conn_id > 0); /* numbered with the whole process */
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

/* ---------------------------------------------------------- cutting */

/* A client of its own: a channel and the side its calls record on. */
typedef struct {
  gx_rpc_channel *ch;
  side s;
} client;

static void client_open(fixture *f, const char *target, client *c) {
  gx_rpc_channel_opts o = {.own_connection = 1};
  memset(c, 0, sizeof *c);
  pthread_mutex_init(&c->s.mu, NULL);
  c->s.f = f;
  c->s.status = -1;
  assert_int_equal(gx_rpc_channel_new(target, NULL, &o, &c->ch), GX_OK);
}

static void client_close(client *c) {
  gx_rpc_channel_free(c->ch);
  pthread_mutex_destroy(&c->s.mu);
}

/* Starts a call on @p c afresh (its side's record cleared). */
static void client_call(client *c) {
  pthread_mutex_lock(&c->s.mu);
  c->s.nev = 0;
  memset(c->s.ev, 0, sizeof c->s.ev);
  c->s.status = -1;
  pthread_mutex_unlock(&c->s.mu);
  assert_int_equal(gx_rpc_call_start(c->ch, METHOD, WAIT_MS, 1, &handlers,
                                     &c->s, &c->s.call),
                   GX_OK);
}

/* Runs the loop until @p c's call is done; returns its status. */
static int client_status(fixture *f, client *c) {
  uint64_t end = uv_hrtime() + (uint64_t)WAIT_MS * 1000000u;
  while (!count(&c->s, 'D') && uv_hrtime() < end)
    uv_run(&f->loop, UV_RUN_ONCE);
  assert_int_equal(count(&c->s, 'D'), 1);
  pthread_mutex_lock(&c->s.mu);
  int st = c->s.status;
  pthread_mutex_unlock(&c->s.mu);
  return st;
}

static int calls_seen_1(fixture *f) { return f->calls >= 1; }
static int calls_seen_3(fixture *f) { return f->calls >= 3; }

/* The server's side of the call it keeps (server_keeps_first). */
static side g_kept;

static int kept_closed(fixture *f) { return (void)f, count(&g_kept, 'C'); }

/* Server: keep the first call (its events go to g_kept), finish the
 * later ones OK. */
static void server_keeps_first(side *s, char ev) {
  if (ev != 'N') return;
  if (s->f->calls == 1)
    gx_rpc_call_set_handlers(s->call, &handlers, &g_kept);
  else
    gx_rpc_call_finish(s->call, GX_STATUS_OK, "");
}

/* Clients A and B on connections of their own to @p target. B makes a
 * call; A makes one the server keeps, whose connection the server cuts:
 * A's call fails UNAVAILABLE, the server's ends cancelled; B's next call
 * succeeds on the same connection as its first (same peer, same conn_id)
 * and A's next call on a new one. */
static void cut_ends_one_connection(fixture *f, const char *target) {
  client a, b;
  memset(&g_kept, 0, sizeof g_kept);
  pthread_mutex_init(&g_kept.mu, NULL);
  g_kept.cancelled = -1;
  f->srv_side.script = server_keeps_first;
  client_open(f, target, &a);
  client_open(f, target, &b);
  client_call(&a); /* kept */
  assert_true(run_until(f, calls_seen_1, WAIT_MS));
  client_call(&b);
  assert_int_equal(client_status(f, &b), GX_STATUS_OK);
  gx_rpc_call *kept = f->seen[0];
  assert_int_equal(gx_rpc_call_cut_connection(kept), GX_OK);
  assert_int_equal(client_status(f, &a), GX_STATUS_UNAVAILABLE);
  assert_true(run_until(f, kept_closed, WAIT_MS));
  assert_int_equal(g_kept.cancelled, 1);
  assert_int_equal(gx_rpc_call_finish(kept, GX_STATUS_OK, ""), GX_OK);

  client_call(&b);
  assert_int_equal(client_status(f, &b), GX_STATUS_OK);
  client_call(&a);
  assert_int_equal(client_status(f, &a), GX_STATUS_OK);
  assert_true(run_until(f, calls_seen_3, WAIT_MS));
  assert_int_equal(f->calls, 4);
  const auth_seen *s = f->seen_auth;
  assert_string_equal(s[1].peer, s[2].peer); /* B: one connection */
  assert_int_equal(s[1].conn_id, s[2].conn_id);
  assert_true(run_until(f, no_call_alive, WAIT_MS));
  assert_events(&g_kept, "CD");
  pthread_mutex_destroy(&g_kept.mu);
  client_close(&a);
  client_close(&b);
}

/* On a unix listener of ours: the connections are told apart by conn_id
 * (the peer strings are alike: one process). */
static void cut_unix_connection_keeps_others(void **state) {
  fixture *f = *state;
  cut_ends_one_connection(f, f->target);
  const auth_seen *s = f->seen_auth;
  assert_true(s[0].conn_id > 0 && s[1].conn_id > 0);
  assert_true(s[0].conn_id != s[1].conn_id);
  assert_true(s[3].conn_id != s[0].conn_id && s[3].conn_id != s[1].conn_id);
}

/* On a loopback TCP listener (gRPC accepts): the socket is found by its
 * peer address and our port. */
static void cut_tcp_connection_keeps_others(void **state) {
  fixture *f = *state;
  char target[64];
  snprintf(target, sizeof target, "127.0.0.1:%d", f->tcp_port);
  cut_ends_one_connection(f, target);
  const auth_seen *s = f->seen_auth;
  assert_int_equal(s[0].conn_id, 0);
  assert_int_equal(strncmp(s[0].peer, "ipv4:127.0.0.1:", 15), 0);
  assert_string_not_equal(s[0].peer, s[1].peer);
  assert_string_not_equal(s[3].peer, s[0].peer); /* A: a new connection */
}

/* Not every call can be cut: a client call, and a call on gRPC's own
 * unix listener (its peer "unix:" names no socket). */
static void cut_refuses_what_it_cannot_find(void **state) {
  fixture *f = *state;
  client_start(f, METHOD);
  assert_true(run_until(f, has_call, WAIT_MS));
  assert_string_equal(f->auth.peer, "unix:");
  assert_int_equal(gx_rpc_call_cut_connection(f->cli.call), GX_EINVAL);
  /* that look at the client call happened before its thread records its
   * end and frees it (the side's mutex tells ThreadSanitizer so) */
  assert_int_equal(count(&f->cli, 'D'), 0);
  assert_int_equal(gx_rpc_call_cut_connection(f->seen[0]), GX_EINVAL);
  assert_int_equal(gx_rpc_call_finish(f->seen[0], GX_STATUS_OK, ""), GX_OK);
  assert_true(run_until(f, both_done, WAIT_MS));
  assert_int_equal(f->cli.status, GX_STATUS_OK);
}

/* ------------------------------------------------------- accept errors */

static int g_accept_errors, g_accept_errno;

static void note_accept_error(void *ud, int err) {
  (void)ud;
  g_accept_errors++;
  g_accept_errno = err;
}

/* The lowest descriptor number that is free. */
static int lowest_free(void) {
  int i = 0;
  while (fcntl(i, F_GETFD) >= 0) i++;
  return i;
}

/* With no descriptor left (RLIMIT_NOFILE), accept fails EMFILE: the
 * error is reported once, the listener pauses instead of spinning (a few
 * attempts in 300 ms, not thousands), and once descriptors are back the
 * waiting client is accepted and served. */
static void accept_without_descriptors_pauses_and_recovers(void **state) {
  fixture *f = *state;
  struct rlimit old, low;
  gxt_as_user a;
  fd_client c;
  f->srv_side.script = server_says_ok;
  g_accept_errors = 0;
  assert_int_equal(gxt_as_user_connect(f->target + 5, 0, 0, NULL, 0, &a), 0);
  int failed0 = (int)atomic_load(&rpc_unix_accept_failures);
  uint64_t accepted0 = atomic_load(&rpc_unix_accepted);
  assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
  low = old;
  low.rlim_cur = (rlim_t)lowest_free();
  assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
  run_until(f, never, 300);
  assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
  int failed = (int)atomic_load(&rpc_unix_accept_failures) - failed0;
  assert_int_equal(g_accept_errors, 1);
  assert_int_equal(g_accept_errno, EMFILE);
  assert_in_range(failed, 1, 10);
  assert_int_equal(atomic_load(&rpc_unix_accepted), accepted0);

  assert_true(wait_accepted(f, accepted0, 1));
  int fd = gxt_as_user_take(&a);
  assert_true(fd >= 0);
  fd_client_start(&c, fd);
  fd_client_finish(f, &c);
  assert_int_equal(c.res.status, GX_STATUS_OK);
  assert_int_equal(g_accept_errors, 1);
}

/* ---------------------------------------------------- listen and stop */

/* Bad arguments and paths are refused without leaving anything behind;
 * an existing socket is not replaced (and keeps working); at most 16
 * listeners. */
static void listen_unix_refuses_bad_requests(void **state) {
  fixture *f = *state;
  char path[200];
  gx_rpc_unix_opts bad_mode = {.mode = 0400}, high_bits = {.mode = 04660};
  memset(path, 'a', sizeof path - 1);
  path[sizeof path - 1] = '\0';
  assert_int_equal(gx_rpc_server_listen_unix(f->srv, "", NULL), GX_EINVAL);
  assert_int_equal(gx_rpc_server_listen_unix(f->srv, NULL, NULL), GX_EINVAL);
  assert_int_equal(gx_rpc_server_listen_unix(f->srv, path, NULL), GX_EINVAL);
  assert_int_equal(gx_rpc_server_listen_unix(f->srv, "m.sock", &bad_mode),
                   GX_EINVAL);
  assert_int_equal(gx_rpc_server_listen_unix(f->srv, "m.sock", &high_bits),
                   GX_EINVAL);
  assert_int_equal(access("m.sock", F_OK), -1);
  errno = 0;
  assert_int_equal(gx_rpc_server_listen_unix(f->srv, "no-dir/x.sock", NULL),
                   GX_ESYS);
  assert_int_equal(errno, ENOENT);
  assert_int_equal(gx_rpc_server_listen_unix(f->srv, f->target + 5, NULL),
                   GX_ESYS);
  assert_int_equal(errno, EADDRINUSE);
  for (int i = 1; i < 16; i++) {
    snprintf(path, sizeof path, "many-%d.sock", i);
    assert_int_equal(gx_rpc_server_listen_unix(f->srv, path, NULL), GX_OK);
  }
  assert_int_equal(gx_rpc_server_listen_unix(f->srv, "m.sock", NULL),
                   GX_E2BIG);
  assert_int_equal(gx_rpc_server_start(f->srv, on_call, f), GX_OK);
  f->srv_side.script = server_says_ok;
  client_start(f, METHOD); /* the first socket still serves */
  assert_true(run_until(f, both_done, WAIT_MS));
  assert_int_equal(f->cli.status, GX_STATUS_OK);
  assert_int_equal(f->auth.has_unix_cred, 1);
}

static void on_second_shut_down(void *ud) { *(int *)ud = 1; }

/* Shutdown closes the listeners and removes their socket files, but only
 * files that are still the sockets it made. The default mode is 0600. */
static void shutdown_removes_only_its_own_sockets(void **state) {
  fixture *f = *state;
  gx_rpc_server *srv;
  struct stat st;
  int done = 0;
  assert_int_equal(gx_rpc_server_new(&f->loop, NULL, &srv), GX_OK);
  assert_int_equal(gx_rpc_server_listen_unix(srv, "gone.sock", NULL), GX_OK);
  assert_int_equal(gx_rpc_server_listen_unix(srv, "kept.sock", NULL), GX_OK);
  assert_int_equal(stat("gone.sock", &st), 0);
  assert_int_equal(st.st_mode & 07777, 0600);
  assert_int_equal(st.st_gid, getegid());
  assert_int_equal(gx_rpc_server_start(srv, on_call, f), GX_OK);
  assert_int_equal(unlink("kept.sock"), 0);
  int fd = open("kept.sock", O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
  assert_true(fd >= 0);
  close(fd);
  gx_rpc_server_shutdown(srv, on_second_shut_down, &done);
  uint64_t end = uv_hrtime() + (uint64_t)WAIT_MS * 1000000u;
  while (!done && uv_hrtime() < end) uv_run(&f->loop, UV_RUN_ONCE);
  assert_int_equal(done, 1);
  gx_rpc_server_free(srv);
  assert_int_equal(access("gone.sock", F_OK), -1);
  assert_int_equal(access("kept.sock", F_OK), 0);
  unlink("kept.sock");
}

/* The test directory must be searchable by the other uids (they connect
 * to the socket by a path relative to it). */
static int peer_group_setup(void **state) {
  struct stat st;
  if (group_setup(state) != 0 || stat(".", &st) != 0) return -1;
  return chmod(".", (st.st_mode & 07777) | 0011);
}

static const options own_unix = {.start = 1, .own_unix = 1};
static const options own_unix_unstarted = {.own_unix = 1};
static const options tcp = {.start = 1, .tcp = 1};
static const options own_unix_noting_errors = {
    .start = 1,
    .own_unix = 1,
    .unix_opts = {.on_accept_error = note_accept_error}};
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
      cmocka_unit_test_prestate_setup_teardown(
          cut_unix_connection_keeps_others, setup, teardown,
          (void *)&own_unix),
      cmocka_unit_test_prestate_setup_teardown(
          cut_tcp_connection_keeps_others, setup, teardown, (void *)&tcp),
      cmocka_unit_test_setup_teardown(cut_refuses_what_it_cannot_find, setup,
                                      teardown),
      cmocka_unit_test_prestate_setup_teardown(
          accept_without_descriptors_pauses_and_recovers, setup, teardown,
          (void *)&own_unix_noting_errors),
      cmocka_unit_test_prestate_setup_teardown(
          listen_unix_refuses_bad_requests, setup, teardown,
          (void *)&own_unix_unstarted),
      cmocka_unit_test_prestate_setup_teardown(
          shutdown_removes_only_its_own_sockets, setup, teardown,
          (void *)&own_unix),
  };
  return cmocka_run_group_tests_name("lib/rpc peers", tests, peer_group_setup,
                                     group_teardown);
}
