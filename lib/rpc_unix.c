/* Unix-socket listeners whose connections the rpc module accepts itself
 * (gx_rpc_server_listen_unix, see rpc.h): the socket is bound with the
 * requested mode and group, watched on the server's loop (uv_poll), and
 * each connection is accepted, recorded with its peer's credentials
 * (rpc_conn.c) and handed to gRPC (grpc_server_add_channel_from_fd,
 * which takes insecure credentials only and is valid only after
 * grpc_server_start: accepting starts then). Loop thread only.
 *
 * Accept errors never make the loop spin: on a lack of resources (or
 * any unexpected errno) the listener stops watching the socket and looks
 * again after a pause that doubles from 10 ms to 1 s, reporting the
 * first failure of each episode through on_accept_error. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <grpc/grpc_posix.h>
#include <grpc/grpc_security.h>

#include "lib/gx_err.h"
#include "lib/rpc_internal.h"

/* Connections accepted per wake-up at most: the poll is level-triggered,
 * so a longer queue is taken at the next turn of the loop, and other
 * work is not held up by a flood of connections. */
#define ACCEPT_BATCH 64
#define PAUSE_FIRST_MS 10
#define PAUSE_MAX_MS 1000

atomic_uint_fast64_t rpc_unix_accepted;
atomic_uint_fast64_t rpc_unix_accept_failures;

struct rpc_unix_listener {
  rpc_conns *conns;
  grpc_server *server;
  grpc_server_credentials *creds; /* insecure: all gRPC takes for an fd */
  int fd;
  char path[sizeof ((struct sockaddr_un *)0)->sun_path];
  dev_t dev; /* the socket file's, to remove only ours */
  ino_t ino;
  void (*on_error)(void *ud, int err);
  void *ud;
  uv_poll_t poll;
  uv_timer_t pause;
  int started;      /* the handles exist */
  int open_handles; /* freed when the last one closed */
  uint64_t pause_ms; /* the next pause; 0 = none in this episode yet */
};

/* ------------------------------------------------------------ binding */

/* Mode bits a listener may have: only permission bits, and the owner
 * must be able to use its own socket. */
static int mode_ok(unsigned mode) {
  return (mode & ~0777u) == 0 && (mode & 0600u) == 0600u;
}

/* Binds @p fd to @p path with exactly @p mode: bind(2) applies the
 * umask to 0777, so the umask is set for the call (the process's umask
 * is shared: the window is one system call). */
static int bind_mode(int fd, const char *path, unsigned mode) {
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  memcpy(sa.sun_path, path, strlen(path) + 1);
  mode_t old = umask((mode_t)(0777u & ~mode));
  int rc = bind(fd, (struct sockaddr *)&sa, sizeof sa);
  int err = errno;
  umask(old);
  errno = err;
  return rc;
}

/* Remembers the socket file we just made and gives it @p gid when asked.
 * The file is opened without following links and must be a socket owned
 * by us, so that a path swapped meanwhile is never changed. Nobody can
 * connect yet (no listen). */
static int own_file(rpc_unix_listener *l, const gx_rpc_unix_opts *o) {
  struct stat st;
  int pfd = open(l->path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (pfd < 0) return -1;
  int rc = fstat(pfd, &st);
  if (rc == 0 && (!S_ISSOCK(st.st_mode) || st.st_uid != geteuid())) {
    errno = EEXIST;
    rc = -1;
  }
  if (rc == 0 && o && o->set_gid)
    rc = fchownat(pfd, "", (uid_t)-1, (gid_t)o->gid, AT_EMPTY_PATH);
  if (rc == 0) {
    l->dev = st.st_dev;
    l->ino = st.st_ino;
  }
  int err = errno;
  close(pfd);
  errno = err;
  return rc;
}

/* Removes the socket file if it is still the one we made. */
static void unlink_ours(const rpc_unix_listener *l) {
  struct stat st;
  if (l->ino && lstat(l->path, &st) == 0 && st.st_dev == l->dev &&
      st.st_ino == l->ino)
    unlink(l->path);
}

static void free_listener(rpc_unix_listener *l) {
  if (l->fd >= 0) close(l->fd);
  if (l->creds) grpc_server_credentials_release(l->creds);
  free(l);
}

/* socket, bind (mode), own_file (group), listen. */
static int open_socket(rpc_unix_listener *l, const gx_rpc_unix_opts *o) {
  unsigned mode = o && o->mode ? o->mode : 0600u;
  l->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (l->fd < 0) return GX_ESYS;
  if (bind_mode(l->fd, l->path, mode) != 0) return GX_ESYS;
  l->ino = 0;
  if (own_file(l, o) != 0 || listen(l->fd, SOMAXCONN) != 0) {
    int err = errno;
    if (l->ino)
      unlink_ours(l);
    else
      unlink(l->path); /* bound by us a moment ago, but not verifiable */
    errno = err;
    return GX_ESYS;
  }
  return GX_OK;
}

int rpc_unix_listen(rpc_conns *cs, const char *path,
                    const gx_rpc_unix_opts *opts, rpc_unix_listener **out) {
  size_t len = path ? strlen(path) : 0;
  if (len == 0 || len >= sizeof ((rpc_unix_listener *)0)->path ||
      (opts && opts->mode && !mode_ok(opts->mode)))
    return GX_EINVAL;
  rpc_unix_listener *l = calloc(1, sizeof *l);
  if (!l) return GX_ENOMEM;
  l->conns = cs;
  l->fd = -1;
  memcpy(l->path, path, len + 1);
  l->on_error = opts ? opts->on_accept_error : NULL;
  l->ud = opts ? opts->ud : NULL;
  l->creds = grpc_insecure_server_credentials_create();
  int rc = l->creds ? open_socket(l, opts) : GX_ENOMEM;
  if (rc != GX_OK) {
    int err = errno;
    free_listener(l);
    errno = err;
    return rc;
  }
  *out = l;
  return GX_OK;
}

/* ---------------------------------------------------------- accepting */

static void on_readable(uv_poll_t *p, int status, int events);

static void on_pause_over(uv_timer_t *t) {
  rpc_unix_listener *l = t->data;
  uv_poll_start(&l->poll, UV_READABLE, on_readable);
}

/* Stops watching the socket for a while after a failure (@p err, an
 * errno), reporting the first of an episode. */
static void pause_accepting(rpc_unix_listener *l, int err) {
  int first = l->pause_ms == 0;
  l->pause_ms = first ? PAUSE_FIRST_MS
                      : (l->pause_ms * 2 > PAUSE_MAX_MS ? PAUSE_MAX_MS
                                                         : l->pause_ms * 2);
  uv_poll_stop(&l->poll);
  uv_timer_start(&l->pause, on_pause_over, l->pause_ms, 0);
  if (first && l->on_error) l->on_error(l->ud, err);
}

/* Records connection @p fd and hands it to gRPC, which owns it from
 * then on. Returns 0, or an errno that calls for a pause. */
static int take(rpc_unix_listener *l, int fd) {
  int rc = rpc_conns_record(l->conns, fd);
  if (rc != GX_OK) { /* never handed over without its record */
    close(fd);
    atomic_fetch_add(&rpc_unix_accept_failures, 1);
    return rc == GX_ENOMEM ? ENOMEM : 0; /* else the peer is gone */
  }
  atomic_fetch_add(&rpc_unix_accepted, 1);
  l->pause_ms = 0; /* an episode of failures ends */
  grpc_server_add_channel_from_fd(l->server, fd, l->creds);
  return 0;
}

/* Whether accept's @p err concerns only the connection at hand (the
 * next one may well succeed). */
static int transient(int err) {
  return err == EINTR || err == ECONNABORTED || err == EPROTO ||
         err == EPERM;
}

static void on_readable(uv_poll_t *p, int status, int events) {
  rpc_unix_listener *l = p->data;
  (void)events;
  if (status < 0) {
    pause_accepting(l, -status);
    return;
  }
  for (int i = 0; i < ACCEPT_BATCH; i++) {
    int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    int err = fd < 0 ? errno : take(l, fd);
    if (fd < 0 && (err == EAGAIN || err == EWOULDBLOCK)) return;
    if (fd < 0) atomic_fetch_add(&rpc_unix_accept_failures, 1);
    if (err && !(fd < 0 && transient(err))) {
      pause_accepting(l, err);
      return;
    }
  }
}

int rpc_unix_start(rpc_unix_listener *l, uv_loop_t *loop,
                   grpc_server *server) {
  l->server = server;
  if (uv_poll_init(loop, &l->poll, l->fd) != 0) return GX_ESYS;
  uv_timer_init(loop, &l->pause);
  l->poll.data = l->pause.data = l;
  l->started = 1;
  l->open_handles = 2;
  return uv_poll_start(&l->poll, UV_READABLE, on_readable) == 0 ? GX_OK
                                                                 : GX_ESYS;
}

static void on_handle_closed(uv_handle_t *h) {
  rpc_unix_listener *l = h->data;
  if (--l->open_handles == 0) free_listener(l);
}

void rpc_unix_stop(rpc_unix_listener *l) {
  unlink_ours(l);
  if (!l->started) {
    free_listener(l);
    return;
  }
  uv_close((uv_handle_t *)&l->poll, on_handle_closed);
  uv_close((uv_handle_t *)&l->pause, on_handle_closed);
}
