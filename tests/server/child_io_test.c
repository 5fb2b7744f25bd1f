/* Unit tests for server/child, its streams: output (oldest first,
 * backpressure, take and resume, stderr into stdout), stdin (straight,
 * held, closed, EPIPE), one channel for stdin and stdout (the seam),
 * and a launcher that cannot be started. The harness (child_harness.h)
 * plays the launcher on a bare uv loop. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "server/child.h"
#include "server/child_internal.h"
#include "tests/server/child_harness.h"
#include "tests/server/fake_launcher.h"

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
  ch_main_setup();
  const struct CMUnitTest tests[] = {
      T(output_oldest_first),
      T(backpressure_full_buffer),
      T(take_pauses_until_resume),
      T(stderr_into_stdout),
      T(stdin_straight_then_held),
      T(close_stdin_after_pending),
      T(close_stdin_at_once),
      T(stdin_epipe_drops),
      T(one_channel_both_directions),
      T(shared_channel_eof_drops_stdin),
      T(start_failure),
  };
  return cmocka_run_group_tests_name("server/child io", tests, NULL, NULL);
}
