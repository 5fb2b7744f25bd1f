/* The fork server; see forkserver.h. */
#include "server/forkserver.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "server/launch_run.h"
#include "server/launch_wire.h"
#include "server/spare.h"

/* A run whose launcher was not reaped yet. */
typedef struct {
  uint64_t run_id;
  pid_t pid;
} live_run;

static struct {
  int ctl, sfd;
  gxi_cgroup_caps caps; /* detected once: cgroupfs mounts do not move */
  int have_caps;
  pid_t parent;
  live_run *runs;
  size_t nruns, cap;
  gxl_spare spare; /* a launcher already in v1 leaves (spare.h) */
  char spare_dir[GXI_CGROUP_NAME_MAX + 1]; /* where spares go, once known */
} fs = {.ctl = -1, .sfd = -1, .spare = {.sock = -1}};

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void say(const char *fmt, ...) {
  char buf[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  dprintf(STDERR_FILENO, "gexec-launch --serve: %s\n", buf);
}

/* Sends one message; the daemon reads them in order. Returns 0 or -1
 * (the daemon is gone). */
static int reply(const gxl_fs_msg *m) {
  return gxl_fs_send(fs.ctl, m, NULL, 0, 0) == 0 ? 0 : -1;
}

static live_run *find_pid(pid_t pid) {
  for (size_t i = 0; i < fs.nruns; i++)
    if (fs.runs[i].pid == pid) return &fs.runs[i];
  return NULL;
}

static live_run *find_run(uint64_t id) {
  for (size_t i = 0; i < fs.nruns; i++)
    if (fs.runs[i].run_id == id) return &fs.runs[i];
  return NULL;
}

/* Room for one more run. Returns 0 or -1. */
static int reserve(void) {
  if (fs.nruns < fs.cap) return 0;
  size_t ncap = fs.cap ? fs.cap * 2 : 64;
  live_run *n = realloc(fs.runs, ncap * sizeof *n);
  if (!n) return -1;
  fs.runs = n;
  fs.cap = ncap;
  return 0;
}

/* ------------------------------------------------------ a run's child */

/* In the forked child: the run's descriptors on 0..4 and nothing else,
 * default signal state, its own session; then the run. Never returns. */
static void become_launcher(const gxl_fs_msg *m, const int fds[GXL_FS_RUN_FDS],
                            pid_t server, gxi_cgroup *adopted) {
  sigset_t none;
  int moved[GXL_FS_RUN_FDS];
  signal(SIGCHLD, SIG_DFL);
  signal(SIGPWR, SIG_DFL);
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  /* above the slots first, so no dup2 clobbers a source */
  for (int i = 0; i < GXL_FS_RUN_FDS; i++)
    if ((moved[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 16)) < 0) _exit(GXL_EXIT_SETUP);
  for (int i = 0; i < GXL_FS_RUN_FDS; i++)
    if (dup2(moved[i], i) != i) _exit(GXL_EXIT_SETUP);
  if (syscall(SYS_close_range, GXL_FS_RUN_FDS, ~0U, 0) != 0)
    for (int fd = GXL_FS_RUN_FDS; fd < 65536; fd++) close(fd);
  /* our own session and process group, as with exec per run: the run
   * gets its own scheduler autogroup, not the server's (shared by every
   * run); a KILL before this still reaches us (kill_launcher) */
  if (getsid(0) != getpid() && setsid() < 0) _exit(GXL_EXIT_SETUP);
  gxl_launch o;
  memset(&o, 0, sizeof o);
  o.mechs = m->run.mechs;
  o.cgroup_name = m->run.cgroup[0] ? m->run.cgroup : NULL;
  o.cg_limits.memory_bytes = m->run.limits.memory_bytes;
  o.cg_limits.pids = m->run.limits.pids;
  o.rl.cpu_time_ms = m->run.limits.cpu_time_ms;
  o.rl.open_files = m->run.limits.open_files;
  o.report_fd = 3;
  o.request_fd = 4;
  o.parent_pid = server;
  o.caps = fs.have_caps ? &fs.caps : NULL;
  o.adopted = adopted;
  _exit(gxl_run_main(&o));
}

static void close_fds(const int *fds, int n) {
  for (int i = 0; i < n; i++)
    if (fds[i] >= 0) close(fds[i]);
}

/* The launcher of RUN @p m: the ready spare when it fits, else a fresh
 * fork. Returns its pid or -errno. */
static pid_t launcher_for(const gxl_fs_msg *m, const int fds[GXL_FS_RUN_FDS]) {
  if (fs.have_caps && gxl_spare_fits(&fs.spare, &fs.caps, m)) {
    pid_t pid = gxl_spare_take(&fs.spare, &fs.caps, m, fds);
    if (pid > 0) return pid;
  }
  pid_t server = getpid(), pid = fork();
  if (pid == 0) become_launcher(m, fds, server, NULL);
  return pid < 0 ? -errno : pid;
}

/* A RUN with v1 limits: runs of this instance directory get spares. */
static void note_spare_dir(const gxl_fs_msg *m) {
  const char *slash = strrchr(m->run.cgroup, '/');
  const gxi_limits *l = &m->run.limits;
  if (!slash || (!l->memory_bytes && !l->pids)) return;
  snprintf(fs.spare_dir, sizeof fs.spare_dir, "%.*s",
           (int)(slash - m->run.cgroup), m->run.cgroup);
}

/* With no run going, the next one gets a spare. Not sooner: joining a
 * cgroup waits for an RCU grace period with the kernel's
 * cgroup_threadgroup_rwsem taken for writing, which stalls every fork on
 * the host meanwhile (a running run's included); while runs keep coming
 * the lock stays on its slow path and their own joins are cheap. */
static void refill_spare(void) {
  if (!fs.have_caps || fs.spare.pid > 0 || fs.nruns > 0 || !fs.spare_dir[0] ||
      !gxl_spare_useful(&fs.caps))
    return;
  int rc = gxl_spare_start(&fs.spare, &fs.caps, fs.spare_dir, become_launcher);
  if (rc != 0) say("cannot start a spare launcher: %s", strerror(-rc));
}

/* A RUN: its launcher, then the daemon hears its pid (or why not). */
static int start_run(const gxl_fs_msg *m, const int fds[GXL_FS_RUN_FDS]) {
  gxl_fs_msg r = {.type = GXL_FS_FAILED, .run_id = m->run_id};
  pid_t pid = 0;
  if (find_run(m->run_id))
    r.err = EEXIST;
  else if (reserve() != 0)
    r.err = ENOMEM;
  else if ((pid = launcher_for(m, fds)) < 0)
    r.err = -pid;
  if (pid > 0) {
    fs.runs[fs.nruns++] = (live_run){m->run_id, pid};
    r.type = GXL_FS_STARTED;
    r.pid = pid;
  }
  close_fds(fds, GXL_FS_RUN_FDS);
  if (pid > 0) note_spare_dir(m);
  return reply(&r);
}

/* ------------------------------------------------------------ control */

/* Kills a launcher not reaped yet (its pid and group id are pinned): the
 * process itself, whether or not it has made its own session yet, and
 * its group (init, when it has one). */
static void kill_launcher(pid_t pid) {
  kill(pid, SIGKILL);
  killpg(pid, SIGKILL);
}

/* One message from the daemon. Returns -1 when the daemon is gone. */
static int on_control(void) {
  int fds[GXL_FS_RUN_FDS];
  char why[128];
  uint64_t raw_id;
  gxl_fs_msg m;
  int rc = gxl_fs_recv(fs.ctl, &m, fds, &raw_id, why, sizeof why);
  if (rc == 0) return 0;
  if (rc == -EPIPE) return -1;
  if (rc == 1 && m.type != GXL_FS_RUN && m.type != GXL_FS_KILL) {
    rc = -EPROTO;
    snprintf(why, sizeof why, "a reply sent to the server");
  }
  if (rc != 1) { /* the daemon is our only peer: a bug there, not an attack */
    say("%s", why);
    gxl_fs_msg f = {.type = GXL_FS_FAILED, .run_id = raw_id, .err = EPROTO};
    return raw_id ? reply(&f) : 0;
  }
  if (m.type == GXL_FS_KILL) {
    live_run *r = find_run(m.run_id);
    if (r) kill_launcher(r->pid);
    return 0;
  }
  return start_run(&m, fds);
}

/* Reaps every launcher that ended: its group is SIGKILLed while the
 * zombie pins the id, then the daemon hears of it. */
static int reap(void) {
  for (;;) {
    siginfo_t si;
    struct rusage ru;
    int st = 0;
    si.si_pid = 0;
    if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) != 0 ||
        si.si_pid == 0)
      return 0;
    killpg(si.si_pid, SIGKILL);
    memset(&ru, 0, sizeof ru);
    while (wait4(si.si_pid, &st, 0, &ru) < 0 && errno == EINTR) {
    }
    if (gxl_spare_reaped(&fs.spare, &fs.caps, si.si_pid)) continue;
    live_run *r = find_pid(si.si_pid);
    if (!r) continue;
    gxl_fs_msg m = {
        .type = GXL_FS_EXITED, .run_id = r->run_id, .pid = r->pid,
        .wait_status = st,
        .user_us = (uint64_t)ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec,
        .sys_us = (uint64_t)ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec,
        .max_rss_kb = (uint64_t)ru.ru_maxrss};
    *r = fs.runs[--fs.nruns];
    if (reply(&m) != 0) return -1;
    refill_spare();
  }
}

/* SIGCHLD or the parent-death signal. Returns -1 when the daemon died. */
static int on_signal(void) {
  struct signalfd_siginfo si;
  while (read(fs.sfd, &si, sizeof si) == (ssize_t)sizeof si)
    if (si.ssi_signo == SIGPWR && getppid() != fs.parent) return -1;
  return reap();
}

int gxl_serve(int ctl_fd, pid_t parent) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  sigaddset(&set, SIGPWR);
  sigprocmask(SIG_BLOCK, &set, NULL);
  fs.ctl = ctl_fd;
  fs.parent = parent;
  if ((fs.sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK)) < 0)
    gxl_die("signalfd: %s", strerror(errno));
  prctl(PR_SET_PDEATHSIG, SIGPWR);
  if (getppid() != parent) gxl_die("the parent already exited");
  fs.have_caps = gxi_cgroup_detect(&fs.caps) == 0;
  for (;;) {
    struct pollfd p[3] = {{fs.ctl, POLLIN, 0}, {fs.sfd, POLLIN, 0},
                          {fs.spare.sock, POLLIN, 0}};
    if (poll(p, fs.spare.sock >= 0 ? 3 : 2, -1) < 0) {
      if (errno == EINTR) continue;
      gxl_die("poll: %s", strerror(errno));
    }
    if (p[1].revents && on_signal() != 0) break;
    if (p[0].revents && on_control() != 0) break;
    if (fs.spare.sock >= 0 && p[2].revents) gxl_spare_on_readable(&fs.spare);
  }
  /* the daemon is gone: the spare goes with its leaves; our runs'
   * launchers get their parent-death signal as we exit, and each kills
   * its own run */
  gxl_spare_stop(&fs.spare, &fs.caps);
  return 0;
}
