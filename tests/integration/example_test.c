/* Integration: client/examples/run_example, the program built by Bazel
 * against <gexec/gexec.h>, run as a user runs it against a real gexecd:
 * its exact stdout, stderr and exit code for a run that exits, one killed
 * by a signal, the target from $GEXEC_TARGET with the default command, a
 * refused run, an unreachable daemon and a usage error; and
 * client/examples/fanout_example (the event queue) on several targets. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/integration/harness.h"

#define daemon_ gxt_group_daemon

/* What one run of the example printed, and how it exited. */
typedef struct {
  char out[4096];
  char err[4096];
  int rc; /* exit code, or -1 if it did not exit */
} example_run;

static int setup(void **state) {
  (void)state;
  gxt_group_start(NULL);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  gxt_group_stop();
  return 0;
}

static const char *example_path(const char *name) {
  static char path[4096];
  const char *srcdir = getenv("TEST_SRCDIR");
  snprintf(path, sizeof path, "%s/gexec/client/examples/%s",
           srcdir ? srcdir : "bazel-bin", name);
  return path;
}

/* A file under $TEST_TMPDIR for one stream of the run. */
static int open_capture(const char *name, char *path, size_t len) {
  const char *t = getenv("TEST_TMPDIR");
  snprintf(path, len, "%s/example-%s", t && *t ? t : "/tmp", name);
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  assert_true(fd >= 0);
  return fd;
}

static void read_capture(const char *path, char *buf, size_t len) {
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  size_t n = fread(buf, 1, len - 1, f);
  assert_true(feof(f));
  buf[n] = '\0';
  fclose(f);
}

/* Runs the example @p name with @p args (NULL-terminated, after argv[0])
 * and $GEXEC_TARGET set to @p env_target (NULL: unset). */
static void run_program(const char *name, const char *const *args,
                        const char *env_target, example_run *r) {
  const char *argv[16];
  char out_path[512], err_path[512];
  int n = 0, st;
  argv[n++] = name;
  for (; args && *args && n < 15; args++) argv[n++] = *args;
  argv[n] = NULL;
  int out = open_capture("out", out_path, sizeof out_path);
  int err = open_capture("err", err_path, sizeof err_path);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    dup2(out, 1);
    dup2(err, 2);
    if (env_target)
      setenv("GEXEC_TARGET", env_target, 1);
    else
      unsetenv("GEXEC_TARGET");
    execv(example_path(name), (char **)argv);
    _exit(127);
  }
  close(out);
  close(err);
  assert_int_equal(waitpid(pid, &st, 0), pid);
  r->rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  read_capture(out_path, r->out, sizeof r->out);
  read_capture(err_path, r->err, sizeof r->err);
}

static void run_example(const char *const *args, const char *env_target,
                        example_run *r) {
  run_program("run_example", args, env_target, r);
}

static void test_exit_status_and_output(void **state) {
  (void)state;
  example_run r;
  run_example(ARGV(daemon_.target, "sh", "-c",
                   "echo out; echo err >&2; exit 3"),
              NULL, &r);
  assert_string_equal(r.out, "out\nexit status 3\n");
  assert_string_equal(r.err, "err\n");
  assert_int_equal(r.rc, 0);
}

static void test_output_without_final_newline(void **state) {
  (void)state;
  example_run r;
  run_example(ARGV(daemon_.target, "printf", "a b"), NULL, &r);
  assert_string_equal(r.out, "a b\nexit status 0\n");
  assert_string_equal(r.err, "");
  assert_int_equal(r.rc, 0);
}

static void test_killed_by_signal(void **state) {
  (void)state;
  example_run r;
  run_example(ARGV(daemon_.target, "sh", "-c", "kill -9 $$"), NULL, &r);
  assert_string_equal(r.out, "killed by signal 9\n");
  assert_string_equal(r.err, "");
  assert_int_equal(r.rc, 0);
}

/* No arguments: the target comes from $GEXEC_TARGET (through
 * gexec_connect(NULL, ...)) and the command is `uname -sr`, run on this
 * very host. */
static void test_target_from_env_default_command(void **state) {
  (void)state;
  struct utsname u;
  char want[512];
  example_run r;
  assert_int_equal(uname(&u), 0);
  snprintf(want, sizeof want, "%s %s\nexit status 0\n", u.sysname,
           u.release);
  run_example(NULL, daemon_.target, &r);
  assert_string_equal(r.out, want);
  assert_string_equal(r.err, "");
  assert_int_equal(r.rc, 0);
  /* an empty TARGET argument means the same */
  run_example(ARGV("", "echo", "env"), daemon_.target, &r);
  assert_string_equal(r.out, "env\nexit status 0\n");
  assert_int_equal(r.rc, 0);
}

/* The daemon refuses the run: the example's line ends with the status
 * name; the reason in between is the daemon's. */
static void test_refused_run(void **state) {
  (void)state;
  static const char prefix[] = "run_example: /nonexistent/prog: ";
  static const char suffix[] = " (NOT_FOUND)\n";
  example_run r;
  run_example(ARGV(daemon_.target, "/nonexistent/prog"), NULL, &r);
  assert_string_equal(r.out, "");
  assert_int_equal(r.rc, 1);
  size_t n = strlen(r.err);
  assert_true(n > strlen(prefix) + strlen(suffix));
  assert_memory_equal(r.err, prefix, strlen(prefix));
  assert_string_equal(r.err + n - strlen(suffix), suffix);
  assert_ptr_equal(strchr(r.err, '\n'), r.err + n - 1); /* one line */
}

static void test_unreachable_daemon(void **state) {
  (void)state;
  static const char prefix[] = "run_example: cannot connect: ";
  example_run r;
  run_example(ARGV("unix:/nonexistent/gexecd.sock"), NULL, &r);
  assert_string_equal(r.out, "");
  assert_int_equal(r.rc, 1);
  assert_true(strlen(r.err) > strlen(prefix));
  assert_memory_equal(r.err, prefix, strlen(prefix));
  assert_ptr_equal(strchr(r.err, '\n'), r.err + strlen(r.err) - 1);
}

static void test_usage(void **state) {
  (void)state;
  example_run r;
  run_example(ARGV("--help"), daemon_.target, &r);
  assert_string_equal(r.out, "");
  assert_string_equal(r.err,
                      "usage: run_example [TARGET [COMMAND [ARG...]]]\n");
  assert_int_equal(r.rc, 2);
}

/* fanout_example: the same daemon twice and an unreachable socket, from
 * one thread and one event queue; the results in the order given. */
static void test_fanout(void **state) {
  (void)state;
  char targets[512], want[2048];
  const char *t = daemon_.target, *bad = "unix:/nonexistent/gexecd.sock";
  example_run r;
  snprintf(targets, sizeof targets, "%s,%s,%s", t, bad, t);
  run_program("fanout_example",
              ARGV(targets, "sh", "-c", "echo a; echo b; printf c; exit 5"),
              NULL, &r);
  snprintf(want, sizeof want,
           "%s: a\n%s: b\n%s: c\n%s: exit status 5\n"
           "%s: error: cannot connect to %s: no such socket\n"
           "%s: a\n%s: b\n%s: c\n%s: exit status 5\n",
           t, t, t, t, bad, bad, t, t, t, t);
  assert_string_equal(r.out, want);
  assert_string_equal(r.err, "");
  assert_int_equal(r.rc, 1);
  run_program("fanout_example", ARGV(t, "sh", "-c", "kill -9 $$"), NULL, &r);
  snprintf(want, sizeof want, "%s: killed by signal 9\n", t);
  assert_string_equal(r.out, want);
  assert_int_equal(r.rc, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_exit_status_and_output),
      cmocka_unit_test(test_output_without_final_newline),
      cmocka_unit_test(test_killed_by_signal),
      cmocka_unit_test(test_target_from_env_default_command),
      cmocka_unit_test(test_refused_run),
      cmocka_unit_test(test_unreachable_daemon),
      cmocka_unit_test(test_usage),
      cmocka_unit_test(test_fanout),
  };
  return cmocka_run_group_tests_name("integration/example", tests, setup,
                                     teardown);
}
