/* Line splitting for prefixed fleet output: see lines.h. */
#include "client/cli/lines.h"

#include <stdlib.h>
#include <string.h>

/* Appends to the unfinished line. A full buffer is emitted as a piece
 * only when more bytes come, so that a line of exactly GXC_LINE_MAX bytes
 * and its newline make one line, not a piece and an empty line. */
static int keep(gxc_lines *l, const uint8_t *p, size_t n, gxc_lines_sink sink,
                void *ud) {
  while (n > 0) {
    if (!l->buf && !(l->buf = malloc(GXC_LINE_MAX))) return -2;
    if (l->len == GXC_LINE_MAX) {
      l->len = 0;
      if (sink(ud, l->buf, GXC_LINE_MAX) != 0) return -1;
    }
    size_t room = GXC_LINE_MAX - l->len, take = n < room ? n : room;
    memcpy(l->buf + l->len, p, take);
    l->len += take;
    p += take;
    n -= take;
  }
  return 0;
}

/* One line ends at @p p[n] (the '\n'): emits it. */
static int complete(gxc_lines *l, const uint8_t *p, size_t n,
                    gxc_lines_sink sink, void *ud) {
  if (l->len == 0) { /* the common case: no copy */
    size_t off = 0;
    while (n - off > GXC_LINE_MAX) {
      if (sink(ud, p + off, GXC_LINE_MAX) != 0) return -1;
      off += GXC_LINE_MAX;
    }
    return sink(ud, p + off, n - off);
  }
  int rc = keep(l, p, n, sink, ud);
  if (rc != 0) return rc;
  size_t len = l->len;
  l->len = 0;
  return sink(ud, l->buf, len);
}

int gxc_lines_feed(gxc_lines *l, const uint8_t *data, size_t len,
                   gxc_lines_sink sink, void *ud) {
  while (len > 0) {
    const uint8_t *nl = memchr(data, '\n', len);
    if (!nl) return keep(l, data, len, sink, ud);
    size_t n = (size_t)(nl - data);
    int rc = complete(l, data, n, sink, ud);
    if (rc != 0) return rc;
    data += n + 1;
    len -= n + 1;
  }
  return 0;
}

int gxc_lines_finish(gxc_lines *l, gxc_lines_sink sink, void *ud) {
  if (l->len == 0) return 0;
  size_t len = l->len;
  l->len = 0;
  return sink(ud, l->buf, len);
}

void gxc_lines_free(gxc_lines *l) {
  free(l->buf);
  l->buf = NULL;
  l->len = 0;
}
