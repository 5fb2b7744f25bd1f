/* Scratch directory for unit tests; see scratch.h. */
#include "tests/server/scratch.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

static char root[PATH_MAX];

int gxt_scratch_setup(const char *name) {
  const char *base = getenv("TEST_TMPDIR");
  snprintf(root, sizeof root, "%s/%s.XXXXXX", base && *base ? base : "/tmp",
           name);
  return mkdtemp(root) ? 0 : -1;
}

const char *gxt_scratch_root(void) { return root; }

const char *gxt_at(const char *rel) {
  static char bufs[8][PATH_MAX];
  static int next;
  char *b = bufs[next++ % 8];
  if (snprintf(b, PATH_MAX, "%s/%s", root, rel) >= PATH_MAX)
    fail_msg("path too long: %s/%s", root, rel);
  return b;
}

void gxt_make_dir(const char *rel) {
  if (mkdir(gxt_at(rel), 0755) != 0 && errno != EEXIST)
    fail_msg("mkdir %s: %s", gxt_at(rel), strerror(errno));
}

void gxt_make_file(const char *rel, const char *body, mode_t mode) {
  const char *p = gxt_at(rel);
  int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) fail_msg("open %s: %s", p, strerror(errno));
  assert_int_equal(write(fd, body, strlen(body)), (ssize_t)strlen(body));
  assert_int_equal(fchmod(fd, mode), 0);
  close(fd);
}
