/* Nearest-rank percentiles of timings, for the small bench programs
 * (cmd_time, rtt). Not a library API. */
#ifndef GEXEC_BENCH_PERCENTILE_H
#define GEXEC_BENCH_PERCENTILE_H

#include <stdint.h>

/** Sorts @p n nanosecond samples in place, ascending. */
void pct_sort(int64_t *v, int n);

/** The nearest-rank percentile @p p (1-100) of @p n sorted nanosecond
 *  samples @p v (n >= 1), in microseconds. */
double pct_us(const int64_t *v, int n, int p);

#endif
