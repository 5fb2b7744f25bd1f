/* Integration: the gexec CLI as a process against a real gexecd. Its
 * stdin forwarded exactly (large, through a pipe, coalesced into 1 MiB
 * messages) and without holding back a short piece, signals forwarded
 * and a second one cancelling, the end of the process (teardown.h),
 * `--tty` refused. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/integration/harness.h"

#define daemon_ gxt_group_daemon

/* A gexec process with pipes on its stdin, stdout and stderr. */
typedef struct {
  pid_t pid;
  int in, out, err; /* our ends; in = -1 once closed */
} cli;

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

/* Starts `gexec ARGS...` (args NULL-terminated, "-H target" added after
 * the command word args[0]). */
static void cli_start(cli *c, const char *const *args) {
  char path[512];
  const char *argv[32];
  int n = 0, in[2], out[2], err[2];
  snprintf(path, sizeof path, "%s/gexec/client/cli/gexec",
           getenv("TEST_SRCDIR") ? getenv("TEST_SRCDIR") : "..");
  argv[n++] = "gexec";
  argv[n++] = *args++;
  argv[n++] = "-H";
  argv[n++] = daemon_.target;
  for (; *args && n < 31; args++) argv[n++] = *args;
  argv[n] = NULL;
  assert_int_equal(pipe2(in, O_CLOEXEC), 0);
  assert_int_equal(pipe2(out, O_CLOEXEC), 0);
  assert_int_equal(pipe2(err, O_CLOEXEC), 0);
  c->pid = fork();
  assert_true(c->pid >= 0);
  if (c->pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    execv(path, (char **)argv);
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  close(err[1]);
  c->in = in[1];
  c->out = out[0];
  c->err = err[0];
}

/* Reads @p fd to EOF into @p buf (at most @p len bytes; more fails the
 * test); returns the byte count. */
static size_t read_all(int fd, char *buf, size_t len) {
  size_t got = 0;
  for (;;) {
    assert_true(got < len);
    ssize_t n = read(fd, buf + got, len - got);
    if (n < 0 && errno == EINTR) continue;
    assert_true(n >= 0);
    if (n == 0) return got;
    got += (size_t)n;
  }
}

/* Reads exactly @p len bytes from @p fd and compares them to @p want. */
static void expect_read(int fd, const char *want) {
  char buf[256];
  size_t len = strlen(want), got = 0;
  assert_true(len < sizeof buf);
  while (got < len) {
    ssize_t n = read(fd, buf + got, len - got);
    if (n < 0 && errno == EINTR) continue;
    assert_true(n > 0);
    got += (size_t)n;
  }
  assert_memory_equal(buf, want, len);
}

/* Closes our ends and waits; returns the exit status (-1: signalled). */
static int cli_wait(cli *c) {
  int st;
  if (c->in >= 0) close(c->in);
  close(c->out);
  close(c->err);
  assert_int_equal(waitpid(c->pid, &st, 0), c->pid);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Byte i of the stdin pattern: not periodic in 1 MiB. */
static char pattern(size_t i) { return (char)((i * 7 + i / 4099) & 0xff); }

/* 5 MiB + 3 bytes through a pipe into a remote `cat`, written by a child
 * in pieces of 4000 bytes: every byte comes back, in order. */
static void test_stdin_exact(void **state) {
  enum { LEN = 5 * 1024 * 1024 + 3, PIECE = 4000 };
  static char got[LEN + 1];
  cli c;
  (void)state;
  cli_start(&c, ARGV("run", "--", "cat"));
  pid_t writer = fork();
  assert_true(writer >= 0);
  if (writer == 0) {
    static char piece[PIECE];
    for (size_t off = 0; off < LEN; off += PIECE) {
      size_t n = LEN - off < PIECE ? LEN - off : PIECE;
      for (size_t i = 0; i < n; i++) piece[i] = pattern(off + i);
      if (write(c.in, piece, n) != (ssize_t)n) _exit(1);
    }
    _exit(0);
  }
  close(c.in);
  c.in = -1;
  assert_int_equal(read_all(c.out, got, sizeof got), LEN);
  for (size_t i = 0; i < LEN; i++)
    if (got[i] != pattern(i)) fail_msg("byte %zu differs", i);
  int st;
  assert_int_equal(waitpid(writer, &st, 0), writer);
  assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  assert_int_equal(cli_wait(&c), 0);
}

/* A short line reaches the run while our stdin stays open: it is sent
 * at once, not kept until 1 MiB or EOF (else this would hang). */
static void test_short_input_not_held_back(void **state) {
  cli c;
  (void)state;
  cli_start(&c, ARGV("run", "--", "head", "-n", "1"));
  assert_int_equal(write(c.in, "ls\n", 3), 3);
  expect_read(c.out, "ls\n");
  assert_int_equal(cli_wait(&c), 0);
}

/* The first SIGINT goes to the run (which traps it), a second one
 * cancels the run: 130. */
static void test_signals(void **state) {
  cli c;
  (void)state;
  cli_start(&c, ARGV("run", "-n", "--", "sh", "-c",
                     "trap 'echo got-int; exit 7' INT; echo ready; "
                     "sleep 30 & wait"));
  expect_read(c.out, "ready\n");
  kill(c.pid, SIGINT);
  expect_read(c.out, "got-int\n");
  assert_int_equal(cli_wait(&c), 7);
  /* Signals of one kind do not queue: the second is sent once the run
   * reported the first, so that gexec sees two. */
  cli_start(&c, ARGV("run", "-n", "--", "sh", "-c",
                     "trap 'echo got-int' INT; echo ready; "
                     "while :; do sleep 1; done"));
  expect_read(c.out, "ready\n");
  kill(c.pid, SIGINT);
  expect_read(c.out, "got-int\n");
  kill(c.pid, SIGINT);
  assert_int_equal(cli_wait(&c), 130);
}

/* Output, the exit status and a ping, with the process ending without
 * gRPC's shutdown (or with it, in sanitizer builds). */
static void test_exit_paths(void **state) {
  char out[4096];
  cli c;
  (void)state;
  cli_start(&c, ARGV("run", "-n", "--", "sh", "-c", "echo out; exit 3"));
  assert_int_equal(read_all(c.out, out, sizeof out), 4);
  assert_memory_equal(out, "out\n", 4);
  assert_int_equal(cli_wait(&c), 3);
  cli_start(&c, ARGV("ping", "-c", "2"));
  size_t n = read_all(c.out, out, sizeof out - 1);
  out[n] = '\0';
  assert_non_null(strstr(out, "SERVING"));
  assert_non_null(strstr(out, "2 pings: rtt min/avg/max"));
  assert_int_equal(cli_wait(&c), 0);
}

/* --tty is reserved: a usage error, before connecting. */
static void test_tty_refused(void **state) {
  char err[256] = "";
  cli c;
  (void)state;
  cli_start(&c, ARGV("run", "--tty", "--", "sh"));
  size_t n = read_all(c.err, err, sizeof err - 1);
  err[n] = '\0';
  assert_non_null(
      strstr(err, "gexec: --tty: terminal sessions are not supported yet\n"));
  assert_int_equal(cli_wait(&c), 2);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_stdin_exact),
      cmocka_unit_test(test_short_input_not_held_back),
      cmocka_unit_test(test_signals),
      cmocka_unit_test(test_exit_paths),
      cmocka_unit_test(test_tty_refused),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
