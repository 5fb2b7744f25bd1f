/* gexec_bench: measures a running gexecd through libgexec against doing
 * the same work locally in this process, in one run, and prints the
 * results as a Markdown table (progress and errors go to stderr).
 *
 *   1. round-trip latency of /bin/true (gexec_run) vs posix_spawn+waitpid
 *   2. stdout throughput: head -c BYTES /dev/zero, remote vs a local pipe
 *   3. stdin throughput: BYTES into wc -c in 1 MiB writes, remote vs local
 *   4. SESSIONS concurrent `sleep S` runs over one connection, with the
 *      daemon's RSS (VmRSS sampled, VmHWM at the end)
 *   5. isolation cost: /bin/true through gexec_run in each profile (host,
 *      baseline, restricted) against local references (plain spawn,
 *      bwrap, unshare, gexec-launch run from here), all interleaved
 *
 * Exit status: 0 if every run succeeded (a missed target is reported as
 * MISSED in the table, not as a failure), 1 if any run failed, 2 on bad
 * usage. See docs/BENCHMARKS.md. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client/gexec.h"

extern char **environ;

#define MIB (1024u * 1024u)
#define LOCAL_READ (256u * 1024u) /* local stdout baseline read size */
#define WRITE_CHUNK MIB           /* stdin write size, remote and local */
#define LAT_TARGET 2.0            /* remote p50 / local p50 */
#define GBPS_TARGET 1.0           /* stdout, 10^9 bytes per second */
#define RSS_TARGET_MIB 64.0       /* daemon VmHWM */
#define SAMPLE_MS 10              /* VmRSS sampling period */
#define ISO_TARGET_US 3000.0      /* restricted p50 - host p50, remote */

typedef struct {
  const char *target;
  pid_t daemon_pid; /* 0: no RSS / CPU figures */
  int iters, warmup;
  uint64_t bytes;
  int sessions, sleep_s;
  const char *sections; /* digits of the sections to run; default "12345" */
  const char *launcher; /* gexec-launch for §5's local rows, or NULL */
  int iso_iters;        /* §5 samples per series */
} options;

/* ------------------------------------------------------------ helpers */

static int failures;

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Reports a failed run on stderr and counts it; returns -1. */
static int fail(const char *what, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int fail(const char *what, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "gexec_bench: FAILED: %s: ", what);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  failures++;
  return -1;
}

static int fail_gexec(const char *what, int rc, const gexec_error *e) {
  if (rc == GEXEC_ESTATUS)
    return fail(what, "%s (%s): %s", gexec_strerror(rc),
                gexec_status_name(e->status), e->message);
  return fail(what, "%s: %s", gexec_strerror(rc), e->message);
}

static int check_exit(const char *what, const gexec_exit *x) {
  if (x->signal) return fail(what, "killed by signal %d", x->signal);
  if (x->exit_code) return fail(what, "exit code %d", x->exit_code);
  return 0;
}

static int wait_child(const char *what, pid_t pid) {
  int st;
  while (waitpid(pid, &st, 0) < 0)
    if (errno != EINTR) return fail(what, "waitpid: %s", strerror(errno));
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
    return fail(what, "local child ended with status 0x%x", st);
  return 0;
}

static int write_all(int fd, const uint8_t *b, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, b, len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    b += n;
    len -= (size_t)n;
  }
  return 0;
}

/* ------------------------------------------------------ /proc figures */

/* A "Key:   123 kB" field of /proc/PID/status in KiB, or -1. */
static long proc_status_kb(pid_t pid, const char *key) {
  char path[64], line[256];
  size_t klen = strlen(key);
  long kb = -1;
  if (pid <= 0) return -1;
  snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  while (fgets(line, sizeof line, f))
    if (!strncmp(line, key, klen) && line[klen] == ':') {
      kb = strtol(line + klen + 1, NULL, 10);
      break;
    }
  fclose(f);
  return kb;
}

static double kb_to_mib(long kb) { return (double)kb / 1024.0; }

/* Figures of one /proc/.../stat line; CPU in seconds. */
typedef struct {
  double own;             /* utime + stime */
  double kids;            /* cutime + cstime: reaped children */
  unsigned long long flt; /* minor page faults */
} proc_stat;

static int read_stat(const char *path, proc_stat *ps) {
  char buf[1024];
  unsigned long long flt, ut, st, cut, cst;
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  const char *p = strrchr(buf, ')'); /* comm may hold spaces */
  if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %llu %*u %*u %*u "
                          "%llu %llu %llu %llu", &flt, &ut, &st, &cut,
                   &cst) != 5)
    return -1;
  double hz = (double)sysconf(_SC_CLK_TCK);
  *ps = (proc_stat){(double)(ut + st) / hz, (double)(cut + cst) / hz, flt};
  return 0;
}

/* The whole daemon, and its main thread (the libuv loop: tid == pid). */
static void daemon_stat(pid_t pid, proc_stat *all, proc_stat *loop) {
  char path[64];
  if (pid <= 0) return;
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  read_stat(path, all);
  snprintf(path, sizeof path, "/proc/%d/task/%d/stat", (int)pid, (int)pid);
  read_stat(path, loop);
}

/* This process: CPU seconds (all threads) and minor faults. */
static double self_cpu(long *minflt) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  *minflt = ru.ru_minflt;
  return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* -------------------------------------------------------------- tables */

#define MAX_ROWS 64

typedef struct {
  char sec[4], metric[160], remote[160], local[160], ratio[24], target[48],
      result[40];
} row;

static row rows[MAX_ROWS];
static int nrows;

#define SET(field, ...) snprintf((field), sizeof(field), __VA_ARGS__)

static row *add_row(const char *sec, const char *metric) {
  static row spare;
  row *r = nrows < MAX_ROWS ? &rows[nrows++] : &spare;
  memset(r, 0, sizeof *r);
  SET(r->sec, "%s", sec);
  SET(r->metric, "%s", metric);
  return r;
}

static const char *cell(const char *s) { return *s ? s : "—"; }

/* In section order (rows are added as sections finish). */
static void print_rows(void) {
  printf("| § | metric | remote (gexecd) | local | remote/local | target "
         "| result |\n|---|---|---|---|---|---|---|\n");
  for (char sec = '1'; sec <= '9'; sec++)
  for (int i = 0; i < nrows; i++) {
    const row *r = &rows[i];
    if (r->sec[0] != sec) continue;
    printf("| %s | %s | %s | %s | %s | %s | %s |\n", r->sec, r->metric,
           cell(r->remote), cell(r->local), cell(r->ratio), cell(r->target),
           cell(r->result));
  }
}

/* CPU accounting per section, from /proc and getrusage. */
typedef struct {
  int64_t t;
  proc_stat all, loop; /* gexecd */
  double bench;
  long bench_flt;
} snap;

typedef struct {
  const char *name;
  snap a, b;
} cpu_row;

static cpu_row cpu_rows[10];
static int ncpu;

static snap take_snap(const options *o) {
  snap s = {.t = now_ns()};
  s.bench = self_cpu(&s.bench_flt);
  daemon_stat(o->daemon_pid, &s.all, &s.loop);
  return s;
}

static void add_cpu(const char *name, snap a, snap b) {
  if (ncpu < 10) cpu_rows[ncpu++] = (cpu_row){name, a, b};
}

static void print_cpu(void) {
  printf("\nCPU time per section, in seconds (gexecd from /proc/PID/stat; "
         "its loop thread is the main thread, tid = pid; gexec_bench = "
         "this process, all threads, incl. the parent side of the local "
         "baselines):\n\n"
         "| section | wall | gexecd CPU | of which loop thread "
         "| gexecd's children CPU | gexecd minor faults "
         "| gexec_bench CPU | gexec_bench minor faults |\n"
         "|---|---|---|---|---|---|---|---|\n");
  for (int i = 0; i < ncpu; i++) {
    const cpu_row *c = &cpu_rows[i];
    printf("| %s | %.2f | %.2f | %.2f | %.2f | %llu | %.2f | %ld |\n",
           c->name, (double)(c->b.t - c->a.t) / 1e9,
           c->b.all.own - c->a.all.own, c->b.loop.own - c->a.loop.own,
           c->b.all.kids - c->a.all.kids, c->b.all.flt - c->a.all.flt,
           c->b.bench - c->a.bench, c->b.bench_flt - c->a.bench_flt);
  }
}

/* ------------------------------------------------- statistics helpers */

typedef struct {
  double p50, p99, mean; /* microseconds */
} stats;

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

/* Nearest-rank percentiles; sorts @p v (nanoseconds). */
static stats stats_of(int64_t *v, int n) {
  stats s = {0, 0, 0};
  double sum = 0;
  if (n <= 0) return s;
  qsort(v, (size_t)n, sizeof *v, cmp_i64);
  for (int i = 0; i < n; i++) sum += (double)v[i];
  int i50 = (n * 50 + 99) / 100 - 1, i99 = (n * 99 + 99) / 100 - 1;
  s.p50 = (double)v[i50 < 0 ? 0 : i50] / 1e3;
  s.p99 = (double)v[i99 < 0 ? 0 : i99] / 1e3;
  s.mean = sum / n / 1e3;
  return s;
}

/* --------------------------------------------------- 1. /bin/true RTT */

/* Runs /bin/true in @p profile (NULL: the daemon's default). @p ns: our
 * round trip; @p inner: the daemon's spawn-to-reap time; @p iso (may be
 * NULL): the isolation reported; @p e (may be NULL): where a GEXEC_E*
 * error (returned as is, negative) goes for the caller to report, else it
 * is reported here. Returns 0, that code, or 1 for a nonzero exit
 * (already reported). */
static int remote_true_in(gexec_conn *c, const char *profile, int64_t *ns,
                          int64_t *inner, gexec_isolation *iso,
                          gexec_error *e) {
  static const char *const argv[] = {"/bin/true", NULL};
  gexec_spec s = {.argv = argv, .stdin_null = 1, .profile = profile};
  gexec_result r;
  gexec_error e_own;
  int64_t t0 = now_ns();
  int rc = gexec_run(c, &s, NULL, &r, e ? e : &e_own);
  *ns = now_ns() - t0;
  if (rc != GEXEC_OK)
    return e ? rc : fail_gexec("remote /bin/true", rc, &e_own);
  *inner = (int64_t)r.exit.wall_time_us * 1000;
  if (iso) *iso = r.exit.isolation;
  rc = check_exit("remote /bin/true", &r.exit) ? 1 : 0; /* reported */
  gexec_result_free(&r);
  return rc;
}

static int remote_true(gexec_conn *c, int64_t *ns, int64_t *inner) {
  return remote_true_in(c, NULL, ns, inner, NULL, NULL);
}

static int local_true(int64_t *ns) {
  static char arg0[] = "/bin/true";
  char *const argv[] = {arg0, NULL};
  pid_t pid;
  int64_t t0 = now_ns();
  int rc = posix_spawn(&pid, arg0, NULL, NULL, argv, environ);
  if (rc != 0) return fail("local /bin/true", "posix_spawn: %s", strerror(rc));
  rc = wait_child("local /bin/true", pid);
  *ns = now_ns() - t0;
  return rc;
}

static int ping_once(gexec_conn *c, int64_t *ns) {
  gexec_error e;
  int64_t t0 = now_ns();
  int rc = gexec_ping(c, 10000, NULL, &e);
  *ns = now_ns() - t0;
  return rc == GEXEC_OK ? 0 : fail_gexec("ping", rc, &e);
}

typedef struct {
  int64_t *remote, *local, *inner; /* nanoseconds, one per iteration */
} lat_samples;

static void report_latency(lat_samples *v, int n) {
  stats r = stats_of(v->remote, n), l = stats_of(v->local, n);
  stats in = stats_of(v->inner, n);
  const char *name[3] = {"`/bin/true` round trip, p50",
                         "`/bin/true` round trip, p99",
                         "`/bin/true` round trip, mean"};
  double rv[3] = {r.p50, r.p99, r.mean}, lv[3] = {l.p50, l.p99, l.mean};
  for (int i = 0; i < 3; i++) {
    row *w = add_row("1", name[i]);
    SET(w->remote, "%.0f µs", rv[i]);
    SET(w->local, "%.0f µs", lv[i]);
    SET(w->ratio, "%.2f×", rv[i] / lv[i]);
  }
  row *p50 = &rows[nrows - 3];
  SET(p50->target, "≤ %.0f×", LAT_TARGET);
  SET(p50->result, "%s", r.p50 / l.p50 <= LAT_TARGET ? "MET" : "MISSED");
  row *w = add_row("1", "(context) daemon-reported spawn→reap time "
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
static void bench_latency(const options *o, gexec_conn *c) {
  int n = o->iters, bad = 0;
  lat_samples v = lat_alloc(n);
  int64_t x, y;
  if (!v.remote || !v.local || !v.inner)
    bad = fail("latency", "out of memory");
  for (int i = 0; i < o->warmup && !bad; i++)
    bad = remote_true(c, &x, &y) || local_true(&x);
  for (int i = 0; i < n && !bad; i++)
    bad = remote_true(c, &v.remote[i], &v.inner[i]) ||
          local_true(&v.local[i]);
  if (bad)
    SET(add_row("1", "`/bin/true` round trip")->result, "FAILED");
  else
    report_latency(&v, n);
  lat_free(&v);
}

/* Context for §1: the gRPC round trip alone (health check, no process). */
static void bench_ping(const options *o, gexec_conn *c) {
  int n = o->iters, bad = 0;
  int64_t *v = calloc((size_t)n, sizeof *v), x;
  if (!v) return;
  for (int i = 0; i < o->warmup && !bad; i++) bad = ping_once(c, &x);
  for (int i = 0; i < n && !bad; i++) bad = ping_once(c, &v[i]);
  row *w = add_row("1", "(context) health-check ping, p50 / p99");
  if (bad) {
    SET(w->result, "FAILED");
  } else {
    stats s = stats_of(v, n);
    SET(w->remote, "%.0f / %.0f µs", s.p50, s.p99);
  }
  free(v);
}

/* ---------------------------------------------- remote event draining */

typedef struct {
  uint64_t out, err; /* bytes of stdout / stderr */
  uint64_t out_events, max_event;
  char text[64];     /* the first bytes of stdout, NUL-terminated */
  size_t text_len;
  gexec_exit exit;
} drained;

static void keep_text(drained *d, const gexec_event *ev) {
  size_t room = sizeof d->text - 1 - d->text_len;
  size_t n = ev->len < room ? ev->len : room;
  memcpy(d->text + d->text_len, ev->data, n);
  d->text_len += n;
  d->text[d->text_len] = '\0';
}

/* Reads every event up to the exit; returns a GEXEC_* code. */
static int drain(gexec_proc *p, drained *d, gexec_error *e) {
  gexec_event ev;
  memset(d, 0, sizeof *d);
  for (;;) {
    int rc = gexec_proc_read(p, &ev, -1, e);
    if (rc != GEXEC_OK) return rc;
    if (ev.type == GEXEC_EV_EXIT) {
      d->exit = ev.exit;
      return GEXEC_OK;
    }
    if (ev.type == GEXEC_EV_STDERR) {
      d->err += ev.len;
      continue;
    }
    d->out += ev.len;
    d->out_events++;
    if (ev.len > d->max_event) d->max_event = ev.len;
    keep_text(d, &ev);
  }
}

static int check_drained(const char *what, const drained *d) {
  if (check_exit(what, &d->exit)) return -1;
  if (d->err) return fail(what, "wrote %" PRIu64 " bytes to stderr", d->err);
  return 0;
}

static double gbps(uint64_t bytes, int64_t ns) {
  return (double)bytes / ((double)ns / 1e9) / 1e9;
}

/* ------------------------------------------------ 2. stdout throughput */

static int remote_stdout(gexec_conn *c, uint64_t bytes, double *rate,
                         drained *d_out) {
  static const char what[] = "remote head -c N /dev/zero";
  char count[32];
  snprintf(count, sizeof count, "%" PRIu64, bytes);
  const char *const argv[] = {"/usr/bin/head", "-c", count, "/dev/zero",
                              NULL};
  gexec_spec s = {.argv = argv, .stdin_null = 1};
  gexec_proc *p;
  gexec_error e;
  drained d;
  int64_t t0 = now_ns();
  int rc = gexec_proc_start(c, &s, &p, &e);
  if (rc != GEXEC_OK) return fail_gexec(what, rc, &e);
  rc = drain(p, &d, &e);
  int64_t ns = now_ns() - t0;
  gexec_proc_free(p);
  if (rc != GEXEC_OK) return fail_gexec(what, rc, &e);
  if (check_drained(what, &d)) return -1;
  if (d.out != bytes)
    return fail(what, "read %" PRIu64 " bytes, expected %" PRIu64, d.out,
                bytes);
  *rate = gbps(bytes, ns);
  *d_out = d;
  return 0;
}

/* Spawns argv[0] with stdin from @p in_fd and stdout to @p out_fd (-1:
 * inherited). The fds should be O_CLOEXEC; dup2 clears it on 0 and 1. */
static int spawn_local(char *const *argv, int in_fd, int out_fd,
                       pid_t *pid) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  if (in_fd >= 0) posix_spawn_file_actions_adddup2(&fa, in_fd, 0);
  if (out_fd >= 0) posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
  int rc = posix_spawn(pid, argv[0], &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  return rc;
}

/* Reads @p fd to EOF in LOCAL_READ pieces; keeps the first bytes. */
static int64_t read_to_eof(int fd, char *keep, size_t keep_len) {
  static uint8_t buf[LOCAL_READ];
  int64_t total = 0;
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    if (n == 0) return total;
    if (keep && (uint64_t)total < keep_len - 1) {
      size_t k = (size_t)n < keep_len - 1 - (size_t)total
                     ? (size_t)n : keep_len - 1 - (size_t)total;
      memcpy(keep + total, buf, k);
      keep[total + (int64_t)k] = '\0';
    }
    total += n;
  }
}

static int local_stdout(uint64_t bytes, double *rate) {
  static const char what[] = "local head -c N /dev/zero";
  static char a0[] = "/usr/bin/head", a1[] = "-c", a3[] = "/dev/zero";
  char count[32];
  int fds[2];
  pid_t pid;
  snprintf(count, sizeof count, "%" PRIu64, bytes);
  char *const argv[] = {a0, a1, count, a3, NULL};
  if (pipe2(fds, O_CLOEXEC) != 0)
    return fail(what, "pipe: %s", strerror(errno));
  int64_t t0 = now_ns();
  int rc = spawn_local(argv, -1, fds[1], &pid);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    return fail(what, "posix_spawn: %s", strerror(rc));
  }
  int64_t got = read_to_eof(fds[0], NULL, 0);
  close(fds[0]);
  rc = wait_child(what, pid);
  int64_t ns = now_ns() - t0;
  if (rc) return -1;
  if (got != (int64_t)bytes)
    return fail(what, "read %" PRId64 " bytes, expected %" PRIu64, got, bytes);
  *rate = gbps(bytes, ns);
  return 0;
}

static void throughput_row(const char *sec, const char *metric, int ok,
                           double remote, double local, int with_target) {
  row *w = add_row(sec, metric);
  if (!ok) {
    SET(w->result, "FAILED");
    return;
  }
  SET(w->remote, "%.2f GB/s", remote);
  SET(w->local, "%.2f GB/s", local);
  SET(w->ratio, "%.2f×", remote / local);
  if (!with_target) return;
  SET(w->target, "≥ %.0f GB/s", GBPS_TARGET);
  SET(w->result, "%s", remote >= GBPS_TARGET ? "MET" : "MISSED");
}

static void bench_stdout(const options *o, gexec_conn *c) {
  double r = 0, l = 0;
  drained d = {0};
  int ok = remote_stdout(c, o->bytes, &r, &d) == 0;
  ok = local_stdout(o->bytes, &l) == 0 && ok;
  char m[80];
  snprintf(m, sizeof m, "stdout: `head -c %" PRIu64 " /dev/zero`", o->bytes);
  throughput_row("2", m, ok, r, l, 1);
  if (!d.out_events) return;
  row *w = add_row("2", "(context) stdout events read: count, mean / max size");
  SET(w->remote, "%" PRIu64 ", %.0f / %.0f KiB", d.out_events,
      (double)d.out / (double)d.out_events / 1024.0,
      (double)d.max_event / 1024.0);
  SET(w->local, "%u KiB reads", LOCAL_READ / 1024);
}

/* ------------------------------------------------- 3. stdin throughput */

static int check_count(const char *what, const char *text, uint64_t bytes) {
  char *end;
  errno = 0;
  unsigned long long v = strtoull(text, &end, 10);
  if (errno || end == text)
    return fail(what, "wc printed '%.40s', not a number", text);
  if (v != bytes)
    return fail(what, "wc counted %llu bytes, %" PRIu64 " were sent", v,
                bytes);
  return 0;
}

static int send_stdin(gexec_proc *p, const uint8_t *buf, uint64_t bytes,
                      gexec_error *e) {
  for (uint64_t off = 0; off < bytes; off += WRITE_CHUNK) {
    size_t n = bytes - off < WRITE_CHUNK ? (size_t)(bytes - off) : WRITE_CHUNK;
    int rc = gexec_proc_write(p, buf, n, e);
    if (rc != GEXEC_OK) return rc;
  }
  return gexec_proc_close_stdin(p, e);
}

static int remote_stdin(gexec_conn *c, const uint8_t *buf, uint64_t bytes,
                        double *rate) {
  static const char what[] = "remote wc -c";
  static const char *const argv[] = {"/usr/bin/wc", "-c", NULL};
  gexec_spec s = {.argv = argv};
  gexec_proc *p;
  gexec_error e;
  drained d;
  int64_t t0 = now_ns();
  int rc = gexec_proc_start(c, &s, &p, &e);
  if (rc != GEXEC_OK) return fail_gexec(what, rc, &e);
  rc = send_stdin(p, buf, bytes, &e);
  if (rc == GEXEC_OK) rc = drain(p, &d, &e);
  int64_t ns = now_ns() - t0;
  gexec_proc_free(p);
  if (rc != GEXEC_OK) return fail_gexec(what, rc, &e);
  if (check_drained(what, &d) || check_count(what, d.text, bytes)) return -1;
  *rate = gbps(bytes, ns);
  return 0;
}

static int local_feed(int fd, const uint8_t *buf, uint64_t bytes) {
  for (uint64_t off = 0; off < bytes; off += WRITE_CHUNK) {
    size_t n = bytes - off < WRITE_CHUNK ? (size_t)(bytes - off) : WRITE_CHUNK;
    if (write_all(fd, buf, n) != 0) return -1;
  }
  return 0;
}

static int local_stdin(const uint8_t *buf, uint64_t bytes, double *rate) {
  static const char what[] = "local wc -c";
  static char a0[] = "/usr/bin/wc", a1[] = "-c";
  char *const argv[] = {a0, a1, NULL};
  char text[64] = "";
  int in[2], out[2];
  pid_t pid;
  if (pipe2(in, O_CLOEXEC) != 0)
    return fail(what, "pipe: %s", strerror(errno));
  if (pipe2(out, O_CLOEXEC) != 0) {
    close(in[0]);
    close(in[1]);
    return fail(what, "pipe: %s", strerror(errno));
  }
  int64_t t0 = now_ns();
  int rc = spawn_local(argv, in[0], out[1], &pid);
  close(in[0]);
  close(out[1]);
  if (rc != 0) {
    close(in[1]);
    close(out[0]);
    return fail(what, "posix_spawn: %s", strerror(rc));
  }
  int wr = local_feed(in[1], buf, bytes);
  close(in[1]);
  int64_t got = read_to_eof(out[0], text, sizeof text);
  close(out[0]);
  rc = wait_child(what, pid);
  int64_t ns = now_ns() - t0;
  if (wr != 0 || got < 0) return fail(what, "pipe I/O failed");
  if (rc || check_count(what, text, bytes)) return -1;
  *rate = gbps(bytes, ns);
  return 0;
}

static void bench_stdin(const options *o, gexec_conn *c) {
  double r = 0, l = 0;
  uint8_t *buf = malloc(WRITE_CHUNK);
  if (!buf) {
    fail("stdin", "out of memory");
    return;
  }
  memset(buf, 'x', WRITE_CHUNK);
  int ok = remote_stdin(c, buf, o->bytes, &r) == 0;
  ok = local_stdin(buf, o->bytes, &l) == 0 && ok;
  free(buf);
  char m[80];
  snprintf(m, sizeof m, "stdin: %" PRIu64 " bytes into `wc -c`, 1 MiB writes",
           o->bytes);
  throughput_row("3", m, ok, r, l, 0);
}

/* ---------------------------------------------- 4. concurrent sessions */

typedef struct {
  pid_t pid;
  atomic_int stop;
  long max_kb;
  pthread_t th;
} sampler;

static void *sampler_main(void *arg) {
  sampler *s = arg;
  struct timespec ts = {0, SAMPLE_MS * 1000000L};
  while (!atomic_load(&s->stop)) {
    long kb = proc_status_kb(s->pid, "VmRSS");
    if (kb > s->max_kb) s->max_kb = kb;
    nanosleep(&ts, NULL);
  }
  return NULL;
}

typedef struct {
  int started, succeeded;
  int64_t t0, t_first, t_all, t_end;
  long rss_before_kb, rss_running_kb, hwm_before_kb, max_sampled_kb;
} sess_result;

static int start_all(const options *o, gexec_conn *c, gexec_proc **ps,
                     sess_result *res) {
  char secs[16];
  snprintf(secs, sizeof secs, "%d", o->sleep_s);
  const char *const argv[] = {"/bin/sleep", secs, NULL};
  gexec_spec s = {.argv = argv, .stdin_null = 1};
  int bad = 0;
  for (int i = 0; i < o->sessions; i++) {
    gexec_error e;
    int rc = gexec_proc_start(c, &s, &ps[i], &e);
    if (rc != GEXEC_OK) {
      ps[i] = NULL;
      if (!bad++) fail_gexec("start of a sleep session", rc, &e);
      continue;
    }
    if (res->started++ == 0) res->t_first = now_ns();
  }
  if (bad > 1) fail("sleep sessions", "%d starts failed in all", bad);
  return bad;
}

static void wait_all(const options *o, gexec_proc **ps, sess_result *res) {
  int reported = 0;
  for (int i = 0; i < o->sessions; i++) {
    gexec_exit x;
    gexec_error e;
    if (!ps[i]) continue;
    int rc = gexec_proc_wait(ps[i], &x, &e);
    gexec_proc_free(ps[i]);
    if (rc == GEXEC_OK && x.exit_code == 0 && x.signal == 0) {
      res->succeeded++;
    } else if (!reported++) {
      if (rc != GEXEC_OK) fail_gexec("wait of a sleep session", rc, &e);
      else check_exit("wait of a sleep session", &x);
    }
  }
}

static void session_rows(const options *o, const sess_result *r) {
  row *w = add_row("4", "");
  SET(w->metric, "%d × `sleep %d` over one connection: exit 0", o->sessions,
      o->sleep_s);
  SET(w->remote, "%d/%d", r->succeeded, o->sessions);
  SET(w->target, "all");
  SET(w->result, "%s", r->succeeded == o->sessions ? "MET" : "FAILED");
  w = add_row("4", "start phase (sequential gexec_proc_start)");
  SET(w->remote, "%.0f ms", (double)(r->t_all - r->t0) / 1e6);
  SET(w->target, "< %d s (all alive at once)", o->sleep_s);
  SET(w->result, "%s", r->t_all - r->t_first < (int64_t)o->sleep_s * 1000000000
                           ? "yes" : "NO");
  w = add_row("4", "total wall time, first start to last exit");
  SET(w->remote, "%.0f ms", (double)(r->t_end - r->t0) / 1e6);
  w = add_row("4", "gexecd VmRSS before § 4 → with all sessions started");
  SET(w->remote, "%.1f → %.1f MiB", kb_to_mib(r->rss_before_kb),
      kb_to_mib(r->rss_running_kb));
  w = add_row("4", "ΔVmRSS per running session");
  SET(w->remote, "%.1f KiB",
      (double)(r->rss_running_kb - r->rss_before_kb) / o->sessions);
  w = add_row("4", "gexecd VmRSS, max sampled every 10 ms in § 4");
  SET(w->remote, "%.1f MiB", kb_to_mib(r->max_sampled_kb));
  w = add_row("4", "gexecd VmHWM before § 4 (after §§ 1–3)");
  SET(w->remote, "%.1f MiB", kb_to_mib(r->hwm_before_kb));
}

static void bench_sessions(const options *o, gexec_conn *c) {
  gexec_proc **ps = calloc((size_t)o->sessions, sizeof *ps);
  sess_result r = {0};
  sampler smp = {.pid = o->daemon_pid, .max_kb = -1};
  if (!ps) {
    fail("sessions", "out of memory");
    return;
  }
  atomic_init(&smp.stop, 0);
  r.hwm_before_kb = proc_status_kb(o->daemon_pid, "VmHWM");
  r.rss_before_kb = proc_status_kb(o->daemon_pid, "VmRSS");
  int sampling = pthread_create(&smp.th, NULL, sampler_main, &smp) == 0;
  r.t0 = now_ns();
  start_all(o, c, ps, &r);
  r.t_all = now_ns();
  r.rss_running_kb = proc_status_kb(o->daemon_pid, "VmRSS");
  wait_all(o, ps, &r);
  r.t_end = now_ns();
  atomic_store(&smp.stop, 1);
  if (sampling) pthread_join(smp.th, NULL);
  r.max_sampled_kb = smp.max_kb;
  free(ps);
  session_rows(o, &r);
}

/* Peak RSS over the whole run, read last; @p idle_kb: VmRSS at start. */
static void report_peak(const options *o, long idle_kb) {
  long hwm = proc_status_kb(o->daemon_pid, "VmHWM");
  if (idle_kb >= 0)
    SET(add_row("4", "gexecd VmRSS at bench start (idle)")->remote,
        "%.1f MiB", kb_to_mib(idle_kb));
  row *w = add_row("4", "**gexecd peak RSS (VmHWM at the end, whole run)**");
  if (hwm < 0) {
    SET(w->result, "n/a");
    return;
  }
  SET(w->remote, "%.1f MiB", kb_to_mib(hwm));
  SET(w->target, "< %.0f MiB", RSS_TARGET_MIB);
  SET(w->result, "%s", kb_to_mib(hwm) < RSS_TARGET_MIB ? "MET" : "MISSED");
}


/* ------------------------------------------------- 5. isolation cost */

/* One timed series of §5: a remote profile, the health ping, or a local
 * command spawned from here. All series are interleaved. */
enum { S_REMOTE, S_PING, S_LOCAL };

#define ISO_MAX_ARGS 16

typedef struct {
  int kind;
  const char *profile; /* S_REMOTE */
  const char *label;   /* S_LOCAL: the command as shown */
  char *argv[ISO_MAX_ARGS];
  int search;          /* S_LOCAL: look argv[0] up in PATH */
  int64_t *ns, *inner; /* samples (ns), inner: daemon spawn→reap */
  int n;
  char why[200];       /* non-empty: unavailable (local) or failed */
  int failed;          /* a remote run failed (counted as a failure) */
  gexec_isolation iso; /* S_REMOTE: as reported by the daemon */
} series;

enum {
  X_HOST, X_BASELINE, X_RESTRICTED, X_PING, X_TRUE, X_BWRAP, X_UNSHARE,
  X_L_HOST, X_L_BASELINE, X_L_RESTRICTED, X_L_RESTRICTED_LIM, X_COUNT
};

static int devnull_fd = -1;

/* Spawns the command with stdout (and, if @p err_fd >= 0, stderr) on the
 * given fds: stdout always goes to /dev/null or @p err_fd, so nothing a
 * reference command prints lands in the results table. */
static int iso_spawn(const series *s, int err_fd, pid_t *pid) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  int out = err_fd >= 0 ? err_fd : devnull_fd;
  if (out >= 0) posix_spawn_file_actions_adddup2(&fa, out, 1);
  if (err_fd >= 0) posix_spawn_file_actions_adddup2(&fa, err_fd, 2);
  int rc = (s->search ? posix_spawnp : posix_spawn)(pid, s->argv[0], &fa,
                                                    NULL, s->argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  return rc;
}

static void describe_status(char *buf, size_t len, int st) {
  if (WIFSIGNALED(st))
    snprintf(buf, len, "killed by signal %d", WTERMSIG(st));
  else
    snprintf(buf, len, "exit status %d", WEXITSTATUS(st));
}

/* Runs a local series once with its output captured; fills s->why with
 * the reason if it cannot start or does not exit 0. */
static void iso_probe_local(series *s) {
  int fds[2], st = 0;
  pid_t pid;
  char out[512], status[48];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    SET(s->why, "pipe: %s", strerror(errno));
    return;
  }
  int rc = iso_spawn(s, fds[1], &pid);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    SET(s->why, "cannot run %s: %s", s->argv[0], strerror(rc));
    return;
  }
  out[0] = '\0';
  read_to_eof(fds[0], out, sizeof out);
  close(fds[0]);
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(st) && WEXITSTATUS(st) == 0) return;
  describe_status(status, sizeof status, st);
  out[strcspn(out, "\n")] = '\0';
  for (char *p = out; *p; p++)
    if (*p == '|') *p = '/'; /* keep the Markdown table intact */
  SET(s->why, "%s%s%.120s", status, out[0] ? ": " : "", out);
}

/* One timed run of a series; returns 0 or -1 (s->why / s->failed set). */
static int iso_run(series *s, gexec_conn *c, int64_t *ns, int64_t *inner) {
  *inner = 0;
  if (s->kind == S_PING) return ping_once(c, ns) ? (s->failed = 1, -1) : 0;
  if (s->kind == S_REMOTE) {
    gexec_error e;
    int rc = remote_true_in(c, s->profile, ns, inner, &s->iso, &e);
    if (rc == 0) return 0;
    if (rc == GEXEC_ESTATUS &&
        e.status == GEXEC_STATUS_FAILED_PRECONDITION && s->n == 0) {
      SET(s->why, "the daemon refused it: %.150s", e.message);
      return -1; /* the host cannot run this profile: not a bench failure */
    }
    if (rc < 0) fail_gexec(s->profile, rc, &e);
    SET(s->why, "FAILED (see stderr)");
    s->failed = 1;
    return -1;
  }
  pid_t pid;
  int st;
  int64_t t0 = now_ns();
  int rc = iso_spawn(s, -1, &pid);
  if (rc != 0) {
    SET(s->why, "cannot run %s: %s", s->argv[0], strerror(rc));
    return -1;
  }
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  *ns = now_ns() - t0;
  if (WIFEXITED(st) && WEXITSTATUS(st) == 0) return 0;
  char status[48];
  describe_status(status, sizeof status, st);
  SET(s->why, "failed during the run (%s)", status);
  return -1;
}

static void iso_set_argv(series *s, const char *label, int search, ...) {
  va_list ap;
  int k = 0;
  char *a;
  s->kind = S_LOCAL;
  s->label = label;
  s->search = search;
  va_start(ap, search);
  while ((a = va_arg(ap, char *)) && k < ISO_MAX_ARGS - 1) s->argv[k++] = a;
  va_end(ap);
  s->argv[k] = NULL;
}

static void iso_define(const options *o, series *S) {
  static char *const prof[3] = {"host", "baseline", "restricted"};
  char *L = (char *)o->launcher;
  for (int i = 0; i < 3; i++) {
    S[X_HOST + i].kind = S_REMOTE;
    S[X_HOST + i].profile = prof[i];
  }
  S[X_PING].kind = S_PING;
  iso_set_argv(&S[X_TRUE], "`/bin/true`", 0, "/bin/true", NULL);
  iso_set_argv(&S[X_BWRAP], "`bwrap --unshare-all --ro-bind / / /bin/true`",
               1, "bwrap", "--unshare-all", "--ro-bind", "/", "/",
               "/bin/true", NULL);
  iso_set_argv(&S[X_UNSHARE], "`unshare -Upfmin --mount-proc /bin/true`", 1,
               "unshare", "-Upfmin", "--mount-proc", "/bin/true", NULL);
  iso_set_argv(&S[X_L_HOST], "`gexec-launch --profile host -- /bin/true`",
               0, L, "--profile", "host", "--", "/bin/true", NULL);
  iso_set_argv(&S[X_L_BASELINE],
               "`gexec-launch --profile baseline -- /bin/true`", 0, L,
               "--profile", "baseline", "--", "/bin/true", NULL);
  iso_set_argv(&S[X_L_RESTRICTED],
               "`gexec-launch --profile restricted -- /bin/true`", 0, L,
               "--profile", "restricted", "--", "/bin/true", NULL);
  /* what gexecd passes for restricted by default (see server/daemon.c) */
  iso_set_argv(&S[X_L_RESTRICTED_LIM],
               "(context) the same with the daemon's restricted defaults "
               "`--memory 1073741824 --pids 1024 --open-files 1024`", 0, L,
               "--profile", "restricted", "--memory", "1073741824", "--pids",
               "1024", "--open-files", "1024", "--", "/bin/true", NULL);
  for (int i = X_L_HOST; i <= X_L_RESTRICTED_LIM; i++)
    if (!L) SET(S[i].why, "no --launcher PATH given");
}

static int iso_ok(const series *s, int n) { return !s->why[0] && s->n == n; }

static const char *iso_pair(char *buf, size_t len, const series *s, int n) {
  if (!iso_ok(s, n)) {
    snprintf(buf, len, "unavailable: %.140s", s->why);
    return buf;
  }
  stats st = stats_of(s->ns, n);
  snprintf(buf, len, "%.0f / %.0f µs", st.p50, st.p99);
  return buf;
}

static double iso_p50(const series *s, int n) {
  return stats_of(s->ns, n).p50; /* sorted already: cheap and stable */
}

static void iso_isolation_cell(char *buf, size_t len, const series *S,
                               int n) {
  size_t k = 0;
  buf[0] = '\0';
  for (int i = X_HOST; i <= X_RESTRICTED && k < len; i++) {
    const gexec_isolation *x = &S[i].iso;
    if (!iso_ok(&S[i], n)) continue;
    k += (size_t)snprintf(buf + k, len - k, "%s%s: %s%s%s%s", k ? "; " : "",
                          S[i].profile, x->namespaces[0] ? x->namespaces : "no ns",
                          x->seccomp ? ", seccomp" : "",
                          x->read_only_root ? ", ro root" : "",
                          x->cgroup[0] ? ", cgroup " : "");
    if (k < len && x->cgroup[0])
      k += (size_t)snprintf(buf + k, len - k, "%s", x->cgroup);
  }
}

static void iso_report(const series *S, int n) {
  char a[160];
  const series *H = &S[X_HOST];
  for (int i = X_HOST; i <= X_RESTRICTED; i++) {
    row *w = add_row("5", "");
    SET(w->metric, "remote `/bin/true`, profile %s: p50 / p99",
        S[i].profile);
    SET(w->remote, "%s", iso_pair(a, sizeof a, &S[i], n));
    if (S[i].failed) SET(w->result, "FAILED");
  }
  const series *LH = &S[X_L_HOST];
  for (int i = X_BASELINE; i <= X_RESTRICTED; i++) {
    const series *LP = &S[X_L_HOST + (i - X_HOST)];
    row *w = add_row("5", "");
    SET(w->metric, "**added by profile %s** (its p50 − host p50; local: "
        "gexec-launch run from here)", S[i].profile);
    if (iso_ok(&S[i], n) && iso_ok(H, n))
      SET(w->remote, "%+.0f µs", iso_p50(&S[i], n) - iso_p50(H, n));
    if (iso_ok(LP, n) && iso_ok(LH, n))
      SET(w->local, "%+.0f µs", iso_p50(LP, n) - iso_p50(LH, n));
    if (i != X_RESTRICTED) continue;
    SET(w->target, "≤ %.0f ms (remote)", ISO_TARGET_US / 1000);
    if (iso_ok(&S[i], n) && iso_ok(H, n))
      SET(w->result, "%s", iso_p50(&S[i], n) - iso_p50(H, n) <= ISO_TARGET_US
                               ? "MET" : "MISSED");
    else
      SET(w->result, "n/a");
  }
  row *w = add_row("5", "(context) daemon-reported spawn→reap "
                        "(`exited.wall_time_us`), p50: host / baseline / "
                        "restricted");
  if (iso_ok(H, n) && iso_ok(&S[X_BASELINE], n) &&
      iso_ok(&S[X_RESTRICTED], n))
    SET(w->remote, "%.0f / %.0f / %.0f µs", stats_of(H->inner, n).p50,
        stats_of(S[X_BASELINE].inner, n).p50,
        stats_of(S[X_RESTRICTED].inner, n).p50);
  iso_isolation_cell(a, sizeof a, S, n);
  SET(add_row("5", "(context) isolation reported by the daemon "
                   "(`started.isolation`)")->remote, "%s", cell(a));
  w = add_row("5", "(context) health-check ping, interleaved, p50 / p99");
  SET(w->remote, "%s", iso_pair(a, sizeof a, &S[X_PING], n));
  for (int i = X_TRUE; i < X_COUNT; i++) {
    w = add_row("5", "");
    SET(w->metric, "%s%s, p50 / p99", i == X_L_RESTRICTED_LIM ? "" : "local ",
        S[i].label);
    SET(w->local, "%s", iso_pair(a, sizeof a, &S[i], n));
  }
  const series *LR = &S[X_L_RESTRICTED], *BW = &S[X_BWRAP];
  w = add_row("5", "**restricted cheaper than bwrap** (local gexec-launch "
                   "restricted p50 vs local bwrap p50)");
  SET(w->target, "< bwrap");
  if (iso_ok(LR, n) && iso_ok(BW, n)) {
    SET(w->local, "%.0f vs %.0f µs", iso_p50(LR, n), iso_p50(BW, n));
    SET(w->ratio, "%.2f× of bwrap", iso_p50(LR, n) / iso_p50(BW, n));
    SET(w->result, "%s", iso_p50(LR, n) < iso_p50(BW, n) ? "MET" : "MISSED");
  } else {
    SET(w->result, "n/a (%s unavailable)", iso_ok(BW, n) ? "launcher" : "bwrap");
  }
  w = add_row("5", "(context) remote restricted p50 vs local bwrap p50 + "
                   "1 round trip (ping p50)");
  const series *R = &S[X_RESTRICTED], *P = &S[X_PING];
  if (iso_ok(R, n) && iso_ok(BW, n) && iso_ok(P, n)) {
    double bw = iso_p50(BW, n), pg = iso_p50(P, n), r = iso_p50(R, n);
    SET(w->remote, "%.0f µs", r);
    SET(w->local, "%.0f + %.0f = %.0f µs", bw, pg, bw + pg);
    SET(w->ratio, "%.2f×", r / (bw + pg));
  } else {
    SET(w->remote, "n/a");
  }
}

/* Every series runs once per iteration, in an order rotated by one each
 * iteration, so that machine noise and ordering effects hit all alike. */
static void bench_isolation(const options *o, gexec_conn *c) {
  series S[X_COUNT];
  int n = o->iso_iters;
  memset(S, 0, sizeof S);
  iso_define(o, S);
  devnull_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
  for (int i = 0; i < X_COUNT; i++) {
    S[i].ns = calloc((size_t)n, sizeof(int64_t));
    S[i].inner = calloc((size_t)n, sizeof(int64_t));
    if (!S[i].ns || !S[i].inner) SET(S[i].why, "out of memory");
    if (S[i].kind == S_LOCAL && !S[i].why[0]) iso_probe_local(&S[i]);
    if (S[i].why[0])
      fprintf(stderr, "gexec_bench: §5 %s: unavailable: %s\n",
              S[i].kind == S_LOCAL ? S[i].label : "remote", S[i].why);
  }
  for (int it = -o->warmup; it < n; it++)
    for (int j = 0; j < X_COUNT; j++) {
      series *s = &S[(j + it + o->warmup) % X_COUNT];
      int64_t t, in;
      if (s->why[0] || iso_run(s, c, &t, &in) != 0 || it < 0) continue;
      s->ns[s->n] = t;
      s->inner[s->n++] = in;
    }
  iso_report(S, n);
  for (int i = 0; i < X_COUNT; i++) {
    free(S[i].ns);
    free(S[i].inner);
  }
  if (devnull_fd >= 0) close(devnull_fd);
  devnull_fd = -1;
}

/* ---------------------------------------------------------------- main */

static void usage(FILE *f) {
  fprintf(f,
          "Usage: gexec_bench --target unix:/path [--daemon-pid PID]\n"
          "                   [--iterations N] [--warmup N] [--bytes N]\n"
          "                   [--sessions N] [--sleep S] [--sections 12345]\n"
          "                   [--launcher PATH] [--iso-iterations N]\n"
          "Defaults: N=500 iterations after 20 warm-up, 1073741824 bytes,\n"
          "1000 sessions of sleep 2, §5 300 iterations, all five sections.\n"
          "--daemon-pid enables RSS/CPU figures; --sections 23 runs only §2\n"
          "and §3 (e.g. under a profiler). --launcher: the gexec-launch that\n"
          "§5 also runs locally (without it those rows are unavailable).\n"
          "Prints a Markdown table; exit 1 if any run failed.\n");
}

static int parse_num(const char *s, long long lo, long long hi,
                     long long *v) {
  char *end;
  errno = 0;
  *v = strtoll(s, &end, 10);
  return errno || end == s || *end || *v < lo || *v > hi ? -1 : 0;
}

static int apply_opt(options *o, int opt, const char *arg) {
  long long v = 0;
  if (opt == 't' || opt == 'x' || opt == 'L') {
    *(opt == 't' ? &o->target : opt == 'x' ? &o->sections : &o->launcher) =
        arg;
    return 0;
  }
  if (parse_num(arg, 1, 1LL << 40, &v) != 0) return -1;
  switch (opt) {
    case 'p': o->daemon_pid = (pid_t)v; return v <= INT32_MAX ? 0 : -1;
    case 'n': o->iters = (int)v; return v <= 10000000 ? 0 : -1;
    case 'N': o->iso_iters = (int)v; return v <= 10000000 ? 0 : -1;
    case 'w': o->warmup = (int)v; return v <= 10000000 ? 0 : -1;
    case 'b': o->bytes = (uint64_t)v; return 0;
    case 's': o->sessions = (int)v; return v <= 1000000 ? 0 : -1;
    case 'S': o->sleep_s = (int)v; return v <= 3600 ? 0 : -1;
  }
  return -1;
}

static int parse_args(int argc, char **argv, options *o) {
  static const struct option lo[] = {
      {"target", required_argument, NULL, 't'},
      {"daemon-pid", required_argument, NULL, 'p'},
      {"iterations", required_argument, NULL, 'n'},
      {"warmup", required_argument, NULL, 'w'},
      {"bytes", required_argument, NULL, 'b'},
      {"sessions", required_argument, NULL, 's'},
      {"sleep", required_argument, NULL, 'S'},
      {"sections", required_argument, NULL, 'x'},
      {"launcher", required_argument, NULL, 'L'},
      {"iso-iterations", required_argument, NULL, 'N'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  *o = (options){.iters = 500, .warmup = 20, .bytes = 1ULL << 30,
                 .sessions = 1000, .sleep_s = 2, .sections = "12345",
                 .iso_iters = 300};
  int opt;
  while ((opt = getopt_long(argc, argv, "", lo, NULL)) != -1) {
    if (opt == 'h') {
      usage(stdout);
      exit(0);
    }
    if (opt == '?' || apply_opt(o, opt, optarg) != 0) {
      if (opt != '?') fprintf(stderr, "gexec_bench: bad value '%s'\n", optarg);
      usage(stderr);
      return -1;
    }
  }
  if (!o->target || optind != argc) {
    usage(stderr);
    return -1;
  }
  return 0;
}

static void print_header(const options *o, const char *load) {
  printf("gexec_bench: load average before the run: %s", load);
  printf("gexec_bench: target %s, gexecd pid %d; §1 N=%d after %d warm-up "
         "(remote and local alternate); §2–3 %" PRIu64 " bytes; §4 %d "
         "sessions; §5 N=%d per series after %d warm-up (all series "
         "interleaved, order rotated each iteration), launcher %s. "
         "GB/s = 10^9 bytes/s.\n\n",
         o->target, (int)o->daemon_pid, o->iters, o->warmup, o->bytes,
         o->sessions, o->iso_iters, o->warmup,
         o->launcher ? o->launcher : "(none)");
}

static void read_loadavg(char *buf, size_t len) {
  FILE *f = fopen("/proc/loadavg", "r");
  if (!f) return;
  if (!fgets(buf, (int)len, f)) snprintf(buf, len, "?\n");
  fclose(f);
}

typedef void (*section_fn)(const options *, gexec_conn *);

static void run_section(const options *o, gexec_conn *c, char num,
                        const char *name, section_fn fn) {
  if (!strchr(o->sections, num)) return;
  fprintf(stderr, "gexec_bench: %s ...\n", name);
  snap a = take_snap(o);
  fn(o, c);
  add_cpu(name, a, take_snap(o));
}

int main(int argc, char **argv) {
  options o;
  gexec_conn *c;
  gexec_error e;
  gexec_conn_opts co = {.connect_timeout_ms = 10000};
  char load[128] = "?\n";
  /* Output arrives in ~1 MiB messages: keep such blocks on the heap
   * instead of an mmap/munmap (and page faults) per message. A process
   * setting, so the program makes it, not libgexec (see gexec.h). */
  mallopt(M_MMAP_THRESHOLD, 8 << 20);
  mallopt(M_TRIM_THRESHOLD, 64 << 20);

  if (parse_args(argc, argv, &o) != 0) return 2;
  signal(SIGPIPE, SIG_IGN); /* a local child dying early: EPIPE, not death */
  read_loadavg(load, sizeof load);
  long idle_kb = proc_status_kb(o.daemon_pid, "VmRSS");
  int rc = gexec_connect(o.target, &co, &c, &e);
  if (rc != GEXEC_OK) {
    fail_gexec("connect", rc, &e);
    return 1;
  }
  run_section(&o, c, '1', "§1 /bin/true latency", bench_latency);
  run_section(&o, c, '1', "§1 ping (context)", bench_ping);
  run_section(&o, c, '2', "§2 stdout throughput", bench_stdout);
  run_section(&o, c, '3', "§3 stdin throughput", bench_stdin);
  run_section(&o, c, '4', "§4 concurrent sessions", bench_sessions);
  run_section(&o, c, '5', "§5 isolation cost", bench_isolation);
  report_peak(&o, idle_kb); /* §4 rows; read last: covers the whole run */
  gexec_conn_close(c);
  print_header(&o, load);
  print_rows();
  if (o.daemon_pid > 0) print_cpu();
  printf("\n%s\n", failures ? "RESULT: some runs FAILED (see stderr)"
                            : "RESULT: all runs succeeded");
  return failures ? 1 : 0;
}
