/* The edit script of udiff: Myers' O(ND) difference algorithm ("An O(ND)
 * Difference Algorithm and Its Variations", 1986), linear-space variant.
 *
 * Coordinates: x indexes a, y indexes b; diagonal k = x - y. A forward
 * path starts at (0, 0) of a region, a backward one at (n, m); each step
 * of either is one deletion or insertion followed by a "snake" (as many
 * equal lines as follow). The search runs both at once, d steps each,
 * keeping in vf[k] / vb[k - delta] the furthest point reached on each
 * diagonal, until they meet: the point where they meet is on a shortest
 * script, and the region is split there and each half solved alike. The
 * paths are allowed off the region (no line matches there), which keeps
 * the bookkeeping free of edge cases; only lines inside are compared.
 * Tie-breaking and the order of diagonals follow GNU diff's analyze.c,
 * so that among equally short scripts the same one tends to come out. */
#include "client/cli/udiff_lcs.h"

typedef struct {
  const uint32_t *a, *b;
  char *ca, *cb;
  long *vf, *vb; /* centered: vf[k] for k in [-(dmax + 1), dmax + 1] */
  long max_edit;
  int fell_back;
} lcs;

/* A region of the problem: its origin in a and b, its size, n - m. */
typedef struct {
  long x0, y0, n, m, delta;
} region;

size_t gxc__lcs_vlen(size_t max_edit) { return 2 * ((max_edit + 1) / 2) + 3; }

static void mark(char *ch, long from, long to) {
  for (long i = from; i < to; i++) ch[i] = 1;
}

/* Step d of the forward search; 1 (with the meeting point) on meeting a
 * backward path of d - 1 steps. */
static int forward(lcs *s, const region *r, long d, long *xm, long *ym) {
  const uint32_t *a = s->a + r->x0, *b = s->b + r->y0;
  long *vf = s->vf, *vb = s->vb;
  for (long k = d; k >= -d; k -= 2) {
    long x = (k == -d || (k != d && vf[k - 1] < vf[k + 1])) ? vf[k + 1]
                                                            : vf[k - 1] + 1;
    long y = x - k;
    while (x < r->n && y < r->m && a[x] == b[y]) {
      x++;
      y++;
    }
    vf[k] = x;
    long kb = k - r->delta;
    if ((r->delta & 1) && kb >= -(d - 1) && kb <= d - 1 && x >= vb[kb]) {
      *xm = x;
      *ym = y;
      return 1;
    }
  }
  return 0;
}

/* Step d of the backward search; 1 on meeting a forward path of d steps. */
static int backward(lcs *s, const region *r, long d, long *xm, long *ym) {
  const uint32_t *a = s->a + r->x0, *b = s->b + r->y0;
  long *vf = s->vf, *vb = s->vb;
  for (long kb = d; kb >= -d; kb -= 2) {
    long x = (kb == d || (kb != -d && vb[kb - 1] < vb[kb + 1]))
                 ? vb[kb - 1]
                 : vb[kb + 1] - 1;
    long k = kb + r->delta;
    long y = x - k;
    while (x > 0 && y > 0 && a[x - 1] == b[y - 1]) {
      x--;
      y--;
    }
    vb[kb] = x;
    if (!(r->delta & 1) && k >= -d && k <= d && x <= vf[k]) {
      *xm = x;
      *ym = y;
      return 1;
    }
  }
  return 0;
}

/* The meeting point of the two searches in @p r (local coordinates);
 * -1 when the distance is over max_edit. A meeting in forward step d
 * means a distance of 2d - 1, in backward step d, of 2d. */
static int middle(lcs *s, const region *r, long *xm, long *ym) {
  s->vf[1] = 0;
  s->vb[-1] = r->n;
  for (long d = 0; 2 * d - 1 <= s->max_edit; d++) {
    if (forward(s, r, d, xm, ym)) return 0;
    if (2 * d > s->max_edit) break;
    if (backward(s, r, d, xm, ym)) return 0;
  }
  return -1;
}

/* Solves a[x0, x1) against b[y0, y1): sets aside the common head and
 * tail, then splits at the middle point. Recursion depth: the distance
 * about halves at each level, so about log2(distance). */
static void compare(lcs *s, long x0, long x1, long y0, long y1) {
  while (x0 < x1 && y0 < y1 && s->a[x0] == s->b[y0]) {
    x0++;
    y0++;
  }
  while (x0 < x1 && y0 < y1 && s->a[x1 - 1] == s->b[y1 - 1]) {
    x1--;
    y1--;
  }
  region r = {x0, y0, x1 - x0, y1 - y0, (x1 - x0) - (y1 - y0)};
  long xm = 0, ym = 0;
  if (r.n == 0 || r.m == 0 || middle(s, &r, &xm, &ym) != 0) {
    s->fell_back |= r.n != 0 && r.m != 0;
    mark(s->ca, x0, x1);
    mark(s->cb, y0, y1);
    return;
  }
  compare(s, x0, x0 + xm, y0, y0 + ym);
  compare(s, x0 + xm, x1, y0 + ym, y1);
}

int gxc__lcs(const uint32_t *a, size_t n, const uint32_t *b, size_t m,
             char *ca, char *cb, long *v, size_t max_edit) {
  size_t len = gxc__lcs_vlen(max_edit);
  lcs s = {a, b, ca, cb, v + len / 2, v + len + len / 2, (long)max_edit, 0};
  compare(&s, 0, (long)n, 0, (long)m);
  return s.fell_back;
}

/* Moves the run ch[*start, *i) up one line; *j follows in the other side:
 * it stays the index there of the unchanged line matching line *i. */
static void run_up(char *ch, const char *och, long *start, long *i, long *j) {
  ch[--*start] = 1;
  ch[--*i] = 0;
  while (--*j >= 0 && och[*j]) {
  }
}

/* Slides the run [*start, *i) up while the line above it equals its last
 * one, merging with the runs it meets on the way. */
static void slide_up(const uint32_t *eq, char *ch, const char *och,
                     long *start, long *i, long *j) {
  while (*start > 0 && eq[*start - 1] == eq[*i - 1]) {
    run_up(ch, och, start, i, j);
    while (ch[*start - 1]) --*start;
  }
}

/* Slides the run down while the line below it equals its first one,
 * merging; returns the lowest end of the run that is next to a run of
 * changes of the other side, or n if none. */
static long slide_down(const uint32_t *eq, char *ch, long n, const char *och,
                       long *start, long *i, long *j) {
  long corr = *j > 0 && och[*j - 1] ? *i : n;
  while (*i != n && eq[*start] == eq[*i]) {
    ch[(*start)++] = 0;
    ch[(*i)++] = 1;
    while (ch[*i]) ++*i;
    while (och[++*j]) corr = *i;
  }
  return corr;
}

void gxc__lcs_shift(const uint32_t *eq, char *ch, size_t n, const char *och) {
  long i = 0, j = 0, end = (long)n;
  for (;;) {
    for (; i < end && !ch[i]; i++) {
      while (och[j]) j++;
      j++;
    }
    if (i == end) break;
    long start = i, len, corr;
    while (ch[i]) i++;
    while (och[j]) j++;
    do {
      len = i - start;
      slide_up(eq, ch, och, &start, &i, &j);
      corr = slide_down(eq, ch, end, och, &start, &i, &j);
    } while (len != i - start);
    while (corr < i) run_up(ch, och, &start, &i, &j);
  }
}
