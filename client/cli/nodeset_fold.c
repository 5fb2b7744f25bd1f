/* Folding names into a node set text (gxc_nodeset_fold).
 *
 * Each name is cut into constant text and digit runs; names with the same
 * constant text and the same number of runs share a "shape" ("node\1",
 * "rack\1-n\1"). A name is then a vector of one-element sets, one per run.
 * A pass along run j merges the vectors that agree on every other run
 * (compared by their folded text) by uniting their sets at j; passes are
 * repeated until nothing merges. That is done twice, the last run first
 * and the first run first, and the shorter text wins (the first on a
 * tie). A set prints as its only text, or as "[a-b,c]": consecutive
 * values with the padding of the range's first text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/cli/nodeset.h"

#define SLOT '\x01' /* a digit run's place in a shape */

/* A growable string; oom set once anything failed. */
typedef struct {
  char *p;
  size_t n, cap;
  int oom;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n) {
  if (b->oom) return;
  if (b->n + n + 1 > b->cap) {
    size_t cap = (b->n + n + 1) * 2;
    char *p = realloc(b->p, cap);
    if (!p) {
      b->oom = 1;
      return;
    }
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->n, s, n);
  b->n += n;
  b->p[b->n] = '\0';
}

static void sb_str(sbuf *b, const char *s) { sb_put(b, s, strlen(s)); }

/* A set of digit texts, sorted by text_cmp, no duplicates; the texts are
 * borrowed from the fold's pool. */
typedef struct {
  const char **v;
  size_t n;
} dset;

/* One group: a shape and a set per run. */
typedef struct {
  const char *shape; /* borrowed from the pool */
  size_t k;
  dset *d;           /* owned, k sets */
  char *key;         /* owned, scratch of a pass */
  int dead;
} elem;

typedef struct {
  gxc_names pool; /* every shape and digit text */
  elem *e;
  size_t n;
  int oom;
} fold;

/* Orders digit texts by value, then by length ("1" < "01" < "2"). */
static int text_cmp(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  const char *sa = a, *sb = b;
  while (*sa == '0' && sa[1]) sa++;
  while (*sb == '0' && sb[1]) sb++;
  if (strlen(sa) != strlen(sb)) return strlen(sa) < strlen(sb) ? -1 : 1;
  int c = strcmp(sa, sb);
  if (c) return c;
  return la < lb ? -1 : la > lb;
}

/* ------------------------------------------------------- building */

/* Cuts @p name into its shape (digit runs of at most
 * GXC_NODESET_DIGITS_MAX digits replaced by SLOT) and its runs. Names
 * with control bytes are constant text whole. Returns the run count. */
static size_t cut(const char *name, sbuf *shape, gxc_names *runs) {
  const char *p = name;
  for (const char *q = name; *q; q++)
    if ((unsigned char)*q < 0x20) return sb_str(shape, name), 0;
  while (*p) {
    size_t d = strspn(p, "0123456789");
    if (d == 0 || d > GXC_NODESET_DIGITS_MAX) {
      size_t t = d ? d : strcspn(p, "0123456789");
      sb_put(shape, p, t);
      p += t;
      continue;
    }
    char run[GXC_NODESET_DIGITS_MAX + 1];
    memcpy(run, p, d);
    run[d] = '\0';
    if (gxc_names_add(runs, run) != 0) shape->oom = 1;
    sb_put(shape, "\x01", 1);
    p += d;
  }
  return runs->n;
}

static const char *pool_add(fold *f, const char *s) {
  if (gxc_names_add(&f->pool, s) != 0) return f->oom = 1, NULL;
  return f->pool.v[f->pool.n - 1];
}

static int add_name(fold *f, const char *name) {
  sbuf shape = {0};
  gxc_names runs = {0};
  elem *e = &f->e[f->n];
  size_t k = cut(name, &shape, &runs);
  e->k = k;
  e->d = calloc(k ? k : 1, sizeof *e->d);
  e->shape = shape.oom || !e->d ? NULL : pool_add(f, shape.p ? shape.p : "");
  for (size_t i = 0; e->shape && i < k; i++) {
    e->d[i].v = malloc(sizeof *e->d[i].v);
    if (e->d[i].v) e->d[i].v[0] = pool_add(f, runs.v[i]);
    e->d[i].n = e->d[i].v && e->d[i].v[0] ? 1 : 0;
    if (!e->d[i].n) f->oom = 1;
  }
  f->n++;
  if (!e->shape) f->oom = 1;
  free(shape.p);
  gxc_names_free(&runs);
  return f->oom ? -1 : 0;
}

static void fold_free(fold *f) {
  for (size_t i = 0; i < f->n; i++) {
    for (size_t j = 0; f->e[i].d && j < f->e[i].k; j++) free(f->e[i].d[j].v);
    free(f->e[i].d);
    free(f->e[i].key);
  }
  free(f->e);
  gxc_names_free(&f->pool);
}

/* ------------------------------------------------------- printing */

static int has(const dset *s, const char *t) {
  size_t lo = 0, hi = s->n;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    int c = text_cmp(s->v[mid], t);
    if (c == 0) return (int)mid;
    if (c < 0) lo = mid + 1; else hi = mid;
  }
  return -1;
}

/* Appends @p s as "t" or "[a-b,c]". */
static void put_set(sbuf *b, const dset *s) {
  char *used = calloc(s->n, 1);
  if (!used) return (void)(b->oom = 1);
  if (s->n > 1) sb_str(b, "[");
  for (size_t i = 0; i < s->n; i++) {
    if (used[i]) continue;
    int w = (int)strlen(s->v[i]), at;
    long v = strtol(s->v[i], NULL, 10);
    char t[32], last[32] = "";
    for (;;) {
      snprintf(t, sizeof t, "%0*ld", w, ++v);
      if ((at = has(s, t)) < 0 || used[at]) break;
      used[at] = 1;
      snprintf(last, sizeof last, "%s", t);
    }
    if (i) sb_str(b, ",");
    sb_str(b, s->v[i]);
    if (last[0]) sb_str(b, "-"), sb_str(b, last);
  }
  if (s->n > 1) sb_str(b, "]");
  free(used);
}

/* Appends @p e's text; with @p skip < k, run @p skip is left out and
 * the others are separated (a merge key). */
static void put_elem(sbuf *b, const elem *e, size_t skip) {
  size_t r = 0;
  for (const char *p = e->shape; *p; p++) {
    if (*p != SLOT) {
      sb_put(b, p, 1);
    } else {
      if (r != skip) put_set(b, &e->d[r]);
      if (skip < e->k) sb_str(b, "\x02");
      r++;
    }
  }
}

/* ------------------------------------------------------- merging */

static int by_key(const void *a, const void *b) {
  const elem *x = *(elem *const *)a, *y = *(elem *const *)b;
  int c = strcmp(x->key, y->key);
  return c ? c : (x < y ? -1 : x > y);
}

static int by_text(const void *a, const void *b) {
  return text_cmp(*(const char *const *)a, *(const char *const *)b);
}

/* Unites the sets at run @p j of @p g[0..n) into g[0]'s (all at once:
 * uniting pairwise would be quadratic on one long range). */
static int unite(elem **g, size_t n, size_t j) {
  size_t total = 0, u = 0;
  for (size_t i = 0; i < n; i++) total += g[i]->d[j].n;
  const char **v = malloc(total * sizeof *v);
  if (!v) return -1;
  for (size_t i = 0, o = 0; i < n; i++) {
    memcpy(v + o, g[i]->d[j].v, g[i]->d[j].n * sizeof *v);
    o += g[i]->d[j].n;
    if (i) g[i]->dead = 1;
  }
  qsort(v, total, sizeof *v, by_text);
  for (size_t i = 0; i < total; i++)
    if (u == 0 || text_cmp(v[u - 1], v[i]) != 0) v[u++] = v[i];
  free(g[0]->d[j].v);
  g[0]->d[j].v = v;
  g[0]->d[j].n = u;
  return 0;
}

/* One pass along run @p j over the live groups @p g (one shape with at
 * least j + 1 runs); returns how many merged, or -1. */
static long pass(elem **g, size_t n, size_t j) {
  long merged = 0;
  for (size_t i = 0; i < n; i++) {
    sbuf b = {0};
    put_elem(&b, g[i], j);
    free(g[i]->key);
    g[i]->key = b.oom ? NULL : b.p;
    if (!g[i]->key) return free(b.p), -1;
  }
  qsort(g, n, sizeof *g, by_key);
  for (size_t a = 0, i = 1; i <= n; i++) {
    if (i < n && strcmp(g[i]->key, g[a]->key) == 0) continue;
    if (i - a > 1 && unite(g + a, i - a, j) != 0) return -1;
    merged += (long)(i - a - 1);
    a = i;
  }
  return merged;
}

/* Folds the groups @p g of one shape with @p k runs until stable. */
static int fold_shape(elem **g, size_t n, size_t k, int first_run_first) {
  long merged = 1;
  while (merged > 0) {
    merged = 0;
    for (size_t s = 0; s < k; s++) {
      size_t live = 0;
      for (size_t i = 0; i < n; i++)
        if (!g[i]->dead) g[live++] = g[i];
      n = live;
      long m = pass(g, n, first_run_first ? s : k - 1 - s);
      if (m < 0) return -1;
      merged += m;
    }
  }
  return 0;
}

/* ------------------------------------------------------- ordering */

static int by_shape(const void *a, const void *b) {
  const elem *x = *(elem *const *)a, *y = *(elem *const *)b;
  int c = strcmp(x->shape, y->shape);
  return c ? c : (x->k > y->k) - (x->k < y->k);
}

/* Text before the first number, then the numbers, then the rest. */
static int by_order(const void *a, const void *b) {
  const elem *x = *(elem *const *)a, *y = *(elem *const *)b;
  size_t px = x->k ? strcspn(x->shape, "\x01") : strlen(x->shape);
  size_t py = y->k ? strcspn(y->shape, "\x01") : strlen(y->shape);
  int c = memcmp(x->shape, y->shape, px < py ? px : py);
  if (c || px != py) return c ? c : px < py ? -1 : 1;
  for (size_t i = 0; i < x->k && i < y->k; i++)
    if ((c = text_cmp(x->d[i].v[0], y->d[i].v[0])) != 0) return c;
  if (x->k != y->k) return x->k < y->k ? -1 : 1;
  return strcmp(x->key, y->key);
}

/* ------------------------------------------------------- folding */

static int fold_all(fold *f, elem **g, int first_run_first) {
  qsort(g, f->n, sizeof *g, by_shape);
  for (size_t a = 0, i = 1; i <= f->n; i++) {
    if (i < f->n && by_shape(&g[a], &g[i]) == 0) continue;
    if (g[a]->k && fold_shape(g + a, i - a, g[a]->k, first_run_first) != 0)
      return -1;
    a = i;
  }
  return 0;
}

/* Joins the live groups, in order, duplicates once. */
static char *join(fold *f, elem **g) {
  size_t n = 0;
  sbuf out = {0};
  for (size_t i = 0; i < f->n; i++) {
    sbuf b = {0};
    if (f->e[i].dead) continue;
    put_elem(&b, &f->e[i], (size_t)-1);
    free(f->e[i].key);
    f->e[i].key = b.p;
    if (b.oom || !b.p) return free(b.p), f->e[i].key = NULL, NULL;
    g[n++] = &f->e[i];
  }
  qsort(g, n, sizeof *g, by_order);
  sb_str(&out, "");
  for (size_t i = 0; i < n; i++) {
    if (i && strcmp(g[i]->key, g[i - 1]->key) == 0) continue;
    if (i) sb_str(&out, ",");
    sb_str(&out, g[i]->key);
  }
  if (out.oom) free(out.p);
  return out.oom ? NULL : out.p;
}

/* The folded text (malloc'd), or NULL when memory ran out. */
static char *fold_with(const char *const *names, size_t n,
                       int first_run_first) {
  fold f = {0};
  elem **g = calloc(n ? n : 1, sizeof *g);
  char *text = NULL;
  f.e = calloc(n ? n : 1, sizeof *f.e);
  if (!g || !f.e) goto out;
  for (size_t i = 0; i < n; i++) {
    if (add_name(&f, names[i]) != 0) goto out;
    g[i] = &f.e[i];
  }
  if (fold_all(&f, g, first_run_first) == 0) text = join(&f, g);
out:
  fold_free(&f);
  free(g);
  return text;
}

size_t gxc_nodeset_fold(const char *const *names, size_t n, char *out,
                        size_t cap) {
  char *a = fold_with(names, n, 0), *b = a ? fold_with(names, n, 1) : NULL;
  char *t = b && strlen(b) < strlen(a) ? b : a;
  size_t len = t ? strlen(t) : 0;
  if (cap) {
    size_t keep = cap - 1;
    if (len <= keep) {
      memcpy(out, t ? t : "", len + 1);
    } else {
      size_t dots = keep < 3 ? keep : 3;
      memcpy(out, t, keep - dots);
      memcpy(out + keep - dots, "...", dots);
      out[keep] = '\0';
    }
  }
  free(a);
  free(b);
  return len;
}
