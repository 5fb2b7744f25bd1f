/* Unit tests for client/cli/lines: whole lines, pieces, the last line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "client/cli/lines.h"

/* Collects what the sink got as "[line]" records. */
typedef struct {
  char text[4096];
  size_t len;
  size_t sizes[16];
  int n, stop_at;
} sink_log;

static int sink(void *ud, const uint8_t *line, size_t len) {
  sink_log *s = ud;
  if (s->n < 16) s->sizes[s->n] = len;
  s->n++;
  if (len < 1000 && s->len + len + 2 < sizeof s->text) {
    s->text[s->len++] = '[';
    memcpy(s->text + s->len, line, len);
    s->len += len;
    s->text[s->len++] = ']';
    s->text[s->len] = '\0';
  }
  return s->stop_at && s->n == s->stop_at ? -1 : 0;
}

static void feed(gxc_lines *l, const char *s, sink_log *log) {
  assert_int_equal(gxc_lines_feed(l, (const uint8_t *)s, strlen(s), sink, log),
                   0);
}

static void whole_lines_across_chunks(void **state) {
  gxc_lines l = {0};
  sink_log log = {0};
  (void)state;
  feed(&l, "a\nbb", &log);
  assert_string_equal(log.text, "[a]");
  feed(&l, "b", &log);
  feed(&l, "\n\nc\n", &log);
  assert_string_equal(log.text, "[a][bbb][][c]");
  assert_int_equal(gxc_lines_finish(&l, sink, &log), 0);
  assert_int_equal(log.n, 4); /* nothing left: no extra line */
  feed(&l, "tail", &log);
  assert_int_equal(gxc_lines_finish(&l, sink, &log), 0);
  assert_string_equal(log.text, "[a][bbb][][c][tail]");
  gxc_lines_free(&l);
}

/* A line longer than GXC_LINE_MAX comes in pieces of exactly that size;
 * a line of exactly GXC_LINE_MAX is one line, with no empty one after. */
static void long_lines_in_pieces(void **state) {
  size_t big = 2 * GXC_LINE_MAX + 10;
  uint8_t *p = malloc(big + 1);
  gxc_lines l = {0};
  sink_log log = {0};
  (void)state;
  memset(p, 'x', big);
  p[big] = '\n';
  /* in one chunk (no copy path) */
  assert_int_equal(gxc_lines_feed(&l, p, big + 1, sink, &log), 0);
  assert_int_equal(log.n, 3);
  assert_int_equal(log.sizes[0], GXC_LINE_MAX);
  assert_int_equal(log.sizes[1], GXC_LINE_MAX);
  assert_int_equal(log.sizes[2], 10);
  /* byte by byte (the buffered path) */
  memset(&log, 0, sizeof log);
  for (size_t i = 0; i <= big; i++)
    assert_int_equal(gxc_lines_feed(&l, p + i, 1, sink, &log), 0);
  assert_int_equal(log.n, 3);
  assert_int_equal(log.sizes[0], GXC_LINE_MAX);
  assert_int_equal(log.sizes[2], 10);
  /* exactly GXC_LINE_MAX, both paths */
  memset(&log, 0, sizeof log);
  p[GXC_LINE_MAX] = '\n';
  assert_int_equal(gxc_lines_feed(&l, p, GXC_LINE_MAX + 1, sink, &log), 0);
  assert_int_equal(gxc_lines_feed(&l, p, 1, sink, &log), 0);
  assert_int_equal(gxc_lines_feed(&l, p + 1, GXC_LINE_MAX, sink, &log), 0);
  assert_int_equal(log.n, 2);
  assert_int_equal(log.sizes[0], GXC_LINE_MAX);
  assert_int_equal(log.sizes[1], GXC_LINE_MAX);
  assert_int_equal(gxc_lines_finish(&l, sink, &log), 0);
  assert_int_equal(log.n, 2);
  /* a full unfinished line waits, then comes out at finish */
  assert_int_equal(gxc_lines_feed(&l, p, GXC_LINE_MAX, sink, &log), 0);
  assert_int_equal(log.n, 2);
  assert_int_equal(gxc_lines_finish(&l, sink, &log), 0);
  assert_int_equal(log.n, 3);
  assert_int_equal(log.sizes[2], GXC_LINE_MAX);
  gxc_lines_free(&l);
  free(p);
}

static void binary_bytes_kept(void **state) {
  static const uint8_t in[] = {'a', 0, 'b', '\r', '\n', 0xff, '\n'};
  gxc_lines l = {0};
  sink_log log = {0};
  (void)state;
  assert_int_equal(gxc_lines_feed(&l, in, sizeof in, sink, &log), 0);
  assert_int_equal(log.n, 2);
  assert_int_equal(log.sizes[0], 4);
  assert_memory_equal(log.text, "[a\0b\r][\xff]", 10);
  gxc_lines_free(&l);
}

static void sink_stop(void **state) {
  gxc_lines l = {0};
  sink_log log = {.stop_at = 2};
  (void)state;
  assert_int_equal(
      gxc_lines_feed(&l, (const uint8_t *)"1\n2\n3\n", 6, sink, &log), -1);
  assert_int_equal(log.n, 2);
  gxc_lines_free(&l);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(whole_lines_across_chunks),
      cmocka_unit_test(long_lines_in_pieces),
      cmocka_unit_test(binary_bytes_kept),
      cmocka_unit_test(sink_stop),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
