/* The fork server's spare launcher; see spare.h. */
#include "server/spare.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* A spare's leaves take this much memory at most until a run's limit
 * replaces it: in effect none (v1 clamps it to its maximum). */
#define SPARE_MEMORY (1ull << 62)

/* ------------------------------------------------------------- names */

static int leaf_name(const char *dir, pid_t pid, char *out, size_t len) {
  int n = snprintf(out, len, "%s/spare-%d", dir, (int)pid);
  return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* The v1-only view of @p caps: the spare never has a cgroup2 leaf (it
 * could not be renamed). */
static gxi_cgroup_caps v1_only(const gxi_cgroup_caps *caps) {
  gxi_cgroup_caps c = *caps;
  c.v2_root[0] = '\0';
  c.has_kill = 0; /* so a pids leaf is made even without a pids limit */
  return c;
}

static void remove_leaves(const gxi_cgroup_caps *caps, const char *dir,
                          pid_t pid) {
  char name[GXI_CGROUP_NAME_MAX + 1];
  gxi_cgroup_caps c = v1_only(caps);
  gxi_cgroup cg;
  if (leaf_name(dir, pid, name, sizeof name) == 0 &&
      gxi_cgroup_open(&c, name, &cg) == 0)
    gxi_cgroup_remove(&cg);
}

/* ------------------------------------------------------- in the spare */

/* What the spare's parent-death handler undoes: plain data prepared
 * before it is armed (the handler is async-signal-safe). */
static struct {
  char leaves[2][GXI_CGROUP_PATH_MAX];
  gxi_cgroup_exit exit;
} sp;

/* Leaves the spare's leaves for the roots, then removes them. */
static void spare_cleanup(void) {
  gxi_cgroup_exit_now(&sp.exit);
  for (int i = 0; i < 2; i++)
    if (sp.leaves[i][0]) rmdir(sp.leaves[i]);
}

static void on_spare_death(int sig) {
  (void)sig;
  spare_cleanup();
  _exit(0);
}

/* Joins fresh leaves; returns 0 or -1 (nothing left behind). */
static int join_leaves(const gxi_cgroup_caps *caps, const char *dir,
                       gxi_cgroup *cg) {
  char name[GXI_CGROUP_NAME_MAX + 1];
  gxi_cgroup_caps c = v1_only(caps);
  gxi_cgroup_limits lim = {caps->has_memory ? SPARE_MEMORY : 0, 0};
  if (leaf_name(dir, getpid(), name, sizeof name) != 0 ||
      gxi_cgroup_create(&c, name, &lim, cg, NULL, 0) != 0)
    return -1;
  memcpy(sp.leaves[0], cg->mem, sizeof sp.leaves[0]);
  memcpy(sp.leaves[1], cg->pids, sizeof sp.leaves[1]);
  gxi_cgroup_exit_prepare(caps, cg, &sp.exit);
  if (gxi_cgroup_add(cg, getpid()) == 0) return 0; /* the slow part */
  spare_cleanup();
  return -1;
}

/* Receives the RUN and its descriptors on fd 3. Returns 0 or -1. */
static int await_run(gxl_fs_msg *m, int fds[GXL_FS_RUN_FDS]) {
  char why[128];
  uint64_t raw_id;
  for (;;) {
    struct pollfd p = {3, POLLIN, 0};
    if (poll(&p, 1, -1) < 0 && errno != EINTR) return -1;
    int rc = gxl_fs_recv(3, m, fds, &raw_id, why, sizeof why);
    if (rc == 1) return m->type == GXL_FS_RUN ? 0 : -1;
    if (rc < 0) return -1;
  }
}

static void spare_main(int sock, const gxi_cgroup_caps *caps,
                       const char *dir, pid_t server, gxl_become_fn become) {
  struct sigaction sa;
  sigset_t none;
  gxi_cgroup cg;
  gxl_fs_msg m;
  int fds[GXL_FS_RUN_FDS];
  for (int sig = 1; sig < NSIG; sig++)
    if (sig != SIGKILL && sig != SIGSTOP) signal(sig, SIG_DFL);
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_spare_death;
  sigaction(SIGPWR, &sa, NULL);
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  if (dup2(sock, 3) != 3) _exit(1);
  if (syscall(SYS_close_range, 4, ~0U, 0) != 0)
    for (int fd = 4; fd < 65536; fd++) close(fd);
  if (setsid() < 0) _exit(1); /* its own session: see become_launcher */
  prctl(PR_SET_PDEATHSIG, SIGPWR);
  if (getppid() != server || join_leaves(caps, dir, &cg) != 0) _exit(1);
  if (getppid() != server) on_spare_death(0);
  if (write(3, "r", 1) != 1 || await_run(&m, fds) != 0) on_spare_death(0);
  become(&m, fds, server, &cg);
}

/* ------------------------------------------------------ in the server */

int gxl_spare_useful(const gxi_cgroup_caps *caps) {
  return caps->version == 1 && (caps->has_memory || caps->has_pids);
}

int gxl_spare_start(gxl_spare *s, const gxi_cgroup_caps *caps,
                    const char *dir, gxl_become_fn become) {
  int sv[2];
  pid_t server = getpid();
  if (strlen(dir) >= sizeof s->dir) return -ENAMETOOLONG;
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
    return -errno;
  pid_t pid = fork();
  if (pid == 0) {
    close(sv[0]);
    spare_main(sv[1], caps, dir, server, become);
  }
  close(sv[1]);
  if (pid < 0) {
    int err = errno;
    close(sv[0]);
    return -err;
  }
  /* our end only (another open file description than the spare's): a
   * stale poll event never blocks the server */
  fcntl(sv[0], F_SETFL, O_NONBLOCK);
  s->pid = pid;
  s->sock = sv[0];
  s->ready = 0;
  snprintf(s->dir, sizeof s->dir, "%s", dir);
  return 0;
}

int gxl_spare_fits(const gxl_spare *s, const gxi_cgroup_caps *caps,
                   const gxl_fs_msg *m) {
  const gxi_limits *l = &m->run.limits;
  size_t n = strlen(s->dir);
  return s->pid > 0 && s->ready && gxl_spare_useful(caps) &&
         ((l->memory_bytes && caps->has_memory) || (l->pids && caps->has_pids)) &&
         strncmp(m->run.cgroup, s->dir, n) == 0 && m->run.cgroup[n] == '/' &&
         !strchr(m->run.cgroup + n + 1, '/');
}

static void forget(gxl_spare *s) {
  if (s->sock >= 0) close(s->sock);
  s->pid = 0;
  s->sock = -1;
  s->ready = 0;
}

pid_t gxl_spare_take(gxl_spare *s, const gxi_cgroup_caps *caps,
                     const gxl_fs_msg *m, const int fds[GXL_FS_RUN_FDS]) {
  int err = -gxl_fs_send(s->sock, m, fds, GXL_FS_RUN_FDS, 0);
  pid_t pid = s->pid;
  if (err) {
    gxl_spare_stop(s, caps); /* it never runs anything */
    return -err;
  }
  forget(s); /* a launcher now: the run's */
  return pid;
}

void gxl_spare_on_readable(gxl_spare *s) {
  char c;
  ssize_t n = read(s->sock, &c, 1);
  if (n == 1 && c == 'r') {
    s->ready = 1;
    return;
  }
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  close(s->sock); /* it died: the reap follows */
  s->sock = -1;
  s->ready = 0;
}

int gxl_spare_reaped(gxl_spare *s, const gxi_cgroup_caps *caps, pid_t pid) {
  if (pid <= 0 || pid != s->pid) return 0;
  remove_leaves(caps, s->dir, pid);
  forget(s);
  return 1;
}

void gxl_spare_stop(gxl_spare *s, const gxi_cgroup_caps *caps) {
  if (s->pid <= 0) return;
  pid_t pid = s->pid;
  kill(pid, SIGKILL); /* it may not lead its session yet */
  killpg(pid, SIGKILL);
  while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
  }
  gxl_spare_reaped(s, caps, pid);
}
