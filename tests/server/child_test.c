/* Unit tests for server/child: one run's launcher supervised on a bare
 * uv loop, the way libuv tests itself (test-spawn.c), against a fake
 * launcher module (fake_launcher.h) that starts no process: the test
 * plays the launcher through copies of the descriptors the child gave
 * it (stdin read, output and records written, EOF by closing). Signals
 * to the command's group reach a real process group the test forked (a
 * "victim" that reports each catchable signal on a pipe and is reaped
 * here). Every test ends with the child freed, no handle open and no
 * descriptor leaked (ASan reports memory). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "server/child.h"
#include "server/child_internal.h"
#include "tests/server/fake_launcher.h"

static uv_loop_t loop;
static uv_timer_t guard;  /* wakes the loop when a wait times out */
static int guard_fired;
static gxd_launcher fl;
static gxd_child *child;  /* the run under test */
static fake_run *fr;      /* its launcher */
static int close_called;
static uint64_t next_run_id;
static int fds_before;

/* What the callbacks saw. */
static struct {
  char log[64];     /* e exec, d drained, t timeout, r reaped, x exit,
                       c closed: in order */
  int outputs, drained, exec, timeout, reaped, exit, closed;
  gxl_record exec_rec;
  gxd_child_exit ex;
  uint64_t exit_at; /* uv_now at on_exit */
  int peek_stream;  /* what peek returned in on_exit */
  char peek[64];
  size_t peek_len;
} seen;

/* The victim: a process group of one the test forked. */
static struct {
  pid_t pid;  /* 0: none (or reaped) */
  int fd;     /* read end: one byte per caught signal, its number */
} vic;

static uint8_t big[3u << 20]; /* a pattern: stdin and output bytes */
static uint8_t got[3u << 20];

/* ---------------------------------------------------------- callbacks */

static void note(char ch) {
  size_t n = strlen(seen.log);
  assert_true(n + 1 < sizeof seen.log);
  seen.log[n] = ch;
}

static void on_output(void *ud) {
  (void)ud;
  seen.outputs++;
}

static void on_drained(void *ud) {
  (void)ud;
  seen.drained++;
  note('d');
}

static void on_exec(void *ud, const gxl_record *rec) {
  (void)ud;
  seen.exec++;
  seen.exec_rec = *rec;
  note('e');
}

static void on_timeout(void *ud) {
  (void)ud;
  seen.timeout++;
  note('t');
}

static void on_reaped(void *ud) {
  (void)ud;
  seen.reaped++;
  note('r');
}

static void on_exit_cb(void *ud, const gxd_child_exit *ex) {
  const uint8_t *data;
  (void)ud;
  seen.exit++;
  seen.ex = *ex;
  seen.exit_at = uv_now(&loop);
  seen.peek_len = gxd_child_peek(child, &seen.peek_stream, &data);
  if (seen.peek_len && seen.peek_len < sizeof seen.peek)
    memcpy(seen.peek, data, seen.peek_len);
  note('x');
}

static void on_closed(void *ud) {
  (void)ud;
  seen.closed++;
  note('c');
}

static const gxd_child_cbs cbs = {on_output, on_drained, on_exec,
                                  on_timeout, on_reaped, on_exit_cb,
                                  on_closed};

/* ------------------------------------------------------- loop helpers */

static void on_guard(uv_timer_t *t) {
  (void)t;
  guard_fired = 1;
}

/* Runs the loop until *flag >= @p want or @p ms passed; 1 if it was. */
static int run_until(const int *flag, int want, uint64_t ms) {
  guard_fired = 0;
  uv_timer_start(&guard, on_guard, ms, 0);
  while (*flag < want && !guard_fired) uv_run(&loop, UV_RUN_ONCE);
  uv_timer_stop(&guard);
  return *flag >= want;
}

/* Runs the loop for @p ms. */
static void run_for(uint64_t ms) {
  static const int never = 0;
  run_until(&never, 1, ms);
}

static uint64_t now(void) {
  uv_update_time(&loop);
  return uv_now(&loop);
}

static void count_poll(uv_handle_t *h, void *arg) {
  if (h->type == UV_POLL && !uv_is_closing(h)) ++*(int *)arg;
}

/* The poll handles open on the loop: one per channel. */
static int polls(void) {
  int n = 0;
  uv_walk(&loop, count_poll, &n);
  return n;
}

static int count_fds(void) {
  int n = 0;
  DIR *d = opendir("/proc/self/fd");
  assert_non_null(d);
  while (readdir(d)) n++;
  closedir(d);
  return n;
}

/* ----------------------------------------------------------- victims */

static int victim_wfd;

static void on_victim_signal(int sig) {
  unsigned char b = (unsigned char)sig;
  if (write(victim_wfd, &b, 1) != 1) _exit(3);
}

static void victim_main(int wfd) {
  static const int sigs[] = {SIGTERM, SIGCONT, SIGUSR1, SIGHUP};
  struct sigaction sa;
  sigset_t none;
  unsigned char ready = 0;
  close_range(3, (unsigned)wfd - 1, 0); /* holds none of the test's pipes */
  close_range((unsigned)wfd + 1, ~0u, 0);
  setpgid(0, 0);
  victim_wfd = wfd;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_victim_signal;
  sigemptyset(&sa.sa_mask);
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
    sigaction(sigs[i], &sa, NULL);
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  if (write(wfd, &ready, 1) != 1) _exit(3);
  for (;;) pause();
}

/* Forks the victim: it leads its own process group. */
static pid_t victim_start(void) {
  int p[2];
  unsigned char ready = 1;
  assert_int_equal(pipe2(p, O_CLOEXEC), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) victim_main(p[1]);
  setpgid(pid, pid); /* as it does itself: no race with a first signal */
  close(p[1]);
  assert_int_equal(read(p[0], &ready, 1), 1);
  assert_int_equal(ready, 0);
  vic.pid = pid;
  vic.fd = p[0];
  return pid;
}

/* Reads up to @p n signal numbers the victim caught, waiting at most
 * @p ms for each; returns how many. */
static size_t victim_signals(uint8_t *buf, size_t n, int ms) {
  size_t have = 0;
  struct pollfd pfd = {.fd = vic.fd, .events = POLLIN};
  while (have < n && poll(&pfd, 1, ms) == 1) {
    ssize_t r = read(vic.fd, buf + have, n - have);
    if (r <= 0) break; /* EOF: it died */
    have += (size_t)r;
  }
  return have;
}

static int victim_alive(void) {
  int st;
  return waitpid(vic.pid, &st, WNOHANG) == 0;
}

/* Waits (at most 5 s) for the victim's end and reaps it: its status. */
static int victim_reap(void) {
  int st = 0;
  for (int i = 0; i < 500; i++) {
    pid_t r = waitpid(vic.pid, &st, WNOHANG);
    assert_true(r >= 0);
    if (r == vic.pid) {
      vic.pid = 0;
      return st;
    }
    usleep(10000);
  }
  fail_msg("the victim did not end");
  return 0;
}

/* -------------------------------------------------------- run helpers */

/* Another run in the same test: what the callbacks saw is forgotten. */
static void next_run(void) {
  memset(&seen, 0, sizeof seen);
  close_called = 0;
}

static int setup(void **state) {
  (void)state;
  fds_before = count_fds();
  assert_int_equal(uv_loop_init(&loop), 0);
  uv_timer_init(&loop, &guard);
  fake_launcher_init(&fl, &loop);
  next_run();
  memset(&vic, 0, sizeof vic);
  vic.fd = -1;
  child = NULL;
  fr = NULL;
  return 0;
}

/* The child was freed, every handle closed, every descriptor too. */
static int teardown(void **state) {
  (void)state;
  assert_true(!child || seen.closed == 1);
  if (vic.pid > 0) {
    kill(vic.pid, SIGKILL);
    victim_reap();
  }
  if (vic.fd >= 0) close(vic.fd);
  fake_launcher_done(&fl);
  uv_close((uv_handle_t *)&guard, NULL);
  uv_run(&loop, UV_RUN_DEFAULT);
  assert_int_equal(uv_loop_close(&loop), 0);
  assert_int_equal(count_fds(), fds_before);
  return 0;
}

static gxl_run make_run(void) {
  gxl_run run;
  memset(&run, 0, sizeof run);
  run.run_id = ++next_run_id;
  return run;
}

static char *argv_sh[] = {"sh", NULL};
static const gxl_request request = {.cwd = "/", .argv = argv_sh, .argc = 1};

/* Starts a run with @p io; the child and its fake launcher are set. */
static void start_io(const gxd_child_stdio *io) {
  gxl_run run = make_run();
  assert_int_equal(gxd_child_start(&fl, &run, &request, io, &cbs, NULL,
                                   &child), 0);
  fr = fake_launcher_last(&fl);
  assert_non_null(fr);
  assert_int_equal(fr->run.run_id, run.run_id);
  assert_string_equal(fr->argv0, "sh");
  assert_int_equal(gxd_child_pid(child), fr->pid);
}

/* Starts a run with pipes for stdin, stdout and stderr. */
static void start(void) {
  static const gxd_child_stdio io = {1, 1, 1};
  start_io(&io);
}

static void set_nonblock(int fd) {
  assert_int_equal(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK), 0);
}

static void put(int fd, const char *s) {
  assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
}

/* Bytes waiting in the pipe (or socket) @p fd belongs to. */
static int in_pipe(int fd) {
  int n = -1;
  assert_int_equal(ioctl(fd, FIONREAD, &n), 0);
  return n;
}

/* The launcher's exec record naming a new victim; read by the child. */
static void exec_ok(void) {
  gxl_record rec = {.kind = GXL_REC_EXEC_OK, .pid = victim_start()};
  fake_launcher_record(fr, &rec);
  assert_true(run_until(&seen.exec, 1, 5000));
  assert_int_equal(seen.exec_rec.kind, GXL_REC_EXEC_OK);
  assert_int_equal(seen.exec_rec.pid, vic.pid);
}

static void report(int exit_code, int sig) {
  gxl_record rec = {.kind = GXL_REC_REPORT};
  rec.report.exit_code = exit_code;
  rec.report.signal = sig;
  rec.report.oom_killed = 1;
  rec.report.user_us = 11;
  rec.report.sys_us = 22;
  rec.report.max_rss_kb = 33;
  fake_launcher_record(fr, &rec);
}

/* Waits for on_exit and asserts the status and usage it carried. */
static void expect_exit(int exit_code, int sig, int reported,
                        uint64_t user_us, uint64_t sys_us, uint64_t rss_kb) {
  assert_true(run_until(&seen.exit, 1, 5000));
  assert_int_equal(seen.ex.exit_code, exit_code);
  assert_int_equal(seen.ex.signal, sig);
  assert_int_equal(seen.ex.reported, reported);
  assert_int_equal(seen.ex.user_us, user_us);
  assert_int_equal(seen.ex.sys_us, sys_us);
  assert_int_equal(seen.ex.max_rss_kb, rss_kb);
}

/* Asserts the oldest output is @p stream with exactly @p bytes. */
static void expect_peek(int stream, const char *bytes) {
  int s = 0;
  const uint8_t *data;
  size_t len = gxd_child_peek(child, &s, &data);
  assert_int_equal(len, strlen(bytes));
  assert_int_equal(s, stream);
  assert_memory_equal(data, bytes, len);
}

/* Waits for output of @p stream, exactly @p bytes, and drops it. */
static void expect_output(int stream, const char *bytes) {
  assert_true(run_until(&seen.outputs, seen.outputs + 1, 5000));
  expect_peek(stream, bytes);
  gxd_child_consume(child, stream);
}

static void close_child(void) {
  gxd_child_close(child);
  close_called = 1;
}

/* Ends the run as far as the test did not: the launcher's descriptors
 * closed, its exit (status 0), on_exit, close, on_closed. */
static void end_run(void) {
  fake_launcher_close_all(fr);
  if (!fr->exited) fake_launcher_exit(fr, 0, NULL);
  assert_true(run_until(&seen.exit, 1, 5000));
  if (!close_called) close_child();
  assert_true(run_until(&seen.closed, 1, 5000));
}

/* Reads the stdin pipe while the loop runs until on_stdin_drained, then
 * to the end if @p to_eof (else what is there); returns the bytes. */
static size_t read_stdin(int to_eof) {
  size_t have = 0;
  int eof = 0;
  uint64_t deadline = now() + 5000;
  set_nonblock(fr->in_fd);
  while (!eof && now() < deadline) {
    ssize_t n = read(fr->in_fd, got + have, sizeof got - have);
    if (n > 0) have += (size_t)n;
    else if (n == 0) eof = 1;
    else if (seen.drained && !to_eof) break;
    else uv_run(&loop, UV_RUN_NOWAIT);
  }
  assert_true(to_eof ? eof : seen.drained > 0);
  return have;
}

static void fill_pattern(void) {
  for (size_t i = 0; i < sizeof big; i++)
    big[i] = (uint8_t)(i * 31 + i / 4093);
}

/* ------------------------------------------------------------- output */

/* Output is peeked oldest first, by when each buffer got its first
 * bytes, not by stream number; exact bytes, NULs included. */
static void output_oldest_first(void **state) {
  (void)state;
  start();
  assert_int_equal(polls(), 4); /* stdin, stdout, stderr, report */
  exec_ok();
  put(fr->out_fd, "out");
  assert_true(run_until(&seen.outputs, 1, 5000));
  assert_int_equal(write(fr->err_fd, "e\0r", 3), 3);
  assert_true(run_until(&seen.outputs, 2, 5000));
  put(fr->out_fd, "+more"); /* joins the older stdout buffer */
  assert_true(run_until(&seen.outputs, 3, 5000));
  expect_peek(1, "out+more");
  gxd_child_consume(child, 1);
  int s;
  const uint8_t *data;
  assert_int_equal(gxd_child_peek(child, &s, &data), 3);
  assert_int_equal(s, 2);
  assert_memory_equal(data, "e\0r", 3);
  gxd_child_consume(child, 2);
  put(fr->err_fd, "err first");
  assert_true(run_until(&seen.outputs, 4, 5000));
  put(fr->out_fd, "then out");
  assert_true(run_until(&seen.outputs, 5, 5000));
  expect_peek(2, "err first");
  gxd_child_consume(child, 2);
  expect_peek(1, "then out");
  gxd_child_consume(child, 1);
  assert_int_equal(gxd_child_peek(child, &s, &data), 0);
  end_run();
  assert_string_equal(seen.log, "erxc");
}

/* A full buffer (GXD_CHUNK) stops reading: the rest stays in the pipe
 * until the owner consumes, then comes next, in order. */
static void backpressure_full_buffer(void **state) {
  size_t written = 0;
  (void)state;
  fill_pattern();
  start();
  exec_ok();
  set_nonblock(fr->out_fd);
  int s = 0;
  const uint8_t *data;
  for (int i = 0; i < 1000; i++) { /* until the buffer and the pipe are */
    ssize_t n = write(fr->out_fd, big + written, sizeof big - written);
    if (n > 0) written += (size_t)n;
    else if (gxd_child_peek(child, &s, &data) == GXD_CHUNK) break;
    else run_for(5);
  }
  assert_true(written > GXD_CHUNK);
  assert_int_equal(gxd_child_peek(child, &s, &data), GXD_CHUNK);
  assert_int_equal(s, 1);
  assert_memory_equal(data, big, GXD_CHUNK);
  int outputs = seen.outputs;
  run_for(50);
  assert_int_equal(seen.outputs, outputs); /* nothing read meanwhile */
  assert_int_equal(in_pipe(fr->out_fd), (int)(written - GXD_CHUNK));
  gxd_child_consume(child, 1);
  assert_true(run_until(&seen.outputs, outputs + 1, 5000));
  assert_int_equal(gxd_child_peek(child, &s, &data), written - GXD_CHUNK);
  assert_memory_equal(data, big + GXD_CHUNK, written - GXD_CHUNK);
  assert_int_equal(in_pipe(fr->out_fd), 0);
  gxd_child_consume(child, 1);
  end_run();
}

/* take hands the buffer over (the caller frees it); the stream is not
 * read until resume, even with an empty buffer; the other one is. */
static void take_pauses_until_resume(void **state) {
  size_t len = 0;
  (void)state;
  start();
  exec_ok();
  put(fr->out_fd, "abc");
  assert_true(run_until(&seen.outputs, 1, 5000));
  uint8_t *buf = gxd_child_take(child, 1, &len);
  assert_non_null(buf);
  assert_int_equal(len, 3);
  assert_memory_equal(buf, "abc", 3);
  free(buf);
  int s;
  const uint8_t *data;
  assert_int_equal(gxd_child_peek(child, &s, &data), 0);
  put(fr->out_fd, "def");
  put(fr->err_fd, "err");
  expect_output(2, "err"); /* stderr is read meanwhile */
  run_for(50);
  assert_int_equal(seen.outputs, 2);
  assert_int_equal(in_pipe(fr->out_fd), 3);
  assert_int_equal(gxd_child_peek(child, &s, &data), 0);
  gxd_child_resume(child, 1);
  expect_output(1, "def");
  end_run();
}

/* With stderr into stdout's pipe and stdin from /dev/null there are two
 * channels (stdout, report); stderr's bytes are stream 1's. */
static void stderr_into_stdout(void **state) {
  static const gxd_child_stdio io = {0, 1, 2};
  (void)state;
  start_io(&io);
  assert_int_equal(fr->in_fd, -1);
  assert_true(fr->err_fd >= 0);
  assert_int_equal(polls(), 2);
  assert_int_equal(gxd_child_write_stdin(child, (const uint8_t *)"x", 1), 0);
  exec_ok();
  put(fr->err_fd, "to stdout");
  expect_output(1, "to stdout");
  end_run();
}

/* ------------------------------------------------------------- stdin */

/* stdin goes straight to the pipe; what it does not take is copied and
 * written as the reader drains, then on_stdin_drained, once. */
static void stdin_straight_then_held(void **state) {
  (void)state;
  fill_pattern();
  start();
  assert_int_equal(gxd_child_write_stdin(child, (const uint8_t *)"hello", 5),
                   0);
  assert_int_equal(read(fr->in_fd, got, sizeof got), 5); /* no loop turn */
  assert_memory_equal(got, "hello", 5);
  size_t pending = gxd_child_write_stdin(child, big, sizeof big);
  assert_true(pending > 0);
  assert_int_equal(pending, sizeof big - (size_t)in_pipe(fr->in_fd));
  assert_int_equal(gxd_child_write_stdin(child, big, 0), pending);
  uint8_t first = big[sizeof big - 1];
  big[sizeof big - 1] ^= 0xff; /* the held bytes are the child's copy */
  run_for(20);
  assert_int_equal(seen.drained, 0); /* nobody reads */
  size_t have = read_stdin(0);
  assert_int_equal(seen.drained, 1);
  assert_int_equal(gxd_child_write_stdin(child, big, 0), 0);
  assert_int_equal(in_pipe(fr->in_fd), 0);
  big[sizeof big - 1] = first;
  assert_int_equal(have, sizeof big);
  assert_memory_equal(got, big, sizeof big);
  end_run();
  assert_string_equal(seen.log, "drxc");
}

/* close_stdin with bytes pending: they are all written, then EOF; stdin
 * written after close_stdin is refused. */
static void close_stdin_after_pending(void **state) {
  (void)state;
  fill_pattern();
  start();
  size_t pending = gxd_child_write_stdin(child, big, sizeof big);
  assert_true(pending > 0);
  gxd_child_close_stdin(child);
  assert_int_equal(gxd_child_write_stdin(child, (const uint8_t *)"late", 4),
                   pending);
  assert_int_equal(polls(), 4);
  size_t have = read_stdin(1);
  assert_int_equal(have, sizeof big);
  assert_memory_equal(got, big, sizeof big);
  assert_int_equal(seen.drained, 1);
  assert_int_equal(polls(), 3); /* stdin's channel is gone */
  end_run();
}

/* close_stdin with nothing pending closes at once: the reader sees EOF
 * without a loop turn. */
static void close_stdin_at_once(void **state) {
  (void)state;
  start();
  assert_int_equal(gxd_child_write_stdin(child, (const uint8_t *)"ab", 2), 0);
  gxd_child_close_stdin(child);
  assert_int_equal(read(fr->in_fd, got, sizeof got), 2);
  assert_int_equal(read(fr->in_fd, got, sizeof got), 0);
  assert_int_equal(seen.drained, 0);
  end_run();
}

/* The command closed its stdin (EPIPE), found by a direct write (the
 * bytes are dropped within the call: nothing pending, no drained) or
 * while bytes are held (dropped, then on_stdin_drained); later bytes are
 * dropped too, and stdin's channel closes. */
static void stdin_epipe_drops(void **state) {
  (void)state;
  fill_pattern();
  for (int held = 0; held < 2; held++) {
    next_run();
    start();
    if (held) assert_true(gxd_child_write_stdin(child, big, sizeof big) > 0);
    fake_launcher_close(&fr->in_fd);
    if (held) assert_true(run_until(&seen.drained, 1, 5000));
    assert_int_equal(
        gxd_child_write_stdin(child, (const uint8_t *)"abc", 3), 0);
    assert_int_equal(polls(), 3);
    run_for(20);
    assert_int_equal(seen.drained, held);
    end_run();
  }
}

/* ------------------------------------------------------- end of a run */

/* The report then EOF: on_exit with the report's fields, before the
 * reap; the victim is not touched; on_closed waits for the reap. */
static void report_then_eof(void **state) {
  (void)state;
  start();
  exec_ok();
  report(3, 0);
  run_for(50);
  assert_int_equal(seen.exit, 0); /* the pipes are still open */
  assert_int_equal(gxd_child_signal(child, SIGUSR1), -ESRCH); /* over */
  fake_launcher_close(&fr->out_fd);
  run_for(20);
  assert_int_equal(seen.exit, 0);
  fake_launcher_close(&fr->err_fd);
  expect_exit(3, 0, 1, 11, 22, 33);
  assert_int_equal(seen.ex.oom_killed, 1);
  assert_int_equal(seen.ex.timed_out, 0);
  assert_int_equal(seen.ex.pipes_forced, 0);
  assert_string_equal(seen.ex.launch_error, "");
  assert_true(seen.ex.wall_us > 0);
  close_child();
  run_for(50);
  assert_int_equal(seen.closed, 0); /* the launcher is not reaped yet */
  fake_launcher_close_all(fr);
  fake_launcher_exit(fr, SIGKILL, NULL);
  assert_true(victim_alive()); /* a report: nothing left to kill */
  assert_true(run_until(&seen.closed, 1, 5000));
  assert_string_equal(seen.log, "exrc");
  assert_int_equal(fr->nkills, 0);
}

/* The reap may come before EOF (on_reaped first) and before close
 * (on_closed once closed). */
static void reaped_before_eof_and_close(void **state) {
  (void)state;
  start();
  exec_ok();
  report(0, 15);
  run_for(50);
  fake_launcher_close(&fr->rep_fd);
  fake_launcher_exit(fr, 0, NULL);
  assert_int_equal(seen.reaped, 1);
  run_for(50);
  assert_int_equal(seen.exit, 0);
  fake_launcher_close_all(fr);
  expect_exit(0, 15, 1, 11, 22, 33);
  run_for(50);
  assert_int_equal(seen.closed, 0); /* not closed yet */
  close_child();
  assert_true(run_until(&seen.closed, 1, 5000));
  assert_string_equal(seen.log, "erxc");
}

/* Without a report the launcher's wait status is the run's end, and
 * what is left of the command's group is SIGKILLed. */
static void reap_without_report(void **state) {
  struct rusage ru;
  (void)state;
  memset(&ru, 0, sizeof ru);
  ru.ru_utime.tv_sec = 1;
  ru.ru_utime.tv_usec = 500000;
  ru.ru_stime.tv_usec = 250;
  ru.ru_maxrss = 4096;
  start();
  exec_ok();
  fake_launcher_close_all(fr);
  fake_launcher_exit(fr, W_EXITCODE(3, 0), &ru);
  int st = victim_reap();
  assert_true(WIFSIGNALED(st));
  assert_int_equal(WTERMSIG(st), SIGKILL);
  expect_exit(3, 0, 0, 1500000, 250, 4096);
  assert_string_equal(seen.log, "erx");
  end_run();
}

/* A launcher killed by a signal, with a core: the signal is the run's. */
static void reap_signaled(void **state) {
  (void)state;
  start();
  fake_launcher_close_all(fr);
  fake_launcher_exit(fr, SIGSEGV | 0x80, NULL);
  assert_true(run_until(&seen.exit, 1, 5000));
  assert_int_equal(seen.ex.signal, SIGSEGV);
  assert_int_equal(seen.ex.core_dumped, 1);
  assert_int_equal(seen.ex.exit_code, 0);
  assert_int_equal(seen.exec, 0);
  end_run();
}

/* A report still unread in the pipe at the reap overrides the status. */
static void report_in_pipe_wins(void **state) {
  (void)state;
  start();
  exec_ok();
  report(5, 0);
  fake_launcher_close_all(fr);
  fake_launcher_exit(fr, W_EXITCODE(1, 0), NULL); /* no loop turn since */
  expect_exit(5, 0, 1, 11, 22, 33);
  end_run();
}

/* The launcher's error record: its text is launch_error. */
static void launch_error_record(void **state) {
  gxl_record rec = {.kind = GXL_REC_ERROR};
  (void)state;
  snprintf(rec.reason, sizeof rec.reason, "cannot mount /proc: EPERM");
  start();
  fake_launcher_record(fr, &rec);
  fake_launcher_close_all(fr);
  fake_launcher_exit(fr, W_EXITCODE(1, 0), NULL);
  assert_true(run_until(&seen.exit, 1, 5000));
  assert_string_equal(seen.ex.launch_error, "cannot mount /proc: EPERM");
  assert_int_equal(seen.ex.exit_code, 1);
  assert_int_equal(seen.ex.reported, 0);
  assert_int_equal(seen.exec, 0);
  end_run();
}

/* An exec failure record reaches on_exec; no command: no signal. */
static void exec_fail_record(void **state) {
  gxl_record rec = {.kind = GXL_REC_EXEC_FAIL, .what = GXL_FAIL_CWD,
                    .err = ENOENT};
  (void)state;
  start();
  fake_launcher_record(fr, &rec);
  assert_true(run_until(&seen.exec, 1, 5000));
  assert_int_equal(seen.exec_rec.kind, GXL_REC_EXEC_FAIL);
  assert_int_equal(seen.exec_rec.what, GXL_FAIL_CWD);
  assert_int_equal(seen.exec_rec.err, ENOENT);
  assert_int_equal(gxd_child_signal(child, SIGTERM), -ESRCH);
  gxd_child_stop(child, 1000); /* nothing to be graceful to */
  assert_int_equal(fr->nkills, 1);
  end_run();
}

/* A record stream that breaks the contract: its first fault is the
 * launch_error, and nothing after it is read. */
static void broken_contract(void **state) {
  static const struct {
    const char *lines; /* %d: the victim's pid */
    const char *why;
    int exec, exit_code, reported;
  } cases[] = {
      {"garbage\ngexec-report v1 exit=7 signal=0 core=0 oom=0 user_us=0 "
       "sys_us=0 maxrss_kb=0\n",
       "a malformed record", 0, 2, 0},
      {"gexec-exec v1 ok pid=%d\ngexec-exec v1 ok pid=%d\n",
       "a second exec record", 1, 2, 0},
      {"gexec-report v1 exit=4 signal=0 core=0 oom=0 user_us=0 sys_us=0 "
       "maxrss_kb=0\ngexec-report v1 exit=9 signal=0 core=0 oom=0 "
       "user_us=0 sys_us=0 maxrss_kb=0\n",
       "a second report", 0, 4, 1},
  };
  char lines[512], why[256];
  (void)state;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    next_run();
    start();
    pid_t pid = cases[i].exec ? victim_start() : 0;
    snprintf(lines, sizeof lines, cases[i].lines, pid, pid);
    fake_launcher_write_line(fr, lines);
    run_for(50);
    assert_int_equal(seen.exec, cases[i].exec);
    fake_launcher_close_all(fr);
    fake_launcher_exit(fr, W_EXITCODE(2, 0), NULL);
    assert_true(run_until(&seen.exit, 1, 5000));
    snprintf(why, sizeof why, "the launcher broke its contract: %s",
             cases[i].why);
    assert_string_equal(seen.ex.launch_error, why);
    assert_int_equal(seen.ex.exit_code, cases[i].exit_code);
    assert_int_equal(seen.ex.reported, cases[i].reported);
    end_run();
    if (pid) {
      victim_reap();
      close(vic.fd);
      vic.fd = -1;
    }
  }
}

/* The timeout fires on_timeout and marks the exit timed_out; a run that
 * ended first never times out. */
static void timeout_fires(void **state) {
  (void)state;
  start();
  exec_ok();
  gxd_child_set_timeout(child, 30);
  assert_true(run_until(&seen.timeout, 1, 5000));
  report(0, 9);
  end_run();
  assert_int_equal(seen.ex.timed_out, 1);
  assert_int_equal(seen.ex.signal, 9);
  assert_string_equal(seen.log, "etrxc");
  kill(vic.pid, SIGKILL);
  victim_reap();
  close(vic.fd);
  vic.fd = -1;
  next_run();
  start();
  gxd_child_set_timeout(child, 100);
  fake_launcher_close_all(fr);
  fake_launcher_exit(fr, 0, NULL);
  assert_true(run_until(&seen.exit, 1, 5000));
  run_for(200);
  assert_int_equal(seen.timeout, 0);
  assert_int_equal(seen.ex.timed_out, 0);
  end_run();
}

/* ----------------------------------------------------------- stopping */

/* Before the exec record there is nothing to be graceful to: the
 * launcher is killed within the call; after the reap, nothing is. */
static void stop_before_exec(void **state) {
  (void)state;
  start();
  uint64_t t0 = now();
  gxd_child_stop(child, 5000);
  assert_int_equal(fr->nkills, 1);
  assert_int_equal(fr->kill_at[0], t0);
  fake_launcher_close_all(fr);
  fake_launcher_exit(fr, SIGKILL, NULL);
  assert_true(run_until(&seen.exit, 1, 5000));
  assert_int_equal(seen.ex.signal, SIGKILL);
  gxd_child_stop(child, 0);
  assert_int_equal(fr->nkills, 1);
  assert_int_equal(fr->kills_after_exit, 0);
  end_run();
}

/* A stop whose launcher KILL came too late (the command exists after
 * all): the exec record brings the command's SIGKILL at once, and a
 * later stop is not swallowed; the launcher goes GXD_LAUNCHER_KILL_MS
 * later unless it reported. */
static void stop_before_exec_then_exec(void **state) {
  int st;
  (void)state;
  start();
  gxd_child_stop(child, 5000);
  assert_int_equal(fr->nkills, 1);
  exec_ok(); /* the KILL was lost: the command runs */
  st = victim_reap();
  assert_true(WIFSIGNALED(st));
  assert_int_equal(WTERMSIG(st), SIGKILL);
  int *kills = &fr->nkills;
  assert_true(run_until(kills, 2, GXD_LAUNCHER_KILL_MS + 2000));
  fake_launcher_close_all(fr);
  fake_launcher_exit(fr, SIGKILL, NULL);
  assert_true(run_until(&seen.exit, 1, 5000));
  end_run();
}

/* Asserts the victim caught SIGTERM and SIGCONT, once each. Two signals
 * pending at once reach their handlers in no order the sender chose (the
 * kernel stacks one frame on the other), so the set is what is seen. */
static void expect_term_cont(void) {
  uint8_t sigs[2];
  assert_int_equal(victim_signals(sigs, 2, 2000), 2);
  assert_int_equal(sigs[0] + sigs[1], SIGTERM + SIGCONT);
  assert_true(sigs[0] == SIGTERM || sigs[1] == SIGTERM);
}

/* After the exec record: SIGTERM and SIGCONT to the command's group at
 * once (a stopped command is continued to see the SIGTERM), SIGKILL
 * after the grace, the launcher GXD_LAUNCHER_KILL_MS later (real time:
 * one test pays it). */
static void stop_escalates(void **state) {
  uint8_t sigs[4];
  int st;
  (void)state;
  start();
  exec_ok();
  kill(vic.pid, SIGSTOP);
  assert_int_equal(waitpid(vic.pid, &st, WUNTRACED), vic.pid);
  assert_true(WIFSTOPPED(st));
  uint64_t t0 = now();
  gxd_child_stop(child, 300);
  expect_term_cont();
  run_for(100);
  assert_true(victim_alive()); /* the grace */
  run_for(400);
  st = victim_reap();
  assert_true(WIFSIGNALED(st));
  assert_int_equal(WTERMSIG(st), SIGKILL);
  assert_int_equal(victim_signals(sigs, 4, 0), 0); /* nothing else */
  assert_int_equal(fr->nkills, 0);
  int *kills = &fr->nkills;
  assert_true(run_until(kills, 1, GXD_LAUNCHER_KILL_MS + 2000));
  assert_true(fr->kill_at[0] - t0 >= 300 + GXD_LAUNCHER_KILL_MS);
  assert_true(fr->kill_at[0] - t0 < 300 + GXD_LAUNCHER_KILL_MS + 500);
  assert_int_equal(seen.exit, 0); /* still the launcher's to report */
  fake_launcher_close_all(fr);
  fake_launcher_exit(fr, SIGKILL, NULL);
  assert_true(run_until(&seen.exit, 1, 5000));
  assert_int_equal(seen.ex.signal, SIGKILL);
  run_for(50);
  assert_int_equal(fr->nkills, 1);
  end_run();
}

/* A second stop can only shorten the grace; SIGTERM goes once; the run's
 * end (its report) cancels the launcher's kill: the launcher is left to
 * its teardown. */
static void stop_shortens_grace(void **state) {
  uint8_t sigs[8];
  (void)state;
  start();
  exec_ok();
  gxd_child_stop(child, 10000);
  gxd_child_stop(child, 50);
  gxd_child_stop(child, 60000);
  expect_term_cont();
  run_for(300);
  int st = victim_reap();
  assert_int_equal(WTERMSIG(st), SIGKILL);
  assert_int_equal(victim_signals(sigs, sizeof sigs, 100), 0); /* to EOF */
  report(0, 9);
  fake_launcher_close_all(fr);
  assert_true(run_until(&seen.exit, 1, 5000));
  run_for(GXD_LAUNCHER_KILL_MS);
  assert_int_equal(fr->nkills, 0);
  fake_launcher_exit(fr, 0, NULL);
  end_run();
  assert_int_equal(fr->nkills, 0);
}

/* Signals reach the command's group only while it exists. */
static void signal_only_while_running(void **state) {
  uint8_t sig;
  (void)state;
  start();
  assert_int_equal(gxd_child_signal(child, SIGUSR1), -ESRCH);
  exec_ok();
  assert_int_equal(gxd_child_signal(child, SIGUSR1), 0);
  assert_int_equal(victim_signals(&sig, 1, 2000), 1);
  assert_int_equal(sig, SIGUSR1);
  assert_int_equal(gxd_child_signal(child, SIGHUP), 0);
  assert_int_equal(victim_signals(&sig, 1, 2000), 1);
  assert_int_equal(sig, SIGHUP);
  report(0, 0);
  run_for(50);
  assert_int_equal(gxd_child_signal(child, SIGUSR1), -ESRCH);
  assert_int_equal(victim_signals(&sig, 1, 50), 0);
  end_run();
}

/* ------------------------------------------------------------- drain */

/* An escapee holds stdout after the reap: GXD_DRAIN_MS later the pipes
 * are closed anyway (pipes_forced), the bytes read before kept. */
static void drain_forces_escapee(void **state) {
  (void)state;
  start();
  exec_ok();
  put(fr->out_fd, "last words");
  assert_true(run_until(&seen.outputs, 1, 5000));
  fake_launcher_close(&fr->err_fd);
  fake_launcher_close(&fr->rep_fd);
  fake_launcher_close(&fr->in_fd);
  uint64_t t0 = now();
  fake_launcher_exit(fr, 0, NULL);
  assert_true(run_until(&seen.exit, 1, GXD_DRAIN_MS + 2000));
  assert_true(seen.exit_at - t0 >= GXD_DRAIN_MS);
  assert_int_equal(seen.ex.pipes_forced, 1);
  assert_int_equal(seen.peek_stream, 1);
  assert_int_equal(seen.peek_len, 10);
  assert_memory_equal(seen.peek, "last words", 10);
  assert_int_equal(polls(), 1); /* stdin's, until close */
  assert_int_equal(write(fr->out_fd, "x", 1), -1); /* the daemon's end */
  assert_int_equal(errno, EPIPE);
  end_run();
}

/* A stream paused because its buffer is being sent is waited for: the
 * drain re-arms instead of dropping it. */
static void drain_waits_for_paused_stream(void **state) {
  size_t len;
  (void)state;
  start();
  exec_ok();
  put(fr->out_fd, "x");
  assert_true(run_until(&seen.outputs, 1, 5000));
  free(gxd_child_take(child, 1, &len));
  uint64_t t0 = now();
  fake_launcher_exit(fr, 0, NULL);
  run_for(GXD_DRAIN_MS + 300);
  assert_int_equal(seen.exit, 0);
  gxd_child_resume(child, 1);
  assert_true(run_until(&seen.exit, 1, GXD_DRAIN_MS + 2000));
  assert_true(seen.exit_at - t0 >= 2 * GXD_DRAIN_MS);
  assert_int_equal(seen.ex.pipes_forced, 1);
  end_run();
}

/* ---------------------------------------------------------- channels */

/* Starts a run through the seam whose stdin and stdout are one socket
 * (as a pty master will be), stderr /dev/null. */
static void start_shared(void) {
  int sp[2];
  fill_pattern();
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
  gxd__child_fds fds = {.daemon = {sp[0], sp[0], -1},
                        .launcher = {sp[1], sp[1], -1}};
  gxl_run run = make_run();
  assert_int_equal(gxd__child_start_fds(&fl, &run, &request, &fds, &cbs,
                                        NULL, &child), 0);
  fr = fake_launcher_last(&fl);
  assert_int_equal(fr->err_fd, -1);
}

/* One descriptor for stdin and stdout (a socket here, a pty master
 * later) is one channel: one poll handle, written and read at once;
 * pausing its reads leaves stdin flowing; close_stdin shuts its write
 * side while output still comes; the peer's close ends both. */
static void one_channel_both_directions(void **state) {
  size_t len;
  (void)state;
  start_shared();
  assert_int_equal(polls(), 2); /* the socket's, the report pipe's */
  exec_ok();
  assert_int_equal(gxd_child_write_stdin(child, (const uint8_t *)"ping", 4),
                   0);
  assert_int_equal(read(fr->in_fd, got, 4), 4);
  assert_memory_equal(got, "ping", 4);
  put(fr->out_fd, "pong");
  expect_output(1, "pong");
  size_t pending = gxd_child_write_stdin(child, big, 1u << 20);
  assert_true(pending > 0); /* the socket is full: WRITABLE and READABLE */
  put(fr->out_fd, "while held");
  expect_output(1, "while held");
  assert_int_equal(seen.drained, 0);
  put(fr->out_fd, "taken");
  assert_true(run_until(&seen.outputs, seen.outputs + 1, 5000));
  free(gxd_child_take(child, 1, &len)); /* reads pause */
  assert_int_equal(len, 5);
  put(fr->out_fd, "later");
  size_t have = read_stdin(0);
  assert_int_equal(seen.drained, 1); /* written while reads are paused */
  assert_int_equal(have, 1u << 20);
  assert_memory_equal(got, big, 1u << 20);
  int s;
  const uint8_t *data;
  assert_int_equal(gxd_child_peek(child, &s, &data), 0);
  gxd_child_resume(child, 1);
  expect_output(1, "later");
  gxd_child_close_stdin(child);
  assert_int_equal(read(fr->in_fd, got, 1), 0); /* stdin's EOF */
  assert_int_equal(polls(), 2);
  put(fr->out_fd, "after eof");
  expect_output(1, "after eof");
  report(0, 0);
  fake_launcher_close_all(fr);
  assert_true(run_until(&seen.exit, 1, 5000));
  assert_int_equal(polls(), 0);
  end_run();
}

/* The peer of a shared channel goes away while stdin is held: the held
 * bytes are dropped (on_stdin_drained) and the output is at EOF. */
static void shared_channel_eof_drops_stdin(void **state) {
  (void)state;
  start_shared();
  assert_true(gxd_child_write_stdin(child, big, 1u << 20) > 0);
  put(fr->out_fd, "bye");
  report(0, 0);
  fake_launcher_close_all(fr);
  assert_true(run_until(&seen.exit, 1, 5000));
  assert_int_equal(seen.drained, 1);
  assert_int_equal(gxd_child_write_stdin(child, big, 0), 0);
  assert_int_equal(seen.peek_stream, 1);
  assert_int_equal(seen.peek_len, 3);
  assert_memory_equal(seen.peek, "bye", 3);
  end_run();
}

/* A launcher that cannot be started: the error, no callback, and every
 * descriptor closed (the seam's too). */
static void start_failure(void **state) {
  int sp[2];
  gxd_child *c = NULL;
  static const gxd_child_stdio io = {1, 1, 1};
  (void)state;
  gxl_run run = make_run();
  fl.spawn_rc = -EAGAIN;
  assert_int_equal(gxd_child_start(&fl, &run, &request, &io, &cbs, NULL, &c),
                   -EAGAIN);
  assert_null(c);
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
  gxd__child_fds fds = {.daemon = {sp[0], sp[0], -1},
                        .launcher = {sp[1], sp[1], sp[1]}};
  fl.spawn_rc = -E2BIG;
  assert_int_equal(gxd__child_start_fds(&fl, &run, &request, &fds, &cbs,
                                        NULL, &c), -E2BIG);
  assert_null(c);
  assert_int_equal(fl.nruns, 0);
  assert_int_equal(polls(), 0);
  run_for(10);
  assert_string_equal(seen.log, "");
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void) {
  uv_loop_t first;
  signal(SIGPIPE, SIG_IGN); /* as the daemon: EPIPE instead */
  /* libuv's process-wide descriptors open with the first loop: not a
   * test's */
  uv_loop_init(&first);
  uv_loop_close(&first);
  const struct CMUnitTest tests[] = {
      T(output_oldest_first),
      T(backpressure_full_buffer),
      T(take_pauses_until_resume),
      T(stderr_into_stdout),
      T(stdin_straight_then_held),
      T(close_stdin_after_pending),
      T(close_stdin_at_once),
      T(stdin_epipe_drops),
      T(report_then_eof),
      T(reaped_before_eof_and_close),
      T(reap_without_report),
      T(reap_signaled),
      T(report_in_pipe_wins),
      T(launch_error_record),
      T(exec_fail_record),
      T(broken_contract),
      T(timeout_fires),
      T(stop_before_exec),
      T(stop_before_exec_then_exec),
      T(stop_escalates),
      T(stop_shortens_grace),
      T(signal_only_while_running),
      T(drain_forces_escapee),
      T(drain_waits_for_paused_stream),
      T(one_channel_both_directions),
      T(shared_channel_eof_drops_stdin),
      T(start_failure),
  };
  return cmocka_run_group_tests_name("server/child", tests, NULL, NULL);
}
