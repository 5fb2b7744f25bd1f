/* Unit tests for client/cli/args: the gexec command line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "client/cli/args.h"

#define ARGC(v) ((int)(sizeof(v) / sizeof *(v)) - 1)

static gxc_args a;
static char why[512];

/* Parses a NULL-terminated argv, expecting success. */
static void parse_ok(char **argv, int argc) {
  why[0] = '\0';
  int rc = gxc_args_parse(argc, argv, &a, why, sizeof why);
  if (rc != 0) fail_msg("unexpected error: %s", why);
}

/* Parses, expecting a usage error with exactly @p msg. */
static void parse_err(char **argv, int argc, gxc_cmd cmd, const char *msg) {
  assert_int_equal(gxc_args_parse(argc, argv, &a, why, sizeof why), -1);
  assert_string_equal(why, msg);
  assert_int_equal(a.cmd, cmd);
}

/* ------------------------------------------------------------ run */

static void run_all_options(void **state) {
  char *v[] = {"gexec", "run", "-H", "unix:/tmp/x.sock", "-t", "0.5",
               "-C", "/srv", "-e", "A=1", "-e", "B=", "-n",
               "--merge-stderr", "--json", "--kill-grace", "2.5", "--",
               "prog", "a", "-b", "--c", NULL};
  (void)state;
  parse_ok(v, ARGC(v));
  assert_int_equal(a.cmd, GXC_CMD_RUN);
  assert_string_equal(a.target, "unix:/tmp/x.sock");
  assert_int_equal(a.timeout_ms, 500);
  assert_string_equal(a.cwd, "/srv");
  assert_int_equal(a.nenv, 2);
  assert_string_equal(a.env[0], "A=1");
  assert_string_equal(a.env[1], "B=");
  assert_null(a.env[2]);
  assert_int_equal(a.stdin_null, 1);
  assert_int_equal(a.merge_stderr, 1);
  assert_int_equal(a.json, 1);
  assert_int_equal(a.kill_grace_ms, 2500);
  assert_int_equal(a.prog_argc, 4);
  assert_ptr_equal(a.prog, &v[18]);
  assert_string_equal(a.prog[0], "prog");
  assert_string_equal(a.prog[3], "--c");
  assert_null(a.prog[4]);
}

static void run_long_aliases(void **state) {
  char *v[] = {"gexec", "run", "--target=h:1", "--timeout", "3",
               "--cwd=/", "--env", "X=y", "--no-stdin", "true", NULL};
  (void)state;
  parse_ok(v, ARGC(v));
  assert_string_equal(a.target, "h:1");
  assert_int_equal(a.timeout_ms, 3000);
  assert_string_equal(a.cwd, "/");
  assert_string_equal(a.env[0], "X=y");
  assert_int_equal(a.stdin_null, 1);
  assert_string_equal(a.prog[0], "true");
}

static void run_defaults(void **state) {
  char *v[] = {"gexec", "run", "ls", NULL};
  (void)state;
  parse_ok(v, ARGC(v));
  assert_int_equal(a.cmd, GXC_CMD_RUN);
  assert_null(a.target);
  assert_int_equal(a.timeout_ms, 0);
  assert_null(a.cwd);
  assert_int_equal(a.nenv, 0);
  assert_null(a.env[0]);
  assert_int_equal(a.stdin_null, 0);
  assert_int_equal(a.merge_stderr, 0);
  assert_int_equal(a.json, 0);
  assert_int_equal(a.kill_grace_ms, 0);
  assert_int_equal(a.verbose, 0);
  assert_null(a.profile);
  assert_int_equal(a.memory_bytes, 0);
  assert_int_equal(a.pids, 0);
  assert_int_equal(a.cpu_time_ms, 0);
  assert_int_equal(a.open_files, 0);
  assert_int_equal(a.prog_argc, 1);
  assert_string_equal(a.prog[0], "ls");
}

/* Everything from PROGRAM on belongs to the program, options included. */
static void run_options_after_program_are_its_own(void **state) {
  char *v[] = {"gexec", "run", "-n", "echo", "-n", "-H", "x", "--json",
               "--help", NULL};
  (void)state;
  parse_ok(v, ARGC(v));
  assert_int_equal(a.cmd, GXC_CMD_RUN);
  assert_null(a.target);
  assert_int_equal(a.json, 0);
  assert_int_equal(a.prog_argc, 6);
  assert_string_equal(a.prog[0], "echo");
  assert_string_equal(a.prog[1], "-n");
  assert_string_equal(a.prog[2], "-H");
  assert_string_equal(a.prog[3], "x");
  assert_string_equal(a.prog[4], "--json");
  assert_string_equal(a.prog[5], "--help");
}

static void run_double_dash(void **state) {
  char *v1[] = {"gexec", "run", "--", "-weird", "x", NULL};
  char *v2[] = {"gexec", "run", "-n", "--", "ls", "--", "-l", NULL};
  (void)state;
  parse_ok(v1, ARGC(v1));
  assert_int_equal(a.prog_argc, 2);
  assert_string_equal(a.prog[0], "-weird");
  parse_ok(v2, ARGC(v2));
  assert_int_equal(a.prog_argc, 3);
  assert_string_equal(a.prog[0], "ls");
  assert_string_equal(a.prog[1], "--");
  assert_string_equal(a.prog[2], "-l");
}

static void run_short_clusters(void **state) {
  char *v[] = {"gexec", "run", "-nHunix:/s", "-t1", "-eK=V", "cat", NULL};
  (void)state;
  parse_ok(v, ARGC(v));
  assert_int_equal(a.stdin_null, 1);
  assert_string_equal(a.target, "unix:/s");
  assert_int_equal(a.timeout_ms, 1000);
  assert_string_equal(a.env[0], "K=V");
  assert_string_equal(a.prog[0], "cat");
}

static void run_help(void **state) {
  char *v1[] = {"gexec", "run", "--help", NULL};
  char *v2[] = {"gexec", "run", "-n", "-h", "ls", NULL};
  (void)state;
  parse_ok(v1, ARGC(v1));
  assert_int_equal(a.cmd, GXC_CMD_RUN_HELP);
  parse_ok(v2, ARGC(v2));
  assert_int_equal(a.cmd, GXC_CMD_RUN_HELP);
}

static void run_usage_errors(void **state) {
  char *v1[] = {"gexec", "run", NULL};
  char *v2[] = {"gexec", "run", "-n", "--", NULL};
  char *v3[] = {"gexec", "run", "-x", "n1", "ls", NULL};
  char *v4[] = {"gexec", "run", "--bogus", "ls", NULL};
  char *v5[] = {"gexec", "run", "-t", NULL};
  char *v6[] = {"gexec", "run", "--timeout", NULL};
  char *v7[] = {"gexec", "run", "--json=yes", "ls", NULL};
  char *v8[] = {"gexec", "run", "-t", "abc", "ls", NULL};
  char *v9[] = {"gexec", "run", "-t", "-1", "ls", NULL};
  char *v10[] = {"gexec", "run", "--kill-grace", "5sec", "ls", NULL};
  char *v11[] = {"gexec", "run", "-nq", "ls", NULL};
  char *v12[] = {"gexec", "run", "--json", "-xn", "ls", NULL};
  (void)state;
  parse_err(v1, ARGC(v1), GXC_CMD_RUN, "missing PROGRAM");
  parse_err(v2, ARGC(v2), GXC_CMD_RUN, "missing PROGRAM");
  parse_err(v3, ARGC(v3), GXC_CMD_RUN, "-x needs -w (fleet mode)");
  parse_err(v4, ARGC(v4), GXC_CMD_RUN, "unknown option '--bogus'");
  parse_err(v5, ARGC(v5), GXC_CMD_RUN, "option '-t' needs a value");
  parse_err(v6, ARGC(v6), GXC_CMD_RUN, "option '--timeout' needs a value");
  parse_err(v7, ARGC(v7), GXC_CMD_RUN, "option '--json' takes no value");
  parse_err(v8, ARGC(v8), GXC_CMD_RUN,
            "invalid value 'abc' for -t: expected a duration, like 30s, 1.5 "
            "or 500ms");
  parse_err(v9, ARGC(v9), GXC_CMD_RUN,
            "invalid value '-1' for -t: expected a duration, like 30s, 1.5 "
            "or 500ms");
  parse_err(v10, ARGC(v10), GXC_CMD_RUN,
            "invalid value '5sec' for --kill-grace: expected a duration, "
            "like 5s, 0.5 or 500ms");
  parse_err(v11, ARGC(v11), GXC_CMD_RUN, "unknown option '-q'");
  parse_err(v12, ARGC(v12), GXC_CMD_RUN, "-x needs -w (fleet mode)");
}

/* --tty is reserved (a remote pty, later): a usage error for now, with no
 * short form (-t is the timeout), and only before PROGRAM. */
static void run_tty_reserved(void **state) {
  char *v1[] = {"gexec", "run", "--tty", "sh", NULL};
  char *v2[] = {"gexec", "run", "-n", "--tty", "--json", "sh", NULL};
  char *v3[] = {"gexec", "run", "--tty=yes", "sh", NULL};
  char *v4[] = {"gexec", "run", "-t", "5", "sh", "--tty", NULL};
  (void)state;
  parse_err(v1, ARGC(v1), GXC_CMD_RUN,
            "--tty: terminal sessions are not supported yet");
  parse_err(v2, ARGC(v2), GXC_CMD_RUN,
            "--tty: terminal sessions are not supported yet");
  parse_err(v3, ARGC(v3), GXC_CMD_RUN, "option '--tty' takes no value");
  parse_ok(v4, ARGC(v4));
  assert_int_equal(a.timeout_ms, 5000);
  assert_int_equal(a.prog_argc, 2);
  assert_string_equal(a.prog[1], "--tty");
}

static void run_env_errors(void **state) {
  char *v1[] = {"gexec", "run", "-e", "FOO", "ls", NULL};
  char *v2[] = {"gexec", "run", "-e", "=x", "ls", NULL};
  char *v3[] = {"gexec", "run", "-e", "", "ls", NULL};
  char *v4[] = {"gexec", "run", "-e", "A==b", "-e", "B=c=d", "ls", NULL};
  (void)state;
  parse_err(v1, ARGC(v1), GXC_CMD_RUN, "-e 'FOO': expected NAME=VALUE");
  parse_err(v2, ARGC(v2), GXC_CMD_RUN, "-e '=x': empty variable name");
  parse_err(v3, ARGC(v3), GXC_CMD_RUN, "-e '': expected NAME=VALUE");
  parse_ok(v4, ARGC(v4));
  assert_string_equal(a.env[0], "A==b");
  assert_string_equal(a.env[1], "B=c=d");
}

static void run_env_limit(void **state) {
  static char *v[2 + 2 * (GXC_MAX_ENV + 1) + 2];
  int n = 0;
  (void)state;
  v[n++] = "gexec";
  v[n++] = "run";
  for (int i = 0; i < GXC_MAX_ENV; i++) {
    v[n++] = "-e";
    v[n++] = "A=1";
  }
  v[n++] = "ls";
  v[n] = NULL;
  parse_ok(v, n);
  assert_int_equal(a.nenv, GXC_MAX_ENV);
  assert_null(a.env[GXC_MAX_ENV]);
  v[n - 1] = "-e";
  v[n++] = "B=2";
  v[n++] = "ls";
  v[n] = NULL;
  parse_err(v, n, GXC_CMD_RUN, "too many -e options (at most 1024)");
}

/* Parsing twice in a row starts afresh (getopt state is reset). */
static void run_parse_is_repeatable(void **state) {
  char *v1[] = {"gexec", "run", "-n", "-e", "A=1", "x", NULL};
  char *v2[] = {"gexec", "run", "y", NULL};
  (void)state;
  parse_ok(v1, ARGC(v1));
  parse_ok(v2, ARGC(v2));
  assert_int_equal(a.stdin_null, 0);
  assert_int_equal(a.nenv, 0);
  assert_string_equal(a.prog[0], "y");
  char *v3[] = {"gexec", "run", "-v", "--profile", "host", "--memory", "1M",
                "--pids", "2", "--cpu-time", "3", "--open-files", "4", "x",
                NULL};
  parse_ok(v3, ARGC(v3));
  parse_ok(v2, ARGC(v2));
  assert_int_equal(a.verbose, 0);
  assert_null(a.profile);
  assert_int_equal(a.memory_bytes + a.pids + a.cpu_time_ms + a.open_files,
                   0);
}

/* ------------------------------------------------ isolation and limits */

static void run_isolation_options(void **state) {
  char *v[] = {"gexec", "run", "--profile", "restricted", "--memory", "32M",
               "--pids", "64", "--cpu-time", "1.5", "--open-files", "256",
               "-v", "--", "id", "-u", NULL};
  char *v2[] = {"gexec", "run", "--profile=my-tier", "--memory=1g",
                "--pids=1", "--cpu-time=0.001", "--open-files=1",
                "--verbose", "true", NULL};
  char *v4[] = {"gexec", "run", "--cpu-time", "2m", "--memory", "512k",
                "true", NULL};
  char *v5[] = {"gexec", "run", "--cpu-time=0.25h", "true", NULL};
  char *v3[] = {"gexec", "run", "-nv", "--memory", "4096", "true", NULL};
  (void)state;
  parse_ok(v, ARGC(v));
  assert_int_equal(a.cmd, GXC_CMD_RUN);
  assert_string_equal(a.profile, "restricted");
  assert_int_equal(a.memory_bytes, 32ull << 20);
  assert_int_equal(a.pids, 64);
  assert_int_equal(a.cpu_time_ms, 1500);
  assert_int_equal(a.open_files, 256);
  assert_int_equal(a.verbose, 1);
  assert_int_equal(a.prog_argc, 2);
  assert_string_equal(a.prog[0], "id");
  /* Any profile name passes: the daemon validates it. */
  parse_ok(v2, ARGC(v2));
  assert_string_equal(a.profile, "my-tier");
  assert_int_equal(a.memory_bytes, 1ull << 30);
  assert_int_equal(a.pids, 1);
  assert_int_equal(a.cpu_time_ms, 1);
  assert_int_equal(a.open_files, 1);
  assert_int_equal(a.verbose, 1);
  parse_ok(v3, ARGC(v3));
  assert_int_equal(a.stdin_null, 1);
  assert_int_equal(a.verbose, 1);
  assert_int_equal(a.memory_bytes, 4096);
  assert_null(a.profile);
  parse_ok(v4, ARGC(v4));
  assert_int_equal(a.cpu_time_ms, 120000);
  assert_int_equal(a.memory_bytes, 512ull << 10);
  parse_ok(v5, ARGC(v5));
  assert_int_equal(a.cpu_time_ms, 900000);
}

/* -u / --user: any non-empty name goes to the daemon (which validates
 * it); it ends at PROGRAM like every option, and does not stick. */
static void run_user_option(void **state) {
  char *v1[] = {"gexec", "run", "-u", "nobody", "id", "-u", NULL};
  char *v2[] = {"gexec", "run", "--user=deploy", "-n", "true", NULL};
  char *v3[] = {"gexec", "run", "--user", "x.y-z_1", "--", "id", NULL};
  char *v4[] = {"gexec", "run", "id", "-u", "root", NULL};
  char *m1[] = {"gexec", "run", "-u", NULL};
  char *m2[] = {"gexec", "run", "--user", "", "true", NULL};
  (void)state;
  parse_ok(v1, ARGC(v1));
  assert_string_equal(a.user, "nobody");
  assert_int_equal(a.prog_argc, 2);
  assert_string_equal(a.prog[1], "-u");
  parse_ok(v2, ARGC(v2));
  assert_string_equal(a.user, "deploy");
  assert_int_equal(a.stdin_null, 1);
  parse_ok(v3, ARGC(v3));
  assert_string_equal(a.user, "x.y-z_1");
  parse_ok(v4, ARGC(v4));
  assert_null(a.user); /* PROGRAM's own -u */
  assert_int_equal(a.prog_argc, 3);
  parse_err(m1, ARGC(m1), GXC_CMD_RUN, "option '-u' needs a value");
  parse_err(m2, ARGC(m2), GXC_CMD_RUN,
            "invalid value '' for -u: expected a user name");
}

/* Runs one bad value through `gexec run OPT VALUE true`. */
static void expect_bad(const char *opt, const char *val, const char *msg) {
  char *v[] = {"gexec", "run", (char *)opt, (char *)val, "true", NULL};
  parse_err(v, ARGC(v), GXC_CMD_RUN, msg);
}

/* Runs each of @p vals through `gexec run OPT VAL true`, expecting
 * "invalid value 'VAL' for OPT: expected @p expect". */
static void expect_all_bad(const char *opt, const char *const *vals,
                           size_t n, const char *expect) {
  char msg[512];
  for (size_t i = 0; i < n; i++) {
    snprintf(msg, sizeof msg, "invalid value '%s' for %s: expected %s",
             vals[i], opt, expect);
    expect_bad(opt, vals[i], msg);
  }
}

#define N(a) (sizeof(a) / sizeof *(a))

static void run_isolation_errors(void **state) {
  static const char *const bad_sizes[] = {
      "", "0", "0K", "-1", "+1", "1.5G", "32MB", "32 M", " 32", "32T", "M",
      "0x10", "1e6", "16777216T", "18446744073709551616",
      "17179869184G", "1KK", "1Ki", "1KB"};
  static const char *const bad_counts[] = {"", "0", "-1", "+5", "1.5", "5x",
                                           " 5", "0x10",
                                           "18446744073709551616"};
  static const char *const bad_durations[] = {
      "",    "0",      "0.0",   "0ms", "-1", "1e3", "abc",
      "1,5", "0.0001", "0.5ms", "1.",  ".5", "1S",  "1 s",
      "10y", "87840.001h", "18446744073709551616ms"};
  char *m1[] = {"gexec", "run", "--memory", NULL};
  char *m2[] = {"gexec", "run", "--profile", NULL};
  char *m3[] = {"gexec", "run", "-v=1", "true", NULL};
  char *m4[] = {"gexec", "run", "--verbose=yes", "true", NULL};
  (void)state;
  expect_all_bad("--memory", bad_sizes, N(bad_sizes),
                 "a size > 0 in bytes, or with a K, M or G suffix, like "
                 "512M");
  expect_all_bad("--pids", bad_counts, N(bad_counts), "a whole number > 0");
  expect_all_bad("--open-files", bad_counts, N(bad_counts),
                 "a whole number > 0");
  expect_all_bad("--cpu-time", bad_durations, N(bad_durations),
                 "a duration > 0, like 10s, 1.5 or 500ms");
  expect_bad("--profile", "",
             "invalid value '' for --profile: expected a profile name, like "
             "baseline or restricted");
  parse_err(m1, ARGC(m1), GXC_CMD_RUN, "option '--memory' needs a value");
  parse_err(m2, ARGC(m2), GXC_CMD_RUN, "option '--profile' needs a value");
  parse_err(m3, ARGC(m3), GXC_CMD_RUN, "unknown option '-='");
  parse_err(m4, ARGC(m4), GXC_CMD_RUN, "option '--verbose' takes no value");
}

/* --memory takes every SIZE of lib/gx_units.h but 0. */
static void memory_sizes(void **state) {
  static const struct {
    const char *in;
    uint64_t bytes;
  } rows[] = {{"1", 1},
              {"4096", 4096},
              {"007", 7},
              {"1K", 1024},
              {"1k", 1024},
              {"32M", 32ull << 20},
              {"32m", 32ull << 20},
              {"2G", 2ull << 30},
              {"3g", 3ull << 30},
              {"17179869183G", 17179869183ull << 30},
              {"18446744073709551615", UINT64_MAX}};
  (void)state;
  for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
    char *v[] = {"gexec", "run", "--memory", (char *)rows[i].in, "true",
                 NULL};
    parse_ok(v, ARGC(v));
    assert_int_equal(a.memory_bytes, rows[i].bytes);
  }
}

static void count_valid(void **state) {
  uint64_t n = 12345;
  (void)state;
  assert_int_equal(gxc_parse_count("1", 10, &n), 0);
  assert_int_equal(n, 1);
  assert_int_equal(gxc_parse_count("10", 10, &n), 0);
  assert_int_equal(n, 10);
  assert_int_equal(gxc_parse_count("0010", 10, &n), 0);
  assert_int_equal(n, 10);
  assert_int_equal(gxc_parse_count("18446744073709551615", UINT64_MAX, &n),
                   0);
  assert_int_equal(n, UINT64_MAX);
  n = 7;
  assert_int_equal(gxc_parse_count("11", 10, &n), -1);
  assert_int_equal(gxc_parse_count("9", 5, &n), -1);
  assert_int_equal(gxc_parse_count("0", 10, &n), -1);
  assert_int_equal(gxc_parse_count("", 10, &n), -1);
  assert_int_equal(gxc_parse_count(NULL, 10, &n), -1);
  assert_int_equal(n, 7);
}

/* ----------------------------------------------------- top level, ping */

static void top_level(void **state) {
  char *v0[] = {"gexec", NULL};
  char *h1[] = {"gexec", "--help", NULL};
  char *h2[] = {"gexec", "-h", NULL};
  char *h3[] = {"gexec", "help", NULL};
  char *ver1[] = {"gexec", "--version", NULL};
  char *ver2[] = {"gexec", "-V", NULL};
  char *bad1[] = {"gexec", "frob", NULL};
  char *bad2[] = {"gexec", "--frob", NULL};
  (void)state;
  parse_err(v0, ARGC(v0), GXC_CMD_NONE, "missing command (run, facts or ping)");
  parse_ok(h1, ARGC(h1));
  assert_int_equal(a.cmd, GXC_CMD_HELP);
  parse_ok(h2, ARGC(h2));
  assert_int_equal(a.cmd, GXC_CMD_HELP);
  parse_ok(h3, ARGC(h3));
  assert_int_equal(a.cmd, GXC_CMD_HELP);
  parse_ok(ver1, ARGC(ver1));
  assert_int_equal(a.cmd, GXC_CMD_VERSION);
  parse_ok(ver2, ARGC(ver2));
  assert_int_equal(a.cmd, GXC_CMD_VERSION);
  parse_err(bad1, ARGC(bad1), GXC_CMD_NONE, "unknown command 'frob'");
  parse_err(bad2, ARGC(bad2), GXC_CMD_NONE, "unknown option '--frob'");
}

static void ping_options(void **state) {
  char *v1[] = {"gexec", "ping", NULL};
  char *v2[] = {"gexec", "ping", "-H", "127.0.0.1:7000", "-c", "3", "-t",
                "0.25", NULL};
  char *v3[] = {"gexec", "ping", "--count=100000", NULL};
  char *v4[] = {"gexec", "ping", "--help", NULL};
  static const struct {
    const char *in;
    uint64_t ms;
  } timeouts[] = {{"2s", 2000},   {"100ms", 100}, {"0.001", 1},
                  {"0.5m", 30000}, {"1.5", 1500}};
  (void)state;
  parse_ok(v1, ARGC(v1));
  assert_int_equal(a.cmd, GXC_CMD_PING);
  assert_null(a.target);
  assert_int_equal(a.ping_count, 1);
  assert_int_equal(a.ping_timeout_ms, 5000);
  parse_ok(v2, ARGC(v2));
  assert_string_equal(a.target, "127.0.0.1:7000");
  assert_int_equal(a.ping_count, 3);
  assert_int_equal(a.ping_timeout_ms, 250);
  parse_ok(v3, ARGC(v3));
  assert_int_equal(a.ping_count, 100000);
  parse_ok(v4, ARGC(v4));
  assert_int_equal(a.cmd, GXC_CMD_PING_HELP);
  for (size_t i = 0; i < sizeof timeouts / sizeof *timeouts; i++) {
    char *v[] = {"gexec", "ping", "--timeout", (char *)timeouts[i].in, NULL};
    parse_ok(v, ARGC(v));
    assert_int_equal(a.ping_timeout_ms, timeouts[i].ms);
  }
}

static void ping_errors(void **state) {
  static const char *const bad_counts[] = {"0", "-1", "abc", "1.5", "",
                                           "100001", "3x"};
  char *v[] = {"gexec", "ping", "-c", NULL, NULL};
  char *x1[] = {"gexec", "ping", "extra", NULL};
  static const char *const bad_timeouts[] = {"0", "0ms", "0.0", "0.0001",
                                             "0.5ms", "5x", ".5", "-1"};
  char *t[] = {"gexec", "ping", "-t", NULL, NULL};
  char *x3[] = {"gexec", "ping", "-n", NULL};
  char msg[128];
  (void)state;
  for (size_t i = 0; i < sizeof bad_counts / sizeof *bad_counts; i++) {
    v[3] = (char *)bad_counts[i];
    snprintf(msg, sizeof msg,
             "invalid value '%s' for -c: expected a count from 1 to 100000",
             bad_counts[i]);
    parse_err(v, ARGC(v), GXC_CMD_PING, msg);
  }
  parse_err(x1, ARGC(x1), GXC_CMD_PING, "unexpected argument 'extra'");
  for (size_t i = 0; i < sizeof bad_timeouts / sizeof *bad_timeouts; i++) {
    t[3] = (char *)bad_timeouts[i];
    snprintf(msg, sizeof msg,
             "invalid value '%s' for -t: expected a duration > 0, like 5s, "
             "0.5 or 500ms",
             bad_timeouts[i]);
    parse_err(t, ARGC(t), GXC_CMD_PING, msg);
  }
  parse_err(x3, ARGC(x3), GXC_CMD_PING, "unknown option '-n'");
}

/* --ca, --cert, --key and --tls-server-name: every subcommand, before
 * PROGRAM for run, both spellings; empty or oversized values refused. */
static void tls_options(void **state) {
  char *r[] = {"gexec", "run", "--ca", "/c/ca.pem", "--cert=/c/me.pem",
               "--key", "/c/me.key", "--tls-server-name", "d.example",
               "prog", "--ca", "x", NULL};
  char *p[] = {"gexec", "ping", "--ca=/c/ca.pem", "--cert", "/c/me.pem",
               "--key=/c/me.key", "--tls-server-name=d.example", NULL};
  char *none[] = {"gexec", "ping", NULL};
  (void)state;
  for (int i = 0; i < 2; i++) {
    if (i == 0) parse_ok(r, ARGC(r));
    else parse_ok(p, ARGC(p));
    assert_string_equal(a.ca, "/c/ca.pem");
    assert_string_equal(a.cert, "/c/me.pem");
    assert_string_equal(a.key, "/c/me.key");
    assert_string_equal(a.tls_server_name, "d.example");
  }
  assert_int_equal(a.cmd, GXC_CMD_PING);
  parse_ok(r, ARGC(r));
  assert_int_equal(a.prog_argc, 3); /* "--ca x" after PROGRAM is its own */
  parse_ok(none, ARGC(none));
  assert_null(a.ca);
  assert_null(a.cert);
  assert_null(a.key);
  assert_null(a.tls_server_name);
}

static void tls_option_errors(void **state) {
  static char name[255], path[4098];
  char *v[] = {"gexec", "ping", NULL, NULL, NULL};
  char *m[] = {"gexec", "run", "--ca", NULL};
  char msg[700];
  (void)state;
  memset(name, 'a', sizeof name - 1);
  memset(path, 'b', sizeof path - 1);
  static const struct {
    const char *opt, *val, *expect;
  } bad[] = {
      {"--ca", "", "a file name (at most 4096 bytes)"},
      {"--cert", "", "a file name (at most 4096 bytes)"},
      {"--key", "", "a file name (at most 4096 bytes)"},
      {"--tls-server-name", "", "a host name or address (at most 253 bytes)"},
      {"--tls-server-name", name, "a host name or address (at most 253 "
                                  "bytes)"},
      {"--ca", path, "a file name (at most 4096 bytes)"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    v[2] = (char *)bad[i].opt;
    v[3] = (char *)bad[i].val;
    snprintf(msg, sizeof msg, "invalid value '%.100s' for %s: expected %s",
             bad[i].val, bad[i].opt, bad[i].expect);
    parse_err(v, ARGC(v), GXC_CMD_PING, msg);
  }
  name[253] = '\0'; /* 253 bytes: fine */
  v[2] = "--tls-server-name";
  v[3] = name;
  parse_ok(v, ARGC(v));
  parse_err(m, ARGC(m), GXC_CMD_RUN, "option '--ca' needs a value");
}

/* ---------------------------------------------------------- helpers */

/* Every option taking a DUR takes the syntax of lib/gx_units.h; -t is
 * the one where 0 is allowed. */
static void timeout_durations(void **state) {
  static const struct {
    const char *in;
    uint64_t ms;
  } rows[] = {{"0", 0},           {"5", 5000},         {"0.5", 500},
              {"1.25", 1250},     {"0.001", 1},        {"0.0010", 1},
              {"007", 7000},      {"10.000", 10000},   {"1.5", 1500},
              {"30s", 30000},     {"500ms", 500},      {"0.25h", 900000},
              {"2m", 120000},     {"1.5m", 90000},     {"0ms", 0},
              {"2.5s", 2500},     {"87840h", 316224000000ull},
              {"316224000000ms", 316224000000ull}};
  (void)state;
  for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
    char *v[] = {"gexec", "run", "-t", (char *)rows[i].in, "true", NULL};
    parse_ok(v, ARGC(v));
    assert_int_equal(a.timeout_ms, rows[i].ms);
  }
}

static void timeout_refused(void **state) {
  static const char *const rows[] = {
      "", "-1", "+1", "1e3", " 1", "1 ", ".", "1.2.3", "0x10", "1,5",
      "..5", "99999999999999999999999999", ".5", "5.", "0.0001",
      "1.9999", "0.0019", "0.5ms", "1S", "1sec", "1d", "inf", "nan",
      "316224000001ms", "87840.001h"};
  (void)state;
  expect_all_bad("-t", rows, N(rows), "a duration, like 30s, 1.5 or 500ms");
}

static void kill_grace_durations(void **state) {
  static const struct {
    const char *in;
    uint32_t ms;
  } ok[] = {{"4294967.295", 4294967295u}, {"250ms", 250}, {"0.5m", 30000},
            {"0", 0}};
  static const char *const bad[] = {"4294967.296", "4294967296ms", "0.5ms"};
  (void)state;
  for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
    char *v[] = {"gexec", "run", "--kill-grace", (char *)ok[i].in, "true",
                 NULL};
    parse_ok(v, ARGC(v));
    assert_int_equal(a.kill_grace_ms, ok[i].ms);
  }
  expect_all_bad("--kill-grace", bad, N(bad),
                 "a duration, like 5s, 0.5 or 500ms");
}

static void env_check(void **state) {
  (void)state;
  assert_int_equal(gxc_check_env("A=1", why, sizeof why), 0);
  assert_int_equal(gxc_check_env("A=", why, sizeof why), 0);
  assert_int_equal(gxc_check_env("_a_1==", why, sizeof why), 0);
  assert_int_equal(gxc_check_env("A", why, sizeof why), -1);
  assert_string_equal(why, "-e 'A': expected NAME=VALUE");
  assert_int_equal(gxc_check_env("=1", why, sizeof why), -1);
  assert_string_equal(why, "-e '=1': empty variable name");
  assert_int_equal(gxc_check_env("=", why, sizeof why), -1);
  assert_string_equal(why, "-e '=': empty variable name");
}

static void target_pick_and_display(void **state) {
  char buf[256];
  (void)state;
  assert_null(gxc_pick_target(NULL, NULL));
  assert_null(gxc_pick_target(NULL, ""));
  assert_string_equal(gxc_pick_target("a:1", "b:2"), "a:1");
  assert_string_equal(gxc_pick_target(NULL, "b:2"), "b:2");
  assert_string_equal(gxc_target_display("unix:/x", "/run/user/0", buf,
                                         sizeof buf), "unix:/x");
  assert_string_equal(gxc_target_display(NULL, "/run/user/0", buf,
                                         sizeof buf),
                      "unix:/run/user/0/gexec/gexecd.sock");
  assert_string_equal(gxc_target_display(NULL, "relative", buf, sizeof buf),
                      "unix:/run/gexec/gexecd.sock");
  assert_string_equal(gxc_target_display(NULL, NULL, buf, sizeof buf),
                      "unix:/run/gexec/gexecd.sock");
  assert_string_equal(gxc_target_display("unix:/very/long", NULL, buf, 8),
                      "unix:/v");
}

static void strip_target(void **state) {
  const char *t = "unix:/x.sock";
  (void)state;
  assert_string_equal(
      gxc_strip_target("cannot connect to unix:/x.sock: refused", t),
      "refused");
  assert_string_equal(gxc_strip_target("unix:/x.sock: NOT_SERVING", t),
                      "NOT_SERVING");
  assert_string_equal(gxc_strip_target("unix:/x.sockets: y", t),
                      "unix:/x.sockets: y");
  assert_string_equal(gxc_strip_target("unix:/x.sock: ", t),
                      "unix:/x.sock: ");
  assert_string_equal(gxc_strip_target("timed out", t), "timed out");
  assert_string_equal(gxc_strip_target("", t), "");
}

static void usage_texts(void **state) {
  (void)state;
  assert_non_null(strstr(gxc_usage_main(), "Usage: gexec COMMAND"));
  assert_non_null(strstr(gxc_usage_main(), "status 2"));
  assert_non_null(strstr(gxc_usage_run(),
                         "Usage: gexec run [OPTION]... [--] PROGRAM"));
  assert_non_null(strstr(gxc_usage_run(), "  141 "));
  assert_non_null(strstr(gxc_usage_run(), "  255 "));
  assert_non_null(strstr(gxc_usage_run(), "stdout_base64"));
  assert_non_null(strstr(gxc_usage_run(), "--profile NAME"));
  assert_non_null(strstr(gxc_usage_run(), "--memory SIZE"));
  assert_non_null(strstr(gxc_usage_run(), "--pids N"));
  assert_non_null(strstr(gxc_usage_run(), "--cpu-time DUR"));
  assert_non_null(strstr(gxc_usage_run(), "-t, --timeout DUR"));
  assert_non_null(strstr(gxc_usage_run(), "--kill-grace DUR"));
  assert_non_null(strstr(gxc_usage_run(), "DUR is a number"));
  assert_non_null(strstr(gxc_usage_run(), "SIZE is a number of bytes"));
  assert_non_null(strstr(gxc_usage_ping(), "-t, --timeout DUR"));
  assert_non_null(strstr(gxc_usage_ping(), "DUR is a number"));
  assert_non_null(strstr(gxc_usage_run(), "--ca FILE"));
  assert_non_null(strstr(gxc_usage_run(), "--tls-server-name NAME"));
  assert_non_null(strstr(gxc_usage_ping(), "--ca FILE"));
  assert_non_null(strstr(gxc_usage_ping(), "$GEXEC_KEY"));
  assert_non_null(strstr(gxc_usage_main(),
                         "unix:$XDG_RUNTIME_DIR/gexec/gexecd.sock, else\n"
                         "unix:/run/gexec/gexecd.sock."));
  assert_non_null(strstr(gxc_usage_run(), "--open-files N"));
  assert_non_null(strstr(gxc_usage_run(), "-u, --user USER"));
  assert_non_null(strstr(gxc_usage_run(), "-v, --verbose"));
  assert_non_null(strstr(gxc_usage_run(), "uid 1000"));
  assert_non_null(strstr(gxc_usage_run(), "read-only root"));
  assert_non_null(strstr(gxc_usage_run(), "no network"));
  assert_non_null(strstr(gxc_usage_run(), "its own maximum"));
  assert_non_null(strstr(gxc_usage_run(), "\"oom_killed\""));
  assert_non_null(strstr(gxc_usage_run(), "\"isolation\""));
  assert_non_null(strstr(gxc_usage_ping(), "Usage: gexec ping"));
  assert_non_null(strstr(gxc_usage_run(), "--tty "));
  assert_non_null(strstr(gxc_usage_run(), "not supported yet"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(run_all_options),
      cmocka_unit_test(run_long_aliases),
      cmocka_unit_test(run_defaults),
      cmocka_unit_test(run_options_after_program_are_its_own),
      cmocka_unit_test(run_double_dash),
      cmocka_unit_test(run_short_clusters),
      cmocka_unit_test(run_help),
      cmocka_unit_test(run_usage_errors),
      cmocka_unit_test(run_tty_reserved),
      cmocka_unit_test(run_env_errors),
      cmocka_unit_test(run_env_limit),
      cmocka_unit_test(run_parse_is_repeatable),
      cmocka_unit_test(run_isolation_options),
      cmocka_unit_test(run_isolation_errors),
      cmocka_unit_test(memory_sizes),
      cmocka_unit_test(count_valid),
      cmocka_unit_test(top_level),
      cmocka_unit_test(ping_options),
      cmocka_unit_test(ping_errors),
      cmocka_unit_test(tls_options),
      cmocka_unit_test(tls_option_errors),
      cmocka_unit_test(timeout_durations),
      cmocka_unit_test(timeout_refused),
      cmocka_unit_test(kill_grace_durations),
      cmocka_unit_test(env_check),
      cmocka_unit_test(run_user_option),
      cmocka_unit_test(target_pick_and_display),
      cmocka_unit_test(strip_target),
      cmocka_unit_test(usage_texts),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
