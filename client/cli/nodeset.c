/* Node sets: the names list, error quoting, and expanding a pattern.
 * Folding is in nodeset_fold.c.
 *
 * Expanding runs twice over the pattern: a first pass checks every
 * bracket and counts the names and their longest length (so a pattern
 * over the limits fails before anything is made), a second walks the
 * ranges like an odometer, the rightmost range turning fastest. */
#include "client/cli/nodeset.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest pattern accepted: enough for any real range list, and it
 * bounds the number of bracket groups. */
#define PATTERN_MAX 4096

void gxc_names_truncate(gxc_names *l, size_t n) {
  while (l->n > n) free(l->v[--l->n]);
}

void gxc_names_free(gxc_names *l) {
  gxc_names_truncate(l, 0);
  free(l->v);
  l->v = NULL;
  l->cap = 0;
}

int gxc_names_add(gxc_names *l, const char *s) {
  char *copy;
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 16;
    char **v = realloc(l->v, cap * sizeof *v);
    if (!v) return errno = ENOMEM, -1;
    l->v = v;
    l->cap = cap;
  }
  copy = strdup(s);
  if (!copy) return errno = ENOMEM, -1;
  l->v[l->n++] = copy;
  return 0;
}

void gxc_nodeset_quote(const char *s, char *out, size_t cap) {
  size_t o = 0, in;
  if (cap == 0) return;
  for (in = 0; s[in] && in < 200 && o + 5 < cap; in++) {
    unsigned char c = (unsigned char)s[in];
    if (c >= 0x20 && c < 0x7f)
      out[o++] = (char)c;
    else
      o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
  }
  if (s[in] && o + 4 <= cap) {
    memcpy(out + o, "...", 3);
    o += 3;
  }
  out[o < cap ? o : cap - 1] = '\0';
}

int gxc_nodeset_error(char *why, size_t why_len, const char *item,
                      size_t pos, const char *fmt, ...) {
  char q[1024], msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  gxc_nodeset_quote(item, q, sizeof q);
  if (why_len) snprintf(why, why_len, "'%s': position %zu: %s", q, pos, msg);
  return -1;
}

/* ------------------------------------------------------------ parsing */

/* One item inside brackets: "lo" or "lo-hi". */
typedef struct {
  long lo, hi;
  int width;   /* of lo's text: the padding */
  int hi_len;  /* digits of hi's text */
} item;

typedef struct {
  const char *pat;
  char *why;
  size_t why_len;
} ctx;

static int err_at(const ctx *c, const char *at, const char *fmt,
                  const char *arg) {
  return gxc_nodeset_error(c->why, c->why_len, c->pat,
                           (size_t)(at - c->pat) + 1, fmt, arg);
}

/* A number of at most GXC_NODESET_DIGITS_MAX digits at @p p. */
static int parse_num(const ctx *c, const char **p, long *v, int *len) {
  const char *s = *p;
  if (*s < '0' || *s > '9') return err_at(c, s, "expected a number%s", "");
  *v = 0;
  while (*s >= '0' && *s <= '9') {
    if (s - *p == GXC_NODESET_DIGITS_MAX)
      return err_at(c, *p, "number longer than 9 digits%s", "");
    *v = *v * 10 + (*s++ - '0');
  }
  *len = (int)(s - *p);
  *p = s;
  return 0;
}

/* Parses the item at @p *p and leaves @p *p on the ',' or ']' after it. */
static int parse_item(const ctx *c, const char **p, item *it) {
  const char *start = *p;
  if (parse_num(c, p, &it->lo, &it->width) != 0) return -1;
  it->hi = it->lo;
  it->hi_len = it->width;
  if (**p == '-') {
    (*p)++;
    if (parse_num(c, p, &it->hi, &it->hi_len) != 0) return -1;
    if (it->hi < it->lo) {
      char r[64];
      snprintf(r, sizeof r, "%.*s", (int)(*p - start), start);
      return err_at(c, start, "range %s goes backwards", r);
    }
  }
  if (**p == ',' || **p == ']') return 0;
  if (**p == '[') return err_at(c, *p, "'[' inside a range%s", "");
  return err_at(c, *p, "expected ',', '-' or ']'%s", "");
}

/* Checks the group whose '[' is at @p open; adds its names to @p count
 * and its widest number to @p width. Leaves @p *end on its ']'. */
static int scan_group(const ctx *c, const char *open, const char **end,
                      size_t *count, size_t *width) {
  const char *p = open + 1;
  item it;
  *count = 0;
  *width = 0;
  if (!strchr(open, ']')) return err_at(c, open, "unclosed '['%s", "");
  for (;;) {
    if (parse_item(c, &p, &it) != 0) return -1;
    *count += (size_t)(it.hi - it.lo + 1);
    if (*count > GXC_NODESET_MAX) *count = GXC_NODESET_MAX + 1;
    size_t w = (size_t)(it.width > it.hi_len ? it.width : it.hi_len);
    if (w > *width) *width = w;
    if (*p == ']') break;
    p++;
  }
  *end = p;
  return 0;
}

/* First pass: every bracket checked, the limits enforced; returns the
 * number of groups in @p ngroups. */
static int scan(const ctx *c, size_t *ngroups) {
  size_t total = 1, len = 0;
  const char *p;
  *ngroups = 0;
  for (p = c->pat; *p; p++) {
    size_t n = 1, w = 1;
    const char *at = p;
    if (*p == ']') return err_at(c, p, "']' without '['%s", "");
    if (*p == '[') {
      if (scan_group(c, at, &p, &n, &w) != 0) return -1;
      (*ngroups)++;
    }
    total *= n;
    if (total > GXC_NODESET_MAX)
      return err_at(c, at, "more than %s names", "65536");
    len += w;
    if (len > GXC_NODESET_NAME_MAX)
      return err_at(c, at, "names longer than %s bytes", "255");
  }
  return 0;
}

/* ---------------------------------------------------------- expanding */

/* Where the odometer stands in one group. */
typedef struct {
  const char *open; /* its '[' */
  const char *next; /* after the current item: ',' or ']' */
  item it;
  long cur;
} wheel;

static void wheel_item(const ctx *c, wheel *w, const char *p) {
  w->next = p;
  parse_item(c, &w->next, &w->it); /* checked by scan() */
  w->cur = w->it.lo;
}

/* Turns @p w one step; returns 1 when it went round (carry). */
static int wheel_turn(const ctx *c, wheel *w) {
  if (w->cur < w->it.hi) {
    w->cur++;
    return 0;
  }
  if (*w->next == ',') {
    wheel_item(c, w, w->next + 1);
    return 0;
  }
  wheel_item(c, w, w->open + 1);
  return 1;
}

/* Writes the name the wheels stand on into @p buf (scan() bounded it). */
static void current_name(const ctx *c, const wheel *w, char *buf,
                         size_t cap) {
  size_t o = 0;
  for (const char *p = c->pat; *p; p++) {
    if (*p != '[') {
      buf[o++] = *p;
      continue;
    }
    o += (size_t)snprintf(buf + o, cap - o, "%0*ld", w->it.width, w->cur);
    p = strchr(p, ']');
    w++;
  }
  buf[o] = '\0';
}

static int generate(const ctx *c, wheel *w, size_t nw, gxc_names *out) {
  char name[GXC_NODESET_NAME_MAX + 1];
  size_t i = 0;
  const char *p = c->pat;
  for (; (p = strchr(p, '[')) != NULL; p++, i++) {
    w[i].open = p;
    wheel_item(c, &w[i], p + 1);
  }
  for (;;) {
    current_name(c, w, name, sizeof name);
    if (gxc_names_add(out, name) != 0) return -1;
    for (i = nw; i > 0 && wheel_turn(c, &w[i - 1]); i--) {
    }
    if (i == 0) return 0;
  }
}

int gxc_nodeset_expand(const char *pattern, gxc_names *out, char *why,
                       size_t why_len) {
  ctx c = {pattern, why, why_len};
  size_t ngroups, had = out->n;
  wheel *w;
  int rc;
  if (pattern[0] == '\0') return err_at(&c, pattern, "empty pattern%s", "");
  if (strlen(pattern) > PATTERN_MAX)
    return err_at(&c, pattern + PATTERN_MAX, "pattern longer than %s bytes",
                  "4096");
  if (scan(&c, &ngroups) != 0) return -1;
  w = calloc(ngroups ? ngroups : 1, sizeof *w);
  rc = w ? generate(&c, w, ngroups, out) : -1;
  free(w);
  if (rc != 0) {
    gxc_names_truncate(out, had);
    snprintf(why, why_len, "out of memory");
  }
  return rc;
}
