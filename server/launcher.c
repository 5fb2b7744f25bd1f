/* Starting runs' launchers; see launcher.h. */
#include "server/launcher.h"
#include "server/launcher_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "server/log.h"
#include "server/reaper.h"
#include "server/spawn.h"

#define NBUCKETS 256

/* One run's launcher until its end was reported. */
typedef struct watch {
  uint64_t run_id;
  pid_t pid;
  gxd_launcher *l;
  gxd_launcher_exit_fn on_exit;
  void *ud;
  int status;            /* once ended */
  int orphan;            /* its spawn gave up waiting: nobody is told of
                            its end; killed as soon as it is known */
  int kill_pending;      /* a KILL for it waits for room on the socket */
  struct rusage ru;
  struct watch *next;    /* in its bucket */
  struct watch *qnext;   /* ended, waiting to be reported */
} watch;

struct gxd_launcher {
  uv_loop_t *loop;
  char *path;
  gxd_launch_mode mode;
  watch *buckets[NBUCKETS];
  watch *queue, **qtail; /* ended runs to report from the loop */
  uv_timer_t deliver;
  int open_handles;
  int closing;
  struct server *srv;    /* the fork server, or NULL */
  int kills_pending;     /* watches with kill_pending set */
  int devnull;
};

/* One fork server, from its start to its close: a server that died is
 * replaced by a new object (its poll handle closes on its own time). */
typedef struct server {
  gxd_launcher *l;
  int ctl;               /* our end of its socket */
  pid_t pid;
  uv_poll_t poll;
} server;

static void server_gone(gxd_launcher *l, const char *why);

/* ---------------------------------------------------------- watches */

static watch **slot(gxd_launcher *l, uint64_t id) {
  watch **w = &l->buckets[id % NBUCKETS];
  while (*w && (*w)->run_id != id) w = &(*w)->next;
  return w;
}

static void unlink_watch(gxd_launcher *l, watch *w) {
  watch **s = slot(l, w->run_id);
  if (*s == w) *s = w->next;
}

/* Reports every queued end; from the loop, never inside a caller's
 * call. */
static void on_deliver(uv_timer_t *t) {
  gxd_launcher *l = t->data;
  while (l->queue) {
    watch *w = l->queue;
    l->queue = w->qnext;
    if (!l->queue) l->qtail = &l->queue;
    gxd_launcher_exit_fn fn = w->on_exit;
    void *ud = w->ud;
    int st = w->status;
    struct rusage ru = w->ru;
    free(w);
    fn(ud, st, &ru);
  }
}

/* The run ended: unregister it and report it from the loop. */
static void ended(gxd_launcher *l, watch *w, int status,
                  const struct rusage *ru) {
  unlink_watch(l, w);
  w->status = status;
  w->ru = *ru;
  w->qnext = NULL;
  *l->qtail = w;
  l->qtail = &w->qnext;
  uv_timer_start(&l->deliver, on_deliver, 0, 0);
}

/* ------------------------------------------------------- exec per run */

/* The request (argv, env, cwd, allow list) in a sealed memfd: written
 * without blocking, read by the launcher from offset 0. Returns the fd
 * or -errno. */
static int request_fd(const gxl_request *req) {
  uint8_t *buf;
  size_t len;
  int rc = gxl_request_encode(req, &buf, &len);
  if (rc != 0) return rc;
  int fd = memfd_create("gexec-request", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) {
    rc = -errno;
    goto out;
  }
  if (write(fd, buf, len) != (ssize_t)len ||
      fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE |
                                 F_SEAL_SEAL) != 0) {
    rc = errno ? -errno : -EIO;
    close(fd);
    goto out;
  }
  rc = fd;
out:
  free(buf);
  return rc;
}

/* Numbers of a launcher argv. */
typedef struct {
  char mechs[16], limit[4][32], parent[16];
} argv_nums;

/* argv for gexec-launch: only values of the daemon's making (the run's
 * mechanisms, limits, cgroup, fds); the client's argv, env and cwd go in
 * the request. @p a has room for 24 entries. */
static void launcher_argv(const gxd_launcher *l, const gxl_run *run,
                          argv_nums *num, char **a) {
  static const char *const flags[4] = {"--memory", "--pids", "--cpu-time",
                                       "--open-files"};
  const uint64_t vals[4] = {run->limits.memory_bytes, run->limits.pids,
                            run->limits.cpu_time_ms, run->limits.open_files};
  size_t k = 0;
  a[k++] = l->path;
  a[k++] = "--mechs";
  snprintf(num->mechs, sizeof num->mechs, "%u", (unsigned)run->mechs);
  a[k++] = num->mechs;
  for (int i = 0; i < 4; i++) {
    if (!vals[i]) continue;
    snprintf(num->limit[i], sizeof num->limit[i], i == 2 ? "%llums" : "%llu",
             (unsigned long long)vals[i]);
    a[k++] = (char *)flags[i];
    a[k++] = num->limit[i];
  }
  if (run->cgroup[0]) {
    a[k++] = "--cgroup";
    a[k++] = (char *)run->cgroup;
  }
  snprintf(num->parent, sizeof num->parent, "%d", (int)getpid());
  a[k++] = "--parent-pid";
  a[k++] = num->parent;
  a[k++] = "--report-fd";
  a[k++] = "3";
  a[k++] = "--request-fd";
  a[k++] = "4";
  a[k] = NULL;
}

/* Reaper callback: a launcher we exec'd is a zombie. Kill what it left
 * in its group while the group id is still pinned, then reap. */
static void on_zombie(void *ud, pid_t pid) {
  watch *w = ud;
  struct rusage ru;
  int st = 0;
  killpg(pid, SIGKILL);
  memset(&ru, 0, sizeof ru);
  while (wait4(pid, &st, 0, &ru) < 0 && errno == EINTR) {
  }
  ended(w->l, w, st, &ru);
}

static int exec_spawn(gxd_launcher *l, watch *w, const gxl_run *run,
                      int mfd, const gxd_launch_fds *fds) {
  static char *const empty_env[] = {NULL}; /* nothing of the client's */
  char *argv[24];
  argv_nums num;
  launcher_argv(l, run, &num, argv);
  gxd_spawn_spec spec = {.path = l->path, .argv = argv, .envp = empty_env,
                         .cwd = "/", .stdin_fd = fds->stdin_fd,
                         .stdout_fd = fds->stdout_fd,
                         .stderr_fd = fds->stderr_fd,
                         .report_fd = fds->report_fd, .request_fd = mfd};
  int rc = gxd_spawn(&spec, &w->pid);
  if (rc != 0) return rc;
  if (gxd_reaper_add(w->pid, on_zombie, w) != 0) {
    /* unsupervised, it must not run: kill and reap it now */
    killpg(w->pid, SIGKILL);
    waitpid(w->pid, NULL, 0);
    return -ENOMEM;
  }
  return 0;
}

/* ------------------------------------------------------ fork server */

/* How long a spawn waits for the server's answer (it forks, then
 * answers: well under a millisecond when it gets the CPU). */
#define REPLY_WAIT_MS GXD__LAUNCHER_REPLY_WAIT_MS

static void on_ctl_event(uv_poll_t *h, int status, int events);

/* Readable always; writable while KILLs wait for room. */
static void watch_socket(server *srv) {
  int ev = UV_READABLE | UV_DISCONNECT;
  if (srv->l->kills_pending) ev |= UV_WRITABLE;
  uv_poll_start(&srv->poll, ev, on_ctl_event);
}

static int send_kill(gxd_launcher *l, watch *w) {
  gxl_fs_msg m = {.type = GXL_FS_KILL, .run_id = w->run_id};
  return l->srv ? gxl_fs_send(l->srv->ctl, &m, NULL, 0, MSG_DONTWAIT) : 0;
}

/* Asks the server to kill @p w's launcher; a full socket keeps the
 * request until it has room (a KILL is never dropped). */
static void request_kill(gxd_launcher *l, watch *w) {
  int rc = w->kill_pending ? -EAGAIN : send_kill(l, w);
  if (rc == -EAGAIN && !w->kill_pending) {
    w->kill_pending = 1;
    if (l->kills_pending++ == 0 && l->srv) watch_socket(l->srv);
  } else if (rc != 0 && rc != -EAGAIN) {
    gxd_log(GXD_LOG_ERROR, "run %llu: cannot ask the fork server to kill "
            "its launcher: %s", (unsigned long long)w->run_id, strerror(-rc));
  }
}

/* Room on the socket: the KILLs that waited go now, in any order. */
static void flush_kills(gxd_launcher *l) {
  for (int b = 0; b < NBUCKETS && l->kills_pending; b++)
    for (watch *w = l->buckets[b]; w && l->kills_pending; w = w->next) {
      if (!w->kill_pending || send_kill(l, w) == -EAGAIN) continue;
      w->kill_pending = 0;
      l->kills_pending--;
    }
  if (!l->kills_pending && l->srv) watch_socket(l->srv);
}

static void forget_watch(gxd_launcher *l, watch *w) {
  unlink_watch(l, w);
  if (w->kill_pending) l->kills_pending--;
  free(w);
}

static void usage_of(const gxl_fs_msg *m, struct rusage *ru) {
  memset(ru, 0, sizeof *ru);
  ru->ru_utime.tv_sec = (time_t)(m->user_us / 1000000);
  ru->ru_utime.tv_usec = (suseconds_t)(m->user_us % 1000000);
  ru->ru_stime.tv_sec = (time_t)(m->sys_us / 1000000);
  ru->ru_stime.tv_usec = (suseconds_t)(m->sys_us % 1000000);
  ru->ru_maxrss = (long)m->max_rss_kb;
}

/* Handles one message from the server outside a spawn's own answer. */
static void take_message(gxd_launcher *l, const gxl_fs_msg *m) {
  watch *w = *slot(l, m->run_id);
  struct rusage ru;
  if (w && w->orphan) { /* a run its spawn gave up on */
    if (m->type == GXL_FS_STARTED) {
      w->pid = m->pid;
      request_kill(l, w);
    } else {
      forget_watch(l, w); /* FAILED, or EXITED */
    }
    return;
  }
  if (m->type != GXL_FS_EXITED || !w) {
    gxd_log(GXD_LOG_ERROR, "run %llu: unexpected fork-server message %d",
            (unsigned long long)m->run_id, (int)m->type);
    return;
  }
  if (w->kill_pending) {
    w->kill_pending = 0;
    l->kills_pending--;
  }
  usage_of(m, &ru);
  ended(l, w, m->wait_status, &ru);
}

/* Reads one message. Returns 1, 0 if none is there (@p wait_ms 0), or
 * -1 if the server is gone or broke the protocol, -ETIMEDOUT when
 * @p wait_ms passed (reason in @p why). */
static int read_message(server *srv, int wait_ms, gxl_fs_msg *m, char *why,
                        size_t len) {
  int fds[GXL_FS_RUN_FDS];
  uint64_t raw_id;
  struct pollfd p = {srv->ctl, POLLIN, 0};
  int rc = poll(&p, 1, wait_ms);
  if (rc < 0 && errno == EINTR) return 0;
  if (rc == 0 && wait_ms > 0)
    return snprintf(why, len, "no answer within %d ms", wait_ms), -ETIMEDOUT;
  if (rc <= 0) return 0;
  rc = gxl_fs_recv(srv->ctl, m, fds, &raw_id, why, len);
  if (rc == 1 && m->type == GXL_FS_RUN) { /* not the server's to send */
    for (int i = 0; i < GXL_FS_RUN_FDS; i++) close(fds[i]);
    return snprintf(why, len, "it sent a RUN"), -1;
  }
  return rc == 1 ? 1 : rc == 0 ? 0 : -1;
}

static void on_ctl_event(uv_poll_t *h, int status, int events) {
  server *srv = h->data;
  gxd_launcher *l = srv->l;
  gxl_fs_msg m;
  char why[160];
  int rc;
  (void)status;
  if ((events & UV_WRITABLE) && l->kills_pending) flush_kills(l);
  while (l->srv == srv && (rc = read_message(srv, 0, &m, why, sizeof why)) != 0) {
    if (rc < 0) return server_gone(l, why);
    take_message(l, &m);
  }
}

static void on_server_zombie(void *ud, pid_t pid) {
  gxd_launcher *l = ud;
  int st = 0;
  waitpid(pid, &st, 0);
  if (l->srv && pid == l->srv->pid) {
    l->srv->pid = 0;
    server_gone(l, "it exited");
  }
}

/* Makes @p ctl (connected to server @p pid) the current server. */
static int server_attach(gxd_launcher *l, int ctl, pid_t pid) {
  server *srv = calloc(1, sizeof *srv);
  if (!srv) return -ENOMEM;
  srv->l = l;
  srv->ctl = ctl;
  srv->pid = pid;
  uv_poll_init(l->loop, &srv->poll, srv->ctl);
  srv->poll.data = srv;
  l->srv = srv;
  watch_socket(srv);
  return 0;
}

/* Starts gexec-launch --serve with our end of a socket pair. */
static int server_start(gxd_launcher *l) {
  static char *const empty_env[] = {NULL};
  int sv[2];
  char parent[16];
  pid_t pid = 0;
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
    return -errno;
  snprintf(parent, sizeof parent, "%d", (int)getpid());
  char *argv[] = {l->path, "--serve", "--control-fd", "3", "--parent-pid",
                  parent, NULL};
  gxd_spawn_spec spec = {.path = l->path, .argv = argv, .envp = empty_env,
                         .cwd = "/", .stdin_fd = -1, .stdout_fd = -1,
                         .stderr_fd = STDERR_FILENO, .report_fd = sv[1],
                         .request_fd = -1};
  int rc = gxd_spawn(&spec, &pid);
  close(sv[1]);
  if (rc == 0 && gxd_reaper_add(pid, on_server_zombie, l) != 0) {
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    rc = -ENOMEM;
  }
  if (rc == 0 && (rc = server_attach(l, sv[0], pid)) != 0) {
    gxd_reaper_remove(pid);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
  }
  if (rc != 0) close(sv[0]);
  return rc;
}

static void on_server_closed(uv_handle_t *h);

/* Retires the server object: its handle closes (then it is freed), its
 * socket with it; the process, if any, is killed (the reaper reaps it). */
static void server_close(gxd_launcher *l) {
  server *srv = l->srv;
  l->srv = NULL;
  if (srv->pid > 0) {
    gxd_reaper_remove(srv->pid);
    kill(srv->pid, SIGKILL); /* reaped as an unknown child */
  }
  l->open_handles++;
  uv_close((uv_handle_t *)&srv->poll, on_server_closed);
}

/* The server died or broke the protocol: every run it had is over (each
 * launcher got its parent-death signal and killed its run). The next
 * run starts a new server. */
static void server_gone(gxd_launcher *l, const char *why) {
  struct rusage ru;
  if (!l->srv) return;
  gxd_log(GXD_LOG_ERROR, "the fork server (pid %d) is gone: %s",
          (int)l->srv->pid, why);
  server_close(l);
  memset(&ru, 0, sizeof ru);
  for (int b = 0; b < NBUCKETS; b++)
    while (l->buckets[b]) {
      watch *w = l->buckets[b];
      if (w->orphan) forget_watch(l, w);
      else ended(l, w, SIGKILL, &ru);
    }
  l->kills_pending = 0;
}

/* Waits for the answer to RUN @p id; other messages read meanwhile are
 * handled. Returns the launcher's pid, -ETIMEDOUT (the server is slow:
 * the run is given up, not the server), -EPIPE (the server is gone), or
 * -errno from the server. */
static int await_reply(gxd_launcher *l, uint64_t id, char *why, size_t len) {
  gxl_fs_msg m;
  uint64_t until = uv_hrtime() / 1000000 + REPLY_WAIT_MS;
  for (;;) {
    uint64_t now = uv_hrtime() / 1000000;
    int left = now < until ? (int)(until - now) : 1;
    int rc = read_message(l->srv, left, &m, why, len);
    if (rc == -ETIMEDOUT) return rc;
    if (rc < 0) return -EPIPE;
    if (rc == 0) continue;
    if (m.run_id == id && m.type == GXL_FS_STARTED) return m.pid;
    if (m.run_id == id && m.type == GXL_FS_FAILED) return -m.err;
    take_message(l, &m);
  }
}

/* Sends the RUN; a full socket is waited for (as long as an answer). */
static int send_run(gxd_launcher *l, const gxl_run *run, int mfd,
                    const gxd_launch_fds *fds) {
  gxl_fs_msg m = {.type = GXL_FS_RUN, .run_id = run->run_id, .run = *run};
  int fdv[GXL_FS_RUN_FDS] = {
      fds->stdin_fd >= 0 ? fds->stdin_fd : l->devnull,
      fds->stdout_fd >= 0 ? fds->stdout_fd : l->devnull,
      fds->stderr_fd >= 0 ? fds->stderr_fd : l->devnull, fds->report_fd, mfd};
  int rc = gxl_fs_send(l->srv->ctl, &m, fdv, GXL_FS_RUN_FDS, MSG_DONTWAIT);
  if (rc == -EAGAIN) {
    struct pollfd p = {l->srv->ctl, POLLOUT, 0};
    if (poll(&p, 1, REPLY_WAIT_MS) == 1)
      rc = gxl_fs_send(l->srv->ctl, &m, fdv, GXL_FS_RUN_FDS, MSG_DONTWAIT);
    if (rc == -EAGAIN) return -EAGAIN; /* this run only */
  }
  return rc == -EINVAL ? rc : rc < 0 ? -EPIPE : 0;
}

/* Gives a run up whose answer did not come in time: its watch stays as
 * an orphan, so a late STARTED gets a KILL and its EXITED is dropped. */
static void orphan_watch(gxd_launcher *l, watch *w) {
  watch *o = malloc(sizeof *o);
  if (!o) return; /* the launcher then runs unwatched: logged */
  *o = *w;
  o->orphan = 1;
  o->next = NULL;
  *slot(l, o->run_id) = o;
}

static int server_spawn(gxd_launcher *l, watch *w, const gxl_run *run,
                        int mfd, const gxd_launch_fds *fds) {
  char why[160] = "the socket refused a RUN message";
  int rc = 0;
  if (!l->srv && (rc = server_start(l)) != 0) return rc;
  if ((rc = send_run(l, run, mfd, fds)) == 0 &&
      (rc = await_reply(l, run->run_id, why, sizeof why)) > 0) {
    w->pid = rc;
    return 0;
  }
  if (rc == -ETIMEDOUT) {
    gxd_log(GXD_LOG_WARN, "run %llu: the fork server gave %s; the run is "
            "given up", (unsigned long long)run->run_id, why);
    orphan_watch(l, w);
    return -EAGAIN;
  }
  if (rc == -EPIPE) {
    server_gone(l, why);
    return -EAGAIN; /* the next run gets a new server */
  }
  return rc;
}

/* ---------------------------------------------------------------- api */

/* The launcher without its server. */
static int launcher_make(uv_loop_t *loop, const char *path,
                         gxd_launch_mode mode, gxd_launcher **out) {
  gxd_launcher *l = calloc(1, sizeof *l);
  if (!l || !(l->path = strdup(path))) {
    free(l);
    return -ENOMEM;
  }
  l->loop = loop;
  l->mode = mode;
  l->qtail = &l->queue;
  uv_timer_init(loop, &l->deliver);
  l->deliver.data = l;
  l->devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (l->devnull < 0) {
    int rc = -errno;
    gxd_launcher_free(l);
    return rc;
  }
  *out = l;
  return 0;
}

int gxd__launcher_new_attached(uv_loop_t *loop, const char *path, int ctl,
                               pid_t pid, gxd_launcher **out) {
  int rc = launcher_make(loop, path, GXD_LAUNCH_FORK_SERVER, out);
  if (rc == 0 && (rc = server_attach(*out, ctl, pid)) != 0)
    gxd_launcher_free(*out);
  if (rc != 0) close(ctl);
  return rc;
}

int gxd_launcher_new(uv_loop_t *loop, const char *path, gxd_launch_mode mode,
                     gxd_launcher **out, char *why, size_t len) {
  gxd_launcher *l;
  int rc = launcher_make(loop, path, mode, &l);
  if (rc != 0) {
    snprintf(why, len, "%s", rc == -ENOMEM ? "out of memory" : strerror(-rc));
    return rc;
  }
  if (mode == GXD_LAUNCH_FORK_SERVER && (rc = server_start(l)) != 0) {
    snprintf(why, len, "cannot start the fork server %s: %s", path,
             strerror(-rc));
    return gxd_launcher_free(l), rc;
  }
  *out = l;
  return 0;
}

const char *gxd_launcher_path(const gxd_launcher *l) { return l->path; }

uv_loop_t *gxd_launcher_loop(const gxd_launcher *l) { return l->loop; }

int gxd_launcher_spawn(gxd_launcher *l, const gxl_run *run,
                       const gxl_request *req, const gxd_launch_fds *fds,
                       gxd_launcher_exit_fn on_exit, void *ud, pid_t *pid) {
  int rc, mfd = -1;
  if (run->run_id == 0 || *slot(l, run->run_id)) return -EINVAL;
  watch *w = calloc(1, sizeof *w);
  if (!w) return -ENOMEM;
  *w = (watch){.run_id = run->run_id, .l = l, .on_exit = on_exit, .ud = ud};
  if ((rc = mfd = request_fd(req)) < 0) goto out;
  rc = l->mode == GXD_LAUNCH_FORK_SERVER ? server_spawn(l, w, run, mfd, fds)
                                         : exec_spawn(l, w, run, mfd, fds);
  if (rc == 0) {
    *slot(l, run->run_id) = w;
    *pid = w->pid;
    w = NULL;
  }
out:
  if (mfd >= 0) close(mfd);
  free(w);
  return rc < 0 ? rc : 0;
}

void gxd_launcher_kill(gxd_launcher *l, uint64_t run_id) {
  watch *w = *slot(l, run_id);
  if (!w || w->orphan) return; /* reaped already, or being killed */
  if (l->mode == GXD_LAUNCH_EXEC) { /* unreaped: the group id is pinned */
    killpg(w->pid, SIGKILL);
    return;
  }
  request_kill(l, w);
}

static void launcher_closed(gxd_launcher *l) {
  if (--l->open_handles > 0 || !l->closing) return;
  free(l->path);
  free(l);
}

static void on_poll_closed(uv_handle_t *h) { launcher_closed(h->data); }

static void on_server_closed(uv_handle_t *h) {
  server *srv = h->data;
  gxd_launcher *l = srv->l;
  close(srv->ctl);
  free(srv);
  launcher_closed(l);
}

void gxd_launcher_free(gxd_launcher *l) {
  if (!l) return;
  l->closing = 1;
  /* the server reads EOF and exits; our runs are over by now */
  if (l->srv) {
    gxd_reaper_remove(l->srv->pid);
    l->srv->pid = 0; /* it exits by itself (EOF) */
    server_close(l);
  }
  if (l->devnull >= 0) close(l->devnull);
  l->open_handles++;
  uv_close((uv_handle_t *)&l->deliver, on_poll_closed);
}
