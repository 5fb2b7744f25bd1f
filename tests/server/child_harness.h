/**
 * @file child_harness.h
 * The harness of the unit tests of server/child (child_io_test.c,
 * child_end_test.c): one run's launcher supervised on a bare uv loop,
 * the way libuv tests itself (test-spawn.c), against a fake launcher
 * module (fake_launcher.h) that starts no process: the test plays the
 * launcher through copies of the descriptors the child gave it (stdin
 * read, output and records written, EOF by closing). Signals to the
 * command's group reach a real process group the test forked (a
 * "victim" that reports each catchable signal on a pipe and is reaped
 * here). Every test runs between setup and teardown and ends with the
 * child freed, no handle open and no descriptor leaked (ASan reports
 * memory).
 *
 * The state below is one test's at a time; the test reads it and plays
 * the launcher through @ref fr. Names are the tests' own vocabulary:
 * this library is linked into the child module's tests only. Helpers
 * fail the running test (cmocka) instead of returning errors.
 */
#ifndef GXT_CHILD_HARNESS_H
#define GXT_CHILD_HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "server/child.h"
#include "tests/server/fake_launcher.h"

/** Size of @ref big and @ref got. */
#define CH_PATTERN_SIZE (3u << 20)

/** What the child's callbacks saw during the current run. */
typedef struct {
  char log[64];     /**< e exec, d drained, t timeout, r reaped, x exit,
                         c closed: in order */
  int outputs, drained, exec, timeout, reaped, exit, closed; /**< calls */
  gxl_record exec_rec;  /**< on_exec's record */
  gxd_child_exit ex;    /**< on_exit's status */
  uint64_t exit_at;     /**< uv_now at on_exit */
  int peek_stream;      /**< what peek returned in on_exit */
  char peek[64];        /**< its bytes, if they fit */
  size_t peek_len;      /**< its length */
} ch_seen;

/** The victim: a process group of one the test forked. */
typedef struct {
  pid_t pid;  /**< 0: none (or reaped) */
  int fd;     /**< read end: one byte per caught signal, its number;
                   -1: none (the test may close it and set -1) */
} ch_victim;

/** The fake launcher the runs are started with. */
extern gxd_launcher fl;
/** The run under test (NULL before start). */
extern gxd_child *child;
/** Its launcher, played by the test. */
extern fake_run *fr;
/** What the callbacks saw; forgotten by next_run. */
extern ch_seen seen;
/** The victim; teardown kills and reaps one still there. */
extern ch_victim vic;
/** A pattern (fill_pattern): stdin and output bytes. */
extern uint8_t big[CH_PATTERN_SIZE];
/** Where read_stdin (and tests) put what they read. */
extern uint8_t got[CH_PATTERN_SIZE];
/** The callbacks that fill @ref seen (ud unused). */
extern const gxd_child_cbs cbs;
/** The request every run is started with: "sh" in "/". */
extern const gxl_request request;

/* ------------------------------------------------------- loop helpers */

/** Runs the loop until *@p flag >= @p want or @p ms passed; 1 if it
 *  was. */
int run_until(const int *flag, int want, uint64_t ms);

/** Runs the loop for @p ms. */
void run_for(uint64_t ms);

/** The loop's time, updated (ms). */
uint64_t now(void);

/** The poll handles open on the loop: one per channel. */
int polls(void);

/* ----------------------------------------------------------- victims */

/** Forks the victim (@ref vic): it leads its own process group and
 *  catches SIGTERM, SIGCONT, SIGUSR1 and SIGHUP. Returns its pid. */
pid_t victim_start(void);

/** Reads up to @p n signal numbers the victim caught, waiting at most
 *  @p ms for each; returns how many. */
size_t victim_signals(uint8_t *buf, size_t n, int ms);

/** 1 if the victim has not ended (it is not reaped). */
int victim_alive(void);

/** Waits (at most 5 s) for the victim's end and reaps it: its wait
 *  status; vic.pid becomes 0. */
int victim_reap(void);

/* -------------------------------------------------------- run helpers */

/** Another run in the same test: what the callbacks saw is forgotten. */
void next_run(void);

/** cmocka setup: a new loop and fake launcher, no run, no victim. */
int setup(void **state);

/** cmocka teardown: asserts the child was freed, every handle closed,
 *  every descriptor too (a victim left is killed first). */
int teardown(void **state);

/** A run description with a new run id. */
gxl_run make_run(void);

/** Starts a run with @p io; @ref child and @ref fr are set. */
void start_io(const gxd_child_stdio *io);

/** Starts a run with pipes for stdin, stdout and stderr. */
void start(void);

/** Sets O_NONBLOCK on @p fd. */
void set_nonblock(int fd);

/** Writes the string @p s to @p fd, all of it. */
void put(int fd, const char *s);

/** Bytes waiting in the pipe (or socket) @p fd belongs to. */
int in_pipe(int fd);

/** The launcher's exec record naming a new victim; waits until the
 *  child read it (on_exec). */
void exec_ok(void);

/** The launcher's report: @p exit_code, @p sig, oom_killed, usage 11 us
 *  user, 22 us sys, 33 KiB max RSS. Not waited for. */
void report(int exit_code, int sig);

/** Waits for on_exit and asserts the status and usage it carried. */
void expect_exit(int exit_code, int sig, int reported, uint64_t user_us,
                 uint64_t sys_us, uint64_t rss_kb);

/** Asserts the oldest output is @p stream with exactly @p bytes. */
void expect_peek(int stream, const char *bytes);

/** Waits for output of @p stream, exactly @p bytes, and drops it. */
void expect_output(int stream, const char *bytes);

/** gxd_child_close, noted so that end_run does not close again. */
void close_child(void);

/** Ends the run as far as the test did not: the launcher's descriptors
 *  closed, its exit (status 0), on_exit, close, on_closed. */
void end_run(void);

/** Reads the stdin pipe while the loop runs until on_stdin_drained,
 *  then to the end if @p to_eof (else what is there), into @ref got;
 *  returns the bytes. */
size_t read_stdin(int to_eof);

/** Fills @ref big with its pattern. */
void fill_pattern(void);

/** What each test process does first: SIGPIPE ignored (as the daemon:
 *  EPIPE instead), and libuv's process-wide descriptors opened (they
 *  open with the first loop and are not a test's). */
void ch_main_setup(void);

#endif
