/* Bounded file reads and UTF-8-safe strings for the facts readers. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/facts_read.h"

static int open_under(const char *root, const char *rel) {
  char path[4096];
  int n = snprintf(path, sizeof path, "%s%s", root, rel);
  if (n < 0 || (size_t)n >= sizeof path) return -1;
  return open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
}

/* Reads up to @p max bytes of @p fd into @p buf; returns the count or -1. */
static long read_all(int fd, char *buf, size_t max) {
  size_t got = 0;
  while (got < max) {
    ssize_t n = read(fd, buf + got, max - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    if (n == 0) break;
    got += (size_t)n;
  }
  return (long)got;
}

long gxd_facts_read_file(const char *root, const char *rel, size_t max,
                         char **out) {
  *out = NULL;
  int fd = open_under(root, rel);
  if (fd < 0) return -1;
  char *buf = malloc(max + 1);
  long n = buf ? read_all(fd, buf, max) : -1;
  close(fd);
  if (n < 0) {
    free(buf);
    return -1;
  }
  if ((size_t)n == max) { /* possibly cut: keep whole lines only */
    char *nl = memrchr(buf, '\n', (size_t)n);
    n = nl ? (long)(nl - buf + 1) : n;
  }
  buf[n] = '\0';
  *out = buf;
  return n;
}

char *gxd_facts_read_line(const char *root, const char *rel) {
  char *buf;
  long n = gxd_facts_read_file(root, rel, GXD_FACTS_SMALL_MAX, &buf);
  if (n < 0) return NULL;
  size_t b = strspn(buf, " \t");
  size_t e = b + strcspn(buf + b, "\n");
  while (e > b && (buf[e - 1] == ' ' || buf[e - 1] == '\t')) e--;
  char *s = e > b ? gxd_facts_strndup(buf + b, e - b) : NULL;
  free(buf);
  return s;
}

/* The length of the valid UTF-8 sequence at @p p (@p left bytes), or 0. */
static size_t utf8_len(const unsigned char *p, size_t left) {
  size_t n;
  if (p[0] >= 0x01 && p[0] < 0x80) return 1;
  if (p[0] >= 0xc2 && p[0] <= 0xdf) n = 2;
  else if (p[0] >= 0xe0 && p[0] <= 0xef) n = 3;
  else if (p[0] >= 0xf0 && p[0] <= 0xf4) n = 4;
  else return 0;
  if (n > left) return 0;
  for (size_t i = 1; i < n; i++)
    if ((p[i] & 0xc0) != 0x80) return 0;
  /* overlong 3/4-byte forms, surrogates, past U+10FFFF */
  if (n == 3 && p[0] == 0xe0 && p[1] < 0xa0) return 0;
  if (n == 3 && p[0] == 0xed && p[1] >= 0xa0) return 0;
  if (n == 4 && p[0] == 0xf0 && p[1] < 0x90) return 0;
  if (n == 4 && p[0] == 0xf4 && p[1] >= 0x90) return 0;
  return n;
}

char *gxd_facts_strndup(const char *s, size_t n) {
  char *d = malloc(n + 1);
  if (!d) return NULL;
  const unsigned char *p = (const unsigned char *)s;
  size_t i = 0;
  while (i < n) {
    size_t k = utf8_len(p + i, n - i);
    if (k == 0) {
      d[i++] = '?';
      continue;
    }
    memcpy(d + i, p + i, k);
    i += k;
  }
  d[n] = '\0';
  return d;
}

int gxd_facts_set(char **field, const char *s) {
  if (!s) return 0;
  char *c = gxd_facts_strndup(s, strlen(s));
  if (!c) return -1;
  if (*field && *field != protobuf_c_empty_string) free(*field);
  *field = c;
  return 0;
}
