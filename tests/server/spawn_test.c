/* Unit tests for server/spawn: gxd_spawn. Files are
 * created under $TEST_TMPDIR (set by Bazel). */
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

#include "server/spawn.h"
#include "tests/server/scratch.h"

static char *const no_env[] = {NULL};

/* ============================================================== spawn */

/* Reads @p fd to EOF into a static buffer and closes it. */
static char *read_all(int fd) {
  static char buf[4][8192];
  static int next;
  char *b = buf[next++ % 4];
  size_t n = 0;
  ssize_t r;
  while ((r = read(fd, b + n, sizeof buf[0] - 1 - n)) != 0) {
    if (r < 0 && errno == EINTR) continue;
    assert_true(r > 0);
    n += (size_t)r;
    assert_true(n < sizeof buf[0] - 1);
  }
  b[n] = '\0';
  close(fd);
  return b;
}

/* Waits for @p pid; returns its raw wait status. */
static int wait_for(pid_t pid) {
  int status;
  pid_t r;
  do r = waitpid(pid, &status, 0);
  while (r < 0 && errno == EINTR);
  assert_int_equal(r, pid);
  return status;
}

/* Asserts that this process has no child left (nothing leaked). */
static void assert_no_children(void) {
  errno = 0;
  assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
  assert_int_equal(errno, ECHILD);
}

/* Spawns @p argv with stdout (and stderr, if @p err) to pipes, stdin from
 * /dev/null; returns the exit code and the captured output. */
static int run(const char *path, char *const *argv, char *const *envp,
               const char *cwd, char **out, char **err) {
  int po[2], pe[2] = {-1, -1}, status;
  pid_t pid = -1;
  gxd_spawn_spec spec;
  assert_int_equal(pipe(po), 0);
  if (err) assert_int_equal(pipe(pe), 0);
  spec = (gxd_spawn_spec){.path = path, .argv = argv, .envp = envp,
                          .cwd = cwd, .stdin_fd = -1, .stdout_fd = po[1],
                          .stderr_fd = err ? pe[1] : -1};
  assert_int_equal(gxd_spawn(&spec, &pid), 0);
  assert_true(pid > 0);
  close(po[1]);
  if (err) close(pe[1]);
  *out = read_all(po[0]);
  if (err) *err = read_all(pe[0]);
  status = wait_for(pid);
  assert_true(WIFEXITED(status));
  return WEXITSTATUS(status);
}

static void spawn_exit_code_null_stdio(void **state) {
  char *const argv[] = {"sh", "-c", "exit 7", NULL};
  gxd_spawn_spec spec = {.path = "/bin/sh", .argv = argv, .envp = no_env,
                         .cwd = "/", .stdin_fd = -1, .stdout_fd = -1,
                         .stderr_fd = -1};
  pid_t pid = -1;
  int status;
  (void)state;
  assert_int_equal(gxd_spawn(&spec, &pid), 0);
  assert_true(pid > 0);
  status = wait_for(pid);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 7);
  assert_no_children();
}

/* All three pipes carry data; the exit code comes back. */
static void spawn_pipes(void **state) {
  char *const argv[] = {
      "sh", "-c", "read line; echo \"out:$line\"; echo err:$line >&2; exit 7",
      NULL};
  int pi[2], po[2], pe[2], status;
  pid_t pid = -1;
  gxd_spawn_spec spec;
  (void)state;
  assert_int_equal(pipe(pi), 0);
  assert_int_equal(pipe(po), 0);
  assert_int_equal(pipe(pe), 0);
  spec = (gxd_spawn_spec){.path = "/bin/sh", .argv = argv, .envp = no_env,
                          .cwd = "/", .stdin_fd = pi[0],
                          .stdout_fd = po[1], .stderr_fd = pe[1]};
  assert_int_equal(gxd_spawn(&spec, &pid), 0);
  close(pi[0]);
  close(po[1]);
  close(pe[1]);
  assert_int_equal(write(pi[1], "hello\n", 6), 6);
  close(pi[1]);
  assert_string_equal(read_all(po[0]), "out:hello\n");
  assert_string_equal(read_all(pe[0]), "err:hello\n");
  status = wait_for(pid);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 7);
}

/* The same pipe may serve as stdout and stderr (OUTPUT_TO_STDOUT). */
static void spawn_shared_output_pipe(void **state) {
  char *const argv[] = {"sh", "-c", "echo 1; echo 2 >&2; echo 3", NULL};
  int po[2], status;
  pid_t pid;
  gxd_spawn_spec spec;
  (void)state;
  assert_int_equal(pipe(po), 0);
  spec = (gxd_spawn_spec){.path = "/bin/sh", .argv = argv, .envp = no_env,
                          .cwd = "/", .stdin_fd = -1, .stdout_fd = po[1],
                          .stderr_fd = po[1]};
  assert_int_equal(gxd_spawn(&spec, &pid), 0);
  close(po[1]);
  assert_string_equal(read_all(po[0]), "1\n2\n3\n");
  status = wait_for(pid);
  assert_int_equal(WEXITSTATUS(status), 0);
}

/* -1 means /dev/null, read-only for stdin and write-only for the rest. */
static void spawn_null_stdio_is_dev_null(void **state) {
  char *const argv[] = {"sh", "-c",
                        "readlink /proc/$$/fd/0 /proc/$$/fd/2; cat; "
                        "echo gone >&2", NULL};
  char *out;
  (void)state;
  /* stdout is the pipe; stdin and stderr are /dev/null: cat sees EOF at
   * once and "gone" on stderr vanishes */
  assert_int_equal(run("/bin/sh", argv, no_env, "/", &out, NULL), 0);
  assert_string_equal(out, "/dev/null\n/dev/null\n");
}

/* No descriptor beyond 0, 1 and 2 reaches the program, even ones opened
 * without O_CLOEXEC. */
static void spawn_closes_other_fds(void **state) {
  char *const argv[] = {"sh", "-c", "ls /proc/$$/fd", NULL};
  int leak, extra[2];
  char *out;
  (void)state;
  leak = open("/dev/null", O_RDONLY); /* deliberately not O_CLOEXEC */
  assert_true(leak >= 0);
  assert_int_equal(dup2(leak, 50), 50);
  assert_int_equal(pipe(extra), 0); /* not O_CLOEXEC either */
  assert_int_equal(fcntl(50, F_GETFD) & FD_CLOEXEC, 0);
  assert_int_equal(run("/bin/sh", argv, no_env, "/", &out, NULL), 0);
  assert_string_equal(out, "0\n1\n2\n");
  close(leak);
  close(50);
  close(extra[0]);
  close(extra[1]);
}

/* The program gets exactly the given argv (argv[0] included) and envp;
 * nothing of the daemon's own environment. */
static void spawn_argv_and_env(void **state) {
  char *const argv[] = {"custom-name", "-c",
                        "tr '\\0' '|' < /proc/$$/cmdline", "x", "a b", "",
                        NULL};
  char *const envp[] = {"A=1", "B=x y", "EMPTY=", NULL};
  char *const env_argv[] = {"env", NULL};
  char *out;
  (void)state;
  assert_int_equal(setenv("GXD_SPAWN_TEST_PARENT", "1", 1), 0);
  assert_int_equal(run("/bin/sh", argv, no_env, "/", &out, NULL), 0);
  assert_string_equal(out, "custom-name|-c|tr '\\0' '|' < /proc/$$/cmdline|"
                           "x|a b||");
  assert_int_equal(run("/usr/bin/env", env_argv, envp, "/", &out, NULL), 0);
  assert_string_equal(out, "A=1\nB=x y\nEMPTY=\n");
  unsetenv("GXD_SPAWN_TEST_PARENT");
}

static void spawn_cwd(void **state) {
  char *const argv[] = {"pwd", "-P", NULL};
  char want[PATH_MAX + 1], *out;
  (void)state;
  gxt_make_dir("s1");
  gxt_make_dir("s1/work dir");
  assert_non_null(realpath(gxt_at("s1/work dir"), want));
  size_t wn = strlen(want);
  snprintf(want + wn, sizeof want - wn, "\n");
  assert_int_equal(run("/bin/pwd", argv, no_env, gxt_at("s1/work dir"), &out,
                       NULL), 0);
  assert_string_equal(out, want);
}

/* A cwd removed between the check and the spawn: -ENOENT, no process. */
static void spawn_vanished_cwd(void **state) {
  char *const argv[] = {"sh", "-c", "exit 0", NULL};
  gxd_spawn_spec spec = {.path = "/bin/sh", .argv = argv, .envp = no_env,
                         .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1};
  pid_t pid = -1;
  (void)state;
  gxt_make_dir("s2");
  spec.cwd = gxt_at("s2");
  assert_int_equal(rmdir(spec.cwd), 0);
  assert_int_equal(gxd_spawn(&spec, &pid), -ENOENT);
  assert_no_children();
}

/* cwd names a file, not a directory: -ENOTDIR, no process. */
static void spawn_cwd_not_directory(void **state) {
  char *const argv[] = {"sh", "-c", "exit 0", NULL};
  gxd_spawn_spec spec = {.path = "/bin/sh", .argv = argv, .envp = no_env,
                         .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1};
  pid_t pid = -1;
  (void)state;
  gxt_make_file("s3file", "x", 0644);
  spec.cwd = gxt_at("s3file");
  assert_int_equal(gxd_spawn(&spec, &pid), -ENOTDIR);
  assert_no_children();
}

/* exec failures come back synchronously as -errno; no process is left. */
static void spawn_exec_failures(void **state) {
  char *const argv[] = {"prog", NULL};
  gxd_spawn_spec spec = {.argv = argv, .envp = no_env, .cwd = "/",
                         .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1};
  pid_t pid = -1;
  (void)state;
  gxt_make_dir("s4");
  gxt_make_file("s4/plain", "echo hi\n", 0644);
  gxt_make_file("s4/garbage", "\x01\x02\x03 not a program\n", 0755);
  spec.path = gxt_at("s4/missing");
  assert_int_equal(gxd_spawn(&spec, &pid), -ENOENT);
  spec.path = gxt_at("s4/plain");
  assert_int_equal(gxd_spawn(&spec, &pid), -EACCES);
  spec.path = gxt_at("s4/garbage");
  assert_int_equal(gxd_spawn(&spec, &pid), -ENOEXEC);
  spec.path = gxt_at("s4");
  assert_int_equal(gxd_spawn(&spec, &pid), -EACCES);
  assert_no_children();
}

/* The process leads its own session and process group. */
static void spawn_new_session(void **state) {
  char *const argv[] = {"sh", "-c", "read x; exit 3", NULL};
  int pi[2], status;
  pid_t pid = -1;
  gxd_spawn_spec spec;
  (void)state;
  assert_int_equal(pipe(pi), 0);
  spec = (gxd_spawn_spec){.path = "/bin/sh", .argv = argv, .envp = no_env,
                          .cwd = "/", .stdin_fd = pi[0], .stdout_fd = -1,
                          .stderr_fd = -1};
  assert_int_equal(gxd_spawn(&spec, &pid), 0);
  close(pi[0]);
  /* the child blocks on read until we close the pipe: it is alive now */
  assert_int_equal(getsid(pid), pid);
  assert_int_equal(getpgid(pid), pid);
  assert_int_not_equal(getsid(pid), getsid(0));
  close(pi[1]);
  status = wait_for(pid);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 3);
}

/* Reads the hex mask after @p key (e.g. "SigIgn:\t") in @p status. */
static unsigned long long status_mask(const char *status, const char *key) {
  const char *p = strstr(status, key);
  if (!p) fail_msg("no '%s' in '%s'", key, status);
  return strtoull(p + strlen(key), NULL, 16);
}

/* Blocked and ignored signals of the daemon do not carry over. glibc's
 * posix_spawn leaves its two internal signals (32 and 33, which
 * sigfillset cannot name) ignored; every other signal must be default. */
static void spawn_signal_state_reset(void **state) {
  char *const argv[] = {"grep", "-E", "^Sig(Blk|Ign):", "/proc/self/status",
                        NULL};
  const unsigned long long glibc_internal = (1ull << 31) | (1ull << 32);
  struct sigaction ign = {.sa_handler = SIG_IGN}, old_usr2, old_pipe;
  sigset_t block, old_mask;
  char *out;
  int rc;
  (void)state;
  sigemptyset(&block);
  sigaddset(&block, SIGUSR1);
  sigaddset(&block, SIGTERM);
  sigaddset(&block, SIGRTMIN);
  assert_int_equal(sigprocmask(SIG_BLOCK, &block, &old_mask), 0);
  assert_int_equal(sigaction(SIGUSR2, &ign, &old_usr2), 0);
  assert_int_equal(sigaction(SIGPIPE, &ign, &old_pipe), 0);
  rc = run("/bin/grep", argv, no_env, "/", &out, NULL);
  sigprocmask(SIG_SETMASK, &old_mask, NULL);
  sigaction(SIGUSR2, &old_usr2, NULL);
  sigaction(SIGPIPE, &old_pipe, NULL);
  assert_int_equal(rc, 0);
  assert_int_equal(strncmp(out, "SigBlk:\t", 8), 0);
  assert_int_equal(status_mask(out, "SigBlk:\t"), 0);
  assert_int_equal(status_mask(out, "SigIgn:\t") & ~glibc_internal, 0);
}

static int group_setup(void **state) {
  (void)state;
  return gxt_scratch_setup("spawn_test");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(spawn_exit_code_null_stdio),
      cmocka_unit_test(spawn_pipes),
      cmocka_unit_test(spawn_shared_output_pipe),
      cmocka_unit_test(spawn_null_stdio_is_dev_null),
      cmocka_unit_test(spawn_closes_other_fds),
      cmocka_unit_test(spawn_argv_and_env),
      cmocka_unit_test(spawn_cwd),
      cmocka_unit_test(spawn_vanished_cwd),
      cmocka_unit_test(spawn_cwd_not_directory),
      cmocka_unit_test(spawn_exec_failures),
      cmocka_unit_test(spawn_new_session),
      cmocka_unit_test(spawn_signal_state_reset),
  };
  return cmocka_run_group_tests(tests, group_setup, NULL);
}
