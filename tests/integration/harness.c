#include "tests/integration/harness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

static int counter;

long long gxt_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
  nanosleep(&ts, NULL);
}

static const char *daemon_path(void) {
  static char path[4096];
  const char *srcdir = getenv("TEST_SRCDIR");
  if (srcdir) {
    snprintf(path, sizeof path, "%s/gexec/server/gexecd", srcdir);
    if (access(path, X_OK) == 0) return path;
  }
  return "bazel-bin/server/gexecd";
}

static const char *tmpdir(void) {
  const char *t = getenv("TEST_TMPDIR");
  return t && *t ? t : "/tmp";
}

/* Forks and execs gexecd (in @p cwd, NULL: ours) with its stderr in
 * d->log_path. */
static void spawn_daemon_in(gxt_daemon *d, const char *cwd,
                            const char *const *extra) {
  const char *argv[64];
  int n = 0;
  char listen[256];
  memset(d, 0, sizeof *d);
  /* sun_path holds 107 bytes; Bazel's TEST_TMPDIR is too deep for it */
  char sockdir[] = "/tmp/gxt-XXXXXX";
  assert_non_null(mkdtemp(sockdir));
  snprintf(d->target, sizeof d->target, "unix:%s/gexecd.sock", sockdir);
  snprintf(d->log_path, sizeof d->log_path, "%s/gexecd-%d-%d.log", tmpdir(),
           (int)getpid(), counter++);
  snprintf(listen, sizeof listen, "--listen=%s", d->target);
  argv[n++] = daemon_path();
  argv[n++] = listen;
  for (; extra && *extra && n < 62; extra++) argv[n++] = *extra;
  argv[n] = NULL;
  d->pid = fork();
  assert_true(d->pid >= 0);
  if (d->pid == 0) {
    int fd = open(d->log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) dup2(fd, 2);
    if (cwd && chdir(cwd) != 0) _exit(126);
    execv(argv[0], (char **)argv);
    _exit(127);
  }
}

static void spawn_daemon(gxt_daemon *d, const char *const *extra) {
  spawn_daemon_in(d, NULL, extra);
}

void gxt_daemon_start_in(gxt_daemon *d, const char *cwd,
                         const char *const *extra) {
  spawn_daemon_in(d, cwd, extra);
  gexec_conn *c = gxt_connect(d);
  gexec_conn_close(c);
}

void gxt_daemon_start(gxt_daemon *d, const char *const *extra) {
  gxt_daemon_start_in(d, NULL, extra);
}

const char *gxt_daemon_path(void) { return daemon_path(); }

/* ------------------------------------------- what the kernel provides */

/* 1 if a child can unshare @p flags (checked outside any daemon). */
static int can_unshare(int flags) {
  pid_t pid = fork();
  if (pid == 0) _exit(unshare(flags) == 0 ? 0 : 1);
  int st = 0;
  waitpid(pid, &st, 0);
  return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

int gxt_cgroup_writable(const char *dir, unsigned long magic) {
  struct statfs sf;
  char procs[256];
  snprintf(procs, sizeof procs, "%s/cgroup.procs", dir);
  return statfs(dir, &sf) == 0 && (unsigned long)sf.f_type == magic &&
         access(procs, W_OK) == 0;
}

int gxt_kernel_lacks(unsigned what, char *why, size_t len) {
  int v2 = gxt_cgroup_writable("/sys/fs/cgroup", 0x63677270);
  int v1 = gxt_cgroup_writable("/sys/fs/cgroup/memory", 0x27e0eb) &&
           gxt_cgroup_writable("/sys/fs/cgroup/pids", 0x27e0eb);
  int unified = gxt_cgroup_writable("/sys/fs/cgroup/unified", 0x63677270);
  if ((what & GXT_NEED_NAMESPACES) &&
      !can_unshare(CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET |
                   CLONE_NEWIPC | CLONE_NEWUTS))
    return snprintf(why, len, "this kernel refuses new namespaces"), 1;
  if ((what & GXT_NEED_SECCOMP) && prctl(PR_GET_SECCOMP) < 0)
    return snprintf(why, len, "this kernel has no seccomp"), 1;
  if ((what & GXT_NEED_CGROUPS) && !v2 && !v1)
    return snprintf(why, len, "no writable memory and pids cgroups"), 1;
  if ((what & GXT_NEED_CGROUP_KILL) && !v2 && !unified &&
      !gxt_cgroup_writable("/sys/fs/cgroup/pids", 0x27e0eb))
    return snprintf(why, len, "no cgroup to track processes in"), 1;
  if ((what & GXT_NEED_CGROUP2) && !v2 && !unified)
    return snprintf(why, len, "no writable cgroup2"), 1;
  return 0;
}

/* Directories under the instance's directory in every hierarchy whose
 * name starts with @p prefix ("" for all). */
static int instance_dirs(const char *instance, const char *prefix) {
  static const char *const roots[] = {
      "/sys/fs/cgroup/gexec", "/sys/fs/cgroup/unified/gexec",
      "/sys/fs/cgroup/memory/gexec", "/sys/fs/cgroup/pids/gexec"};
  int n = 0;
  for (size_t i = 0; i < sizeof roots / sizeof *roots; i++) {
    char dir[256];
    snprintf(dir, sizeof dir, "%s/%s", roots[i], instance);
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)))
      if (e->d_type == DT_DIR && e->d_name[0] != '.' &&
          strncmp(e->d_name, prefix, strlen(prefix)) == 0)
        n++;
    if (d) closedir(d);
  }
  return n;
}

int gxt_cgroup_leaves(const char *instance) {
  return instance_dirs(instance, "run-");
}

int gxt_cgroup_dirs(const char *instance) { return instance_dirs(instance, ""); }

int gxt_wait_no_cgroup_leaves(const char *instance, int ms) {
  long long until = gxt_now_ms() + ms;
  while (gxt_cgroup_leaves(instance) > 0) {
    if (gxt_now_ms() > until) return 0;
    sleep_ms(10);
  }
  return 1;
}

/* Prints the first line of /proc/PID/task/TID/FILE, named by FILE. */
static void print_task_file(pid_t pid, const char *tid, const char *file) {
  char path[128], line[256] = "";
  snprintf(path, sizeof path, "/proc/%d/task/%s/%s", (int)pid, tid, file);
  FILE *f = fopen(path, "r");
  if (f && !fgets(line, sizeof line, f)) line[0] = '\0';
  if (f) fclose(f);
  line[strcspn(line, "\n")] = '\0';
  print_message(" %s=%s", file, line);
}

/* The Sig* lines of /proc/PID/status: a signal pending but never acted
 * on shows there. */
static void print_status_lines(pid_t pid) {
  char path[64], line[256];
  snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
  FILE *f = fopen(path, "r");
  while (f && fgets(line, sizeof line, f))
    if (strncmp(line, "Sig", 3) == 0 || strncmp(line, "ShdPnd", 6) == 0)
      print_message("gexecd %s", line);
  if (f) fclose(f);
}

/* What a daemon that does not exit is doing, for the failure message:
 * each thread's name and kernel wait channel, then the end of its log
 * at @p log (NULL: none). */
static void print_stuck(pid_t pid, const char *log) {
  char dir[64];
  snprintf(dir, sizeof dir, "/proc/%d/task", (int)pid);
  DIR *d = opendir(dir);
  struct dirent *e;
  while (d && (e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    print_message("gexecd thread %s:", e->d_name);
    print_task_file(pid, e->d_name, "comm");
    print_task_file(pid, e->d_name, "wchan");
    print_message("\n");
  }
  if (d) closedir(d);
  print_status_lines(pid); /* signals pending, blocked, caught */
  static char buf[8192];
  FILE *f = log ? fopen(log, "r") : NULL;
  if (!f) return;
  if (fseek(f, 0, SEEK_END) == 0 && ftell(f) > (long)sizeof buf - 1)
    fseek(f, -(long)(sizeof buf - 1), SEEK_END);
  else
    fseek(f, 0, SEEK_SET);
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  /* not print_message: cmocka cuts its messages at 1 KiB */
  fflush(stdout);
  fprintf(stderr, "end of %s:\n%s\n", log, buf);
}

/* Waits up to @p ms for @p pid to exit; if it does not, shows what it
 * is doing (print_stuck, @p log), SIGKILLs it and fails the test with
 * @p why. Returns the wait status. */
static int wait_exit(pid_t pid, int ms, const char *log, const char *why) {
  int st = -1;
  long long until = gxt_now_ms() + ms;
  while (waitpid(pid, &st, WNOHANG) == 0) {
    if (gxt_now_ms() > until) {
      print_stuck(pid, log);
      kill(pid, SIGKILL);
      waitpid(pid, &st, 0);
      fail_msg("%s", why);
    }
    sleep_ms(10);
  }
  return st;
}

int gxt_daemon_run_to_exit(const char *const *extra, char *log,
                           size_t log_len) {
  gxt_daemon d;
  spawn_daemon(&d, extra);
  int st =
      wait_exit(d.pid, 60000, d.log_path, "gexecd did not exit by itself");
  FILE *f = fopen(d.log_path, "r");
  size_t n = f ? fread(log, 1, log_len - 1, f) : 0;
  if (f) fclose(f);
  log[n] = '\0';
  return st;
}

gexec_conn *gxt_connect(const gxt_daemon *d) {
  gexec_conn_opts *o;
  gexec_conn *c = NULL;
  gexec_error err;
  long long until = gxt_now_ms() + 30000;
  /* the socket appears when the daemon is ready; retry until then */
  assert_int_equal(gexec_conn_opts_new(&o), GEXEC_OK);
  gexec_conn_opts_set_connect_timeout(o, 30000);
  while (gexec_connect(d->target, o, &c, &err) != GEXEC_OK) {
    int st;
    if (waitpid(d->pid, &st, WNOHANG) == d->pid)
      fail_msg("gexecd exited during start-up (see %s)", d->log_path);
    if (gxt_now_ms() > until) fail_msg("connect: %s", err.message);
    sleep_ms(20);
  }
  gexec_conn_opts_free(o);
  return c;
}

int gxt_daemon_stop(gxt_daemon *d) {
  kill(d->pid, SIGTERM);
  return wait_exit(d->pid, 60000, d->log_path,
                   "gexecd did not exit within 60 s of SIGTERM");
}

void gxt_run(gexec_conn *c, const char *const *argv, gexec_result *res) {
  gexec_spec spec = {.argv = argv, .stdin_null = 1};
  gexec_error err;
  int rc = gexec_run(c, &spec, NULL, res, &err);
  if (rc != GEXEC_OK) fail_msg("gexec_run(%s): %s", argv[0], err.message);
}

/* Reads /proc/PID/FILE into @p buf (NUL-terminated); returns the length,
 * 0 if it cannot be read. */
static size_t read_proc(pid_t pid, const char *file, char *buf, size_t len) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
  FILE *f = fopen(path, "r");
  size_t n = f ? fread(buf, 1, len - 1, f) : 0;
  if (f) fclose(f);
  buf[n] = '\0';
  return n;
}

int gxt_pid_alive(pid_t pid) {
  char buf[512];
  if (!read_proc(pid, "stat", buf, sizeof buf)) return 0;
  char *rp = strrchr(buf, ')');
  return rp && rp[1] == ' ' && rp[2] != 'Z' && rp[2] != 'X';
}

int gxt_wait_pid_gone(pid_t pid, int ms) {
  long long until = gxt_now_ms() + ms;
  while (gxt_pid_alive(pid)) {
    if (gxt_now_ms() > until) return 0;
    sleep_ms(10);
  }
  return 1;
}

long gxt_rss_kb(pid_t pid) {
  char path[64], line[256];
  long kb = -1;
  snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "VmRSS: %ld kB", &kb) == 1) break;
  fclose(f);
  return kb;
}

long gxt_rss_budget_kb(long kib) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  return kib * 4 + 64 * 1024;
#else
  return kib;
#endif
}

gxt_daemon gxt_group_daemon;
gexec_conn *gxt_group_conn;

void gxt_group_start(const char *const *flags) {
  gxt_daemon_start(&gxt_group_daemon, flags);
  gxt_group_conn = gxt_connect(&gxt_group_daemon);
}

void gxt_group_stop(void) {
  gexec_conn_close(gxt_group_conn);
  int st = gxt_daemon_stop(&gxt_group_daemon);
  assert_true(WIFEXITED(st));
  assert_int_equal(WEXITSTATUS(st), 0);
}

static int is_launcher(pid_t pid) {
  char comm[32];
  read_proc(pid, "comm", comm, sizeof comm);
  return strncmp(comm, "gexec-launch", 12) == 0;
}

/* 1 if @p pid has @p arg in its argv and is not gexec-launch (whose argv
 * repeats the command's). */
static int has_arg(pid_t pid, const char *arg) {
  char buf[4096];
  if (is_launcher(pid)) return 0;
  size_t n = read_proc(pid, "cmdline", buf, sizeof buf);
  for (size_t i = 0; i < n; i += strlen(buf + i) + 1)
    if (strcmp(buf + i, arg) == 0) return 1;
  return 0;
}

pid_t gxt_find_pid_by_arg(const char *arg) {
  DIR *d = opendir("/proc");
  struct dirent *e;
  pid_t found = 0;
  if (!d) return 0;
  while (!found && (e = readdir(d))) {
    pid_t pid = (pid_t)atoi(e->d_name);
    if (pid > 0 && pid != getpid() && has_arg(pid, arg) && gxt_pid_alive(pid))
      found = pid;
  }
  closedir(d);
  return found;
}

pid_t gxt_wait_pid_by_arg(const char *arg, int ms) {
  long long until = gxt_now_ms() + ms;
  pid_t pid;
  while (!(pid = gxt_find_pid_by_arg(arg)) && gxt_now_ms() < until)
    sleep_ms(10);
  return pid;
}

int gxt_wait_arg_gone(const char *arg, int ms) {
  long long until = gxt_now_ms() + ms;
  while (gxt_find_pid_by_arg(arg)) {
    if (gxt_now_ms() > until) return 0;
    sleep_ms(10);
  }
  return 1;
}

/* ------------------------------------------------- a daemon's health */

static int count_entries(const char *path) {
  DIR *d = opendir(path);
  struct dirent *e;
  int n = 0;
  while (d && (e = readdir(d)))
    if (e->d_name[0] != '.') n++;
  if (d) closedir(d);
  return n;
}

gxt_health gxt_health_of(pid_t daemon, const char *instance,
                         const char *mark) {
  gxt_health h;
  char path[64];
  DIR *d;
  struct dirent *e;
  memset(&h, 0, sizeof h);
  snprintf(path, sizeof path, "/proc/%d/fd", (int)daemon);
  h.fds = count_entries(path);
  snprintf(path, sizeof path, "/proc/%d/task", (int)daemon);
  h.threads = count_entries(path);
  h.rss_kb = gxt_rss_kb(daemon);
  h.leaves = instance ? gxt_cgroup_leaves(instance) : 0;
  if (!(d = opendir("/proc"))) return h;
  while ((e = readdir(d))) {
    pid_t pid = (pid_t)atoi(e->d_name);
    char buf[512];
    if (pid <= 0 || !read_proc(pid, "stat", buf, sizeof buf)) continue;
    char *rp = strrchr(buf, ')');
    int ppid = 0;
    char state = 0;
    if (!rp || sscanf(rp + 2, "%c %d", &state, &ppid) != 2) continue;
    if (state == 'Z' && ppid == daemon) h.zombies++;
    if (state != 'Z' && mark && has_arg(pid, mark)) h.survivors++;
  }
  closedir(d);
  return h;
}

pid_t gxt_cli_run(const gxt_daemon *d, const char *const *args, int *out) {
  const char *argv[32];
  char cli[512];
  int n = 0, p[2];
  snprintf(cli, sizeof cli, "%s/gexec/client/cli/gexec",
           getenv("TEST_SRCDIR") ? getenv("TEST_SRCDIR") : "..");
  argv[n++] = "gexec";
  argv[n++] = "run";
  argv[n++] = "-H";
  argv[n++] = d->target;
  argv[n++] = "-n";
  for (; *args && n < 31; args++) argv[n++] = *args;
  argv[n] = NULL;
  assert_int_equal(pipe2(p, O_CLOEXEC), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    dup2(p[1], 1);
    execv(cli, (char **)argv);
    _exit(127);
  }
  close(p[1]);
  *out = p[0];
  return pid;
}

int gxt_exec(const char *const *argv) {
  int st;
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    execvp(argv[0], (char *const *)argv);
    _exit(127);
  }
  if (waitpid(pid, &st, 0) != pid) return -1;
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

void gxt_copy_file(const char *src, const char *dst, mode_t mode) {
  char buf[65536];
  ssize_t n;
  int in = open(src, O_RDONLY | O_CLOEXEC);
  int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (in < 0 || out < 0) fail_msg("copy %s to %s: %s", src, dst, strerror(errno));
  while ((n = read(in, buf, sizeof buf)) > 0)
    assert_int_equal(write(out, buf, (size_t)n), n);
  assert_int_equal(n, 0);
  assert_int_equal(fchmod(out, mode), 0);
  close(in);
  close(out);
}
