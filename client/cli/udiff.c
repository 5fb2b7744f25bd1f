/* Unified diffs (see udiff.h). The texts are cut into lines, each line
 * gets a class number (equal lines, equal numbers: one hash table pass),
 * udiff_lcs computes and slides the edit script on the numbers, and the
 * script is written as GNU diff -u hunks through a small output buffer. */
#include "client/cli/udiff.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/cli/udiff_lcs.h"

#define CONTEXT 3
#define OUT_CAP 16384
/* Hash probes allowed per line before the input counts as pathological
 * (crafted collisions) and gets the whole-replacement fallback. */
#define PROBES_PER_LINE 32
#define NO_NEWLINE "\n\\ No newline at end of file\n"

typedef struct {
  const char *p;
  size_t len; /* with its '\n', if it has one */
} line;

/* One text: its lines, their classes, its changed flags (with a zero
 * sentinel on each side: ch[-1] and ch[n]). */
typedef struct {
  line *l;
  uint32_t *cls;
  char *ch_mem, *ch;
  size_t n;
} side;

typedef struct {
  gxc_udiff_put put;
  void *ud;
  int failed;
  size_t len;
  char buf[OUT_CAP];
} sink;

typedef struct {
  size_t a, b; /* first line of the change in a and b */
} change;

static void flush(sink *s) {
  if (!s->failed && s->len > 0 && s->put(s->ud, s->buf, s->len) != 0) {
    s->failed = 1;
  }
  s->len = 0;
}

static void out(sink *s, const char *p, size_t len) {
  if (s->failed || len == 0) return;
  if (len > OUT_CAP - s->len) flush(s);
  if (len >= OUT_CAP) {
    if (!s->failed && s->put(s->ud, p, len) != 0) s->failed = 1;
    return;
  }
  memcpy(s->buf + s->len, p, len);
  s->len += len;
}

static void out_str(sink *s, const char *str) { out(s, str, strlen(str)); }

/* One line of output: its prefix, its bytes, and GNU's marker when it
 * has no '\n'. */
static void out_line(sink *s, char prefix, const line *l) {
  out(s, &prefix, 1);
  out(s, l->p, l->len);
  if (l->len == 0 || l->p[l->len - 1] != '\n') out_str(s, NO_NEWLINE);
}

/* A hunk side's range as GNU prints it: "l,s", "l" when s == 1, and for
 * an empty range the number of the line before it, ",0". */
static void out_range(sink *s, char sign, size_t start, size_t count) {
  char num[64];
  int len;
  if (count == 0) {
    len = snprintf(num, sizeof num, "%c%zu,0", sign, start);
  } else if (count == 1) {
    len = snprintf(num, sizeof num, "%c%zu", sign, start + 1);
  } else {
    len = snprintf(num, sizeof num, "%c%zu,%zu", sign, start + 1, count);
  }
  out(s, num, (size_t)len);
}

static void out_hunk_header(sink *s, size_t a0, size_t a1, size_t b0,
                            size_t b1) {
  out_str(s, "@@ ");
  out_range(s, '-', a0, a1 - a0);
  out_str(s, " ");
  out_range(s, '+', b0, b1 - b0);
  out_str(s, " @@\n");
}

static void out_headers(sink *s, const char *a_label, const char *b_label) {
  out_str(s, "--- ");
  out_str(s, a_label ? a_label : "");
  out_str(s, "\n+++ ");
  out_str(s, b_label ? b_label : "");
  out_str(s, "\n");
}

/* Calls @p fn on each line of @p p; stops early past @p max lines.
 * Returns the number of lines (max + 1 when it stopped). */
static size_t each_line(const char *p, size_t len, size_t max,
                        void (*fn)(void *, const line *), void *arg) {
  size_t n = 0, off = 0;
  while (off < len && n <= max) {
    const char *nl = memchr(p + off, '\n', len - off);
    size_t end = nl ? (size_t)(nl - p) + 1 : len;
    line l = {p + off, end - off};
    if (fn) fn(arg, &l);
    n++;
    off = end;
  }
  return n;
}

typedef struct {
  sink *s;
  char prefix;
} prefixed;

static void out_prefixed(void *arg, const line *l) {
  prefixed *pf = arg;
  out_line(pf->s, pf->prefix, l);
}

/* The fallback: one hunk, all of a deleted, all of b inserted. */
static void out_whole(sink *s, const char *a, size_t a_len, const char *b,
                      size_t b_len) {
  prefixed minus = {s, '-'}, plus = {s, '+'};
  size_t n = each_line(a, a_len, SIZE_MAX - 1, NULL, NULL);
  size_t m = each_line(b, b_len, SIZE_MAX - 1, NULL, NULL);
  out_hunk_header(s, 0, n, 0, m);
  each_line(a, a_len, SIZE_MAX - 1, out_prefixed, &minus);
  each_line(b, b_len, SIZE_MAX - 1, out_prefixed, &plus);
}

static void add_line(void *arg, const line *l) {
  side *sd = arg;
  sd->l[sd->n++] = *l;
}

/* Cuts @p p into @p n lines. Returns 0 or -2. */
static int side_init(side *sd, const char *p, size_t len, size_t n) {
  sd->l = calloc(n + 1, sizeof *sd->l);
  sd->cls = calloc(n + 1, sizeof *sd->cls);
  sd->ch_mem = calloc(n + 2, 1);
  if (!sd->l || !sd->cls || !sd->ch_mem) return -2;
  sd->ch = sd->ch_mem + 1;
  each_line(p, len, n, add_line, sd);
  return 0;
}

static void side_free(side *sd) {
  free(sd->l);
  free(sd->cls);
  free(sd->ch_mem);
}

static uint64_t hash_line(const line *l) {
  uint64_t h = 14695981039346656037ULL;
  for (size_t i = 0; i < l->len; i++) {
    h = (h ^ (unsigned char)l->p[i]) * 1099511628211ULL;
  }
  return h;
}

/* A hash table slot: a class's representative line (1-based index over
 * a then b; 0: empty) and the high bits of its hash. */
typedef struct {
  uint32_t ref, tag;
} slot;

typedef struct {
  slot *t;
  size_t mask, probes, budget;
  const side *a, *b;
} classes;

static const line *line_at(const classes *c, uint32_t idx) {
  return idx < c->a->n ? &c->a->l[idx] : &c->b->l[idx - c->a->n];
}

/* The class of line number @p idx (over a then b): the index of the first
 * equal line. -1 when the probe budget is spent. */
static int64_t class_of(classes *c, uint32_t idx) {
  const line *l = line_at(c, idx);
  uint64_t h = hash_line(l);
  uint32_t tag = (uint32_t)(h >> 32);
  for (size_t i = (size_t)h & c->mask;; i = (i + 1) & c->mask) {
    slot *sl = &c->t[i];
    if (++c->probes > c->budget) return -1;
    if (sl->ref == 0) {
      sl->ref = idx + 1;
      sl->tag = tag;
      return idx;
    }
    const line *rep = line_at(c, sl->ref - 1);
    if (sl->tag == tag && rep->len == l->len &&
        memcmp(rep->p, l->p, l->len) == 0) {
      return sl->ref - 1;
    }
  }
}

/* Numbers the lines of both sides. Returns 0, 1 (too many hash
 * collisions) or -2. */
static int classify(side *a, side *b) {
  size_t total = a->n + b->n, size = 16;
  while (size < 2 * total) size *= 2;
  classes c = {calloc(size, sizeof(slot)), size - 1, 0,
               PROBES_PER_LINE * (total + 1), a, b};
  if (!c.t) return -2;
  int rc = 0;
  for (uint32_t i = 0; i < total && rc == 0; i++) {
    int64_t k = class_of(&c, i);
    if (k < 0) rc = 1;
    else if (i < a->n) a->cls[i] = (uint32_t)k;
    else b->cls[i - a->n] = (uint32_t)k;
  }
  free(c.t);
  return rc;
}

/* Finds the change after (*i, *j), sets *i, *j past it. Returns 0 at the
 * end. */
static int next_change(const side *a, const side *b, size_t *i, size_t *j,
                       change *c) {
  while (*i < a->n && *j < b->n && !a->ch[*i] && !b->ch[*j]) {
    ++*i;
    ++*j;
  }
  c->a = *i;
  c->b = *j;
  while (*i < a->n && a->ch[*i]) ++*i;
  while (*j < b->n && b->ch[*j]) ++*j;
  return *i != c->a || *j != c->b;
}

/* The lines a[a0, a1) and b[b0, b1): common ones as context, each change
 * as its deletions then its insertions. */
static void out_hunk(sink *s, const side *a, const side *b, size_t a0,
                     size_t a1, size_t b0, size_t b1) {
  out_hunk_header(s, a0, a1, b0, b1);
  while (a0 < a1 || b0 < b1) {
    if (a0 < a1 && b0 < b1 && !a->ch[a0] && !b->ch[b0]) {
      out_line(s, ' ', &a->l[a0]);
      a0++;
      b0++;
      continue;
    }
    size_t a_from = a0, b_from = b0;
    for (; a0 < a1 && a->ch[a0]; a0++) out_line(s, '-', &a->l[a0]);
    for (; b0 < b1 && b->ch[b0]; b0++) out_line(s, '+', &b->l[b0]);
    if (a0 == a_from && b0 == b_from) break; /* not a script: no loop */
  }
}

static size_t min3(size_t x, size_t y, size_t z) {
  size_t m = x < y ? x : y;
  return m < z ? m : z;
}

/* Groups the changes into hunks: two changes share a hunk when fewer than
 * 2 * CONTEXT + 1 common lines separate them (GNU's rule). */
static void out_hunks(sink *s, const side *a, const side *b) {
  size_t i = 0, j = 0;
  change first, next;
  while (next_change(a, b, &i, &j, &first)) {
    size_t ni = i, nj = j;
    while (next_change(a, b, &ni, &nj, &next) &&
           next.a - i < 2 * CONTEXT + 1) {
      i = ni;
      j = nj;
    }
    size_t pre = min3(CONTEXT, first.a, first.b);
    size_t post = min3(CONTEXT, a->n - i, b->n - j);
    out_hunk(s, a, b, first.a - pre, i + post, first.b - pre, j + post);
  }
}

/* The edit script of two numbered sides, slid as GNU slides it.
 * Returns 0 or -2. */
static int script(side *a, side *b) {
  size_t max_edit = GXC_UDIFF_MAX_EDIT;
  if (max_edit > a->n + b->n) max_edit = a->n + b->n;
  long *v = calloc(2 * gxc__lcs_vlen(max_edit), sizeof *v);
  if (!v) return -2;
  gxc__lcs(a->cls, a->n, b->cls, b->n, a->ch, b->ch, v, max_edit);
  free(v);
  gxc__lcs_shift(a->cls, a->ch, a->n, b->ch);
  gxc__lcs_shift(b->cls, b->ch, b->n, a->ch);
  return 0;
}

/* Cuts, numbers and compares, then writes the headers and hunks (only
 * then: on -2 nothing is written). Returns 0 or -2. */
static int diff_lines(sink *s, const char *a, size_t a_len, const char *b,
                      size_t b_len, size_t n, size_t m, const char *labels[2]) {
  side sa = {0}, sb = {0};
  int rc = side_init(&sa, a, a_len, n);
  if (rc == 0) rc = side_init(&sb, b, b_len, m);
  if (rc == 0) rc = classify(&sa, &sb);
  if (rc == 0) rc = script(&sa, &sb);
  if (rc == 0 || rc == 1) out_headers(s, labels[0], labels[1]);
  if (rc == 1) out_whole(s, a, a_len, b, b_len);
  if (rc == 0) out_hunks(s, &sa, &sb);
  if (rc == 1) rc = 0;
  side_free(&sa);
  side_free(&sb);
  return rc;
}

int gxc_udiff(const char *a, size_t a_len, const char *b, size_t b_len,
              const char *a_label, const char *b_label, gxc_udiff_put put,
              void *ud) {
  if (a_len == b_len && (a_len == 0 || memcmp(a, b, a_len) == 0)) return 0;
  sink *s = malloc(sizeof *s);
  if (!s) return -2;
  *s = (sink){.put = put, .ud = ud};
  size_t n = each_line(a, a_len, GXC_UDIFF_MAX_LINES, NULL, NULL);
  size_t m = each_line(b, b_len, GXC_UDIFF_MAX_LINES, NULL, NULL);
  const char *labels[2] = {a_label, b_label};
  int rc = 0;
  if (a_len > GXC_UDIFF_MAX_BYTES || b_len > GXC_UDIFF_MAX_BYTES ||
      n > GXC_UDIFF_MAX_LINES || m > GXC_UDIFF_MAX_LINES) {
    out_headers(s, a_label, b_label);
    out_whole(s, a, a_len, b, b_len);
  } else {
    rc = diff_lines(s, a, a_len, b, b_len, n, m, labels);
  }
  if (rc == 0) flush(s);
  if (rc == 0 && s->failed) rc = -1;
  free(s);
  return rc;
}
