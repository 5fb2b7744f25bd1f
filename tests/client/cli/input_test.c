/* Unit tests for client/cli/input: the coalescing stdin reader.
 *
 * A SOCK_SEQPACKET socket pair stands in for fd 0 where a test needs
 * separate arrivals: each read() of it returns one message, as a read of
 * a pipe returns what one write left there when the reader keeps up. So
 * "one gxc_input_read returns several messages" is exactly "it read again
 * because more was ready", with no timing involved. A zero-length message
 * reads as 0, like a terminal's Ctrl-D: a one-time EOF. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "client/cli/input.h"

#define KIB 1024

static uint8_t buf[256 * KIB];

/* A connected SOCK_SEQPACKET pair: [0] is read, [1] is written. */
static void seqpacket(int sv[2]) {
  assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv),
                   0);
}

/* Sends one message of @p len bytes, each byte @p fill. */
static void send_msg(int fd, size_t len, int fill) {
  static uint8_t m[64 * KIB];
  assert_true(len <= sizeof m);
  memset(m, fill, len);
  assert_int_equal(send(fd, m, len, 0), (ssize_t)len);
}

/* Three messages ready: one call returns all of them. */
static void coalesces_what_is_ready(void **state) {
  int sv[2];
  gxc_input in;
  (void)state;
  seqpacket(sv);
  send_msg(sv[1], 10 * KIB, 'a');
  send_msg(sv[1], 10 * KIB, 'b');
  send_msg(sv[1], 7, 'c');
  gxc_input_init(&in, sv[0]);
  assert_int_equal(gxc_input_read(&in, buf, sizeof buf), 20 * KIB + 7);
  assert_int_equal(buf[0], 'a');
  assert_int_equal(buf[10 * KIB], 'b');
  assert_int_equal(buf[20 * KIB + 6], 'c');
  close(sv[0]);
  close(sv[1]);
}

/* Never more than the cap in one call; the rest comes with the next. */
static void stops_at_the_cap(void **state) {
  int sv[2];
  gxc_input in;
  (void)state;
  seqpacket(sv);
  for (int i = 0; i < 6; i++) send_msg(sv[1], 16 * KIB, 'a' + i);
  gxc_input_init(&in, sv[0]);
  assert_int_equal(gxc_input_read(&in, buf, 64 * KIB), 64 * KIB);
  assert_int_equal(buf[64 * KIB - 1], 'd');
  assert_int_equal(gxc_input_read(&in, buf, 64 * KIB), 32 * KIB);
  assert_int_equal(buf[0], 'e');
  assert_int_equal(buf[32 * KIB - 1], 'f');
  close(sv[0]);
  close(sv[1]);
}

/* A short piece is returned at once: the writer is still open and sends
 * nothing more, and the call does not wait for the cap to fill. */
static void partial_piece_not_held_back(void **state) {
  int p[2];
  gxc_input in;
  (void)state;
  assert_int_equal(pipe2(p, O_CLOEXEC), 0);
  assert_int_equal(write(p[1], "ls\n", 3), 3);
  gxc_input_init(&in, p[0]);
  assert_int_equal(gxc_input_read(&in, buf, sizeof buf), 3);
  assert_memory_equal(buf, "ls\n", 3);
  assert_int_equal(write(p[1], "pwd\n", 4), 4);
  assert_int_equal(gxc_input_read(&in, buf, sizeof buf), 4);
  assert_memory_equal(buf, "pwd\n", 4);
  close(p[0]);
  close(p[1]);
}

/* An EOF right behind the bytes: the bytes first, then the EOF. */
static void eof_after_bytes_is_kept(void **state) {
  int p[2];
  gxc_input in;
  (void)state;
  assert_int_equal(pipe2(p, O_CLOEXEC), 0);
  assert_int_equal(write(p[1], "abc", 3), 3);
  close(p[1]);
  gxc_input_init(&in, p[0]);
  assert_int_equal(gxc_input_read(&in, buf, sizeof buf), 3);
  assert_int_equal(gxc_input_read(&in, buf, sizeof buf), 0);
  assert_int_equal(gxc_input_read(&in, buf, sizeof buf), 0);
  close(p[0]);
}

/* A one-time EOF (a terminal's Ctrl-D) seen while coalescing is reported
 * by the next call, not lost: the bytes sent after it stay unread. */
static void one_time_eof_not_lost(void **state) {
  int sv[2];
  gxc_input in;
  (void)state;
  seqpacket(sv);
  send_msg(sv[1], 3, 'x');
  send_msg(sv[1], 0, 0);
  send_msg(sv[1], 5, 'y');
  gxc_input_init(&in, sv[0]);
  assert_int_equal(gxc_input_read(&in, buf, sizeof buf), 3);
  assert_int_equal(gxc_input_read(&in, buf, sizeof buf), 0);
  assert_int_equal(gxc_input_read(&in, buf, sizeof buf), 5);
  assert_int_equal(buf[0], 'y');
  close(sv[0]);
  close(sv[1]);
}

/* Errors: a bad fd, and a non-blocking fd with nothing to read. */
static void read_errors(void **state) {
  int p[2];
  gxc_input in;
  (void)state;
  gxc_input_init(&in, -1);
  errno = 0;
  assert_int_equal(gxc_input_read(&in, buf, sizeof buf), -1);
  assert_int_equal(errno, EBADF);
  assert_int_equal(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
  gxc_input_init(&in, p[0]);
  errno = 0;
  assert_int_equal(gxc_input_read(&in, buf, sizeof buf), -1);
  assert_int_equal(errno, EAGAIN);
  assert_int_equal(write(p[1], "z", 1), 1);
  assert_int_equal(gxc_input_read(&in, buf, sizeof buf), 1);
  close(p[0]);
  close(p[1]);
}

/* Reads /proc/sys/fs/pipe-max-size, or fails the test. */
static long pipe_max(void) {
  FILE *f = fopen("/proc/sys/fs/pipe-max-size", "r");
  long v = -1;
  assert_non_null(f);
  assert_int_equal(fscanf(f, "%ld", &v), 1);
  fclose(f);
  return v;
}

/* A pipe grows to what is asked, capped by pipe-max-size; never shrinks;
 * anything else is left alone. */
static void grows_pipes_only(void **state) {
  int p[2], sv[2];
  (void)state;
  long want = 1 << 20, max = pipe_max();
  long expect = want < max ? want : max;
  assert_int_equal(pipe2(p, O_CLOEXEC), 0);
  long before = fcntl(p[0], F_GETPIPE_SZ);
  long got = gxc_input_grow_pipe(p[0], (size_t)want);
  if (expect > before) assert_int_equal(got, expect);
  assert_int_equal(fcntl(p[1], F_GETPIPE_SZ), got);
  assert_int_equal(gxc_input_grow_pipe(p[0], 4096), got);
  close(p[0]);
  close(p[1]);
  seqpacket(sv);
  assert_int_equal(gxc_input_grow_pipe(sv[0], (size_t)want), -1);
  close(sv[0]);
  close(sv[1]);
  assert_int_equal(gxc_input_grow_pipe(-1, (size_t)want), -1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(coalesces_what_is_ready),
      cmocka_unit_test(stops_at_the_cap),
      cmocka_unit_test(partial_piece_not_held_back),
      cmocka_unit_test(eof_after_bytes_is_kept),
      cmocka_unit_test(one_time_eof_not_lost),
      cmocka_unit_test(read_errors),
      cmocka_unit_test(grows_pipes_only),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
