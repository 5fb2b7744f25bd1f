/* gexec_bench: section 4, concurrent sessions and the daemon's memory. See main.c and docs/BENCHMARKS.md. */
#include "bench/bench.h"

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
    long kb = gb_proc_status_kb(s->pid, "VmRSS");
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
      if (!bad++) gb_fail_gexec("start of a sleep session", rc, &e);
      continue;
    }
    if (res->started++ == 0) res->t_first = gb_now_ns();
  }
  if (bad > 1) gb_fail("sleep sessions", "%d starts failed in all", bad);
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
      if (rc != GEXEC_OK) gb_fail_gexec("wait of a sleep session", rc, &e);
      else gb_check_exit("wait of a sleep session", &x);
    }
  }
}

static void session_rows(const options *o, const sess_result *r) {
  row *w = gb_add_row("4", "");
  SET(w->metric, "%d × `sleep %d` over one connection: exit 0", o->sessions,
      o->sleep_s);
  SET(w->remote, "%d/%d", r->succeeded, o->sessions);
  SET(w->target, "all");
  SET(w->result, "%s", r->succeeded == o->sessions ? "MET" : "FAILED");
  w = gb_add_row("4", "start phase (sequential gexec_proc_start)");
  SET(w->remote, "%.0f ms", (double)(r->t_all - r->t0) / 1e6);
  SET(w->target, "< %d s (all alive at once)", o->sleep_s);
  SET(w->result, "%s", r->t_all - r->t_first < (int64_t)o->sleep_s * 1000000000
                           ? "yes" : "NO");
  w = gb_add_row("4", "total wall time, first start to last exit");
  SET(w->remote, "%.0f ms", (double)(r->t_end - r->t0) / 1e6);
  w = gb_add_row("4", "gexecd VmRSS before § 4 → with all sessions started");
  SET(w->remote, "%.1f → %.1f MiB", gb_kb_to_mib(r->rss_before_kb),
      gb_kb_to_mib(r->rss_running_kb));
  w = gb_add_row("4", "ΔVmRSS per running session");
  SET(w->remote, "%.1f KiB",
      (double)(r->rss_running_kb - r->rss_before_kb) / o->sessions);
  w = gb_add_row("4", "gexecd VmRSS, max sampled every 10 ms in § 4");
  SET(w->remote, "%.1f MiB", gb_kb_to_mib(r->max_sampled_kb));
  w = gb_add_row("4", "gexecd VmHWM before § 4 (after §§ 1–3)");
  SET(w->remote, "%.1f MiB", gb_kb_to_mib(r->hwm_before_kb));
}

void bench_sessions(const options *o, gexec_conn *c) {
  gexec_proc **ps = calloc((size_t)o->sessions, sizeof *ps);
  sess_result r = {0};
  sampler smp = {.pid = o->daemon_pid, .max_kb = -1};
  if (!ps) {
    gb_fail("sessions", "out of memory");
    return;
  }
  atomic_init(&smp.stop, 0);
  r.hwm_before_kb = gb_proc_status_kb(o->daemon_pid, "VmHWM");
  r.rss_before_kb = gb_proc_status_kb(o->daemon_pid, "VmRSS");
  int sampling = pthread_create(&smp.th, NULL, sampler_main, &smp) == 0;
  r.t0 = gb_now_ns();
  start_all(o, c, ps, &r);
  r.t_all = gb_now_ns();
  r.rss_running_kb = gb_proc_status_kb(o->daemon_pid, "VmRSS");
  wait_all(o, ps, &r);
  r.t_end = gb_now_ns();
  atomic_store(&smp.stop, 1);
  if (sampling) pthread_join(smp.th, NULL);
  r.max_sampled_kb = smp.max_kb;
  free(ps);
  session_rows(o, &r);
}

/* Peak RSS over the whole run, read last; @p idle_kb: VmRSS at start. */
void bench_report_peak(const options *o, long idle_kb) {
  long hwm = gb_proc_status_kb(o->daemon_pid, "VmHWM");
  if (idle_kb >= 0)
    SET(gb_add_row("4", "gexecd VmRSS at bench start (idle)")->remote,
        "%.1f MiB", gb_kb_to_mib(idle_kb));
  row *w = gb_add_row("4", "**gexecd peak RSS (VmHWM at the end, whole run)**");
  if (hwm < 0) {
    SET(w->result, "n/a");
    return;
  }
  SET(w->remote, "%.1f MiB", gb_kb_to_mib(hwm));
  SET(w->target, "< %.0f MiB", RSS_TARGET_MIB);
  SET(w->result, "%s", gb_kb_to_mib(hwm) < RSS_TARGET_MIB ? "MET" : "MISSED");
}
