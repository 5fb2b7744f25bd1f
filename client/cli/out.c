/* Buffered fleet output: see out.h. */
#include "client/cli/out.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int gxc_write_all(int fd, const void *data, size_t len) {
  const char *p = data;
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      struct pollfd w = {.fd = fd, .events = POLLOUT};
      while (poll(&w, 1, -1) < 0 && errno == EINTR) {
      }
      continue;
    }
    if (n < 0) return errno;
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

int gxc_out_flush(gxc_out *o) {
  if (o->err) return -1;
  int e = o->len ? gxc_write_all(o->fd, o->buf, o->len) : 0;
  o->len = 0;
  if (e) o->err = e;
  return e ? -1 : 0;
}

int gxc_out_put(gxc_out *o, const void *data, size_t len) {
  if (o->err) return -1;
  if (!o->buf && !(o->buf = malloc(GXC_OUT_BUF))) { /* unbuffered then */
    int e = gxc_write_all(o->fd, data, len);
    if (e) o->err = e;
    return e ? -1 : 0;
  }
  if (len > GXC_OUT_BUF - o->len && gxc_out_flush(o) != 0) return -1;
  if (len >= GXC_OUT_BUF) {
    int e = gxc_write_all(o->fd, data, len);
    if (e) o->err = e;
    return e ? -1 : 0;
  }
  memcpy(o->buf + o->len, data, len);
  o->len += len;
  return 0;
}

int gxc_out_puts(gxc_out *o, const char *s) {
  return gxc_out_put(o, s, strlen(s));
}

void gxc_out_free(gxc_out *o) {
  gxc_out_flush(o);
  free(o->buf);
  o->buf = NULL;
}
