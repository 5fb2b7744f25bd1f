/* Integration: attacks on the privileged path, each kept as a
 * regression test. A real gexecd, real launchers, real processes; the
 * attacks are what a hostile client (or a careless operator) can do:
 * the client's environment and paths reaching the root launcher, a
 * daemon started from an odd directory, runs that escape their process
 * group and then lose their launcher or their daemon, cgroups left
 * behind, a second daemon on the same instance. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/integration/harness.h"

static char instance[64]; /* of the group's daemon */

static int setup(void **state) {
  (void)state;
  char flag[96];
  snprintf(instance, sizeof instance, "gxt-attack-%d", (int)getpid());
  snprintf(flag, sizeof flag, "--instance=%s", instance);
  gxt_group_start(ARGV("--kill-grace=300ms", flag));
  return 0;
}

static int teardown(void **state) {
  (void)state;
  gxt_group_stop();
  return 0;
}

static const char *tmpdir(void) {
  const char *t = getenv("TEST_TMPDIR");
  return t && *t ? t : "/tmp";
}

/* Reads a whole small file; "" if it does not exist. */
static void slurp(const char *path, char *buf, size_t len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  ssize_t n = fd >= 0 ? read(fd, buf, len - 1) : 0;
  if (fd >= 0) close(fd);
  buf[n > 0 ? n : 0] = '\0';
}

static char *read_all_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) fail_msg("open %s: %s", path, strerror(errno));
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  rewind(f);
  char *buf = malloc((size_t)n + 1);
  assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
  fclose(f);
  *len = (size_t)n;
  return buf;
}

/* Compiles tests/integration/data/preload_evil.c into @p so. */
static void compile_preload(const char *so) {
  char src[PATH_MAX];
  const char *srcdir = getenv("TEST_SRCDIR");
  snprintf(src, sizeof src, "%s/gexec/tests/integration/data/preload_evil.c",
           srcdir ? srcdir : "..");
  if (gxt_exec(ARGV("cc", "-shared", "-fPIC", "-O1", "-o", so, src)) != 0)
    fail_msg("could not compile %s", src);
}

/* Item 1 of the red-team report: a restricted run writes a shared object
 * into its writable cwd; a second restricted run asks for
 * LD_PRELOAD=<it>. The object must load only inside the sandbox, in the
 * command, never in a process running as root in the host namespaces. */
static void test_ld_preload_never_reaches_the_launcher(void **state) {
  (void)state;
  GXT_SKIP_UNLESS(GXT_NEED_NAMESPACES | GXT_NEED_SECCOMP | GXT_NEED_CGROUPS);
  char so[PATH_MAX], cwd[] = "/var/tmp/gxt-preload-XXXXXX", mark[PATH_MAX];
  char target[PATH_MAX + 16], env_mark[PATH_MAX + 16], seen[256];
  snprintf(so, sizeof so, "%s/evil.so", tmpdir());
  snprintf(mark, sizeof mark, "%s/escaped", tmpdir());
  unlink(mark);
  compile_preload(so);
  assert_non_null(mkdtemp(cwd));
  assert_int_equal(chmod(cwd, 0777), 0); /* the sandbox user may write */
  gxt_daemon d;
  gxt_daemon_start(&d, ARGV("--default-profile=restricted",
                            "--require-isolation=restricted"));
  gexec_conn *c = gxt_connect(&d);
  size_t len;
  char *bytes = read_all_file(so, &len);
  /* run 1: drop the object into the writable cwd */
  gexec_spec drop = {.argv = ARGV("sh", "-c", "cat > evil.so"), .cwd = cwd};
  gexec_run_opts in = {.stdin_data = bytes, .stdin_len = len};
  gexec_result r;
  gexec_error err;
  assert_int_equal(gexec_run(c, &drop, &in, &r, &err), GEXEC_OK);
  assert_int_equal(r.exit.exit_code, 0);
  gexec_result_free(&r);
  free(bytes);
  /* run 2: preload it */
  snprintf(target, sizeof target, "LD_PRELOAD=%s/evil.so", cwd);
  snprintf(env_mark, sizeof env_mark, "GXT_MARK=%s", mark);
  const char *env[] = {target, env_mark, NULL};
  gexec_spec run = {.argv = ARGV("sh", "-c", "echo ran"), .env = env,
                    .cwd = cwd, .stdin_null = 1};
  assert_int_equal(gexec_run(c, &run, NULL, &r, &err), GEXEC_OK);
  assert_string_equal(r.out, "ran\n");
  /* it did load: in the command, as the sandbox's user */
  assert_string_equal(r.err, "preload-in-sandbox uid=1000\n");
  gexec_result_free(&r);
  slurp(mark, seen, sizeof seen);
  if (seen[0]) fail_msg("the preload ran as host root: %s", seen);
  gexec_conn_close(c);
  assert_int_equal(gxt_daemon_stop(&d), 0);
  char dropped[PATH_MAX + 16];
  snprintf(dropped, sizeof dropped, "%s/evil.so", cwd);
  assert_int_equal(unlink(dropped), 0);
  assert_int_equal(rmdir(cwd), 0);
}

/* The launcher's own environment, argv and cwd hold nothing of the
 * client's: every client byte arrives out of band. In every profile. */
static void test_launcher_sees_nothing_of_the_client(void **state) {
  (void)state;
  const char *profiles[] = {"host", "baseline", "restricted"};
  for (int i = 0; i < 3; i++) {
    char mark[32], buf[8192], cwd[PATH_MAX];
    snprintf(mark, sizeof mark, "61.1%d", i);
    const char *env[] = {"LD_PRELOAD=/nonexistent/x.so", "GXT_SECRET=s3cr3t",
                         NULL};
    gexec_spec spec = {.argv = ARGV("sleep", mark), .env = env,
                       .cwd = "/var/tmp", .profile = profiles[i],
                       .stdin_null = 1};
    gexec_proc *p;
    gexec_error err;
    assert_int_equal(gexec_proc_start(gxt_group_conn, &spec, &p, &err),
                     GEXEC_OK);
    pid_t launcher = (pid_t)gexec_proc_pid(p);
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/environ", (int)launcher);
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(read(fd, buf, sizeof buf), 0); /* empty */
    close(fd);
    snprintf(path, sizeof path, "/proc/%d/cmdline", (int)launcher);
    fd = open(path, O_RDONLY);
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    assert_true(n > 0);
    for (ssize_t k = 0; k < n; k += (ssize_t)strlen(buf + k) + 1)
      if (!strcmp(buf + k, mark) || !strcmp(buf + k, "sleep") ||
          strstr(buf + k, "s3cr3t") || strstr(buf + k, "/var/tmp"))
        fail_msg("%s: the launcher's argv holds '%s'", profiles[i], buf + k);
    snprintf(path, sizeof path, "/proc/%d/cwd", (int)launcher);
    n = readlink(path, cwd, sizeof cwd - 1);
    cwd[n > 0 ? n : 0] = '\0';
    assert_string_equal(cwd, "/");
    gexec_proc_cancel(p);
    gexec_proc_free(p);
    assert_true(gxt_wait_arg_gone(mark, 10000));
  }
}

/* Item 2: a daemon started from a directory under /tmp (which the
 * restricted sandbox's private /tmp hides) still gives restricted its
 * full isolation: its own cwd never matters. */
static void test_daemon_cwd_under_tmp_does_not_weaken(void **state) {
  (void)state;
  GXT_SKIP_UNLESS(GXT_NEED_NAMESPACES | GXT_NEED_SECCOMP | GXT_NEED_CGROUPS);
  char dir[] = "/tmp/gxt-daemon-cwd-XXXXXX";
  assert_non_null(mkdtemp(dir));
  gxt_daemon d;
  gxt_daemon_start_in(&d, dir, NULL);
  gexec_conn *c = gxt_connect(&d);
  gexec_spec spec = {.argv = ARGV("id", "-u"), .profile = "restricted",
                     .stdin_null = 1};
  gexec_result r;
  gexec_error err;
  assert_int_equal(gexec_run(c, &spec, NULL, &r, &err), GEXEC_OK);
  assert_string_equal(r.out, "1000\n");
  assert_non_null(strstr(r.exit.isolation.description, "(full)"));
  assert_string_equal(r.exit.isolation.namespaces,
                      "pid,ipc,uts,mount,user,net");
  gexec_result_free(&r);
  gexec_conn_close(c);
  assert_int_equal(gxt_daemon_stop(&d), 0);
  rmdir(dir);
}

/* A restricted run's cwd is looked up as the run's user, inside the
 * sandbox, never by the root daemon: a directory only root may enter is
 * refused (and says so), not entered. */
static void test_cwd_is_looked_up_as_the_run_user(void **state) {
  (void)state;
  GXT_SKIP_UNLESS(GXT_NEED_NAMESPACES | GXT_NEED_SECCOMP | GXT_NEED_CGROUPS);
  char dir[] = "/var/tmp/gxt-private-XXXXXX";
  assert_non_null(mkdtemp(dir)); /* mode 0700, owned by root */
  gexec_spec spec = {.argv = ARGV("pwd"), .cwd = dir,
                     .profile = "restricted", .stdin_null = 1};
  gexec_result r;
  gexec_error err;
  assert_int_equal(gexec_run(gxt_group_conn, &spec, NULL, &r, &err),
                   GEXEC_ESTATUS);
  assert_int_equal(err.status, GEXEC_STATUS_PERMISSION_DENIED);
  char expect[PATH_MAX + 64];
  snprintf(expect, sizeof expect,
           "cwd '%s' is not accessible to the run's user", dir);
  assert_string_equal(err.message, expect);
  spec.profile = "baseline"; /* contrast: root may */
  assert_int_equal(gexec_run(gxt_group_conn, &spec, NULL, &r, &err), GEXEC_OK);
  snprintf(expect, sizeof expect, "%s\n", dir);
  assert_string_equal(r.out, expect);
  gexec_result_free(&r);
  rmdir(dir);
}

/* A cwd through /proc/PID/root would cross into another process's view
 * of the filesystem (here: a restricted run's private /tmp), looked up by
 * the run's init with all of root's capabilities. The run's fresh /proc
 * shows only its own PID namespace by the time the cwd is entered. */
static void test_cwd_cannot_cross_into_another_run(void **state) {
  (void)state;
  GXT_SKIP_UNLESS(GXT_NEED_NAMESPACES | GXT_NEED_SECCOMP | GXT_NEED_CGROUPS);
  gexec_spec victim = {.argv = ARGV("sh", "-c",
                                    "echo s3cr3t > /tmp/secret; exec sleep 61.61"),
                       .profile = "restricted", .stdin_null = 1};
  gexec_proc *p;
  gexec_error err;
  assert_int_equal(gexec_proc_start(gxt_group_conn, &victim, &p, &err),
                   GEXEC_OK);
  pid_t pid = gxt_wait_pid_by_arg("61.61", 10000);
  assert_true(pid > 0);
  char cwd[64], expect[160];
  snprintf(cwd, sizeof cwd, "/proc/%d/root/tmp", (int)pid);
  gexec_spec spy = {.argv = ARGV("cat", "secret"), .cwd = cwd,
                    .profile = "baseline", .stdin_null = 1};
  gexec_result r;
  assert_int_equal(gexec_run(gxt_group_conn, &spy, NULL, &r, &err),
                   GEXEC_ESTATUS);
  assert_int_equal(err.status, GEXEC_STATUS_FAILED_PRECONDITION);
  snprintf(expect, sizeof expect, "cwd '%s' does not exist", cwd);
  assert_string_equal(err.message, expect);
  gexec_proc_cancel(p);
  gexec_proc_free(p);
  assert_true(gxt_wait_arg_gone("61.61", 10000));
}

static const char escapee[] =
    "setsid sh -c 'trap \"\" TERM HUP; exec sleep %s' & echo ready; "
    "sleep 60";

/* Starts a run in @p profile with a setsid escapee marked @p mark on
 * @p c, waits until the escapee exists. */
static gexec_proc *start_escapee(gexec_conn *c, const char *profile,
                                 const char *mark) {
  char script[256];
  snprintf(script, sizeof script, escapee, mark);
  gexec_spec spec = {.argv = ARGV("sh", "-c", script), .profile = profile,
                     .stdin_null = 1, .kill_grace_ms = 200};
  gexec_proc *p;
  gexec_error err;
  assert_int_equal(gexec_proc_start(c, &spec, &p, &err), GEXEC_OK);
  if (gxt_wait_pid_by_arg(mark, 10000) <= 0)
    fail_msg("%s: the escapee %s never started", profile, mark);
  return p;
}

/* The parent pid of @p pid, from /proc. */
static pid_t parent_of(pid_t pid) {
  char path[64], buf[512];
  int ppid = 0;
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  slurp(path, buf, sizeof buf);
  char *rp = strrchr(buf, ')');
  if (!rp || sscanf(rp + 2, "%*c %d", &ppid) != 1) return 0;
  return (pid_t)ppid;
}

/* Items 3 and 4: a client's signals go to the command's own process
 * group, never to the launcher: SIGKILL ends the command, the launcher
 * ends the rest (the setsid escapee too), reports and removes the run's
 * cgroup. In every profile. */
static void test_client_sigkill_ends_run_reported(void **state) {
  (void)state;
  GXT_SKIP_UNLESS(GXT_NEED_CGROUP_KILL);
  const char *profiles[] = {"host", "baseline", "restricted"};
  for (int i = 0; i < 3; i++) {
    char mark[16];
    snprintf(mark, sizeof mark, "61.2%d", i);
    gexec_proc *p = start_escapee(gxt_group_conn, profiles[i], mark);
    pid_t launcher = (pid_t)gexec_proc_pid(p);
    gexec_error err;
    gexec_exit x;
    assert_int_equal(gexec_proc_signal(p, SIGKILL, &err), GEXEC_OK);
    assert_int_equal(gexec_proc_wait(p, &x, &err), GEXEC_OK);
    assert_int_equal(x.signal, SIGKILL);
    assert_true(x.user_time_us + x.system_time_us > 0); /* the report's */
    gexec_proc_free(p);
    assert_true(gxt_wait_pid_gone(launcher, 10000));
    if (!gxt_wait_arg_gone(mark, 10000))
      fail_msg("%s: a setsid escapee outlived its run", profiles[i]);
    if (!gxt_wait_no_cgroup_leaves(instance, 10000))
      fail_msg("%s: %d run cgroup(s) left behind", profiles[i],
               gxt_cgroup_leaves(instance));
  }
}

/* Items 3 and 4: a launcher SIGKILLed from outside (as the daemon's last
 * resort does) cannot clean up; the daemon, reaping it without a report,
 * kills what is left in the run's cgroup at once and removes it, even
 * while the run's client is not reading its output. */
static void test_launcher_killed_leaves_nothing(void **state) {
  (void)state;
  GXT_SKIP_UNLESS(GXT_NEED_CGROUP_KILL);
  int out; /* a client whose stdout nobody reads */
  pid_t client = gxt_cli_run(
      &gxt_group_daemon,
      ARGV("--profile", "host", "--", "sh", "-c",
           "setsid yes 61.31 & exec sleep 61.32"),
      &out);
  pid_t cmd = gxt_wait_pid_by_arg("61.32", 10000);
  assert_true(cmd > 0 && gxt_wait_pid_by_arg("61.31", 10000) > 0);
  pid_t launcher = parent_of(cmd);
  assert_true(launcher > 0);
  assert_int_equal(kill(launcher, SIGKILL), 0);
  if (!gxt_wait_arg_gone("61.31", 10000))
    fail_msg("the escapee outlived its SIGKILLed launcher");
  assert_true(gxt_wait_arg_gone("61.32", 10000));
  if (!gxt_wait_no_cgroup_leaves(instance, 10000))
    fail_msg("%d run cgroup(s) left behind", gxt_cgroup_leaves(instance));
  kill(client, SIGKILL);
  waitpid(client, NULL, 0);
  close(out);
}

/* 1 if /proc says @p pid is in state @p state ('T' stopped, 'S' ...). */
static int in_state(pid_t pid, char state) {
  char path[64], buf[512];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  slurp(path, buf, sizeof buf);
  char *rp = strrchr(buf, ')');
  return rp && rp[1] == ' ' && rp[2] == state;
}

/* A client's SIGSTOP stops the command, not the launcher: the run still
 * dies with its daemon. */
static void test_stopped_run_still_dies_with_daemon(void **state) {
  (void)state;
  GXT_SKIP_UNLESS(GXT_NEED_CGROUP_KILL);
  const char *profiles[] = {"host", "baseline", "restricted"};
  char inst[64], flag[96], esc[3][16], cmd[3][16], script[128];
  snprintf(inst, sizeof inst, "gxt-stop-%d", (int)getpid());
  snprintf(flag, sizeof flag, "--instance=%s", inst);
  gxt_daemon d;
  gxt_daemon_start(&d, ARGV(flag));
  gexec_conn *c = gxt_connect(&d);
  gexec_proc *p[3];
  gexec_error err;
  for (int i = 0; i < 3; i++) {
    snprintf(esc[i], sizeof esc[i], "61.4%d", i);
    snprintf(cmd[i], sizeof cmd[i], "61.5%d", i);
    snprintf(script, sizeof script, "setsid sleep %s & exec sleep %s",
             esc[i], cmd[i]);
    gexec_spec spec = {.argv = ARGV("sh", "-c", script),
                       .profile = profiles[i], .stdin_null = 1};
    assert_int_equal(gexec_proc_start(c, &spec, &p[i], &err), GEXEC_OK);
    pid_t command = gxt_wait_pid_by_arg(cmd[i], 10000);
    assert_true(command > 0 && gxt_wait_pid_by_arg(esc[i], 10000) > 0);
    assert_int_equal(gexec_proc_signal(p[i], SIGSTOP, &err), GEXEC_OK);
    long long until = gxt_now_ms() + 5000;
    while (!in_state(command, 'T') && gxt_now_ms() < until) usleep(10000);
    assert_true(in_state(command, 'T'));
    assert_false(in_state((pid_t)gexec_proc_pid(p[i]), 'T')); /* launcher */
  }
  kill(d.pid, SIGKILL);
  int st;
  waitpid(d.pid, &st, 0);
  for (int i = 0; i < 3; i++) {
    if (!gxt_wait_arg_gone(cmd[i], 10000) || !gxt_wait_arg_gone(esc[i], 10000))
      fail_msg("%s: a stopped run outlived its daemon", profiles[i]);
    gexec_proc_free(p[i]);
  }
  assert_true(gxt_wait_no_cgroup_leaves(inst, 10000));
  gexec_conn_close(c);
}

/* Item 3: SIGKILL a daemon with runs in every profile, each with a
 * setsid escapee: every process of every run is gone (the launchers
 * catch their parent-death signal and kill their cgroups), and so are
 * the run cgroups. */
static void test_daemon_death_leaves_nothing(void **state) {
  (void)state;
  GXT_SKIP_UNLESS(GXT_NEED_CGROUP_KILL);
  const char *profiles[] = {"host", "baseline", "restricted"};
  char inst[64], flag[96], marks[15][16];
  snprintf(inst, sizeof inst, "gxt-death-%d", (int)getpid());
  snprintf(flag, sizeof flag, "--instance=%s", inst);
  gxt_daemon d;
  gxt_daemon_start(&d, ARGV(flag));
  gexec_conn *c = gxt_connect(&d);
  gexec_proc *p[15];
  for (int i = 0; i < 15; i++) {
    snprintf(marks[i], sizeof marks[i], "61.3%02d", i);
    p[i] = start_escapee(c, profiles[i % 3], marks[i]);
  }
  kill(d.pid, SIGKILL);
  int st;
  waitpid(d.pid, &st, 0);
  for (int i = 0; i < 15; i++)
    if (!gxt_wait_arg_gone(marks[i], 10000))
      fail_msg("%s run %s outlived the daemon", profiles[i % 3], marks[i]);
  if (!gxt_wait_no_cgroup_leaves(inst, 10000))
    fail_msg("%d run cgroup(s) outlived the daemon", gxt_cgroup_leaves(inst));
  /* the last launcher out removed the instance's directory too */
  static const char *const roots[] = {"/sys/fs/cgroup", "/sys/fs/cgroup/unified",
                                      "/sys/fs/cgroup/memory",
                                      "/sys/fs/cgroup/pids"};
  for (size_t i = 0; i < sizeof roots / sizeof *roots; i++) {
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/gexec/%s", roots[i], inst);
    long long until = gxt_now_ms() + 5000;
    while (access(dir, F_OK) == 0 && gxt_now_ms() < until) usleep(10000);
    if (access(dir, F_OK) == 0) fail_msg("%s outlived the daemon", dir);
  }
  for (int i = 0; i < 15; i++) gexec_proc_free(p[i]);
  gexec_conn_close(c);
}

/* Writes @p val into @p dir/@p file. */
static void write_file(const char *dir, const char *file, const char *val) {
  char path[PATH_MAX + 256];
  snprintf(path, sizeof path, "%s/%s", dir, file);
  int fd = open(path, O_WRONLY);
  if (fd < 0) fail_msg("open %s: %s", path, strerror(errno));
  assert_int_equal(write(fd, val, strlen(val)), (ssize_t)strlen(val));
  close(fd);
}

/* Item 3: what a previous daemon of the same instance left (here: a run
 * cgroup with a live process in it) is killed and removed at start-up,
 * and another instance's runs are left alone. */
static void test_startup_removes_stale_runs(void **state) {
  (void)state;
  GXT_SKIP_UNLESS(GXT_NEED_CGROUP_KILL);
  const char *bases[] = {"/sys/fs/cgroup/unified", "/sys/fs/cgroup",
                         "/sys/fs/cgroup/pids"};
  char inst[64], leaf[PATH_MAX + 128], flag[96], pid[24];
  const char *base = NULL;
  for (int i = 0; i < 3 && !base; i++) {
    char procs[PATH_MAX];
    snprintf(procs, sizeof procs, "%s/cgroup.procs", bases[i]);
    if (access(procs, W_OK) == 0) base = bases[i];
  }
  assert_non_null(base);
  snprintf(inst, sizeof inst, "gxt-stale-%d", (int)getpid());
  snprintf(leaf, sizeof leaf, "%s/gexec", base);
  mkdir(leaf, 0755);
  snprintf(leaf, sizeof leaf, "%s/gexec/%s", base, inst);
  assert_int_equal(mkdir(leaf, 0755), 0);
  snprintf(leaf, sizeof leaf, "%s/gexec/%s/run-7", base, inst);
  assert_int_equal(mkdir(leaf, 0755), 0);
  pid_t stale = fork();
  if (stale == 0) {
    execlp("sleep", "sleep", "61.41", (char *)NULL);
    _exit(127);
  }
  snprintf(pid, sizeof pid, "%d", (int)stale);
  write_file(leaf, "cgroup.procs", pid);
  /* the group's daemon (another instance) has a run going meanwhile */
  gexec_proc *other = start_escapee(gxt_group_conn, "host", "61.42");
  snprintf(flag, sizeof flag, "--instance=%s", inst);
  gxt_daemon d;
  gxt_daemon_start(&d, ARGV(flag));
  int st;
  assert_int_equal(waitpid(stale, &st, 0), stale); /* killed at start-up */
  assert_true(WIFSIGNALED(st));
  assert_int_equal(WTERMSIG(st), SIGKILL);
  assert_int_equal(gxt_cgroup_leaves(inst), 0);
  assert_true(gxt_find_pid_by_arg("61.42") > 0); /* not ours to touch */
  assert_int_equal(gxt_daemon_stop(&d), 0);
  gexec_proc_cancel(other);
  gexec_proc_free(other);
  assert_true(gxt_wait_arg_gone("61.42", 10000));
}

/* One instance, one live daemon: a second one with the same instance
 * name refuses to start (its clean-up would kill the first one's runs),
 * saying who holds it. */
static void test_instance_is_exclusive(void **state) {
  (void)state;
  char flag[96], log[8192], expect[160];
  snprintf(flag, sizeof flag, "--instance=%s", instance);
  gexec_proc *p = start_escapee(gxt_group_conn, "host", "61.51");
  int st = gxt_daemon_run_to_exit(ARGV(flag), log, sizeof log);
  assert_true(WIFEXITED(st));
  assert_int_equal(WEXITSTATUS(st), 1);
  snprintf(expect, sizeof expect,
           "instance '%s' is in use by another gexecd (pid %d)", instance,
           (int)gxt_group_daemon.pid);
  if (!strstr(log, expect)) fail_msg("log lacks '%s':\n%s", expect, log);
  assert_true(gxt_find_pid_by_arg("61.51") > 0); /* untouched */
  gexec_proc_cancel(p);
  gexec_proc_free(p);
  assert_true(gxt_wait_arg_gone("61.51", 10000));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ld_preload_never_reaches_the_launcher),
      cmocka_unit_test(test_launcher_sees_nothing_of_the_client),
      cmocka_unit_test(test_daemon_cwd_under_tmp_does_not_weaken),
      cmocka_unit_test(test_cwd_is_looked_up_as_the_run_user),
      cmocka_unit_test(test_cwd_cannot_cross_into_another_run),
      cmocka_unit_test(test_client_sigkill_ends_run_reported),
      cmocka_unit_test(test_launcher_killed_leaves_nothing),
      cmocka_unit_test(test_stopped_run_still_dies_with_daemon),
      cmocka_unit_test(test_daemon_death_leaves_nothing),
      cmocka_unit_test(test_startup_removes_stale_runs),
      cmocka_unit_test(test_instance_is_exclusive),
  };
  return cmocka_run_group_tests_name("integration/attack", tests, setup,
                                     teardown);
}
