/* rtt: warm round trips over open connections to one or more daemons,
 * interleaved, and their percentiles.
 *
 *   rtt [-n RUNS] [-w WARMUP] [--ca F [--cert F --key F]] LABEL=TARGET...
 *
 * (defaults: 1000 runs, 50 warm-up rounds; 1 to 8 series)
 *
 * TARGET is "unix:/path", "host:port" (plaintext TCP) or "tls:host:port"
 * (TLS with --ca, mTLS with --cert and --key too). Each series opens one
 * connection (gexec_connect) before anything is timed. Each round does,
 * for every series in an order rotated by one each round so that machine
 * noise hits all series alike: a gexec_run of /bin/true (stdin_null = 1,
 * the daemon's default profile) timed from the call to its return, then a
 * gexec_ping (health check: a gRPC round trip without a process) timed the
 * same way. A run that fails or does not exit 0 is an error: rtt stops and
 * exits 1.
 *
 * Prints a Markdown table: for /bin/true and for the ping, p50, p90 and
 * p99 in µs (nearest rank), and the p50 and p99 of /bin/true divided by
 * those of the last series (the reference). Used by bench/tls.sh. */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/percentile.h"
#include "client/gexec.h"

#define MAX_SERIES 8
#define MAX_RUNS 1000000

typedef struct {
  char label[64];
  const char *target; /* without "tls:" */
  int tls;
  gexec_conn *conn;
  int64_t *run_ns, *ping_ns; /* one per counted round */
} series;

typedef struct {
  series s[MAX_SERIES];
  int nseries, runs, warmup;
  const char *ca, *cert, *key;
} setup;

static int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static int fail_gexec(const series *s, const char *what, const gexec_error *e) {
  fprintf(stderr, "rtt: %s: %s: %s\n", s->label, what, e->message);
  return -1;
}

/* Splits "LABEL=TARGET" into @p s (TARGET points into @p spec). */
static int parse_series(const char *spec, series *s) {
  const char *eq = strchr(spec, '=');
  if (!eq || eq == spec || (size_t)(eq - spec) >= sizeof s->label ||
      !eq[1]) {
    fprintf(stderr, "rtt: '%s': expected LABEL=TARGET\n", spec);
    return -1;
  }
  memcpy(s->label, spec, (size_t)(eq - spec));
  s->label[eq - spec] = '\0';
  s->target = eq + 1;
  if (strncmp(s->target, "tls:", 4) == 0) {
    s->tls = 1;
    s->target += 4;
  }
  return 0;
}

/* Connects series @p s, with TLS from @p u when it asks for it. */
static int connect_series(const setup *u, series *s) {
  gexec_conn_opts *o = NULL;
  gexec_error e = {0};
  int rc = gexec_conn_opts_new(&o);
  if (rc == GEXEC_OK && s->tls)
    rc = gexec_conn_opts_set_tls(o, u->ca, u->cert, u->key);
  if (rc == GEXEC_OK) rc = gexec_connect(s->target, o, &s->conn, &e);
  else snprintf(e.message, sizeof e.message, "bad TLS options (code %d)", rc);
  gexec_conn_opts_free(o);
  return rc == GEXEC_OK ? 0 : fail_gexec(s, "connect", &e);
}

/* One /bin/true and one ping on @p s; the times go to @p run, @p ping. */
static int round_trip(series *s, int64_t *run, int64_t *ping) {
  static const char *const argv[] = {"/bin/true", NULL};
  gexec_spec spec = {.argv = argv, .stdin_null = 1};
  gexec_result r;
  gexec_error e;
  int64_t t0 = now_ns();
  if (gexec_run(s->conn, &spec, NULL, &r, &e) != GEXEC_OK)
    return fail_gexec(s, "gexec_run", &e);
  *run = now_ns() - t0;
  int bad = r.exit.signal != 0 || r.exit.exit_code != 0;
  gexec_result_free(&r);
  if (bad) {
    fprintf(stderr, "rtt: %s: /bin/true did not exit 0\n", s->label);
    return -1;
  }
  t0 = now_ns();
  if (gexec_ping(s->conn, 10000, NULL, &e) != GEXEC_OK)
    return fail_gexec(s, "ping", &e);
  *ping = now_ns() - t0;
  return 0;
}

static int run_all(setup *u) {
  int64_t x, y;
  for (int r = 0; r < u->warmup + u->runs; r++) {
    for (int k = 0; k < u->nseries; k++) {
      series *s = &u->s[(r + k) % u->nseries];
      int i = r - u->warmup;
      if (round_trip(s, i < 0 ? &x : &s->run_ns[i],
                     i < 0 ? &y : &s->ping_ns[i]) != 0)
        return -1;
    }
  }
  return 0;
}

static void print_table(setup *u) {
  const series *ref = &u->s[u->nseries - 1];
  int n = u->runs;
  for (int k = 0; k < u->nseries; k++) {
    pct_sort(u->s[k].run_ns, n);
    pct_sort(u->s[k].ping_ns, n);
  }
  printf("| series (%d rounds) | `true` p50 µs | p90 µs | p99 µs "
         "| p50 / %s | p99 / %s | ping p50 µs | ping p90 µs | ping p99 µs "
         "|\n|---|---|---|---|---|---|---|---|---|\n",
         n, ref->label, ref->label);
  for (int k = 0; k < u->nseries; k++) {
    const series *s = &u->s[k];
    printf("| %s | %.0f | %.0f | %.0f | %.2f× | %.2f× | %.0f | %.0f | %.0f "
           "|\n",
           s->label, pct_us(s->run_ns, n, 50), pct_us(s->run_ns, n, 90),
           pct_us(s->run_ns, n, 99),
           pct_us(s->run_ns, n, 50) / pct_us(ref->run_ns, n, 50),
           pct_us(s->run_ns, n, 99) / pct_us(ref->run_ns, n, 99),
           pct_us(s->ping_ns, n, 50), pct_us(s->ping_ns, n, 90),
           pct_us(s->ping_ns, n, 99));
  }
}

static int parse_count(const char *s, long lo, int *v) {
  char *end;
  errno = 0;
  long x = strtol(s, &end, 10);
  if (errno || end == s || *end || x < lo || x > MAX_RUNS) return -1;
  *v = (int)x;
  return 0;
}

static int usage(void) {
  fprintf(stderr, "usage: rtt [-n RUNS] [-w WARMUP] [--ca F [--cert F "
                  "--key F]] LABEL=TARGET... (1 to 8; TARGET unix:/path, "
                  "host:port or tls:host:port)\n");
  return -1;
}

static int parse_opts(int argc, char **argv, setup *u) {
  static const struct option lo[] = {{"ca", required_argument, NULL, 'a'},
                                     {"cert", required_argument, NULL, 'c'},
                                     {"key", required_argument, NULL, 'k'},
                                     {NULL, 0, NULL, 0}};
  int c;
  while ((c = getopt_long(argc, argv, "+n:w:", lo, NULL)) != -1) {
    if (c == 'a' || c == 'c' || c == 'k')
      *(c == 'a' ? &u->ca : c == 'c' ? &u->cert : &u->key) = optarg;
    else if ((c != 'n' && c != 'w') ||
             parse_count(optarg, c == 'n', c == 'n' ? &u->runs : &u->warmup))
      return usage();
  }
  if (optind == argc || argc - optind > MAX_SERIES) return usage();
  for (int i = optind; i < argc; i++)
    if (parse_series(argv[i], &u->s[u->nseries++]) != 0) return -1;
  return 0;
}

int main(int argc, char **argv) {
  static setup u = {.runs = 1000, .warmup = 50};
  int rc = 1;
  if (parse_opts(argc, argv, &u) != 0) return 2;
  for (int k = 0; k < u.nseries; k++) {
    series *s = &u.s[k];
    s->run_ns = calloc((size_t)u.runs, sizeof(int64_t));
    s->ping_ns = calloc((size_t)u.runs, sizeof(int64_t));
    if (!s->run_ns || !s->ping_ns || connect_series(&u, s) != 0) goto out;
  }
  if (run_all(&u) == 0) {
    print_table(&u);
    rc = 0;
  }
out:
  for (int k = 0; k < u.nseries; k++) {
    if (u.s[k].conn) gexec_conn_close(u.s[k].conn);
    free(u.s[k].run_ns);
    free(u.s[k].ping_ns);
  }
  return rc;
}
