/* §6 soak: many runs and many clients SIGKILLed mid-stream, in every
 * profile; the daemon's health before and after must be flat.
 *
 * Per profile: a warm-up, then a "before" snapshot; RUNS runs of a mix
 * (true; 64 KiB of output; 64 KiB of stdin echoed back) from 4 threads
 * over one connection, with the daemon's RSS sampled after every tenth;
 * KILLS client processes (gexec run, the CLI) whose runs stream output
 * and leave a setsid() escapee, each SIGKILLed once its output flows;
 * then, once the daemon is idle, an "after" snapshot. Counted: the
 * daemon's fds, threads, RSS, zombie children, the run cgroups of its
 * instance, and processes of this soak still alive anywhere. */
#include <dirent.h>

#include "bench/bench.h"

#define SOAK_THREADS 4
#define SOAK_BATCH 25           /* clients started, then killed, at once */
#define SOAK_IO (64u * 1024u)   /* bytes of output / stdin per mixed run */

typedef struct {
  int fds, threads, zombies, leaves, survivors;
  long rss_kb;
} health;

typedef struct {
  const char *profile;
  int runs, kills, failed;
  health before, after;
  long rss_min_kb, rss_max_kb; /* over the samples after warm-up */
  double seconds;
} soak_row;

static soak_row rows[3];
static int nrows;
static char mark[32], escapee[32]; /* argv elements of every soak process */

/* Entries of a directory (only subdirectories if @p dirs_only). */
static int count_dir(const char *path, int dirs_only) {
  DIR *d = opendir(path);
  struct dirent *e;
  int n = 0;
  while (d && (e = readdir(d)))
    if (e->d_name[0] != '.' && (!dirs_only || e->d_type == DT_DIR)) n++;
  if (d) closedir(d);
  return n;
}

/* Reads /proc/PID/FILE (small) into @p buf; returns the length. */
static size_t read_proc(int pid, const char *file, char *buf, size_t len) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/%s", pid, file);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  ssize_t n = fd >= 0 ? read(fd, buf, len - 1) : 0;
  if (fd >= 0) close(fd);
  buf[n > 0 ? n : 0] = '\0';
  return n > 0 ? (size_t)n : 0;
}

/* Zombie children of @p parent, and live processes carrying the soak's
 * marks in their argv (anywhere on the host). */
static void scan_procs(int parent, int *zombies, int *survivors) {
  DIR *d = opendir("/proc");
  struct dirent *e;
  *zombies = *survivors = 0;
  while (d && (e = readdir(d))) {
    int pid = atoi(e->d_name), ppid = 0;
    char buf[4096], state = 0;
    if (pid <= 0 || pid == getpid()) continue;
    if (!read_proc(pid, "stat", buf, sizeof buf)) continue;
    char *rp = strrchr(buf, ')');
    if (!rp || sscanf(rp + 2, "%c %d", &state, &ppid) != 2) continue;
    if (state == 'Z') {
      *zombies += ppid == parent;
      continue;
    }
    size_t n = read_proc(pid, "cmdline", buf, sizeof buf);
    for (size_t i = 0; i < n; i += strlen(buf + i) + 1)
      if (!strcmp(buf + i, mark) || !strcmp(buf + i, escapee)) {
        (*survivors)++;
        break;
      }
  }
  if (d) closedir(d);
}

static int count_leaves(const char *instance) {
  static const char *const roots[] = {
      "/sys/fs/cgroup/gexec", "/sys/fs/cgroup/unified/gexec",
      "/sys/fs/cgroup/memory/gexec", "/sys/fs/cgroup/pids/gexec"};
  int n = 0;
  for (size_t i = 0; instance && i < sizeof roots / sizeof *roots; i++) {
    char dir[256];
    snprintf(dir, sizeof dir, "%s/%s", roots[i], instance);
    n += count_dir(dir, 1);
  }
  return n;
}

static health measure(const options *o) {
  health h;
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/fd", (int)o->daemon_pid);
  h.fds = count_dir(path, 0);
  snprintf(path, sizeof path, "/proc/%d/task", (int)o->daemon_pid);
  h.threads = count_dir(path, 0);
  h.rss_kb = gb_proc_status_kb(o->daemon_pid, "VmRSS");
  h.leaves = count_leaves(o->instance);
  scan_procs((int)o->daemon_pid, &h.zombies, &h.survivors);
  return h;
}

/* ------------------------------------------------------------- the mix */

typedef struct {
  const options *o;
  gexec_conn *c;
  const char *profile;
  atomic_int next, failed;
  int total;
  long *samples; /* RSS after every tenth of the runs */
} mix;

static int one_run(mix *m, int i, uint8_t *in) {
  gexec_result r;
  gexec_error e;
  gexec_run_opts io = {0};
  const char *const quiet[] = {"true", mark, NULL};
  const char *const out[] = {"sh", "-c", "head -c 65536 /dev/zero", mark,
                             NULL};
  const char *const echo[] = {"sh", "-c", "cat", mark, NULL};
  gexec_spec s = {.profile = m->profile, .stdin_null = 1};
  s.argv = i % 3 == 0 ? quiet : i % 3 == 1 ? out : echo;
  if (i % 3 == 2) {
    s.stdin_null = 0;
    io.stdin_data = in;
    io.stdin_len = SOAK_IO;
  }
  int rc = gexec_run(m->c, &s, &io, &r, &e);
  if (rc != GEXEC_OK) return gb_fail_gexec("soak run", rc, &e);
  rc = r.exit.exit_code || r.exit.signal ||
       r.out_len != (i % 3 ? SOAK_IO : 0);
  if (rc) gb_fail("soak run", "exit %d signal %d, %zu bytes out",
                  r.exit.exit_code, r.exit.signal, r.out_len);
  gexec_result_free(&r);
  return rc ? -1 : 0;
}

static void *mix_thread(void *arg) {
  mix *m = arg;
  uint8_t *in = calloc(1, SOAK_IO);
  int i;
  while ((i = atomic_fetch_add(&m->next, 1)) < m->total) {
    if (one_run(m, i, in) != 0) atomic_fetch_add(&m->failed, 1);
    if (m->samples && (i + 1) % (m->total / 10 ? m->total / 10 : 1) == 0)
      m->samples[(i + 1) / (m->total / 10 ? m->total / 10 : 1) - 1] =
          gb_proc_status_kb(m->o->daemon_pid, "VmRSS");
  }
  free(in);
  return NULL;
}

static int run_mix(const options *o, gexec_conn *c, const char *profile,
                   int total, long *samples) {
  mix m = {.o = o, .c = c, .profile = profile, .total = total,
           .samples = samples};
  pthread_t t[SOAK_THREADS];
  for (int i = 0; i < SOAK_THREADS; i++)
    pthread_create(&t[i], NULL, mix_thread, &m);
  for (int i = 0; i < SOAK_THREADS; i++) pthread_join(t[i], NULL);
  return atomic_load(&m.failed);
}

/* ------------------------------------------------- clients SIGKILLed */

/* Starts `gexec run` with a run that streams output and leaves a setsid
 * escapee; returns its pid and the read end of its stdout. */
static pid_t start_client(const options *o, const char *profile, int *out) {
  int p[2];
  char script[128];
  snprintf(script, sizeof script, "setsid sleep %s & exec yes", escapee);
  if (pipe2(p, O_CLOEXEC) != 0) return -1;
  pid_t pid = fork();
  if (pid == 0) {
    dup2(p[1], 1);
    execl(o->cli, "gexec", "run", "-H", o->target, "-n", "--profile",
          profile, "--", "sh", "-c", script, mark, (char *)NULL);
    _exit(127);
  }
  close(p[1]);
  *out = p[0];
  return pid;
}

static int kill_clients(const options *o, const char *profile, int n) {
  int failed = 0;
  for (int done = 0; done < n; done += SOAK_BATCH) {
    int b = n - done < SOAK_BATCH ? n - done : SOAK_BATCH, out[SOAK_BATCH];
    pid_t pid[SOAK_BATCH];
    char byte;
    for (int i = 0; i < b; i++) pid[i] = start_client(o, profile, &out[i]);
    for (int i = 0; i < b; i++) /* mid-stream: its output flows */
      if (pid[i] < 0 || read(out[i], &byte, 1) != 1) failed++;
    for (int i = 0; i < b; i++) {
      if (pid[i] > 0) kill(pid[i], SIGKILL);
      if (pid[i] > 0) waitpid(pid[i], NULL, 0);
      close(out[i]);
    }
  }
  return failed;
}

/* Waits (up to 60 s) until the daemon holds no more fds than @p idle and
 * no soak process is left (the killed clients' runs are stopped), then
 * 1.5 s more: the daemon trims its heap after a second without runs. */
static void wait_idle(const options *o, int idle_fds) {
  for (int i = 0; i < 600; i++) {
    health h = measure(o);
    if (h.fds <= idle_fds && h.survivors == 0 && h.zombies == 0 &&
        h.leaves == 0)
      break;
    usleep(100000);
  }
  usleep(1500000);
}

static void soak_profile(const options *o, gexec_conn *c, const char *prof) {
  soak_row *r = &rows[nrows++];
  long samples[10] = {0};
  r->profile = prof;
  r->runs = o->soak_runs / 3;
  r->kills = o->soak_kills / 3;
  int64_t t0 = gb_now_ns();
  r->failed = run_mix(o, c, prof, 1000, NULL); /* warm-up, clients too */
  r->failed += o->cli ? kill_clients(o, prof, SOAK_BATCH) : 0;
  wait_idle(o, 1 << 30);
  r->before = measure(o);
  r->failed += run_mix(o, c, prof, r->runs, samples);
  r->failed += o->cli ? kill_clients(o, prof, r->kills) : 0;
  wait_idle(o, r->before.fds);
  r->after = measure(o);
  r->rss_min_kb = r->rss_max_kb = r->before.rss_kb;
  for (int i = 0; i < 10; i++) {
    if (samples[i] > 0 && samples[i] < r->rss_min_kb) r->rss_min_kb = samples[i];
    if (samples[i] > r->rss_max_kb) r->rss_max_kb = samples[i];
  }
  if (r->after.rss_kb > r->rss_max_kb) r->rss_max_kb = r->after.rss_kb;
  r->seconds = (double)(gb_now_ns() - t0) / 1e9;
}

void bench_soak(const options *o, gexec_conn *c) {
  static const char *const profiles[] = {"host", "baseline", "restricted"};
  snprintf(mark, sizeof mark, "gexec-soak-%d", (int)getpid());
  snprintf(escapee, sizeof escapee, "86%05d.5", (int)getpid() % 100000);
  if (o->daemon_pid <= 0) {
    gb_fail("soak", "needs --daemon-pid");
    return;
  }
  if (!o->cli) fprintf(stderr, "gexec_bench: soak without --cli: no "
                               "clients are killed\n");
  for (int i = 0; i < 3; i++) {
    fprintf(stderr, "gexec_bench: §6 soak, profile %s ...\n", profiles[i]);
    soak_profile(o, c, profiles[i]);
  }
}

/* "a → b", flagged when a count that must stay flat changed. */
static void cell(long a, long b) {
  printf(" %ld → %ld%s |", a, b, a != b ? " (CHANGED)" : "");
}

/* gRPC sizes its thread pools to the load it has seen (a thread more
 * after a burst of connections is not a leak): threads may grow up to
 * SOAK_MAX_THREADS, never past it. */
#define SOAK_MAX_THREADS 16

static void thread_cell(long a, long b) {
  printf(" %ld → %ld%s |", a, b, b > a && b > SOAK_MAX_THREADS ? " (GREW)" : "");
}

void bench_print_soak(void) {
  if (!nrows) return;
  printf("\n§6 soak (per profile: after a warm-up of 1000 runs and %d "
         "killed clients, runs of the mix, then clients SIGKILLed "
         "mid-stream; before → after, daemon idle):\n\n"
         "| profile | runs | clients killed | failed | wall s | fds | "
         "threads | RSS MiB (before → after; min–max while running) | "
         "zombies | run cgroups | surviving processes |\n"
         "|---|---|---|---|---|---|---|---|---|---|---|\n", SOAK_BATCH);
  for (int i = 0; i < nrows; i++) {
    const soak_row *r = &rows[i];
    printf("| %s | %d | %d | %d | %.0f |", r->profile, r->runs, r->kills,
           r->failed, r->seconds);
    cell(r->before.fds, r->after.fds);
    thread_cell(r->before.threads, r->after.threads);
    printf(" %.1f → %.1f (%.1f–%.1f) |", gb_kb_to_mib(r->before.rss_kb),
           gb_kb_to_mib(r->after.rss_kb), gb_kb_to_mib(r->rss_min_kb),
           gb_kb_to_mib(r->rss_max_kb));
    cell(r->before.zombies, r->after.zombies);
    cell(r->before.leaves, r->after.leaves);
    cell(r->before.survivors, r->after.survivors);
    printf("\n");
    if (r->failed || r->after.fds != r->before.fds ||
        (r->after.threads > r->before.threads &&
         r->after.threads > SOAK_MAX_THREADS) || r->after.zombies ||
        r->after.leaves || r->after.survivors)
      gb_failures++;
  }
}
