/* gexec_bench: section 7, the fork server against exec per run: /bin/true
 * round trip beside a local posix_spawn, then runs/s and CPU per run at
 * 1, 4, 16 and 64 concurrent clients. Needs a second daemon started with
 * --launch-mode exec (--exec-target, --exec-daemon-pid; run.sh does it).
 * See main.c and docs/BENCHMARKS.md. */
#include <dirent.h>

#include "bench/bench.h"

/* CPU seconds of @p pid and of its reaped children (utime, stime,
 * cutime, cstime), or 0. */
static double cpu_of(pid_t pid) {
  char path[64], buf[1024];
  unsigned long long v[4];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
  if (fd >= 0) close(fd);
  if (n <= 0) return 0;
  buf[n] = '\0';
  char *rp = strrchr(buf, ')');
  if (!rp || sscanf(rp + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
                           "%llu %llu %llu %llu", &v[0], &v[1], &v[2],
                    &v[3]) != 4)
    return 0;
  return (double)(v[0] + v[1] + v[2] + v[3]) / (double)sysconf(_SC_CLK_TCK);
}

/* The daemon's children: its fork server (whose reaped launchers count
 * in its cutime) and, in exec mode, launchers not reaped yet. */
static double cpu_tree(pid_t daemon) {
  double sum = cpu_of(daemon);
  DIR *d = opendir("/proc");
  struct dirent *e;
  if (!d) return sum;
  while ((e = readdir(d))) {
    char path[64], buf[512];
    int pid = atoi(e->d_name), ppid = 0;
    if (pid <= 0) continue;
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
    if (fd >= 0) close(fd);
    if (n <= 0) continue;
    buf[n] = '\0';
    char *rp = strrchr(buf, ')');
    if (rp && sscanf(rp + 2, "%*c %d", &ppid) == 1 && ppid == daemon)
      sum += cpu_of(pid);
  }
  closedir(d);
  return sum;
}

typedef struct {
  const char *target;
  int64_t until_ns;
  long runs;
  int failed;
} worker;

static void *work(void *arg) {
  worker *w = arg;
  gexec_error e;
  gexec_conn *c;
  int64_t ns, inner;
  if (gexec_connect(w->target, NULL, &c, &e) != GEXEC_OK) {
    w->failed = 1;
    return NULL;
  }
  while (gb_now_ns() < w->until_ns && !w->failed) {
    if (gb_remote_true_in(c, NULL, &ns, &inner, NULL, NULL) != 0) w->failed = 1;
    else w->runs++;
  }
  gexec_conn_close(c);
  return NULL;
}

/* @p k clients for @p secs: runs per second and CPU ms per run. */
static int load(const char *target, pid_t daemon, int k, double secs,
                double *rate, double *cpu_ms) {
  worker w[64];
  pthread_t t[64];
  double c0 = cpu_tree(daemon);
  int64_t t0 = gb_now_ns(), failed = 0;
  long runs = 0;
  for (int i = 0; i < k; i++) {
    w[i] = (worker){target, t0 + (int64_t)(secs * 1e9), 0, 0};
    pthread_create(&t[i], NULL, work, &w[i]);
  }
  for (int i = 0; i < k; i++) {
    pthread_join(t[i], NULL);
    runs += w[i].runs;
    failed |= w[i].failed;
  }
  double el = (double)(gb_now_ns() - t0) / 1e9, c1 = cpu_tree(daemon);
  *rate = (double)runs / el;
  *cpu_ms = runs ? (c1 - c0) * 1000.0 / (double)runs : 0;
  return failed ? gb_fail("§7 load", "a run failed at %d clients", k) : 0;
}

static void latency_side_by_side(const options *o, gexec_conn *fast,
                                 gexec_conn *exec) {
  int n = o->iters, bad = 0;
  int64_t *v[3] = {calloc((size_t)n, 8), calloc((size_t)n, 8),
                   calloc((size_t)n, 8)}, x, y;
  for (int i = 0; i < n + o->warmup && !bad && v[0] && v[1] && v[2]; i++) {
    int j = i < o->warmup ? 0 : i - o->warmup;
    int64_t t0;
    bad = gb_remote_true_in(fast, NULL, &v[0][j], &x, NULL, NULL) ||
          gb_remote_true_in(exec, NULL, &v[1][j], &y, NULL, NULL);
    char *argv[] = {"/bin/true", NULL};
    pid_t pid;
    t0 = gb_now_ns();
    if (!bad && posix_spawn(&pid, argv[0], NULL, NULL, argv, environ) == 0)
      bad = gb_wait_child("local /bin/true", pid);
    v[2][j] = gb_now_ns() - t0;
  }
  if (!bad && v[0] && v[1] && v[2]) {
    stats f = gb_stats_of(v[0], n), e = gb_stats_of(v[1], n),
          l = gb_stats_of(v[2], n);
    row *w = gb_add_row("7", "`/bin/true` p50, fork server (default)");
    SET(w->remote, "%.0f µs", f.p50);
    SET(w->local, "%.0f µs", l.p50);
    SET(w->ratio, "%.2f×", f.p50 / l.p50);
    SET(w->target, "≤ %.0f×", LAT_TARGET);
    SET(w->result, "%s", f.p50 / l.p50 <= LAT_TARGET ? "MET" : "MISSED");
    w = gb_add_row("7", "`/bin/true` p50, exec per run (--launch-mode exec)");
    SET(w->remote, "%.0f µs", e.p50);
    SET(w->local, "%.0f µs", l.p50);
    SET(w->ratio, "%.2f×", e.p50 / l.p50);
    w = gb_add_row("7", "`/bin/true` p99: fork server / exec per run");
    SET(w->remote, "%.0f / %.0f µs", f.p99, e.p99);
    SET(w->local, "%.0f µs", l.p99);
  } else {
    SET(gb_add_row("7", "side-by-side latency")->result, "FAILED");
  }
  for (int i = 0; i < 3; i++) free(v[i]);
}

/* Runs an idle daemon sees: 50 ms apart, per profile. A cgroup attach
 * after an idle spell costs an RCU grace period (docs/BENCHMARKS.md);
 * back-to-back runs hide it. */
static void spaced(const options *o, gexec_conn *c) {
  static const char *const profiles[] = {"host", "baseline", "restricted"};
  enum { N = 40 };
  int64_t v[3][N], x;
  for (int i = 0; i < N; i++)
    for (int p = 0; p < 3; p++) {
      struct timespec gap = {0, 50 * 1000 * 1000};
      nanosleep(&gap, NULL);
      if (gb_remote_true_in(c, profiles[p], &v[p][i], &x, NULL, NULL) != 0) {
        SET(gb_add_row("7", "spaced runs")->result, "FAILED");
        return;
      }
    }
  (void)o;
  stats st[3];
  for (int p = 0; p < 3; p++) st[p] = gb_stats_of(v[p], N);
  row *w = gb_add_row("7", "`/bin/true` 50 ms apart (an idle daemon), p50 / "
                           "p99: host; baseline; restricted (default limits)");
  SET(w->remote, "%.0f / %.0f; %.0f / %.0f; %.0f / %.0f µs", st[0].p50,
      st[0].p99, st[1].p50, st[1].p99, st[2].p50, st[2].p99);
  w = gb_add_row("7", "restricted − host, 50 ms apart, p50");
  SET(w->remote, "%+.0f µs", st[2].p50 - st[0].p50);
  SET(w->target, "≤ 2 ms");
  SET(w->result, "%s", st[2].p50 - st[0].p50 <= 2000 ? "MET" : "MISSED");
}

void bench_concurrency(const options *o, gexec_conn *c) {
  static const int ks[] = {1, 4, 16, 64};
  gexec_conn *exec;
  gexec_error e;
  if (!o->exec_target || !o->daemon_pid || !o->exec_daemon_pid) {
    SET(gb_add_row("7", "fork server vs exec")->result,
        "SKIPPED (no --exec-target)");
    return;
  }
  if (gexec_connect(o->exec_target, NULL, &exec, &e) != GEXEC_OK) {
    gb_fail_gexec("§7 connect", GEXEC_ESTATUS, &e);
    return;
  }
  latency_side_by_side(o, c, exec);
  gexec_conn_close(exec);
  spaced(o, c);
  for (size_t i = 0; i < sizeof ks / sizeof *ks; i++) {
    double fr, fc, er, ec;
    if (load(o->target, o->daemon_pid, ks[i], 3.0, &fr, &fc) ||
        load(o->exec_target, o->exec_daemon_pid, ks[i], 3.0, &er, &ec))
      return;
    char name[96];
    snprintf(name, sizeof name, "%d concurrent clients: runs/s; CPU per run "
             "(daemon + launchers + command)", ks[i]);
    row *w = gb_add_row("7", name);
    SET(w->remote, "fork server %.0f/s, %.2f ms", fr, fc);
    SET(w->local, "exec per run %.0f/s, %.2f ms", er, ec);
    SET(w->ratio, "%.2f× runs/s", fr / er);
  }
}
