/* Coalescing reads of gexec's stdin: see input.h. */
#include "client/cli/input.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* Where Linux says how large an unprivileged pipe may get. */
#define PIPE_MAX_PATH "/proc/sys/fs/pipe-max-size"

void gxc_input_init(gxc_input *in, int fd) {
  in->fd = fd;
  in->eof = 0;
  in->err = 0;
}

/* One read(), EINTR retried. */
static ssize_t read_once(int fd, uint8_t *buf, size_t len) {
  ssize_t n;
  do {
    n = read(fd, buf, len);
  } while (n < 0 && errno == EINTR);
  return n;
}

/* Tells whether a read of @p fd would return at once (data, EOF or an
 * error), without waiting. */
static int ready_now(int fd) {
  struct pollfd p = {.fd = fd, .events = POLLIN};
  int n;
  do {
    n = poll(&p, 1, 0);
  } while (n < 0 && errno == EINTR);
  return n > 0 && p.revents != 0;
}

/* Returns the EOF or error kept from the previous call (and clears it),
 * or 1 when there is none. */
static ssize_t pending_end(gxc_input *in) {
  if (in->eof) {
    in->eof = 0;
    return 0;
  }
  if (in->err) {
    errno = in->err;
    in->err = 0;
    return -1;
  }
  return 1;
}

ssize_t gxc_input_read(gxc_input *in, uint8_t *buf, size_t cap) {
  ssize_t end = pending_end(in);
  if (end <= 0) return end;
  ssize_t n = read_once(in->fd, buf, cap);
  if (n <= 0) return n;
  size_t len = (size_t)n;
  while (len < cap && ready_now(in->fd)) {
    n = read_once(in->fd, buf + len, cap - len);
    if (n == 0) in->eof = 1;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) in->err = errno;
    if (n <= 0) break;
    len += (size_t)n;
  }
  return (ssize_t)len;
}

/* Reads /proc/sys/fs/pipe-max-size; returns it, or -1. */
static long pipe_max_size(void) {
  char text[32];
  int fd = open(PIPE_MAX_PATH, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read_once(fd, (uint8_t *)text, sizeof text - 1);
  close(fd);
  if (n <= 0) return -1;
  text[n] = '\0';
  char *end;
  errno = 0;
  long v = strtol(text, &end, 10);
  return errno || end == text || v <= 0 ? -1 : v;
}

long gxc_input_grow_pipe(int fd, size_t want) {
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISFIFO(st.st_mode)) return -1;
  long size = fcntl(fd, F_GETPIPE_SZ);
  if (size < 0) return -1;
  long max = pipe_max_size();
  long target = want > (size_t)LONG_MAX ? LONG_MAX : (long)want;
  if (max > 0 && target > max) target = max;
  if (target <= size) return size;
  long got = fcntl(fd, F_SETPIPE_SZ, (int)(target > INT_MAX ? INT_MAX
                                                             : target));
  return got > 0 ? got : size;
}
