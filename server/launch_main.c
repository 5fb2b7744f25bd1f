/* gexec-launch: runs one command inside an isolation profile.
 *
 *   gexec-launch [--profile host|baseline|restricted] [--memory SIZE]
 *                [--pids N] [--cpu-time DUR] [--open-files N]
 *                [--report-fd FD] -- PROGRAM [ARG]...
 *
 * gexecd starts it (single-threaded, so the setup below is safe; the
 * daemon is multithreaded) and it also works from a shell for debugging.
 * Process structure:
 *   host:        launcher (subreaper) -> command
 *   namespaced:  launcher -> init (pid 1 of a new PID namespace, reaps
 *                everything) -> command
 * When the command ends, everything else of the run is killed: by the
 * PID namespace (init kills all, and dies if the launcher dies), by the
 * cgroup, or by the subreaper sweep for host. The command's real exit
 * (code or signal, rusage of the whole tree, OOM kill) goes to --report-fd
 * as one gx_report line; the launcher exits with the code, or 128+signal.
 * Exit 125 and a "gexec-error v1 <reason>" report mean the launcher
 * itself failed to build the sandbox. */
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
#include <unistd.h>

#include "lib/gx_report.h"
#include "server/config.h"
#include "server/isolation/cgroup.h"
#include "server/isolation/profile.h"
#include "server/isolation/sandbox.h"
#include "server/isolation/seccomp.h"

#define EXIT_SETUP 125

typedef struct {
  gxi_profile prof; /* a copy: --without removes mechanisms */
  const gxi_profile *profile;
  const char *exec_path; /* --exec: run this file with argv as given */
  int no_cgroup;
  gxi_cgroup_limits cg_limits;
  gxi_rlimits rl;
  int report_fd;
  char *const *argv;
} launch_opts;

static int report_fd = -1;

/* Reports a setup failure (to the daemon and on stderr) and exits. */
static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

static void die(const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  dprintf(STDERR_FILENO, "gexec-launch: %s\n", msg);
  if (report_fd >= 0) dprintf(report_fd, "gexec-error v1 %s\n", msg);
  _exit(EXIT_SETUP);
}

static const char usage[] =
    "Usage: gexec-launch [OPTION]... -- PROGRAM [ARG]...\n"
    "Runs PROGRAM in an isolation profile and exits with its status\n"
    "(128+N if killed by signal N; 125 if the sandbox could not be built).\n"
    "  --profile NAME     host, baseline (default) or restricted\n"
    "  --memory SIZE      memory limit (cgroup), e.g. 64M\n"
    "  --pids N           process/thread limit (cgroup)\n"
    "  --cpu-time DUR     CPU time limit (RLIMIT_CPU: SIGXCPU, then SIGKILL)\n"
    "  --open-files N     RLIMIT_NOFILE\n"
    "  --report-fd FD     write the gexec-report line to FD\n"
    "  --exec PATH        run PATH with ARGs as argv (argv[0] kept)\n"
    "  --without MECH     do without a mechanism of the profile: user, net,\n"
    "                     pid, ipc, uts, mount, seccomp, cgroup (repeatable)\n";

/* Removes mechanism @p m from the profile copy. */
static void without(launch_opts *o, const char *m) {
  int rc = gxi_profile_without(&o->prof, m);
  if (rc < 0) die("unknown mechanism '%s' for --without", m);
  if (rc == 1) o->no_cgroup = 1;
}

static uint64_t parse_num(const char *opt, const char *arg, int duration) {
  uint64_t v;
  int rc = duration ? gxd_parse_duration_ms(arg, &v) : gxd_parse_size(arg, &v);
  if (rc != 0) die("invalid value '%s' for %s", arg, opt);
  return v;
}

static void parse_args(int argc, char **argv, launch_opts *o) {
  static const struct option opts[] = {
      {"profile", required_argument, NULL, 'p'},
      {"memory", required_argument, NULL, 'm'},
      {"pids", required_argument, NULL, 'n'},
      {"cpu-time", required_argument, NULL, 'c'},
      {"open-files", required_argument, NULL, 'f'},
      {"report-fd", required_argument, NULL, 'r'},
      {"exec", required_argument, NULL, 'e'},
      {"without", required_argument, NULL, 'w'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  int c;
  memset(o, 0, sizeof *o);
  o->report_fd = -1;
  o->prof = *gxi_profile_find("baseline");
  o->profile = &o->prof;
  while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
    switch (c) {
      case 'p': {
        const gxi_profile *p = gxi_profile_find(optarg);
        if (!p) die("unknown profile '%s' (host, baseline, restricted)", optarg);
        o->prof = *p;
        break;
      }
      case 'e': o->exec_path = optarg; break;
      case 'w': without(o, optarg); break;
      case 'm': o->cg_limits.memory_bytes = parse_num("--memory", optarg, 0); break;
      case 'n': o->cg_limits.pids = parse_num("--pids", optarg, 0); break;
      case 'c': o->rl.cpu_time_ms = parse_num("--cpu-time", optarg, 1); break;
      case 'f': o->rl.open_files = parse_num("--open-files", optarg, 0); break;
      case 'r': o->report_fd = (int)parse_num("--report-fd", optarg, 0); break;
      case 'h': fputs(usage, stdout); exit(0);
      default: die("bad option (see --help)");
    }
  }
  if (optind >= argc) die("no PROGRAM given (see --help)");
  o->argv = argv + optind;
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

static void on_signal(int sig) {
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

/* In the command's process: limits, privileges, seccomp last, exec. */
static void exec_command(const launch_opts *o, const char *cwd) {
  char why[256];
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
  if (cwd && chdir(cwd) != 0) die("chdir %s: %s", cwd, strerror(errno));
  /* nothing beyond 0, 1, 2 reaches the command, whoever started us */
  if (syscall(SYS_close_range, 3, ~0U, 0) != 0)
    for (int fd = 3; fd < 65536; fd++) close(fd);
  if (gxi_apply_rlimits(&o->rl, why, sizeof why)) die("%s", why);
  if (gxi_drop_privileges(o->profile, why, sizeof why)) die("%s", why);
  if (o->profile->seccomp && gxi_seccomp_install(why, sizeof why))
    die("seccomp: %s", why);
  if (o->exec_path)
    execv(o->exec_path, o->argv);
  else
    execvp(o->argv[0], o->argv);
  int err = errno;
  dprintf(STDERR_FILENO, "gexec-launch: cannot run '%s': %s\n", o->argv[0],
          strerror(err));
  _exit(err == ENOENT ? 127 : 126);
}

/* --------------------------------------------------------------- init */

static void fill_report(gx_report *r, int st) {
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

/* pid 1 of the new namespaces: build the sandbox, run, reap, report. */
static void init_main(const launch_opts *o, int go_fd, int rep_fd) {
  char why[256], cwd[PATH_MAX], c;
  report_fd = rep_fd;
  if (read(go_fd, &c, 1) != 1) _exit(EXIT_SETUP); /* the launcher died */
  close(go_fd);
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (!getcwd(cwd, sizeof cwd)) die("getcwd: %s", strerror(errno));
  if (o->profile->mount_ns &&
      gxi_setup_mounts(o->profile, cwd, why, sizeof why))
    die("%s", why);
  if (o->profile->net_ns && gxi_loopback_up(why, sizeof why)) die("%s", why);
  pid_t cmd = fork();
  if (cmd < 0) die("fork: %s", strerror(errno));
  if (cmd == 0) {
    close(rep_fd);
    report_fd = -1;
    exec_command(o, cwd);
  }
  gx_report r;
  fill_report(&r, reap_all(cmd, kill_namespace));
  char line[256];
  int n = gx_report_format(&r, line, sizeof line);
  if (n > 0 && write(rep_fd, line, (size_t)n) != n) _exit(EXIT_SETUP);
  _exit(0);
}

/* ----------------------------------------------------------- launcher */

static gxi_cgroup cg;
static int have_cg;

static void setup_cgroup(const launch_opts *o) {
  gxi_cgroup_caps caps;
  char name[64];
  if (o->no_cgroup || (!o->cg_limits.memory_bytes && !o->cg_limits.pids))
    return;
  if (gxi_cgroup_probe(&caps) != 0 ||
      (o->cg_limits.memory_bytes && !caps.has_memory) ||
      (o->cg_limits.pids && !caps.has_pids))
    die("the requested cgroup limits are not available on this host");
  snprintf(name, sizeof name, "run-%d", (int)getpid());
  int rc = gxi_cgroup_create(&caps, name, &o->cg_limits, &cg, NULL, 0);
  if (rc == -EEXIST) {
    /* left by a launcher that was SIGKILLed (grace expiry) and had our
     * pid: it is dead, so its cgroup is stale */
    gxi_cgroup stale;
    if (gxi_cgroup_open(&caps, name, &stale) == 0) gxi_cgroup_destroy(&stale);
    rc = gxi_cgroup_create(&caps, name, &o->cg_limits, &cg, NULL, 0);
  }
  if (rc != 0) die("creating cgroup: %s", gxi_cgroup_error(&cg));
  have_cg = 1;
}

/* Reads the init's report; returns 0 if one arrived. */
static int read_report(int fd, gx_report *r, char *err, size_t err_len) {
  char buf[600];
  size_t n = 0;
  ssize_t k;
  while (n < sizeof buf - 1 &&
         ((k = read(fd, buf + n, sizeof buf - 1 - n)) > 0 ||
          (k < 0 && errno == EINTR)))
    if (k > 0) n += (size_t)k;
  buf[n] = '\0';
  if (strncmp(buf, "gexec-error v1 ", 15) == 0) {
    snprintf(err, err_len, "%.400s", buf + 15);
    err[strcspn(err, "\n")] = '\0';
    return -1;
  }
  err[0] = '\0';
  return gx_report_parse(buf, r);
}

static unsigned long clone_flags(const gxi_profile *p) {
  return (p->pid_ns ? CLONE_NEWPID : 0) | (p->ipc_ns ? CLONE_NEWIPC : 0) |
         (p->uts_ns ? CLONE_NEWUTS : 0) | (p->mount_ns ? CLONE_NEWNS : 0) |
         (p->user_ns ? CLONE_NEWUSER : 0) | (p->net_ns ? CLONE_NEWNET : 0);
}

static void run_namespaced(const launch_opts *o, gx_report *r) {
  int go[2], rep[2];
  char why[256], err[512];
  if (pipe2(go, O_CLOEXEC) || pipe2(rep, O_CLOEXEC))
    die("pipe: %s", strerror(errno));
  pid_t pid = (pid_t)syscall(SYS_clone, clone_flags(o->profile) | SIGCHLD,
                             NULL, NULL, NULL, NULL);
  if (pid < 0) die("creating namespaces: %s", strerror(errno));
  if (pid == 0) {
    close(go[1]);
    close(rep[0]);
    if (report_fd >= 0) close(report_fd);
    init_main(o, go[0], rep[1]);
  }
  close(go[0]);
  close(rep[1]);
  if (o->profile->user_ns && gxi_write_id_maps(pid, why, sizeof why))
    die("%s", why);
  if (have_cg && gxi_cgroup_add(&cg, pid) != 0)
    die("joining cgroup: %s", gxi_cgroup_error(&cg));
  if (write(go[1], "x", 1) != 1) die("releasing init: %s", strerror(errno));
  close(go[1]);
  int got = read_report(rep[0], r, err, sizeof err);
  int st;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  if (err[0]) die("%s", err);
  if (got != 0) fill_report(r, st); /* init itself was killed */
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
  pid_t me = getpid();
  char path[64], buf[4096];
  if (have_cg) gxi_cgroup_kill(&cg);
  snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)me, (int)me);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    kill_by_scan(me, getpgrp() == me ? me : -1);
    return;
  }
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return;
  buf[n] = '\0';
  for (char *p = buf, *end; *p; p = end) {
    long pid = strtol(p, &end, 10);
    if (end == p) break;
    if (pid > 0) kill((pid_t)pid, SIGKILL);
  }
}

static void run_host(const launch_opts *o, gx_report *r) {
  int go[2];
  char c;
  if (pipe2(go, O_CLOEXEC)) die("pipe: %s", strerror(errno));
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  pid_t cmd = fork();
  if (cmd < 0) die("fork: %s", strerror(errno));
  if (cmd == 0) {
    close(go[1]);
    if (report_fd >= 0) close(report_fd);
    report_fd = -1;
    /* wait until placed in the cgroup: never fork outside it */
    if (read(go[0], &c, 1) != 1) _exit(EXIT_SETUP);
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* kept across exec */
    exec_command(o, NULL);
  }
  close(go[0]);
  if (have_cg && gxi_cgroup_add(&cg, cmd) != 0)
    die("joining cgroup: %s", gxi_cgroup_error(&cg));
  if (write(go[1], "x", 1) != 1) die("releasing: %s", strerror(errno));
  close(go[1]);
  fill_report(r, reap_all(cmd, kill_descendants));
}

int main(int argc, char **argv) {
  launch_opts o;
  gx_report r;
  parse_args(argc, argv, &o);
  if (o.report_fd >= 0) {
    if (fcntl(o.report_fd, F_SETFD, FD_CLOEXEC) != 0)
      die("--report-fd %d: %s", o.report_fd, strerror(errno));
    report_fd = o.report_fd;
  }
  keep_alive_on_signals();
  /* die with whoever started us (gexecd): init follows through its own
   * death signal, and the PID namespace with it */
  pid_t parent = getppid();
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) die("the parent already exited");
  setup_cgroup(&o);
  if (clone_flags(o.profile))
    run_namespaced(&o, &r);
  else
    run_host(&o, &r);
  if (have_cg) {
    r.oom_killed = gxi_cgroup_oom_killed(&cg) == 1;
    gxi_cgroup_destroy(&cg);
  }
  char line[256];
  int n = gx_report_format(&r, line, sizeof line);
  if (report_fd >= 0 && n > 0 && write(report_fd, line, (size_t)n) != n)
    return EXIT_SETUP;
  return r.signal ? 128 + r.signal : r.exit_code;
}
