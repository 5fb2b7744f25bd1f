/* gexec_bench: section 8, the event API (gexec_evq). (a) runs/s and
 * client CPU per run of /bin/true at 1, 16, 64 and 256 runs in flight,
 * all driven from this one thread through one queue over min(K, 16)
 * connections, beside the blocking approach (K threads calling gexec_run
 * over the same connections), interleaved, medians of a few repetitions;
 * (b) the client's threads, RSS and sockets with 1,000 connections, each
 * with one `cat` in flight. Not in the default sections (--sections 8).
 * See main.c and docs/BENCHMARKS.md. */
#include <dirent.h>

#include "bench/bench.h"

enum {
  EVQ_REPS = 3,       /* repetitions per level; medians are reported */
  EVQ_MAX_CONNS = 16, /* connections per level: min(K, 16) */
  EVQ_WIDE = 1000,    /* (b): connections, one run each */
  EVQ_WAIT_MS = 60000 /* no event for this long: a failure, not a hang */
};
#define EVQ_SECS 3.0 /* per level and approach */

/* Client CPU seconds (user + sys, all threads) from getrusage. */
static double self_cpu_s(void) {
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
  return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* Entries of /proc/self/@p dir, or only links whose target starts with
 * @p prefix (when not NULL). */
static int count_dir(const char *dir, const char *prefix) {
  char path[64], link[128];
  int n = 0;
  DIR *d;
  struct dirent *e;
  snprintf(path, sizeof path, "/proc/self/%s", dir);
  if (!(d = opendir(path))) return -1;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    if (prefix) {
      ssize_t len = readlinkat(dirfd(d), e->d_name, link, sizeof link - 1);
      if (len < 0) continue;
      link[len] = '\0';
      if (strncmp(link, prefix, strlen(prefix)) != 0) continue;
    }
    n++;
  }
  closedir(d);
  return n;
}

static int connect_n(const char *target, int n, int lazy, gexec_conn **cs) {
  gexec_conn_opts *opts;
  gexec_error e;
  if (gexec_conn_opts_new(&opts) != GEXEC_OK)
    return gb_fail("§8 connect", "out of memory");
  gexec_conn_opts_set_connect_timeout(opts, 30000);
  gexec_conn_opts_set_lazy(opts, lazy);
  for (int i = 0; i < n; i++) {
    int rc = gexec_connect(target, opts, &cs[i], &e);
    if (rc != GEXEC_OK) {
      while (i-- > 0) gexec_conn_close(cs[i]);
      gexec_conn_opts_free(opts);
      return gb_fail_gexec("§8 connect", rc, &e);
    }
  }
  gexec_conn_opts_free(opts);
  return 0;
}

static void close_n(gexec_conn **cs, int n) {
  for (int i = 0; i < n; i++) gexec_conn_close(cs[i]);
}

static int start_one(gexec_conn *c, gexec_evq *q, int stdin_null,
                     const char *const *argv, void *ud, gexec_proc **p) {
  gexec_spec s = GEXEC_SPEC_INIT;
  gexec_error e;
  s.argv = argv;
  s.stdin_null = stdin_null;
  int rc = gexec_proc_start_async(c, &s, q, ud, p, &e);
  return rc == GEXEC_OK ? 0 : gb_fail_gexec("§8 start_async", rc, &e);
}

/* The next event; a failure (not a hang) if none comes in a minute. */
static const gexec_run_event *next_event(gexec_evq *q) {
  const gexec_run_event *ev = NULL;
  gexec_error e;
  int rc = gexec_evq_next(q, &ev, EVQ_WAIT_MS, &e);
  if (rc != GEXEC_OK) {
    gb_fail_gexec("§8 gexec_evq_next", rc, &e);
    return NULL;
  }
  return ev;
}

typedef struct {
  double rate;   /* runs per second */
  double cpu_us; /* client CPU per run, microseconds */
} level_result;

/* (a), event API: K runs of /bin/true in flight from this thread through
 * one queue; each exit frees its run and starts the next, on the next
 * connection in turn. Runs still in flight at the deadline finish and
 * count (the time includes them). */
static int evq_level(gexec_conn **cs, int nconn, int k, level_result *r) {
  static const char *const argv[] = {"/bin/true", NULL};
  gexec_evq *q;
  gexec_error e;
  int rc = gexec_evq_new(&q, &e), bad = 0, in_flight = 0, next_conn = 0;
  if (rc != GEXEC_OK) return gb_fail_gexec("§8 gexec_evq_new", rc, &e);
  long runs = 0;
  double c0 = self_cpu_s();
  int64_t t0 = gb_now_ns(), until = t0 + (int64_t)(EVQ_SECS * 1e9);
  for (int i = 0; i < k && !bad; i++) {
    gexec_proc *p;
    bad = start_one(cs[next_conn], q, 1, argv, NULL, &p);
    next_conn = (next_conn + 1) % nconn;
    in_flight += !bad;
  }
  while (in_flight > 0) {
    const gexec_run_event *ev = next_event(q);
    if (!ev) {
      bad = 1; /* nothing came: the runs left are freed (cancelled) below */
      break;
    }
    if (ev->type != GEXEC_EV_EXIT && ev->type != GEXEC_EV_ERROR) continue;
    gexec_proc *done = ev->proc;
    if (ev->type == GEXEC_EV_ERROR)
      bad = gb_fail("§8 /bin/true", "%s", ev->error->message);
    else if (gb_check_exit("§8 /bin/true", ev->exit) == 0)
      runs++;
    else
      bad = 1;
    gexec_proc_free(done);
    in_flight--;
    if (!bad && gb_now_ns() < until) {
      gexec_proc *p;
      bad = start_one(cs[next_conn], q, 1, argv, NULL, &p);
      next_conn = (next_conn + 1) % nconn;
      in_flight += !bad;
    }
  }
  double el = (double)(gb_now_ns() - t0) / 1e9, c1 = self_cpu_s();
  if (in_flight == 0) gexec_evq_free(q); /* else leaked: a failed run */
  r->rate = (double)runs / el;
  r->cpu_us = runs ? (c1 - c0) * 1e6 / (double)runs : 0;
  return bad;
}

typedef struct {
  gexec_conn *c;
  int64_t until_ns;
  long runs;
  int failed;
} worker;

static void *work(void *arg) {
  worker *w = arg;
  int64_t ns, inner;
  while (gb_now_ns() < w->until_ns && !w->failed) {
    if (gb_remote_true_in(w->c, NULL, &ns, &inner, NULL, NULL) != 0)
      w->failed = 1;
    else
      w->runs++;
  }
  return NULL;
}

/* (a), the blocking anchor: K threads calling gexec_run, thread i on
 * connection i % nconn (the same connections as the queue). */
static int thread_level(gexec_conn **cs, int nconn, int k, level_result *r) {
  worker *w = calloc((size_t)k, sizeof *w);
  pthread_t *t = calloc((size_t)k, sizeof *t);
  int failed = 0, made = 0;
  long runs = 0;
  if (!w || !t) {
    free(w);
    free(t);
    return gb_fail("§8 threads", "out of memory");
  }
  double c0 = self_cpu_s();
  int64_t t0 = gb_now_ns();
  for (; made < k; made++) {
    w[made] = (worker){cs[made % nconn], t0 + (int64_t)(EVQ_SECS * 1e9), 0, 0};
    if (pthread_create(&t[made], NULL, work, &w[made]) != 0) {
      failed = gb_fail("§8 threads", "pthread_create failed at %d", made);
      break;
    }
  }
  for (int i = 0; i < made; i++) {
    pthread_join(t[i], NULL);
    runs += w[i].runs;
    failed |= w[i].failed;
  }
  double el = (double)(gb_now_ns() - t0) / 1e9, c1 = self_cpu_s();
  r->rate = (double)runs / el;
  r->cpu_us = runs ? (c1 - c0) * 1e6 / (double)runs : 0;
  free(w);
  free(t);
  return failed;
}

static int cmp_dbl(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_dbl);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* (a) for every level: the two approaches alternate, EVQ_REPS times. */
static void rates(const options *o) {
  static const int ks[] = {1, 16, 64, 256};
  enum { NK = sizeof ks / sizeof *ks };
  double er[NK][EVQ_REPS], ec[NK][EVQ_REPS], tr[NK][EVQ_REPS],
      tc[NK][EVQ_REPS];
  gexec_conn *cs[EVQ_MAX_CONNS];
  if (connect_n(o->target, EVQ_MAX_CONNS, 0, cs) != 0) return;
  for (int rep = 0; rep < EVQ_REPS; rep++)
    for (int i = 0; i < NK; i++) {
      int nconn = ks[i] < EVQ_MAX_CONNS ? ks[i] : EVQ_MAX_CONNS;
      level_result a = {0, 0}, b = {0, 0};
      fprintf(stderr, "gexec_bench: §8 rep %d, %d in flight ...\n", rep + 1,
              ks[i]);
      if (evq_level(cs, nconn, ks[i], &a) || thread_level(cs, nconn, ks[i], &b)) {
        SET(gb_add_row("8", "runs/s through one queue")->result, "FAILED");
        close_n(cs, EVQ_MAX_CONNS);
        return;
      }
      er[i][rep] = a.rate, ec[i][rep] = a.cpu_us;
      tr[i][rep] = b.rate, tc[i][rep] = b.cpu_us;
    }
  close_n(cs, EVQ_MAX_CONNS);
  for (int i = 0; i < NK; i++) {
    int nconn = ks[i] < EVQ_MAX_CONNS ? ks[i] : EVQ_MAX_CONNS;
    double a = median(er[i], EVQ_REPS), ac = median(ec[i], EVQ_REPS),
           b = median(tr[i], EVQ_REPS), bc = median(tc[i], EVQ_REPS);
    char name[160];
    snprintf(name, sizeof name, "%d run%s of `/bin/true` in flight over %d "
             "connection%s: runs/s; client CPU per run (median of %d × %.0f s)",
             ks[i], ks[i] > 1 ? "s" : "", nconn, nconn > 1 ? "s" : "",
             EVQ_REPS, EVQ_SECS);
    row *w = gb_add_row("8", name);
    SET(w->remote, "one thread, one queue: %.0f/s, %.0f µs", a, ac);
    SET(w->local, "%d thread%s × gexec_run: %.0f/s, %.0f µs", ks[i],
        ks[i] > 1 ? "s" : "", b, bc);
    SET(w->ratio, "%.2f× runs/s", b > 0 ? a / b : 0);
  }
}

static void raise_nofile(void) {
  struct rlimit r;
  if (getrlimit(RLIMIT_NOFILE, &r) != 0) return;
  r.rlim_cur = r.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &r) != 0)
    fprintf(stderr, "gexec_bench: §8 setrlimit: %s\n", strerror(errno));
}

typedef struct {
  int threads, sockets;
  long rss_kb;
} footprint;

static footprint measure(void) {
  return (footprint){count_dir("task", NULL), count_dir("fd", "socket:"),
                     gb_proc_status_kb(getpid(), "VmRSS")};
}

/* Frees every run (cancelling those still going) and closes the
 * connections; the queue goes once no run is left on it. */
static void wide_cleanup(gexec_conn **cs, gexec_proc **ps, int n,
                         gexec_evq *q) {
  for (int i = 0; i < n; i++) {
    if (ps[i]) gexec_proc_free(ps[i]);
    gexec_conn_close(cs[i]);
  }
  gexec_evq_free(q);
}

/* Waits for @p n events of type @p want (others are skipped); a failure
 * on an error event or no event. */
static int await(gexec_evq *q, int n, gexec_event_type want) {
  for (int got = 0; got < n;) {
    const gexec_run_event *ev = next_event(q);
    if (!ev) return 1;
    if (ev->type == GEXEC_EV_ERROR)
      return gb_fail("§8 1,000 connections", "run %d: %s",
                     (int)(intptr_t)ev->user_data, ev->error->message);
    if (ev->type != want) continue;
    if (want == GEXEC_EV_EXIT && gb_check_exit("§8 cat", ev->exit)) return 1;
    got++;
  }
  return 0;
}

/* (b) 1,000 lazy connections, one `cat` (stdin open) each, all started
 * from this thread: threads, RSS and sockets with all of them running. */
static void wide(const options *o) {
  static const char *const argv[] = {"cat", NULL};
  gexec_conn **cs = calloc(EVQ_WIDE, sizeof *cs);
  gexec_proc **ps = calloc(EVQ_WIDE, sizeof *ps);
  gexec_evq *q;
  gexec_error e;
  int bad = 0;
  raise_nofile();
  footprint before = measure();
  if (!cs || !ps || gexec_evq_new(&q, &e) != GEXEC_OK ||
      connect_n(o->target, EVQ_WIDE, 1, cs) != 0) {
    SET(gb_add_row("8", "1,000 connections")->result, "FAILED");
    free(cs);
    free(ps);
    return;
  }
  int64_t t0 = gb_now_ns();
  for (int i = 0; i < EVQ_WIDE && !bad; i++)
    bad = start_one(cs[i], q, 0, argv, (void *)(intptr_t)i, &ps[i]);
  bad = bad || await(q, EVQ_WIDE, GEXEC_EV_STARTED);
  double start_s = (double)(gb_now_ns() - t0) / 1e9;
  footprint during = measure();
  for (int i = 0; i < EVQ_WIDE && !bad; i++) {
    int rc = gexec_proc_close_stdin(ps[i], &e);
    if (rc != GEXEC_OK) bad = gb_fail_gexec("§8 close_stdin", rc, &e);
  }
  bad = bad || await(q, EVQ_WIDE, GEXEC_EV_EXIT);
  wide_cleanup(cs, ps, EVQ_WIDE, q);
  footprint after = measure();
  free(cs);
  free(ps);
  if (bad) {
    SET(gb_add_row("8", "1,000 connections")->result, "FAILED");
    return;
  }
  row *w = gb_add_row("8", "1,000 connections, one `cat` in flight on each "
                           "(all STARTED), one queue: client threads");
  SET(w->remote, "%d (before: %d; after closing all: %d)", during.threads,
      before.threads, after.threads);
  w = gb_add_row("8", "the same: client VmRSS");
  SET(w->remote, "%.1f MiB (before: %.1f MiB; %+.1f KiB per connection)",
      gb_kb_to_mib(during.rss_kb), gb_kb_to_mib(before.rss_kb),
      (double)(during.rss_kb - before.rss_kb) / EVQ_WIDE);
  w = gb_add_row("8", "the same: client sockets (/proc/self/fd → socket:)");
  SET(w->remote, "%d (before: %d; after closing all: %d)", during.sockets,
      before.sockets, after.sockets);
  w = gb_add_row("8", "the same: connect + start all 1,000 until the last "
                      "STARTED (lazy connections, from one thread)");
  SET(w->remote, "%.2f s", start_s);
}

void bench_evq(const options *o, gexec_conn *c) {
  (void)c; /* (a) uses connections of its own, (b) 1,000 more */
  rates(o);
  wide(o);
}
