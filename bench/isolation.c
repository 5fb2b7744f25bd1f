/* gexec_bench: section 5, the cost of each isolation profile. See main.c and docs/BENCHMARKS.md. */
#include "bench/bench.h"

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
  gb_read_to_eof(fds[0], out, sizeof out);
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
  if (s->kind == S_PING) return gb_ping_once(c, ns) ? (s->failed = 1, -1) : 0;
  if (s->kind == S_REMOTE) {
    gexec_error e;
    int rc = gb_remote_true_in(c, s->profile, ns, inner, &s->iso, &e);
    if (rc == 0) return 0;
    if (rc == GEXEC_ESTATUS &&
        e.status == GEXEC_STATUS_FAILED_PRECONDITION && s->n == 0) {
      SET(s->why, "the daemon refused it: %.150s", e.message);
      return -1; /* the host cannot run this profile: not a bench failure */
    }
    if (rc < 0) gb_fail_gexec(s->profile, rc, &e);
    SET(s->why, "FAILED (see stderr)");
    s->failed = 1;
    return -1;
  }
  pid_t pid;
  int st;
  int64_t t0 = gb_now_ns();
  int rc = iso_spawn(s, -1, &pid);
  if (rc != 0) {
    SET(s->why, "cannot run %s: %s", s->argv[0], strerror(rc));
    return -1;
  }
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  *ns = gb_now_ns() - t0;
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
  stats st = gb_stats_of(s->ns, n);
  snprintf(buf, len, "%.0f / %.0f µs", st.p50, st.p99);
  return buf;
}

static double iso_p50(const series *s, int n) {
  return gb_stats_of(s->ns, n).p50; /* sorted already: cheap and stable */
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
    row *w = gb_add_row("5", "");
    SET(w->metric, "remote `/bin/true`, profile %s: p50 / p99",
        S[i].profile);
    SET(w->remote, "%s", iso_pair(a, sizeof a, &S[i], n));
    if (S[i].failed) SET(w->result, "FAILED");
  }
  const series *LH = &S[X_L_HOST];
  for (int i = X_BASELINE; i <= X_RESTRICTED; i++) {
    const series *LP = &S[X_L_HOST + (i - X_HOST)];
    row *w = gb_add_row("5", "");
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
  row *w = gb_add_row("5", "(context) daemon-reported spawn→reap "
                        "(`exited.wall_time_us`), p50: host / baseline / "
                        "restricted");
  if (iso_ok(H, n) && iso_ok(&S[X_BASELINE], n) &&
      iso_ok(&S[X_RESTRICTED], n))
    SET(w->remote, "%.0f / %.0f / %.0f µs", gb_stats_of(H->inner, n).p50,
        gb_stats_of(S[X_BASELINE].inner, n).p50,
        gb_stats_of(S[X_RESTRICTED].inner, n).p50);
  iso_isolation_cell(a, sizeof a, S, n);
  SET(gb_add_row("5", "(context) isolation reported by the daemon "
                   "(`started.isolation`)")->remote, "%s", gb_cell(a));
  w = gb_add_row("5", "(context) health-check ping, interleaved, p50 / p99");
  SET(w->remote, "%s", iso_pair(a, sizeof a, &S[X_PING], n));
  for (int i = X_TRUE; i < X_COUNT; i++) {
    w = gb_add_row("5", "");
    SET(w->metric, "%s%s, p50 / p99", i == X_L_RESTRICTED_LIM ? "" : "local ",
        S[i].label);
    SET(w->local, "%s", iso_pair(a, sizeof a, &S[i], n));
  }
  const series *LR = &S[X_L_RESTRICTED], *BW = &S[X_BWRAP];
  w = gb_add_row("5", "**restricted cheaper than bwrap** (local gexec-launch "
                   "restricted p50 vs local bwrap p50)");
  SET(w->target, "< bwrap");
  if (iso_ok(LR, n) && iso_ok(BW, n)) {
    SET(w->local, "%.0f vs %.0f µs", iso_p50(LR, n), iso_p50(BW, n));
    SET(w->ratio, "%.2f× of bwrap", iso_p50(LR, n) / iso_p50(BW, n));
    SET(w->result, "%s", iso_p50(LR, n) < iso_p50(BW, n) ? "MET" : "MISSED");
  } else {
    SET(w->result, "n/a (%s unavailable)", iso_ok(BW, n) ? "launcher" : "bwrap");
  }
  w = gb_add_row("5", "(context) remote restricted p50 vs local bwrap p50 + "
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
void bench_isolation(const options *o, gexec_conn *c) {
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
