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
 *   6. soak (only when asked for, --sections 6): many runs and clients
 *      SIGKILLed mid-stream per profile; the daemon's fds, threads, RSS,
 *      zombies, run cgroups and surviving processes before and after
 *   7. fork server against exec per run (--exec-target)
 *   8. event API (only when asked for, --sections 8): /bin/true runs/s
 *      and client CPU per run at 1-256 in flight from one thread through
 *      one gexec_evq, beside as many threads calling gexec_run; client
 *      threads, RSS and sockets with 1,000 connections, a run on each
 *
 * Exit status: 0 if every run succeeded (a missed target is reported as
 * MISSED in the table, not as a failure), 1 if any run failed, 2 on bad
 * usage. See docs/BENCHMARKS.md. */
#include "bench/bench.h"

/* ---------------------------------------------------------------- main */

static void usage(FILE *f) {
  fprintf(f,
          "Usage: gexec_bench --target unix:/path [--daemon-pid PID]\n"
          "                   [--iterations N] [--warmup N] [--bytes N]\n"
          "                   [--sessions N] [--sleep S] [--sections 12345]\n"
          "                   [--launcher PATH] [--iso-iterations N]\n"
          "                   [--soak-runs N] [--soak-kills N] [--cli PATH]\n"
          "                   [--instance NAME] [--exec-target unix:/path\n"
          "                   --exec-daemon-pid PID]\n"
          "Defaults: N=500 iterations after 20 warm-up, 1073741824 bytes,\n"
          "1000 sessions of sleep 4, §5 300 iterations, all five sections.\n"
          "--daemon-pid enables RSS/CPU figures; --sections 23 runs only §2\n"
          "and §3 (e.g. under a profiler). --launcher: the gexec-launch that\n"
          "§5 also runs locally (without it those rows are unavailable).\n"
          "§6 (soak; not in the default sections): 100000 runs and 1000\n"
          "killed clients over the three profiles; --cli is gexec, --instance\n"
          "gexecd's instance (to count its run cgroups).\n"
          "§7: the default daemon (fork server) against --exec-target, a\n"
          "gexecd with --launch-mode exec: /bin/true p50 beside a local\n"
          "posix_spawn, then runs/s and CPU per run at 1/4/16/64 clients.\n"
          "§8 (event API; not in the default sections, ~1.5 min): runs/s\n"
          "and client CPU per run at 1/16/64/256 in flight from one thread\n"
          "through one gexec_evq beside threads calling gexec_run; client\n"
          "threads, RSS and sockets with 1,000 connections, a run on each.\n"
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
  if (opt == 't' || opt == 'x' || opt == 'L' || opt == 'C' || opt == 'I' ||
      opt == 'E') {
    *(opt == 't'   ? &o->target
      : opt == 'x' ? &o->sections
      : opt == 'L' ? &o->launcher
      : opt == 'C' ? &o->cli
      : opt == 'E' ? &o->exec_target
                   : &o->instance) = arg;
    return 0;
  }
  if (parse_num(arg, 1, 1LL << 40, &v) != 0) return -1;
  switch (opt) {
    case 'p': o->daemon_pid = (pid_t)v; return v <= INT32_MAX ? 0 : -1;
    case 'P': o->exec_daemon_pid = (pid_t)v; return v <= INT32_MAX ? 0 : -1;
    case 'n': o->iters = (int)v; return v <= 10000000 ? 0 : -1;
    case 'N': o->iso_iters = (int)v; return v <= 10000000 ? 0 : -1;
    case 'w': o->warmup = (int)v; return v <= 10000000 ? 0 : -1;
    case 'b': o->bytes = (uint64_t)v; return 0;
    case 's': o->sessions = (int)v; return v <= 1000000 ? 0 : -1;
    case 'S': o->sleep_s = (int)v; return v <= 3600 ? 0 : -1;
    case 'R': o->soak_runs = (int)v; return v <= 100000000 ? 0 : -1;
    case 'K': o->soak_kills = (int)v; return v <= 1000000 ? 0 : -1;
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
      {"soak-runs", required_argument, NULL, 'R'},
      {"soak-kills", required_argument, NULL, 'K'},
      {"cli", required_argument, NULL, 'C'},
      {"instance", required_argument, NULL, 'I'},
      {"exec-target", required_argument, NULL, 'E'},
      {"exec-daemon-pid", required_argument, NULL, 'P'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  *o = (options){.iters = 500, .warmup = 20, .bytes = 1ULL << 30,
                 .sessions = 1000, .sleep_s = 4, .sections = "123457",
                 .iso_iters = 300, .soak_runs = 100000, .soak_kills = 1000};
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
  snap a = gb_take_snap(o);
  fn(o, c);
  gb_add_cpu(name, a, gb_take_snap(o));
}

int main(int argc, char **argv) {
  options o;
  gexec_conn *c;
  gexec_error e;
  char load[128] = "?\n";
  /* Output arrives in ~1 MiB messages: keep such blocks on the heap
   * instead of an mmap/munmap (and page faults) per message. A process
   * setting, so the program makes it, not libgexec (see gexec.h). */
  mallopt(M_MMAP_THRESHOLD, 8 << 20);
  mallopt(M_TRIM_THRESHOLD, 64 << 20);

  if (parse_args(argc, argv, &o) != 0) return 2;
  signal(SIGPIPE, SIG_IGN); /* a local child dying early: EPIPE, not death */
  read_loadavg(load, sizeof load);
  long idle_kb = gb_proc_status_kb(o.daemon_pid, "VmRSS");
  int rc = gexec_connect(o.target, NULL, &c, &e);
  if (rc != GEXEC_OK) {
    gb_fail_gexec("connect", rc, &e);
    return 1;
  }
  run_section(&o, c, '1', "§1 /bin/true latency", bench_latency);
  run_section(&o, c, '1', "§1 ping (context)", bench_ping);
  run_section(&o, c, '2', "§2 stdout throughput", bench_stdout);
  run_section(&o, c, '3', "§3 stdin throughput", bench_stdin);
  run_section(&o, c, '4', "§4 concurrent sessions", bench_sessions);
  run_section(&o, c, '5', "§5 isolation cost", bench_isolation);
  run_section(&o, c, '6', "§6 soak", bench_soak);
  run_section(&o, c, '7', "§7 fork server vs exec per run", bench_concurrency);
  run_section(&o, c, '8', "§8 event API", bench_evq);
  bench_report_peak(&o, idle_kb); /* §4 rows; read last: covers the whole run */
  gexec_conn_close(c);
  print_header(&o, load);
  gb_print_rows();
  if (o.daemon_pid > 0) gb_print_cpu();
  bench_print_soak();
  printf("\n%s\n", gb_failures ? "RESULT: some runs FAILED (see stderr)"
                            : "RESULT: all runs succeeded");
  return gb_failures ? 1 : 0;
}
