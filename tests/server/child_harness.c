/* The harness of the child module's unit tests (child_harness.h):
 * the state of one test, the child's callbacks, the loop, the victim
 * and the run helpers. */
#include "tests/server/child_harness.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

static uv_loop_t loop;
static uv_timer_t guard;  /* wakes the loop when a wait times out */
static int guard_fired;
static int close_called;
static uint64_t next_run_id;
static int fds_before;

/* The tests' (child_harness.h). */
gxd_launcher fl;
gxd_child *child;  /* the run under test */
fake_run *fr;      /* its launcher */
ch_seen seen;      /* what the callbacks saw */
ch_victim vic;     /* a process group of one the test forked */
uint8_t big[CH_PATTERN_SIZE]; /* a pattern: stdin and output bytes */
uint8_t got[CH_PATTERN_SIZE];

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

const gxd_child_cbs cbs = {on_output, on_drained, on_exec,
                                  on_timeout, on_reaped, on_exit_cb,
                                  on_closed};

/* ------------------------------------------------------- loop helpers */

static void on_guard(uv_timer_t *t) {
  (void)t;
  guard_fired = 1;
}

/* Runs the loop until *flag >= @p want or @p ms passed; 1 if it was. */
int run_until(const int *flag, int want, uint64_t ms) {
  guard_fired = 0;
  uv_timer_start(&guard, on_guard, ms, 0);
  while (*flag < want && !guard_fired) uv_run(&loop, UV_RUN_ONCE);
  uv_timer_stop(&guard);
  return *flag >= want;
}

/* Runs the loop for @p ms. */
void run_for(uint64_t ms) {
  static const int never = 0;
  run_until(&never, 1, ms);
}

uint64_t now(void) {
  uv_update_time(&loop);
  return uv_now(&loop);
}

static void count_poll(uv_handle_t *h, void *arg) {
  if (h->type == UV_POLL && !uv_is_closing(h)) ++*(int *)arg;
}

/* The poll handles open on the loop: one per channel. */
int polls(void) {
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
pid_t victim_start(void) {
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
size_t victim_signals(uint8_t *buf, size_t n, int ms) {
  size_t have = 0;
  struct pollfd pfd = {.fd = vic.fd, .events = POLLIN};
  while (have < n && poll(&pfd, 1, ms) == 1) {
    ssize_t r = read(vic.fd, buf + have, n - have);
    if (r <= 0) break; /* EOF: it died */
    have += (size_t)r;
  }
  return have;
}

int victim_alive(void) {
  int st;
  return waitpid(vic.pid, &st, WNOHANG) == 0;
}

/* Waits (at most 5 s) for the victim's end and reaps it: its status. */
int victim_reap(void) {
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
void next_run(void) {
  memset(&seen, 0, sizeof seen);
  close_called = 0;
}

int setup(void **state) {
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
int teardown(void **state) {
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

gxl_run make_run(void) {
  gxl_run run;
  memset(&run, 0, sizeof run);
  run.run_id = ++next_run_id;
  return run;
}

static char *argv_sh[] = {"sh", NULL};
const gxl_request request = {.cwd = "/", .argv = argv_sh, .argc = 1};

/* Starts a run with @p io; the child and its fake launcher are set. */
void start_io(const gxd_child_stdio *io) {
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
void start(void) {
  static const gxd_child_stdio io = {1, 1, 1};
  start_io(&io);
}

void set_nonblock(int fd) {
  assert_int_equal(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK), 0);
}

void put(int fd, const char *s) {
  assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
}

/* Bytes waiting in the pipe (or socket) @p fd belongs to. */
int in_pipe(int fd) {
  int n = -1;
  assert_int_equal(ioctl(fd, FIONREAD, &n), 0);
  return n;
}

/* The launcher's exec record naming a new victim; read by the child. */
void exec_ok(void) {
  gxl_record rec = {.kind = GXL_REC_EXEC_OK, .pid = victim_start()};
  fake_launcher_record(fr, &rec);
  assert_true(run_until(&seen.exec, 1, 5000));
  assert_int_equal(seen.exec_rec.kind, GXL_REC_EXEC_OK);
  assert_int_equal(seen.exec_rec.pid, vic.pid);
}

void report(int exit_code, int sig) {
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
void expect_exit(int exit_code, int sig, int reported, uint64_t user_us,
                 uint64_t sys_us, uint64_t rss_kb) {
  assert_true(run_until(&seen.exit, 1, 5000));
  assert_int_equal(seen.ex.exit_code, exit_code);
  assert_int_equal(seen.ex.signal, sig);
  assert_int_equal(seen.ex.reported, reported);
  assert_int_equal(seen.ex.user_us, user_us);
  assert_int_equal(seen.ex.sys_us, sys_us);
  assert_int_equal(seen.ex.max_rss_kb, rss_kb);
}

/* Asserts the oldest output is @p stream with exactly @p bytes. */
void expect_peek(int stream, const char *bytes) {
  int s = 0;
  const uint8_t *data;
  size_t len = gxd_child_peek(child, &s, &data);
  assert_int_equal(len, strlen(bytes));
  assert_int_equal(s, stream);
  assert_memory_equal(data, bytes, len);
}

/* Waits for output of @p stream, exactly @p bytes, and drops it. */
void expect_output(int stream, const char *bytes) {
  assert_true(run_until(&seen.outputs, seen.outputs + 1, 5000));
  expect_peek(stream, bytes);
  gxd_child_consume(child, stream);
}

void close_child(void) {
  gxd_child_close(child);
  close_called = 1;
}

/* Ends the run as far as the test did not: the launcher's descriptors
 * closed, its exit (status 0), on_exit, close, on_closed. */
void end_run(void) {
  fake_launcher_close_all(fr);
  if (!fr->exited) fake_launcher_exit(fr, 0, NULL);
  assert_true(run_until(&seen.exit, 1, 5000));
  if (!close_called) close_child();
  assert_true(run_until(&seen.closed, 1, 5000));
}

/* Reads the stdin pipe while the loop runs until on_stdin_drained, then
 * to the end if @p to_eof (else what is there); returns the bytes. */
size_t read_stdin(int to_eof) {
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

void fill_pattern(void) {
  for (size_t i = 0; i < sizeof big; i++)
    big[i] = (uint8_t)(i * 31 + i / 4093);
}

/* Before the first test: see child_harness.h. */
void ch_main_setup(void) {
  uv_loop_t first;
  signal(SIGPIPE, SIG_IGN); /* as the daemon: EPIPE instead */
  /* libuv's process-wide descriptors open with the first loop: not a
   * test's */
  uv_loop_init(&first);
  uv_loop_close(&first);
}
