/* Integration: runs as a user (Start.user, gexec run -u) through a real
 * gexecd, with the fork server and with --launch-mode exec: the ids and
 * passwd environment in host and baseline, restricted's uid 1000 that is
 * the user on the host, a user created here (useradd, with a
 * supplementary group; removed at the end), the cwd and program looked up
 * as the user, limits kept, refusals (unknown and invalid names) from
 * libgexec and the CLI, and the frozen 0.2 layout of gexec_spec. Creates
 * users, so it runs outside the sandbox. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/integration/harness.h"
#include "tests/server/accounts.h"

#define conn gxt_group_conn
#define NEED_FULL() GXT_SKIP_UNLESS(GXT_NEED_NAMESPACES | GXT_NEED_SECCOMP)

/* The user made for this run of the test: in group `grp` besides its
 * own, with home `home`. */
static char user[32], grp[32], home[80], tmp[64];
static uint32_t user_uid, user_gid, grp_gid;
/* A directory only root may enter, and a program in it. */
static char root_dir[96], root_prog[128];

static void make_user(void) {
  snprintf(user, sizeof user, "gxtra%d", (int)getpid());
  snprintf(grp, sizeof grp, "gxtrg%d", (int)getpid());
  /* not under /tmp: restricted runs have a private one */
  snprintf(tmp, sizeof tmp, "/var/tmp/gxt-runas-XXXXXX");
  assert_non_null(mkdtemp(tmp));
  assert_int_equal(chmod(tmp, 0755), 0);
  snprintf(home, sizeof home, "%s/home", tmp);
  assert_int_equal(gxt_account_cmd(ARGV("groupadd", grp)), 0);
  assert_int_equal(gxt_account_cmd(ARGV("useradd", "-m", "-d", home, "-s",
                                 "/bin/sh", "-G", grp, user)), 0);
  user_uid = (uint32_t)atoi(gxt_id_of("-u", user));
  user_gid = (uint32_t)atoi(gxt_id_of("-g", user));
  struct group *g = getgrnam(grp);
  assert_non_null(g);
  grp_gid = (uint32_t)g->gr_gid;
  assert_int_equal(chmod(home, 0700), 0);
  snprintf(root_dir, sizeof root_dir, "%s/root-only", tmp);
  snprintf(root_prog, sizeof root_prog, "%s/hello", root_dir);
  assert_int_equal(mkdir(root_dir, 0700), 0);
  int fd = open(root_prog, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, "#!/bin/sh\necho hi\n", 18), 18);
  close(fd);
}

static void remove_user(void) {
  gxt_account_cmd(ARGV("userdel", "-r", user));
  gxt_account_cmd(ARGV("groupdel", grp));
  gxt_exec(ARGV("rm", "-rf", tmp));
}

static int setup_fork_server(void **state) {
  (void)state;
  gxt_group_start(ARGV("--kill-grace=300ms"));
  return 0;
}

static int setup_exec(void **state) {
  (void)state;
  gxt_group_start(ARGV("--kill-grace=300ms", "--launch-mode=exec"));
  return 0;
}

static int teardown(void **state) {
  (void)state;
  gxt_group_stop();
  return 0;
}

/* Runs `sh -c SCRIPT` as @p as in @p profile (@p extra: other fields);
 * asserts it ran. */
static gexec_result run_as(const char *as, const char *profile,
                           const char *script, const gexec_spec *extra) {
  gexec_spec spec = extra ? *extra : (gexec_spec)GEXEC_SPEC_INIT;
  spec.size = sizeof spec;
  spec.argv = ARGV("sh", "-c", script);
  spec.profile = profile;
  spec.user = as;
  spec.stdin_null = 1;
  gexec_result r;
  gexec_error err;
  if (gexec_run(conn, &spec, NULL, &r, &err) != GEXEC_OK)
    fail_msg("%s as %s failed: %s", profile, as ? as : "-", err.message);
  return r;
}

/* Expects the daemon to refuse the run with @p status and @p msg. */
static void expect_refused(const char *as, const char *profile,
                           const char *cwd, int status, const char *msg) {
  gexec_spec spec = GEXEC_SPEC_INIT;
  spec.argv = ARGV("true");
  spec.profile = profile;
  spec.user = as;
  spec.cwd = cwd;
  spec.stdin_null = 1;
  gexec_result r;
  gexec_error err;
  assert_int_equal(gexec_run(conn, &spec, NULL, &r, &err), GEXEC_ESTATUS);
  assert_int_equal(err.status, status);
  assert_string_equal(err.message, msg);
}

static const char ids_script[] =
    "id -u; id -g; id -G; echo \"$HOME|$USER|$LOGNAME|$SHELL\";"
    " grep -E '^(CapEff|CapPrm)' /proc/self/status";

/* What ids_script prints for @p name in host and baseline. */
static const char *want_ids(const char *name, const char *passwd_tail) {
  static char want[1024];
  char u[16], g[16], groups[512];
  snprintf(u, sizeof u, "%s", gxt_id_of("-u", name));
  snprintf(g, sizeof g, "%s", gxt_id_of("-g", name));
  snprintf(groups, sizeof groups, "%s", gxt_id_of("-G", name));
  snprintf(want, sizeof want,
           "%s\n%s\n%s\n%s\nCapPrm:\t0000000000000000\n"
           "CapEff:\t0000000000000000\n", u, g, groups, passwd_tail);
  return want;
}

/* nobody in host and baseline: uid 65534, nobody's groups, its passwd
 * HOME/USER/LOGNAME/SHELL, no capabilities left; `started` says 65534. */
static void test_nobody_host_baseline(void **state) {
  static const char *const profiles[] = {"host", "baseline"};
  (void)state;
  for (int k = 0; k < 2; k++) {
    if (k == 1) NEED_FULL();
    gexec_result r = run_as("nobody", profiles[k], ids_script, NULL);
    assert_string_equal(r.err, "");
    assert_string_equal(
        r.out, want_ids("nobody", "/nonexistent|nobody|nobody|"
                                  "/usr/sbin/nologin"));
    assert_int_equal(r.exit.exit_code, 0);
    assert_int_equal(r.exit.isolation.uid, 65534);
    gexec_result_free(&r);
  }
}

/* The user made here: its uid, its primary and supplementary groups (as
 * `id -G` on the host lists them), its HOME and SHELL. */
static void test_created_user_groups(void **state) {
  char tail[256];
  (void)state;
  snprintf(tail, sizeof tail, "%s|%s|%s|/bin/sh", home, user, user);
  for (int k = 0; k < 2; k++) {
    if (k == 1) NEED_FULL();
    gexec_result r = run_as(user, k ? "baseline" : "host", ids_script, NULL);
    assert_string_equal(r.out, want_ids(user, tail));
    char groups[64];
    snprintf(groups, sizeof groups, "\n%u %u\n", user_gid, grp_gid);
    assert_non_null(strstr(r.out, groups)); /* the supplementary group */
    assert_int_equal(r.exit.isolation.uid, user_uid);
    gexec_result_free(&r);
  }
  /* a client's HOME replaces the passwd one, like any default */
  gexec_spec env = GEXEC_SPEC_INIT;
  env.env = ARGV("HOME=/srv");
  gexec_result r = run_as(user, "host", "echo $HOME $USER", &env);
  char want[64];
  snprintf(want, sizeof want, "/srv %s\n", user);
  assert_string_equal(r.out, want);
  gexec_result_free(&r);
}

/* restricted: uid and gid 1000 inside, no groups, the passwd
 * environment; on the host its files and processes are the user's, and
 * the user's own 0700 home is its to enter (a run of the default
 * restricted user, a host nobody, cannot). */
static void test_restricted_maps_user(void **state) {
  char tail[256], want[512], path[128];
  struct stat st;
  (void)state;
  NEED_FULL();
  gexec_spec in_home = GEXEC_SPEC_INIT;
  in_home.cwd = home;
  gexec_result r = run_as(user, "restricted",
                          "id -u; id -g; id -G; echo \"$HOME|$USER|$SHELL\";"
                          " pwd; echo made > f", &in_home);
  snprintf(tail, sizeof tail, "%s|%s|/bin/sh", home, user);
  snprintf(want, sizeof want, "1000\n1000\n1000\n%s\n%s\n", tail, home);
  assert_string_equal(r.err, "");
  assert_string_equal(r.out, want);
  assert_int_equal(r.exit.isolation.uid, 1000);
  gexec_result_free(&r);
  snprintf(path, sizeof path, "%s/f", home);
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(st.st_uid, user_uid);
  assert_int_equal(st.st_gid, user_gid);
  char msg[256];
  snprintf(msg, sizeof msg, "cwd '%s' is not accessible to the run's user",
           home);
  expect_refused(NULL, "restricted", home, GEXEC_STATUS_PERMISSION_DENIED,
                 msg);
}

/* root: the daemon's own ids in host; refused in restricted, which never
 * runs as the host's root. */
static void test_root(void **state) {
  (void)state;
  gexec_result r = run_as("root", "host", "id -u; echo $USER $HOME", NULL);
  assert_string_equal(r.out, "0\nroot /root\n");
  gexec_result_free(&r);
  NEED_FULL();
  expect_refused("root", "restricted", NULL,
                 GEXEC_STATUS_FAILED_PRECONDITION,
                 "user 'root' cannot run in profile restricted: its uid or "
                 "gid is 0, and restricted never runs as the host's root "
                 "(use host or baseline)");
}

/* The run's process on the host: the user's uid (restricted), 65534
 * (nobody, host). */
static void test_process_is_users_on_host(void **state) {
  static const char *const mark[2] = {"31.4159", "31.4158"};
  (void)state;
  for (int k = 0; k < 2; k++) {
    if (k == 0) NEED_FULL();
    gexec_spec spec = GEXEC_SPEC_INIT;
    spec.argv = ARGV("sleep", mark[k]);
    spec.profile = k ? "host" : "restricted";
    spec.user = k ? "nobody" : user;
    spec.stdin_null = 1;
    gexec_proc *p;
    gexec_error err;
    assert_int_equal(gexec_proc_start(conn, &spec, &p, &err), GEXEC_OK);
    pid_t pid = gxt_wait_pid_by_arg(mark[k], 10000);
    assert_true(pid > 0);
    char path[64], buf[4096], want[128];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    uint32_t id = k ? 65534 : user_uid;
    snprintf(want, sizeof want, "\nUid:\t%u\t%u\t%u\t%u\n", id, id, id, id);
    assert_non_null(strstr(buf, want));
    gexec_proc_free(p); /* cancels it */
    assert_true(gxt_wait_arg_gone(mark[k], 10000));
  }
}

/* host: the command's parent-death signal (SIGKILL when its launcher
 * dies) survives becoming a user, which clears it in the kernel (the
 * launcher sets it again): as root and as nobody it is 9. */
static void test_parent_death_signal_kept(void **state) {
  static const char script[] =
      "exec python3 -c 'import ctypes\n"
      "s = ctypes.c_int(-1)\n"
      "ctypes.CDLL(None).prctl(2, ctypes.byref(s), 0, 0, 0)\n"
      "print(s.value)'";
  (void)state;
  for (int k = 0; k < 2; k++) {
    gexec_result r = run_as(k ? "nobody" : NULL, "host", script, NULL);
    assert_string_equal(r.err, "");
    assert_string_equal(r.out, "9\n");
    gexec_result_free(&r);
  }
}

/* The cwd and the program are looked up as the user: a directory only
 * root may enter is refused as nobody's cwd, and a program in it cannot
 * be run by nobody (both fine as root). */
static void test_cwd_and_program_as_user(void **state) {
  const char *dir = root_dir, *prog = root_prog;
  char msg[256];
  (void)state;
  for (int k = 0; k < 2; k++) {
    const char *profile = k ? "baseline" : "host";
    if (k == 1) NEED_FULL();
    snprintf(msg, sizeof msg,
             "cwd '%s' is not accessible to the run's user", dir);
    expect_refused("nobody", profile, dir, GEXEC_STATUS_PERMISSION_DENIED,
                   msg);
    gexec_spec spec = GEXEC_SPEC_INIT;
    gexec_result r;
    gexec_error err;
    spec.argv = ARGV(prog);
    spec.profile = profile;
    spec.stdin_null = 1;
    assert_int_equal(gexec_run(conn, &spec, NULL, &r, &err), GEXEC_OK);
    assert_string_equal(r.out, "hi\n"); /* root can */
    gexec_result_free(&r);
    spec.user = "nobody";
    assert_int_equal(gexec_run(conn, &spec, NULL, &r, &err), GEXEC_ESTATUS);
    assert_int_equal(err.status, GEXEC_STATUS_PERMISSION_DENIED);
    snprintf(msg, sizeof msg, "cannot run '%s': permission denied", prog);
    assert_string_equal(err.message, msg);
  }
}

/* rlimits and the run's cgroup still apply to a run as a user. */
static void test_limits_kept(void **state) {
  (void)state;
  NEED_FULL();
  GXT_SKIP_UNLESS(GXT_NEED_CGROUPS);
  gexec_spec lim = GEXEC_SPEC_INIT;
  lim.open_files = 32;
  lim.pids = 16;
  gexec_result r = run_as("nobody", "baseline",
                          "ulimit -n; id -u; grep -c run- /proc/self/cgroup",
                          &lim);
  int nfiles = 0, uid = -1, lines = 0;
  if (sscanf(r.out, "%d %d %d", &nfiles, &uid, &lines) != 3)
    fail_msg("unexpected '%s' / '%s'", r.out, r.err);
  assert_int_equal(nfiles, 32);
  assert_int_equal(uid, 65534);
  assert_true(lines >= 1); /* in the run's cgroup */
  assert_string_not_equal(r.exit.isolation.cgroup, "");
  gexec_result_free(&r);
}

/* Unknown and invalid names: INVALID_ARGUMENT, nothing run. */
static void test_refusals(void **state) {
  (void)state;
  const int inval = GEXEC_STATUS_INVALID_ARGUMENT;
  expect_refused("gxt-no-such-user", "host", NULL, inval,
                 "unknown user 'gxt-no-such-user'");
  expect_refused("-root", "host", NULL, inval,
                 "user '-root' is not a valid user name (a user name is 1 "
                 "to 32 bytes of [A-Za-z0-9_.-], not starting with '-')");
  expect_refused("0", "host", NULL, inval,
                 "user '0' is a number: name the user (a numeric uid is "
                 "not accepted)");
  expect_refused("root\n", "host", NULL, inval,
                 "user 'root\n' is not a valid user name (a user name is 1 "
                 "to 32 bytes of [A-Za-z0-9_.-], not starting with '-')");
}

/* A caller of the 0.2 layout (size 112 on LP64) cannot have set user:
 * the library reads nothing past its size, so the run is the default's
 * (root in host), whatever lies beyond. */
static void test_spec_02_layout(void **state) {
  (void)state;
  gexec_spec spec = GEXEC_SPEC_INIT;
  spec.size = offsetof(gexec_spec, open_files) + sizeof(uint64_t);
  assert_int_equal(spec.size, 112);
  spec.argv = ARGV("id", "-u");
  spec.profile = "host";
  spec.user = "nobody"; /* beyond the caller's size */
  spec.stdin_null = 1;
  gexec_result r;
  gexec_error err;
  assert_int_equal(gexec_run(conn, &spec, NULL, &r, &err), GEXEC_OK);
  assert_string_equal(r.out, "0\n");
  gexec_result_free(&r);
  spec.size = sizeof spec; /* 0.3 */
  assert_int_equal(gexec_run(conn, &spec, NULL, &r, &err), GEXEC_OK);
  assert_string_equal(r.out, "65534\n");
  gexec_result_free(&r);
}

/* Runs the CLI `gexec run -H TARGET -n ARGS...` to its end, capturing
 * its stdout and stderr (small); returns its exit status. */
static int cli(const char *const *args, char *out, size_t olen, char *err,
               size_t elen) {
  const char *argv[16] = {"gexec", "run", "-H", gxt_group_daemon.target,
                          "-n"};
  char path[512];
  int n = 5, o[2], e[2], st;
  snprintf(path, sizeof path, "%s/gexec/client/cli/gexec",
           getenv("TEST_SRCDIR") ? getenv("TEST_SRCDIR") : "..");
  for (; *args && n < 15; args++) argv[n++] = *args;
  argv[n] = NULL;
  assert_int_equal(pipe2(o, O_CLOEXEC), 0);
  assert_int_equal(pipe2(e, O_CLOEXEC), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    dup2(o[1], 1);
    dup2(e[1], 2);
    execv(path, (char **)argv);
    _exit(127);
  }
  close(o[1]);
  close(e[1]);
  size_t got = 0;
  ssize_t r;
  while (got < olen - 1 && (r = read(o[0], out + got, olen - 1 - got)) > 0)
    got += (size_t)r;
  out[got] = '\0';
  got = 0;
  while (got < elen - 1 && (r = read(e[0], err + got, elen - 1 - got)) > 0)
    got += (size_t)r;
  err[got] = '\0';
  close(o[0]);
  close(e[0]);
  assert_int_equal(waitpid(pid, &st, 0), pid);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_cli_user(void **state) {
  char out[256], err[512];
  (void)state;
  assert_int_equal(cli(ARGV("-u", "nobody", "--", "sh", "-c",
                            "id -u; echo $USER"),
                       out, sizeof out, err, sizeof err), 0);
  assert_string_equal(out, "65534\nnobody\n");
  assert_int_equal(cli(ARGV("--user", user, "id", "-un"), out, sizeof out,
                       err, sizeof err), 0);
  char want[64];
  snprintf(want, sizeof want, "%s\n", user);
  assert_string_equal(out, want);
  assert_int_equal(cli(ARGV("-u", "gxt-no-such-user", "true"), out,
                       sizeof out, err, sizeof err), 255);
  assert_string_equal(out, "");
  assert_string_equal(err, "gexec: unknown user 'gxt-no-such-user'\n");
}

/* The daemon's log line of a run names its user. */
static void test_log_names_user(void **state) {
  (void)state;
  gexec_result r = run_as("nobody", "host", "echo gxt-log-mark-77", NULL);
  gexec_result_free(&r);
  char buf[1 << 16];
  int found = 0;
  for (int i = 0; i < 100 && !found; i++) {
    int fd = open(gxt_group_daemon.log_path, O_RDONLY);
    assert_true(fd >= 0);
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    found = strstr(buf, "\"user\":\"nobody\"") != NULL;
    if (!found) usleep(20000);
  }
  assert_true(found);
}

#define TESTS                                                  \
  cmocka_unit_test(test_nobody_host_baseline),                 \
      cmocka_unit_test(test_created_user_groups),              \
      cmocka_unit_test(test_restricted_maps_user),             \
      cmocka_unit_test(test_root),                             \
      cmocka_unit_test(test_process_is_users_on_host),         \
      cmocka_unit_test(test_parent_death_signal_kept),             \
      cmocka_unit_test(test_cwd_and_program_as_user),          \
      cmocka_unit_test(test_limits_kept),                      \
      cmocka_unit_test(test_refusals)

int main(void) {
  const struct CMUnitTest fork_server[] = {
      TESTS,
      cmocka_unit_test(test_spec_02_layout),
      cmocka_unit_test(test_cli_user),
      cmocka_unit_test(test_log_names_user),
  };
  const struct CMUnitTest exec_mode[] = {TESTS};
  make_user();
  int failed = cmocka_run_group_tests_name("run-as, fork server", fork_server,
                                           setup_fork_server, teardown);
  /* the standalone launcher takes the same request: the same results */
  failed += cmocka_run_group_tests_name("run-as, --launch-mode exec",
                                        exec_mode, setup_exec, teardown);
  remove_user();
  return failed;
}
