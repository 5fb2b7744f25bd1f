/* gexec_bench: section 1, round-trip latency of /bin/true and ping. See main.c and docs/BENCHMARKS.md. */
#include "bench/bench.h"

/* --------------------------------------------------- 1. /bin/true RTT */

/* Runs /bin/true in @p profile (NULL: the daemon's default). @p ns: our
 * round trip; @p inner: the daemon's spawn-to-reap time; @p iso (may be
 * NULL): the isolation reported; @p e (may be NULL): where a GEXEC_E*
 * error (returned as is, negative) goes for the caller to report, else it
 * is reported here. Returns 0, that code, or 1 for a nonzero exit
 * (already reported). */
int gb_remote_true_in(gexec_conn *c, const char *profile, int64_t *ns,
                          int64_t *inner, gexec_isolation *iso,
                          gexec_error *e) {
  static const char *const argv[] = {"/bin/true", NULL};
  gexec_spec s = {.argv = argv, .stdin_null = 1, .profile = profile};
  gexec_result r;
  gexec_error e_own;
  int64_t t0 = gb_now_ns();
  int rc = gexec_run(c, &s, NULL, &r, e ? e : &e_own);
  *ns = gb_now_ns() - t0;
  if (rc != GEXEC_OK)
    return e ? rc : gb_fail_gexec("remote /bin/true", rc, &e_own);
  *inner = (int64_t)r.exit.wall_time_us * 1000;
  if (iso) *iso = r.exit.isolation;
  rc = gb_check_exit("remote /bin/true", &r.exit) ? 1 : 0; /* reported */
  gexec_result_free(&r);
  return rc;
}

static int remote_true(gexec_conn *c, int64_t *ns, int64_t *inner) {
  return gb_remote_true_in(c, NULL, ns, inner, NULL, NULL);
}

static int local_true(int64_t *ns) {
  static char arg0[] = "/bin/true";
  char *const argv[] = {arg0, NULL};
  pid_t pid;
  int64_t t0 = gb_now_ns();
  int rc = posix_spawn(&pid, arg0, NULL, NULL, argv, environ);
  if (rc != 0) return gb_fail("local /bin/true", "posix_spawn: %s", strerror(rc));
  rc = gb_wait_child("local /bin/true", pid);
  *ns = gb_now_ns() - t0;
  return rc;
}

int gb_ping_once(gexec_conn *c, int64_t *ns) {
  gexec_error e;
  int64_t t0 = gb_now_ns();
  int rc = gexec_ping(c, 10000, NULL, &e);
  *ns = gb_now_ns() - t0;
  return rc == GEXEC_OK ? 0 : gb_fail_gexec("ping", rc, &e);
}

typedef struct {
  int64_t *remote, *local, *inner; /* nanoseconds, one per iteration */
} lat_samples;

static void report_latency(lat_samples *v, int n) {
  stats r = gb_stats_of(v->remote, n), l = gb_stats_of(v->local, n);
  stats in = gb_stats_of(v->inner, n);
  const char *name[3] = {"`/bin/true` round trip, p50",
                         "`/bin/true` round trip, p99",
                         "`/bin/true` round trip, mean"};
  double rv[3] = {r.p50, r.p99, r.mean}, lv[3] = {l.p50, l.p99, l.mean};
  for (int i = 0; i < 3; i++) {
    row *w = gb_add_row("1", name[i]);
    SET(w->remote, "%.0f µs", rv[i]);
    SET(w->local, "%.0f µs", lv[i]);
    SET(w->ratio, "%.2f×", rv[i] / lv[i]);
  }
  row *p50 = &gb_rows[gb_nrows - 3];
  SET(p50->target, "≤ %.0f×", LAT_TARGET);
  SET(p50->result, "%s", r.p50 / l.p50 <= LAT_TARGET ? "MET" : "MISSED");
  row *w = gb_add_row("1", "(context) daemon-reported spawn→reap time "
                        "(`exited.wall_time_us`), p50 / p99");
  SET(w->remote, "%.0f / %.0f µs", in.p50, in.p99);
}

static lat_samples lat_alloc(int n) {
  lat_samples v = {calloc((size_t)n, sizeof(int64_t)),
                   calloc((size_t)n, sizeof(int64_t)),
                   calloc((size_t)n, sizeof(int64_t))};
  return v;
}

static void lat_free(lat_samples *v) {
  free(v->remote);
  free(v->local);
  free(v->inner);
}

/* Remote and local runs alternate so that machine noise hits both. */
void bench_latency(const options *o, gexec_conn *c) {
  int n = o->iters, bad = 0;
  lat_samples v = lat_alloc(n);
  int64_t x, y;
  if (!v.remote || !v.local || !v.inner)
    bad = gb_fail("latency", "out of memory");
  for (int i = 0; i < o->warmup && !bad; i++)
    bad = remote_true(c, &x, &y) || local_true(&x);
  for (int i = 0; i < n && !bad; i++)
    bad = remote_true(c, &v.remote[i], &v.inner[i]) ||
          local_true(&v.local[i]);
  if (bad)
    SET(gb_add_row("1", "`/bin/true` round trip")->result, "FAILED");
  else
    report_latency(&v, n);
  lat_free(&v);
}

/* Context for §1: the gRPC round trip alone (health check, no process). */
void bench_ping(const options *o, gexec_conn *c) {
  int n = o->iters, bad = 0;
  int64_t *v = calloc((size_t)n, sizeof *v), x;
  if (!v) return;
  for (int i = 0; i < o->warmup && !bad; i++) bad = gb_ping_once(c, &x);
  for (int i = 0; i < n && !bad; i++) bad = gb_ping_once(c, &v[i]);
  row *w = gb_add_row("1", "(context) health-check ping, p50 / p99");
  if (bad) {
    SET(w->result, "FAILED");
  } else {
    stats s = gb_stats_of(v, n);
    SET(w->remote, "%.0f / %.0f µs", s.p50, s.p99);
  }
  free(v);
}
