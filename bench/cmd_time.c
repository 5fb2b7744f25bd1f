/* cmd_time: times whole commands, interleaved, and prints medians.
 *
 *   cmd_time [-n RUNS] [-w WARMUP] [-s] [-b BYTES] LABEL=COMMAND...
 *
 * (defaults: 40 runs, 3 warm-up rounds; 1 to 8 series)
 *
 * Each round runs every COMMAND once, in an order rotated by one each
 * round, so that machine noise hits all series alike; WARMUP rounds are
 * run first and not counted. A run is timed from posix_spawn to waitpid
 * (CLOCK_MONOTONIC), with stdin and stdout on /dev/null and stderr
 * inherited. COMMAND is split on spaces (no quoting); with -s it is given
 * to /bin/sh -c whole instead (pipes, redirections; the shell's own
 * start-up, ~0.5 ms, is then part of every series). A run that does not
 * exit 0 is an error: cmd_time stops and exits 1.
 *
 * Prints a Markdown table: p50, p90, mean and min in µs per series and
 * each p50 and p90 divided by those of the last series (the reference),
 * and with -b BYTES the rate BYTES / p50 in MB/s (10^6 bytes per second).
 * Percentiles are nearest-rank. Used by bench/cli.sh. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench/percentile.h"

extern char **environ;

#define MAX_SERIES 8
#define MAX_ARGS 64
#define MAX_RUNS 100000

typedef struct {
  char label[64];
  char *argv[MAX_ARGS + 1];
  int64_t *ns; /* one per counted run */
} series;

typedef struct {
  series s[MAX_SERIES];
  int nseries, runs, warmup, shell;
  uint64_t bytes;
  int null_fd;
} setup;

static int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* Prints "cmd_time: " and the message on stderr; returns -1. */
__attribute__((format(printf, 1, 2))) static int fail(const char *fmt,
                                                      ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("cmd_time: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  return -1;
}

/* Splits "LABEL=COMMAND" into @p s; @p spec is modified in place. */
static int parse_series(char *spec, int shell, series *s) {
  static char sh[] = "/bin/sh", dash_c[] = "-c";
  char *eq = strchr(spec, '=');
  if (!eq || eq == spec || (size_t)(eq - spec) >= sizeof s->label)
    return fail("'%s': expected LABEL=COMMAND (LABEL < 64 bytes)", spec);
  memcpy(s->label, spec, (size_t)(eq - spec));
  s->label[eq - spec] = '\0';
  char *cmd = eq + 1;
  int n = 0;
  if (shell) {
    s->argv[n++] = sh;
    s->argv[n++] = dash_c;
    s->argv[n++] = cmd;
  } else {
    for (char *save = NULL, *w = strtok_r(cmd, " ", &save); w;
         w = strtok_r(NULL, " ", &save)) {
      if (n == MAX_ARGS) return fail("'%s': too many words", s->label);
      s->argv[n++] = w;
    }
  }
  if (n == 0) return fail("'%s': empty command", s->label);
  s->argv[n] = NULL;
  return 0;
}

/* Runs one command; returns its duration in ns, or -1. */
static int64_t run_once(const setup *u, const series *s) {
  posix_spawn_file_actions_t fa;
  pid_t pid;
  int status = 0;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, u->null_fd, 0);
  posix_spawn_file_actions_adddup2(&fa, u->null_fd, 1);
  int64_t t0 = now_ns();
  int rc = posix_spawnp(&pid, s->argv[0], &fa, NULL, s->argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return fail("cannot start '%s'", s->label), -1;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  int64_t ns = now_ns() - t0;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return fail("'%s' did not exit 0", s->label), -1;
  return ns;
}

/* Runs the warm-up and counted rounds, rotating the order each round. */
static int run_all(setup *u) {
  for (int r = 0; r < u->warmup + u->runs; r++) {
    for (int k = 0; k < u->nseries; k++) {
      series *s = &u->s[(r + k) % u->nseries];
      int64_t ns = run_once(u, s);
      if (ns < 0) return -1;
      if (r >= u->warmup) s->ns[r - u->warmup] = ns;
    }
  }
  return 0;
}

static void print_table(setup *u) {
  const series *ref = &u->s[u->nseries - 1];
  for (int k = 0; k < u->nseries; k++)
    pct_sort(u->s[k].ns, u->runs);
  double r50 = pct_us(ref->ns, u->runs, 50);
  double r90 = pct_us(ref->ns, u->runs, 90);
  printf("| series (%d runs each) | p50 µs | p90 µs | mean µs | min µs "
         "| p50 / %s | p90 / %s |%s\n|---|---|---|---|---|---|---|%s\n",
         u->runs, ref->label, ref->label, u->bytes ? " MB/s at p50 |" : "",
         u->bytes ? "---|" : "");
  for (int k = 0; k < u->nseries; k++) {
    const series *s = &u->s[k];
    double sum = 0, p50 = pct_us(s->ns, u->runs, 50);
    for (int i = 0; i < u->runs; i++) sum += (double)s->ns[i];
    printf("| %s | %.0f | %.0f | %.0f | %.0f | %.2f× | %.2f× |", s->label,
           p50, pct_us(s->ns, u->runs, 90), sum / u->runs / 1e3,
           (double)s->ns[0] / 1e3, p50 / r50,
           pct_us(s->ns, u->runs, 90) / r90);
    if (u->bytes) printf(" %.0f |", (double)u->bytes / p50);
    printf("\n");
  }
}

static int parse_int(const char *s, long lo, long hi, long *v) {
  char *end;
  errno = 0;
  long long x = strtoll(s, &end, 10);
  if (errno || end == s || *end || x < lo || x > hi) return -1;
  *v = (long)x;
  return 0;
}

static int parse_opts(int argc, char **argv, setup *u) {
  long v;
  int c;
  while ((c = getopt(argc, argv, "+n:w:sb:")) != -1) {
    if (c == 's') {
      u->shell = 1;
    } else if (c == 'b') {
      char *end;
      errno = 0;
      u->bytes = strtoull(optarg, &end, 10);
      if (errno || end == optarg || *end) return fail("bad -b %s", optarg);
    } else if ((c == 'n' || c == 'w') &&
               parse_int(optarg, c == 'n', MAX_RUNS, &v) == 0) {
      *(c == 'n' ? &u->runs : &u->warmup) = (int)v;
    } else {
      return fail("usage: cmd_time [-n RUNS] [-w WARMUP] [-s] [-b BYTES] "
                  "LABEL=COMMAND...");
    }
  }
  if (optind == argc || argc - optind > MAX_SERIES)
    return fail("give 1 to 8 LABEL=COMMAND arguments");
  for (int i = optind; i < argc; i++)
    if (parse_series(argv[i], u->shell, &u->s[u->nseries++]) != 0) return -1;
  return 0;
}

int main(int argc, char **argv) {
  static setup u = {.runs = 40, .warmup = 3};
  int rc = 1;
  if (parse_opts(argc, argv, &u) != 0) return 2;
  u.null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (u.null_fd < 0) return fail("/dev/null: %s", strerror(errno)), 1;
  for (int k = 0; k < u.nseries; k++) {
    u.s[k].ns = calloc((size_t)u.runs, sizeof(int64_t));
    if (!u.s[k].ns) goto out;
  }
  if (run_all(&u) == 0) {
    print_table(&u);
    rc = 0;
  }
out:
  for (int k = 0; k < u.nseries; k++) free(u.s[k].ns);
  close(u.null_fd);
  return rc;
}
