/* One run of gexec-launch: everything after the options are known, for
 * the standalone launcher and for each child of the fork server alike.
 * See launch_run.h, and launch_main.c for the process structure. */
#include "server/launch_run.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "server/isolation/cgroup.h"
#include "server/isolation/profile.h"
#include "server/isolation/sandbox.h"
#include "server/isolation/seccomp.h"
#include "server/launch_wire.h"
#include "server/resolve.h"

extern char **environ;

static int report_fd = -1;

static void emit(int fd, const gxl_record *rec) {
  char line[GXL_LINE_MAX];
  int n = gxl_record_format(rec, line, sizeof line);
  if (fd >= 0 && n > 0 && write(fd, line, (size_t)n) != n) _exit(GXL_EXIT_SETUP);
}

void gxl_die(const char *fmt, ...) {
  gxl_record rec = {.kind = GXL_REC_ERROR};
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(rec.reason, sizeof rec.reason, fmt, ap);
  va_end(ap);
  dprintf(STDERR_FILENO, "gexec-launch: %s\n", rec.reason);
  emit(report_fd, &rec);
  _exit(GXL_EXIT_SETUP);
}

/* The command's argv, env and cwd: from the request, or (standalone)
 * from our own command line, environment and current directory. */
static void load_request(gxl_launch *o) {
  char why[256];
  if (o->request_fd < 0) {
    o->req.envp = environ;
    o->req.cwd = NULL; /* stay where we are */
    return;
  }
  if (fcntl(o->request_fd, F_SETFD, FD_CLOEXEC) != 0 ||
      gxl_request_read_fd(o->request_fd, &o->req, &o->req_mem, why,
                          sizeof why) != 0)
    gxl_die("%s", why);
  close(o->request_fd);
  if (o->req.cwd[0] != '/') gxl_die("malformed launch request: relative cwd");
}

/* ------------------------------------------------------------ signals */

/* Signals that reached the launcher or init before the command existed:
 * the run's process group gets every signal, but until the command is
 * forked nobody else would see them. The handler records them; the
 * command inherits this array in its copy of memory and raises them
 * itself (exec_command). No signal is blocked around fork(): then the
 * kernel guarantees a group signal reaches the parent before the fork or
 * both after it. */
static volatile sig_atomic_t pending[NSIG];

/* What die_with_parent() kills; set as each part comes to exist. */
static struct {
  pid_t self;        /* the launcher: init and the command are not it */
  pid_t parent;      /* gexecd */
  pid_t init;        /* namespaced: the init of the run's PID namespace */
  int cg_kill_fd;    /* cgroup.kill of the run's v2 leaf, or -1 */
  char cg_procs[2][GXI_CGROUP_PATH_MAX + 16]; /* v1 cgroup.procs, or "" */
  char cg_leaves[3][GXI_CGROUP_PATH_MAX];     /* to remove, or "" */
  char children[64]; /* /proc/self/task/TID/children */
  /* a spare's v1 leaves hold us too: we leave them (after the report,
   * or when dying) before they can be removed */
  gxi_cgroup_exit v1_exit;
} run = {.cg_kill_fd = -1};

/* SIGKILLs every pid listed in the file at @p path except ours; returns
 * how many were listed. Async-signal-safe (raw syscalls only). */
static int kill_listed(const char *path) {
  char buf[4096];
  int fd = open(path, O_RDONLY | O_CLOEXEC), count = 0;
  ssize_t n;
  long cur = -1;
  if (fd < 0) return 0;
  while ((n = read(fd, buf, sizeof buf)) > 0) {
    for (ssize_t i = 0; i < n; i++) {
      if (buf[i] >= '0' && buf[i] <= '9') {
        cur = (cur < 0 ? 0 : cur * 10) + (buf[i] - '0');
        continue;
      }
      if (cur > 0 && (pid_t)cur != getpid()) kill((pid_t)cur, SIGKILL);
      count += cur > 0;
      cur = -1;
    }
  }
  if (cur > 0 && (pid_t)cur != getpid()) kill((pid_t)cur, SIGKILL), count++;
  close(fd);
  return count;
}

/* gexecd is gone: nobody will supervise the run, so end all of it now.
 * Runs in a signal handler: only calls POSIX lists as async-signal-safe
 * (open, read, close, kill, waitpid, nanosleep, rmdir, _exit) and pure
 * string functions on paths prepared before any child existed. */
static void die_with_parent(void) {
  struct timespec ms = {0, 1000000};
  if (run.init > 0) kill(run.init, SIGKILL); /* takes the namespace */
  if (run.cg_kill_fd >= 0 && write(run.cg_kill_fd, "1", 1) < 0) {
  }
  /* v1 leaves, and (host) everything reparented to us, until empty */
  for (int round = 0; round < 1000; round++) {
    int left = 0;
    for (int i = 0; i < 2; i++)
      if (run.cg_procs[i][0]) left += kill_listed(run.cg_procs[i]);
    if (run.children[0]) left += kill_listed(run.children);
    while (waitpid(-1, NULL, WNOHANG) > 0) {
    }
    if (left == 0) break;
    nanosleep(&ms, NULL);
  }
  gxi_cgroup_exit_now(&run.v1_exit);
  /* the run's cgroup: empty now, or soon (dying processes); then its
   * daemon's directory, which the last run out removes */
  if (run.cg_kill_fd >= 0) close(run.cg_kill_fd);
  for (int round = 0; round < 200; round++) {
    int busy = 0;
    for (int i = 0; i < 3; i++)
      if (run.cg_leaves[i][0] && rmdir(run.cg_leaves[i]) != 0 &&
          errno == EBUSY)
        busy = 1;
    if (!busy) break;
    nanosleep(&ms, NULL);
  }
  for (int i = 0; i < 3; i++) {
    char *slash = run.cg_leaves[i][0] ? strrchr(run.cg_leaves[i], '/') : NULL;
    if (!slash) continue;
    *slash = '\0';
    rmdir(run.cg_leaves[i]);
  }
  if (getpgrp() == getpid()) kill(0, SIGKILL); /* our group, us included */
  _exit(GXL_EXIT_SETUP);
}

static void on_signal(int sig) {
  if (sig == GXL_PDEATH_SIG && getpid() == run.self) {
    if (getppid() != run.parent) die_with_parent();
    return; /* a stray one: not the command's business */
  }
  if (sig > 0 && sig < NSIG) pending[sig] = 1;
}

/* The launcher (and init) must outlive signals sent to the run's process
 * group, to report the command's end. Handlers, not SIG_IGN: exec resets
 * handlers to the default, so the command starts clean. */
static void keep_alive_on_signals(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sa.sa_flags = SA_RESTART; /* recorded, not an error for read/waitpid */
  for (int s = 1; s < NSIG; s++)
    if (s != SIGKILL && s != SIGSTOP && s != SIGCHLD && s != SIGCONT &&
        s != SIGTSTP && s != SIGTTIN && s != SIGTTOU)
      sigaction(s, &sa, NULL);
}

/* --------------------------------------------------------- the command */

/* What the command's process tells its parent when it cannot exec; on
 * success the exec closes the pipe and the parent reads EOF. */
typedef struct {
  int what; /* 0: a sandbox step failed (reason); else gxl_fail_what */
  int err;
  char reason[256];
} exec_failure;

__attribute__((noreturn)) static void cmd_fail(int xfd, int what, int err,
                                               const char *reason) {
  exec_failure f;
  memset(&f, 0, sizeof f);
  f.what = what;
  f.err = err;
  if (reason) snprintf(f.reason, sizeof f.reason, "%s", reason);
  if (write(xfd, &f, sizeof f) != (ssize_t)sizeof f) {
  }
  if (what == 0) _exit(GXL_EXIT_SETUP);
  _exit(what == GXL_FAIL_PROGRAM && err == ENOENT ? 127 : 126);
}

/* Leaves only 0, 1, 2 and the exec-status pipe (moved to 3, still
 * close-on-exec) open, whoever started us. */
static int keep_only_stdio(int xfd) {
  if (xfd != 3 && dup3(xfd, 3, O_CLOEXEC) < 0) return -1;
  if (xfd == 3) fcntl(3, F_SETFD, FD_CLOEXEC);
  if (syscall(SYS_close_range, 4, ~0U, 0) != 0)
    for (int fd = 4; fd < 65536; fd++) close(fd);
  return 3;
}

static const char *env_get(char *const *envp, const char *name) {
  size_t len = strlen(name);
  for (; *envp; envp++)
    if (strncmp(*envp, name, len) == 0 && (*envp)[len] == '=')
      return *envp + len + 1;
  return NULL;
}

/* Whether the command's process itself takes the request's ids (host,
 * baseline); in restricted the namespace's id map makes them its. */
static int takes_ids(const gxl_launch *o) {
  return o->req.has_ids && !(o->mechs & GXI_MECH_USER);
}

/* Becomes the run's user, then enters the cwd (@p cwd, else the
 * request's, which init entered as root) as that user. */
static void become_user(const gxl_launch *o, const char *cwd, int xfd) {
  char why[256];
  const gxl_ids *ids = &o->req.ids;
  int rc = gxi_become_user(ids->uid, ids->gid, ids->groups, ids->ngroups,
                           why, sizeof why);
  if (rc != 0) cmd_fail(xfd, GXL_FAIL_USER, -rc, NULL); /* ESRCH: gone */
  if (!cwd) cwd = o->req.cwd;
  if (cwd && chdir(cwd) != 0) cmd_fail(xfd, GXL_FAIL_CWD, errno, NULL);
}

/* In the command's process: cwd, limits, privileges, the run's user,
 * the program looked up as that user, seccomp last, exec. Never
 * returns; failures go to @p xfd. */
static void exec_command(const gxl_launch *o, const char *cwd, int xfd) {
  char why[256], path[PATH_MAX];
  sigset_t none;
  /* default dispositions, then the signals recorded before we existed
   * (or before this reset) act on us as if they had arrived now */
  for (int sig = 1; sig < NSIG; sig++)
    if (sig != SIGKILL && sig != SIGSTOP) signal(sig, SIG_DFL);
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  for (int sig = 1; sig < NSIG; sig++)
    if (pending[sig]) {
      pending[sig] = 0;
      raise(sig);
    }
  if ((xfd = keep_only_stdio(xfd)) < 0) _exit(GXL_EXIT_SETUP);
  /* under gexecd the command leads its own process group: the client's
   * signals go to it, never to the launcher or init (a SIGSTOP there
   * would disable the supervisor) */
  if (o->request_fd >= 0 && setpgid(0, 0) != 0)
    cmd_fail(xfd, 0, 0, "setpgid");
  if (cwd && !takes_ids(o) && chdir(cwd) != 0)
    cmd_fail(xfd, GXL_FAIL_CWD, errno, NULL);
  if (gxi_apply_rlimits(&o->rl, why, sizeof why)) cmd_fail(xfd, 0, 0, why);
  if (gxi_drop_privileges(o->mechs, why, sizeof why))
    cmd_fail(xfd, 0, 0, why);
  if (takes_ids(o)) become_user(o, cwd, xfd);
  const char *path_env = env_get(o->req.envp, "PATH");
  int rc = gxd_resolve(o->req.argv[0],
                       path_env ? path_env : GXD_RESOLVE_DEFAULT_PATH, NULL,
                       path, sizeof path);
  if (rc != 0) cmd_fail(xfd, GXL_FAIL_PROGRAM, -rc, NULL);
  /* the file found is the file checked is the file run, under the name
   * the constraint approved (resolve.h: multi-call binaries) */
  gxd_program prog;
  rc = gxd_program_open(path, o->req.allow, o->req.allowc, &prog);
  if (rc == GXD_PROGRAM_DENIED) cmd_fail(xfd, GXL_FAIL_DENIED, EPERM, NULL);
  if (rc != 0) cmd_fail(xfd, GXL_FAIL_PROGRAM, -rc, NULL);
  char *const *argv = gxd_program_argv(&prog, o->req.argv);
  if (!argv) cmd_fail(xfd, 0, 0, "out of memory");
  if ((o->mechs & GXI_MECH_SECCOMP) && gxi_seccomp_install(why, sizeof why))
    cmd_fail(xfd, 0, 0, why);
  syscall(SYS_execveat, prog.fd, "", argv, o->req.envp, AT_EMPTY_PATH);
  cmd_fail(xfd, GXL_FAIL_PROGRAM, errno, NULL);
}

/* Parent side: waits until the command exec'd (EOF) or says why it could
 * not, and turns that into the record for the daemon. */
static void await_exec(int xread, pid_t cmd, gxl_record *rec) {
  exec_failure f;
  ssize_t n;
  while ((n = read(xread, &f, sizeof f)) < 0 && errno == EINTR) {
  }
  close(xread);
  memset(rec, 0, sizeof *rec);
  if (n == 0) {
    rec->kind = GXL_REC_EXEC_OK;
    rec->pid = (int)cmd;
  } else if (n != (ssize_t)sizeof f || f.what < 0 ||
             f.what > GXL_FAIL_USER) {
    rec->kind = GXL_REC_ERROR;
    snprintf(rec->reason, sizeof rec->reason,
             "lost the command's exec status");
  } else if (f.what == 0) {
    rec->kind = GXL_REC_ERROR;
    f.reason[sizeof f.reason - 1] = '\0';
    snprintf(rec->reason, sizeof rec->reason, "%s", f.reason);
  } else {
    rec->kind = GXL_REC_EXEC_FAIL;
    rec->what = (gxl_fail_what)f.what;
    rec->err = f.err;
  }
}

/* Tells the daemon (and, when run by hand, the person) how the exec went;
 * a sandbox failure ends the launcher. */
static void tell_exec(const gxl_launch *o, int fd, const gxl_record *rec) {
  if (rec->kind == GXL_REC_ERROR) gxl_die("%s", rec->reason);
  if (rec->kind == GXL_REC_EXEC_FAIL && rec->what == GXL_FAIL_USER)
    dprintf(STDERR_FILENO, "gexec-launch: cannot become uid %u: %s\n",
            o->req.ids.uid, strerror(rec->err));
  else if (rec->kind == GXL_REC_EXEC_FAIL)
    dprintf(STDERR_FILENO, "gexec-launch: cannot %s '%s': %s\n",
            rec->what == GXL_FAIL_CWD ? "enter the directory" : "run",
            rec->what == GXL_FAIL_CWD ? (o->req.cwd ? o->req.cwd : ".")
                                      : o->req.argv[0],
            strerror(rec->err));
  emit(fd, rec);
}

/* --------------------------------------------------------------- init */

static void fill_report(gxl_report *r, int st) {
  struct rusage ru;
  memset(r, 0, sizeof *r);
  if (WIFSIGNALED(st)) {
    r->signal = WTERMSIG(st);
    r->core_dumped = WCOREDUMP(st) ? 1 : 0;
  } else {
    r->exit_code = WEXITSTATUS(st);
  }
  getrusage(RUSAGE_CHILDREN, &ru); /* the whole reaped tree */
  r->user_us = (uint64_t)ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec;
  r->sys_us = (uint64_t)ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec;
  r->max_rss_kb = (uint64_t)ru.ru_maxrss;
}

/* Reaps until nothing is left; when @p main_pid ends, kills the rest
 * (@p kill_rest). Returns main_pid's wait status. */
static int reap_all(pid_t main_pid, void (*kill_rest)(void)) {
  int st, main_st = 0, main_done = 0;
  for (;;) {
    pid_t w = waitpid(-1, &st, 0);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) break; /* ECHILD: everything is reaped */
    if (w == main_pid) {
      main_st = st;
      main_done = 1;
    }
    if (main_done) kill_rest(); /* again: orphans keep arriving */
  }
  return main_st;
}

static void kill_namespace(void) { kill(-1, SIGKILL); }

static void send_report(int fd, const gxl_report *r) {
  gxl_record rec = {.kind = GXL_REC_REPORT, .report = *r};
  emit(fd, &rec);
}

/* Builds the mounts, then enters the run's cwd inside them: after the
 * fresh /proc (so no /proc/PID/root leads out of the run's view) and, in
 * restricted, as the namespace's root (a host nobody). Returns 0, or the
 * errno of a cwd the run cannot enter. */
static int enter_cwd_and_mount(const gxl_launch *o) {
  char why[256];
  int rc;
  if ((o->mechs & GXI_MECH_MOUNT) && gxi_mount_base(o->mechs, why, sizeof why))
    gxl_die("%s", why);
  if (o->req.cwd && chdir(o->req.cwd) != 0) return errno;
  rc = (o->mechs & GXI_MECH_MOUNT) ? gxi_mount_cwd(o->mechs, why, sizeof why) : 0;
  if (rc == GXI_CWD_HIDDEN) return ENOENT;
  if (rc < 0) gxl_die("%s", why);
  if ((o->mechs & GXI_MECH_NET) && gxi_loopback_up(why, sizeof why)) gxl_die("%s", why);
  return 0;
}

/* Under gexecd the run's stdio pipes must reach EOF when the run's last
 * process is gone, not when its supervisors (the launcher, init) exit:
 * they hold them only until the command is forked. Their own messages
 * still reach the daemon on the report fd. Standalone, they stay. */
static void drop_stdio(const gxl_launch *o) {
  if (o->request_fd < 0) return;
  int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (fd < 0) return; /* then EOF comes at our exit, as before */
  for (int i = 0; i < 3; i++)
    if (fd != i) dup2(fd, i);
  if (fd > 2) close(fd);
}

/* pid 1 of the new namespaces: build the sandbox, run, reap, report to
 * the launcher through @p rep_fd. */
static void init_main(const gxl_launch *o, int go_fd, int rep_fd) {
  char c, why[256];
  int x[2];
  gxl_record rec = {.kind = GXL_REC_EXEC_FAIL, .what = GXL_FAIL_CWD};
  gxl_report r = {.exit_code = 126};
  report_fd = rep_fd;
  /* first, so a launcher dying at any later point takes us along; one
   * that died before it closed go: read sees EOF */
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (read(go_fd, &c, 1) != 1) _exit(GXL_EXIT_SETUP);
  if ((o->mechs & GXI_MECH_USER) && gxi_become_inner_root(why, sizeof why))
    gxl_die("%s", why); /* before any path of the client's is looked up */
  if ((rec.err = enter_cwd_and_mount(o)) != 0) {
    emit(rep_fd, &rec);
    send_report(rep_fd, &r);
    _exit(0);
  }
  if (pipe2(x, O_CLOEXEC)) gxl_die("pipe: %s", strerror(errno));
  pid_t cmd = fork();
  if (cmd < 0) gxl_die("fork: %s", strerror(errno));
  if (cmd == 0) {
    close(rep_fd);
    close(x[0]);
    report_fd = -1;
    exec_command(o, NULL, x[1]);
  }
  close(x[1]);
  drop_stdio(o);
  await_exec(x[0], cmd, &rec); /* our pid for it: the launcher translates */
  if (rec.kind == GXL_REC_ERROR) gxl_die("%s", rec.reason);
  emit(rep_fd, &rec);
  /* the launcher finds the command among our children: not reaped (a
   * zombie is listed) until it says so */
  if (rec.kind == GXL_REC_EXEC_OK && read(go_fd, &c, 1) < 0) _exit(GXL_EXIT_SETUP);
  close(go_fd);
  fill_report(&r, reap_all(cmd, kill_namespace));
  send_report(rep_fd, &r);
  _exit(0);
}

/* ----------------------------------------------------------- launcher */

static gxi_cgroup cg;
static int in_v1; /* we are in the run's v1 leaves (an adopted spare's):
                     the first process inherits them */
static int have_cg;

/* Remembers what die_with_parent() must kill in the run's cgroup. */
static void arm_cgroup_kill(void) {
  const char *v1[2] = {cg.mem, cg.pids};
  char path[GXI_CGROUP_PATH_MAX + 16];
  if (cg.has_kill && cg.v2[0]) {
    snprintf(path, sizeof path, "%s/cgroup.kill", cg.v2);
    run.cg_kill_fd = open(path, O_WRONLY | O_CLOEXEC);
  }
  for (int i = 0; i < 2; i++)
    if (v1[i][0])
      snprintf(run.cg_procs[i], sizeof run.cg_procs[i], "%s/cgroup.procs",
               v1[i]);
  if (cg.v2[0] && run.cg_kill_fd < 0)
    snprintf(run.cg_procs[0], sizeof run.cg_procs[0], "%s/cgroup.procs",
             cg.v2);
  memcpy(run.cg_leaves[0], cg.v2, sizeof run.cg_leaves[0]);
  memcpy(run.cg_leaves[1], cg.mem, sizeof run.cg_leaves[1]);
  memcpy(run.cg_leaves[2], cg.pids, sizeof run.cg_leaves[2]);
}

/* From the start, the spare's leaves are ours to leave and remove should
 * we die (until they are renamed, then under their new names). */
static void arm_adopted(const gxl_launch *o) {
  cg = *o->adopted;
  if (o->caps) gxi_cgroup_exit_prepare(o->caps, &cg, &run.v1_exit);
  arm_cgroup_kill();
}

static void adopt_cgroup(const gxi_cgroup_caps *caps, const char *name,
                         gxi_cgroup_limits lim) {
  gxi_cgroup_caps v2only = *caps;
  gxi_cgroup v2;
  if (gxi_cgroup_rename(caps, &cg, name) != 0)
    gxl_die("adopting the spare cgroup: %s", gxi_cgroup_error(&cg));
  have_cg = 1;
  in_v1 = 1;
  arm_cgroup_kill();
  if (lim.pids) lim.pids++; /* we are in the leaf too */
  if (gxi_cgroup_set_limits(caps, &cg, &lim) != 0)
    gxl_die("limiting cgroup: %s", gxi_cgroup_error(&cg));
  v2only.version = 0;
  v2only.mem_root[0] = v2only.pids_root[0] = '\0';
  if (caps->v2_root[0] && caps->has_kill) {
    if (gxi_cgroup_create(&v2only, name, NULL, &v2, NULL, 0) != 0)
      gxl_die("creating cgroup: %s", gxi_cgroup_error(&v2));
    memcpy(cg.v2, v2.v2, sizeof cg.v2);
    cg.has_kill = v2.has_kill;
    arm_cgroup_kill();
  }
}

static void setup_cgroup(const gxl_launch *o) {
  gxi_cgroup_caps caps;
  char name[GXI_CGROUP_NAME_MAX + 1];
  int limits = (o->cg_limits.memory_bytes || o->cg_limits.pids) &&
               !o->no_cgroup; /* --without cgroup: no limits; still tracked */
  gxi_cgroup_limits lim = limits ? o->cg_limits : (gxi_cgroup_limits){0, 0};
  if (!limits && !o->cgroup_name) return;
  if (o->caps)
    caps = *o->caps; /* the fork server detected once */
  else if (gxi_cgroup_detect(&caps) != 0)
    gxl_die("the requested cgroup limits are not available on this host");
  if ((lim.memory_bytes && !caps.has_memory) || (lim.pids && !caps.has_pids))
    gxl_die("the requested cgroup limits are not available on this host");
  if (o->cgroup_name)
    snprintf(name, sizeof name, "%s", o->cgroup_name);
  else
    snprintf(name, sizeof name, "launch/run-%d", (int)getpid());
  if (o->adopted && o->cgroup_name) return adopt_cgroup(&caps, name, lim);
  int rc = gxi_cgroup_create(&caps, name, &lim, &cg, NULL, 0);
  if (rc == -EEXIST && !o->cgroup_name) {
    /* standalone: left by a SIGKILLed launcher that had our pid, so dead.
     * A daemon's names are never reused: it sweeps at start-up, and an
     * existing leaf may be another live run's. */
    gxi_cgroup stale;
    if (gxi_cgroup_open(&caps, name, &stale) == 0) gxi_cgroup_destroy(&stale);
    rc = gxi_cgroup_create(&caps, name, &lim, &cg, NULL, 0);
  }
  if (rc != 0) gxl_die("creating cgroup: %s", gxi_cgroup_error(&cg));
  have_cg = 1;
  arm_cgroup_kill();
}

/* The command: init's child, by its pid in our namespace. */
static pid_t init_child(pid_t init) {
  char path[64], buf[64];
  snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)init,
           (int)init);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
  if (fd >= 0) close(fd);
  buf[n > 0 ? n : 0] = '\0';
  long pid = strtol(buf, NULL, 10);
  if (pid <= 0) gxl_die("cannot find the command's pid (%s)", path);
  return (pid_t)pid;
}

/* Reads init's records: relays the exec record (with the command's pid
 * in our namespace, taken while init waits on @p ack), then takes the
 * report. Returns 0 if a report arrived, -1 if the stream ended without
 * one. */
static int relay_records(const gxl_launch *o, int fd, int ack,
                         gxl_report *r) {
  gxl_reader rd;
  gxl_record rec;
  char buf[GXL_LINE_MAX];
  ssize_t n;
  gxl_reader_init(&rd);
  for (;;) {
    int got;
    while ((got = gxl_reader_next(&rd, &rec)) == 1) {
      if (rec.kind == GXL_REC_REPORT) {
        *r = rec.report;
        return 0;
      }
      if (rec.kind == GXL_REC_EXEC_OK) {
        rec.pid = (int)init_child(run.init);
        if (write(ack, "a", 1) != 1) gxl_die("releasing init: %s", strerror(errno));
      }
      tell_exec(o, report_fd, &rec); /* an error record ends us here */
    }
    if (got < 0) gxl_die("malformed record from the run's init");
    size_t room = gxl_reader_room(&rd);
    n = read(fd, buf, room < sizeof buf ? room : sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    gxl_reader_push(&rd, buf, (size_t)n);
  }
}

/* clone3's arguments (linux/sched.h, which clashes with sched.h). */
struct clone3_args {
  uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack,
      stack_size, tls, set_tid, set_tid_size, cgroup;
};
#define CLONE_INTO_CGROUP_FLAG 0x200000000ULL

static int born_in_v2; /* the run's first process was cloned into the
                          cgroup2 leaf: only v1 leaves are joined */

/* Creates the run's first process (init, or the command for host) with
 * @p flags: born in the run's cgroup2 leaf when there is one (no
 * migration, so no RCU grace period on the critical path), else as
 * clone(2) does, the caller then moving it. Returns as fork does. */
static pid_t clone_run(unsigned long flags) {
  born_in_v2 = 0;
  int fd = have_cg ? gxi_cgroup_v2_fd(&cg) : -1;
  if (fd >= 0) {
    struct clone3_args a;
    memset(&a, 0, sizeof a);
    a.flags = flags | CLONE_INTO_CGROUP_FLAG;
    a.exit_signal = SIGCHLD;
    a.cgroup = (uint64_t)fd;
    long pid = syscall(SYS_clone3, &a, sizeof a);
    int err = errno;
    close(fd); /* parent and child each close their copy */
    if (pid >= 0) {
      born_in_v2 = 1;
      return (pid_t)pid;
    }
    /* an older kernel, or a leaf it cannot be born in: the old way */
    if (err != ENOSYS && err != EINVAL && err != E2BIG && err != EOPNOTSUPP &&
        err != EBUSY)
      return errno = err, -1;
  }
  return (pid_t)syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);
}

/* Puts the run's first process in the leaves it was neither born in nor
 * inherited (joining one it is in would still cost a migration). */
static void join_cgroup(pid_t pid) {
  gxi_cgroup v2only;
  int rc = 0;
  if (!have_cg || (born_in_v2 && in_v1)) return;
  if (in_v1) { /* not born in the cgroup2 leaf (an older kernel) */
    v2only = cg;
    v2only.mem[0] = v2only.pids[0] = '\0';
    rc = gxi_cgroup_add(&v2only, pid);
  } else {
    rc = born_in_v2 ? gxi_cgroup_add_v1(&cg, pid) : gxi_cgroup_add(&cg, pid);
  }
  if (rc != 0) gxl_die("joining cgroup: %s", gxi_cgroup_error(&cg));
}

static unsigned long clone_flags(uint32_t m) {
  return (m & GXI_MECH_PID ? CLONE_NEWPID : 0) |
         (m & GXI_MECH_IPC ? CLONE_NEWIPC : 0) |
         (m & GXI_MECH_UTS ? CLONE_NEWUTS : 0) |
         (m & GXI_MECH_MOUNT ? CLONE_NEWNS : 0) |
         (m & GXI_MECH_USER ? CLONE_NEWUSER : 0) |
         (m & GXI_MECH_NET ? CLONE_NEWNET : 0);
}

/* Waits for the run's init (namespaced) to be gone: the namespaces'
 * teardown. Returns its wait status. */
static int wait_init(void) {
  int st = 0;
  if (run.init <= 0) return 0;
  while (waitpid(run.init, &st, 0) < 0 && errno == EINTR) {
  }
  run.init = 0;
  return st;
}

static void run_namespaced(const gxl_launch *o, gxl_report *r) {
  int go[2], rep[2];
  char why[256];
  if (pipe2(go, O_CLOEXEC) || pipe2(rep, O_CLOEXEC))
    gxl_die("pipe: %s", strerror(errno));
  pid_t pid = clone_run(clone_flags(o->mechs));
  if (pid < 0) gxl_die("creating namespaces: %s", strerror(errno));
  if (pid == 0) {
    close(go[1]);
    close(rep[0]);
    if (report_fd >= 0) close(report_fd);
    init_main(o, go[0], rep[1]);
  }
  run.init = pid;
  close(go[0]);
  close(rep[1]);
  drop_stdio(o);
  /* GXI_INNER_UID is the run's user on the host, else a host nobody */
  const gxl_ids nobody = {GXI_OUTER_USER_UID, GXI_OUTER_USER_UID, 0, {0}},
                *ids = o->req.has_ids ? &o->req.ids : &nobody;
  if ((o->mechs & GXI_MECH_USER) &&
      gxi_write_id_maps(pid, ids->uid, ids->gid, why, sizeof why))
    gxl_die("%s", why);
  join_cgroup(pid);
  if (write(go[1], "x", 1) != 1) gxl_die("releasing init: %s", strerror(errno));
  int got = relay_records(o, rep[0], go[1], r);
  close(go[1]);
  if (got != 0) fill_report(r, wait_init()); /* init itself was killed */
}

/* Fallback when /proc/PID/task/TID/children is missing: scans /proc for
 * processes reparented to us or (when we lead it) in our group. */
static void kill_by_scan(pid_t me, pid_t grp) {
  DIR *d = opendir("/proc");
  if (!d) return;
  struct dirent *e;
  while ((e = readdir(d))) {
    char path[64], buf[512];
    int pid = atoi(e->d_name), ppid = 0, pgrp = 0;
    if (pid <= 0 || pid == me) continue;
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) continue;
    buf[n] = '\0';
    char *rp = strrchr(buf, ')'); /* comm may contain spaces */
    if (rp && sscanf(rp + 2, "%*c %d %d", &ppid, &pgrp) == 2 &&
        (ppid == me || pgrp == grp))
      kill(pid, SIGKILL);
  }
  closedir(d);
}

/* host: SIGKILLs the run's other processes: the cgroup if any, then our
 * children. We are a subreaper, so once the command exited every process
 * of the run is our child or a descendant of one: killing our children
 * after each reap walks down the whole tree (stopped ones included). */
static void kill_descendants(void) {
  if (have_cg) gxi_cgroup_kill(&cg);
  if (access(run.children, R_OK) == 0)
    kill_listed(run.children);
  else /* a kernel without /proc/PID/task/TID/children */
    kill_by_scan(getpid(), getpgrp() == getpid() ? getpid() : -1);
}

static void run_host(const gxl_launch *o, gxl_report *r) {
  int go[2], x[2];
  char c;
  gxl_record rec;
  if (pipe2(go, O_CLOEXEC) || pipe2(x, O_CLOEXEC))
    gxl_die("pipe: %s", strerror(errno));
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  pid_t me = getpid(), cmd = clone_run(0);
  if (cmd < 0) gxl_die("fork: %s", strerror(errno));
  if (cmd == 0) {
    close(go[1]);
    close(x[0]);
    if (report_fd >= 0) close(report_fd);
    report_fd = -1;
    /* wait until placed in the cgroup: never fork outside it */
    if (read(go[0], &c, 1) != 1) _exit(GXL_EXIT_SETUP);
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* kept across exec */
    if (getppid() != me) _exit(GXL_EXIT_SETUP); /* it died just before */
    exec_command(o, o->req.cwd, x[1]);
  }
  close(go[0]);
  close(x[1]);
  drop_stdio(o);
  if (o->request_fd >= 0) setpgid(cmd, cmd); /* as the child does: no race */
  join_cgroup(cmd);
  if (write(go[1], "x", 1) != 1) gxl_die("releasing: %s", strerror(errno));
  close(go[1]);
  await_exec(x[0], cmd, &rec);
  tell_exec(o, report_fd, &rec);
  fill_report(r, reap_all(cmd, kill_descendants));
}

/* Dies with whoever started us (gexecd), taking the run along. */
static void watch_parent(const gxl_launch *o) {
  pid_t me = getpid();
  run.self = me;
  snprintf(run.children, sizeof run.children, "/proc/%d/task/%d/children",
           (int)me, (int)me);
  run.parent = o->parent_pid ? o->parent_pid : getppid();
  prctl(PR_SET_PDEATHSIG, GXL_PDEATH_SIG);
  if (getppid() != run.parent) gxl_die("the parent already exited");
}

int gxl_run_main(gxl_launch *o) {
  gxl_report r;
  if (o->report_fd >= 0) {
    if (fcntl(o->report_fd, F_SETFD, FD_CLOEXEC) != 0)
      gxl_die("--report-fd %d: %s", o->report_fd, strerror(errno));
    report_fd = o->report_fd;
  }
  load_request(o);
  if (o->adopted) arm_adopted(o);
  keep_alive_on_signals();
  watch_parent(o);
  setup_cgroup(o);
  if (clone_flags(o->mechs))
    run_namespaced(o, &r);
  else
    run_host(o, &r);
  /* the report goes as soon as every process of the run was reaped (by
   * init, or by us for host): the namespaces' teardown and the cgroup's
   * removal are not the client's wait */
  if (have_cg) r.oom_killed = gxi_cgroup_oom_killed(&cg) == 1;
  send_report(report_fd, &r);
  wait_init();
  gxi_cgroup_exit_now(&run.v1_exit);
  if (have_cg) {
    if (run.cg_kill_fd >= 0) close(run.cg_kill_fd);
    run.cg_kill_fd = -1;
    memset(run.cg_procs, 0, sizeof run.cg_procs);
    memset(run.cg_leaves, 0, sizeof run.cg_leaves);
    gxi_cgroup_destroy(&cg);
  }
  free(o->req_mem);
  return r.signal ? 128 + r.signal : r.exit_code;
}
