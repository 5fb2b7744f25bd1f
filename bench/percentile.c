/* Nearest-rank percentiles of timings; see percentile.h. */
#include "bench/percentile.h"

#include <stdlib.h>

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

void pct_sort(int64_t *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_i64);
}

double pct_us(const int64_t *v, int n, int p) {
  int i = (n * p + 99) / 100 - 1;
  return (double)v[i < 0 ? 0 : i] / 1e3;
}
