/* gexec_bench: helpers, /proc figures, result tables, statistics, draining a run. See main.c and docs/BENCHMARKS.md. */
#include "bench/bench.h"

/* ------------------------------------------------------------ helpers */

int gb_failures;

int64_t gb_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Reports a failed run on stderr and counts it; returns -1. */
int gb_fail(const char *what, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

int gb_fail(const char *what, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "gexec_bench: FAILED: %s: ", what);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  gb_failures++;
  return -1;
}

int gb_fail_gexec(const char *what, int rc, const gexec_error *e) {
  if (rc == GEXEC_ESTATUS)
    return gb_fail(what, "%s (%s): %s", gexec_strerror(rc),
                gexec_status_name(e->status), e->message);
  return gb_fail(what, "%s: %s", gexec_strerror(rc), e->message);
}

int gb_check_exit(const char *what, const gexec_exit *x) {
  if (x->signal) return gb_fail(what, "killed by signal %d", x->signal);
  if (x->exit_code) return gb_fail(what, "exit code %d", x->exit_code);
  return 0;
}

int gb_wait_child(const char *what, pid_t pid) {
  int st;
  while (waitpid(pid, &st, 0) < 0)
    if (errno != EINTR) return gb_fail(what, "waitpid: %s", strerror(errno));
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
    return gb_fail(what, "local child ended with status 0x%x", st);
  return 0;
}

int gb_write_all(int fd, const uint8_t *b, size_t len) {
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
long gb_proc_status_kb(pid_t pid, const char *key) {
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

double gb_kb_to_mib(long kb) { return (double)kb / 1024.0; }

/* Figures of one /proc/.../stat line; CPU in seconds. */

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



row gb_rows[MAX_ROWS];
int gb_nrows;


row *gb_add_row(const char *sec, const char *metric) {
  static row spare;
  row *r = gb_nrows < MAX_ROWS ? &gb_rows[gb_nrows++] : &spare;
  memset(r, 0, sizeof *r);
  SET(r->sec, "%s", sec);
  SET(r->metric, "%s", metric);
  return r;
}

const char *gb_cell(const char *s) { return *s ? s : "—"; }

/* In section order (rows are added as sections finish). */
void gb_print_rows(void) {
  printf("| § | metric | remote (gexecd) | local | remote/local | target "
         "| result |\n|---|---|---|---|---|---|---|\n");
  for (char sec = '1'; sec <= '9'; sec++)
  for (int i = 0; i < gb_nrows; i++) {
    const row *r = &gb_rows[i];
    if (r->sec[0] != sec) continue;
    printf("| %s | %s | %s | %s | %s | %s | %s |\n", r->sec, r->metric,
           gb_cell(r->remote), gb_cell(r->local), gb_cell(r->ratio), gb_cell(r->target),
           gb_cell(r->result));
  }
}

/* CPU accounting per section, from /proc and getrusage. */


static cpu_row cpu_rows[10];
static int ncpu;

snap gb_take_snap(const options *o) {
  snap s = {.t = gb_now_ns()};
  s.bench = self_cpu(&s.bench_flt);
  daemon_stat(o->daemon_pid, &s.all, &s.loop);
  return s;
}

void gb_add_cpu(const char *name, snap a, snap b) {
  if (ncpu < 10) cpu_rows[ncpu++] = (cpu_row){name, a, b};
}

void gb_print_cpu(void) {
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


static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

/* Nearest-rank percentiles; sorts @p v (nanoseconds). */
stats gb_stats_of(int64_t *v, int n) {
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

/* ---------------------------------------------- remote event draining */


static void keep_text(drained *d, const gexec_event *ev) {
  size_t room = sizeof d->text - 1 - d->text_len;
  size_t n = ev->len < room ? ev->len : room;
  memcpy(d->text + d->text_len, ev->data, n);
  d->text_len += n;
  d->text[d->text_len] = '\0';
}

/* Reads every event up to the exit; returns a GEXEC_* code. */
int gb_drain(gexec_proc *p, drained *d, gexec_error *e) {
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

int gb_check_drained(const char *what, const drained *d) {
  if (gb_check_exit(what, &d->exit)) return -1;
  if (d->err) return gb_fail(what, "wrote %" PRIu64 " bytes to stderr", d->err);
  return 0;
}

double gb_gbps(uint64_t bytes, int64_t ns) {
  return (double)bytes / ((double)ns / 1e9) / 1e9;
}
