/* The connections a server accepted itself (its unix listeners, see
 * rpc_unix.c), and who is at the other end of each. See rpc.h
 * (gx_rpc_server_listen_unix, gx_rpc_call_auth).
 *
 * At accept, the socket's SO_PEERCRED is recorded in a table indexed by
 * the descriptor number, with the socket's identity (device and inode of
 * its sockfs file) and a conn_id that is never reused; then the
 * descriptor goes to gRPC (grpc_server_add_channel_from_fd), which names
 * the connection "fd:N" and gives that name, and nothing else, to each
 * call made on it (grpc_call_get_peer). A call is matched to its record
 * by N when it reaches the loop.
 *
 * Why N cannot mislead, although gRPC closes N when the connection ends
 * and the kernel then hands N out again (gRPC 1.51.1 sources):
 *  - The descriptor is closed in one place: the endpoint's destruction
 *    (tcp_posix.cc: tcp_destroy -> tcp_unref -> tcp_free ->
 *    grpc_fd_orphan, which close()s it in ev_epoll1_linux.cc fd_orphan).
 *    When the connection merely ends (EOF, error, GOAWAY, our cut), the
 *    transport only shuts the socket down (chttp2_transport.cc:
 *    close_transport_locked -> grpc_endpoint_shutdown -> shutdown(2));
 *    the number stays taken.
 *  - The endpoint is destroyed only by the transport's destructor
 *    (chttp2_transport.cc: ~grpc_chttp2_transport -> grpc_endpoint_destroy),
 *    which runs when the transport's last reference goes.
 *  - Every stream holds a reference to its transport from its creation to
 *    its destruction (grpc_chttp2_stream::Reffer: REF_TRANSPORT "stream";
 *    ~grpc_chttp2_stream: UNREF_TRANSPORT "stream"), and a server call's
 *    stream is destroyed only with the call's stack, after the last
 *    reference to the grpc_call is gone (call.cc: ExternalUnref ->
 *    InternalUnref("destroy") -> DestroyCall -> grpc_call_stack_destroy
 *    -> connected_channel.cc: grpc_transport_destroy_stream). gRPC relies
 *    on this itself: a call's peer string points into the transport
 *    (chttp2_transport.cc: recv_initial_metadata.peer_string).
 * So while a grpc_call exists, the socket it came on is open under the
 * same number, and no accept can return that number. The rpc module holds
 * its grpc_call from the moment gRPC hands it over (the request slot)
 * until on_done, and matches it on the loop thread, the thread that also
 * accepts and records: the record found under N is the one written when
 * the call's own connection was accepted. A record whose connection
 * ended stays until the number is accepted again (gRPC does not tell us
 * when it closes a descriptor; nothing looks the number up meanwhile,
 * since no call of that connection is left), so the table holds at most
 * one record per descriptor number: it is bounded by RLIMIT_NOFILE.
 *
 * Belt and braces, in case a later gRPC breaks that chain: the socket's
 * identity is checked again with fstat(N) at each lookup, and a call whose
 * record does not match gets no credentials at all (it is refused, not
 * guessed at). That catches N being reused by anything other than our
 * own accept; reuse by our own accept under a live call is what the
 * argument above rules out. */
#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <grpc/support/alloc.h>

#include "lib/gx_err.h"
#include "lib/rpc_internal.h"

#define MAX_UNIX_LISTENERS 16
#define MAX_TCP_PORTS 16

/* One accepted connection, under its descriptor number. */
typedef struct {
  uint64_t id; /* 0: no record */
  dev_t dev;   /* the socket's identity */
  ino_t ino;
  uint32_t uid, gid;
  int32_t pid;
} conn_rec;

struct rpc_conns {
  conn_rec *recs; /* indexed by descriptor number */
  size_t nrecs;
  rpc_unix_listener *unix_l[MAX_UNIX_LISTENERS];
  int nunix;
  int tcp_ports[MAX_TCP_PORTS];
  int ntcp;
};

static const conn_rec *current(const rpc_conns *cs, int fd);

/* One numbering for every connection of the process: the ones accepted
 * here and the ones the stream gate names (rpc_gate.c). */
static atomic_uint_fast64_t last_conn_id;

uint64_t rpc_next_conn_id(void) {
  return atomic_fetch_add(&last_conn_id, 1) + 1;
}

/* Calls @p fn for each connection accepted here whose socket is still
 * open under its number; stops at the first nonzero @p fn returns and
 * returns it (0 when all were seen). */
int rpc_conns_each(const rpc_conns *cs, int (*fn)(void *ud, int fd),
                   void *ud) {
  for (size_t fd = 0; fd < cs->nrecs; fd++) {
    int rc = cs->recs[fd].id && current(cs, (int)fd) ? fn(ud, (int)fd) : 0;
    if (rc) return rc;
  }
  return 0;
}

int rpc_conns_new(rpc_conns **out) {
  *out = calloc(1, sizeof **out);
  return *out ? GX_OK : GX_ENOMEM;
}

void rpc_conns_free(rpc_conns *cs) {
  if (!cs) return;
  rpc_conns_stop(cs);
  free(cs->recs);
  free(cs);
}

int rpc_conns_listen_unix(rpc_conns *cs, const char *path,
                          const gx_rpc_unix_opts *opts) {
  if (cs->nunix == MAX_UNIX_LISTENERS) return GX_E2BIG;
  rpc_unix_listener *l;
  int rc = rpc_unix_listen(cs, path, opts, &l);
  if (rc == GX_OK) cs->unix_l[cs->nunix++] = l;
  return rc;
}

int rpc_conns_start(rpc_conns *cs, uv_loop_t *loop, grpc_server *server) {
  for (int i = 0; i < cs->nunix; i++) {
    int rc = rpc_unix_start(cs->unix_l[i], loop, server);
    if (rc != GX_OK) return rc;
  }
  return GX_OK;
}

void rpc_conns_stop(rpc_conns *cs) {
  for (int i = 0; i < cs->nunix; i++) rpc_unix_stop(cs->unix_l[i]);
  cs->nunix = 0;
}

void rpc_conns_add_tcp_port(rpc_conns *cs, int port) {
  if (cs->ntcp < MAX_TCP_PORTS) cs->tcp_ports[cs->ntcp++] = port;
}

const int *rpc_conns_tcp_ports(const rpc_conns *cs, int *n) {
  *n = cs->ntcp;
  return cs->tcp_ports;
}

/* Makes room for descriptor @p fd. Growth is bounded by the open-file
 * limit: an accepted descriptor is always below it. */
static int grow(rpc_conns *cs, int fd) {
  size_t want = (size_t)fd + 1, n = cs->nrecs ? cs->nrecs : 64;
  struct rlimit rl;
  while (n < want) n *= 2;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
      n > rl.rlim_cur)
    n = rl.rlim_cur > want ? (size_t)rl.rlim_cur : want;
  conn_rec *r = realloc(cs->recs, n * sizeof *r);
  if (!r) return GX_ENOMEM;
  memset(r + cs->nrecs, 0, (n - cs->nrecs) * sizeof *r);
  cs->recs = r;
  cs->nrecs = n;
  return GX_OK;
}

int rpc_conns_record(rpc_conns *cs, int fd) {
  struct ucred uc;
  socklen_t len = sizeof uc;
  struct stat st;
  if (fd < 0) return GX_EINVAL;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) != 0 ||
      len != sizeof uc || fstat(fd, &st) != 0)
    return GX_ESYS;
  if ((size_t)fd >= cs->nrecs && grow(cs, fd) != GX_OK) return GX_ENOMEM;
  conn_rec *r = &cs->recs[fd];
  r->id = rpc_next_conn_id();
  r->dev = st.st_dev;
  r->ino = st.st_ino;
  r->uid = (uint32_t)uc.uid;
  r->gid = (uint32_t)uc.gid;
  r->pid = (int32_t)uc.pid;
  return GX_OK;
}

/* The record of descriptor @p fd if it has one and @p fd is still the
 * socket recorded, else NULL. */
static const conn_rec *current(const rpc_conns *cs, int fd) {
  struct stat st;
  if (fd < 0 || (size_t)fd >= cs->nrecs || cs->recs[fd].id == 0) return NULL;
  const conn_rec *r = &cs->recs[fd];
  if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode) || st.st_dev != r->dev ||
      st.st_ino != r->ino)
    return NULL;
  return r;
}

int rpc_conns_current(const rpc_conns *cs, const rpc_peer_cred *cred) {
  const conn_rec *r = current(cs, cred->fd);
  return r && r->id == cred->conn_id;
}

/* N of gRPC's "fd:N", or -1 for any other peer string. */
static int peer_fd(const char *peer) {
  long v = 0;
  if (!peer || strncmp(peer, "fd:", 3) != 0 || !peer[3]) return -1;
  for (const char *p = peer + 3; *p; p++) {
    if (*p < '0' || *p > '9') return -1;
    v = v * 10 + (*p - '0');
    if (v > INT_MAX) return -1;
  }
  return (int)v;
}

/* Replaces the call's "fd:N" by the peer process's credentials. */
static void set_peer(gx_rpc_call *c) {
  char buf[80];
  int n = snprintf(buf, sizeof buf, "unix:pid=%d,uid=%u,gid=%u",
                   (int)c->cred.pid, (unsigned)c->cred.uid,
                   (unsigned)c->cred.gid);
  char *s = gpr_malloc((size_t)n + 1);
  memcpy(s, buf, (size_t)n + 1);
  gpr_free(c->peer);
  c->peer = s;
}

void rpc_conns_identify(rpc_conns *cs, gx_rpc_call *c) {
  int fd = peer_fd(c->peer);
  const conn_rec *r = fd >= 0 ? current(cs, fd) : NULL;
  if (!r) return;
  c->cred = (rpc_peer_cred){.fd = fd, .conn_id = r->id, .uid = r->uid,
                            .gid = r->gid, .pid = r->pid};
  set_peer(c);
}

void rpc_conns_fill_auth(const gx_rpc_call *c, gx_rpc_auth *out) {
  out->has_unix_cred = c->cred.conn_id != 0;
  out->uid = c->cred.uid;
  out->gid = c->cred.gid;
  out->pid = c->cred.pid;
  if (c->cred.conn_id) out->conn_id = c->cred.conn_id; /* else the gate's */
}
