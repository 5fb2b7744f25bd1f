/* Unit tests for server/config: gxd_config_parse, gxd_parse_duration_ms,
 * gxd_parse_size. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "server/config.h"

#define assert_contains(hay, needle)                                   \
  do {                                                                 \
    if (!strstr((hay), (needle)))                                      \
      fail_msg("'%s' does not contain '%s'", (hay), (needle));         \
  } while (0)

static gxd_config cfg;
static char why[512];

/* Runs gxd_config_parse on a NULL-terminated @p argv. */
static int parse(char **argv) {
  int argc = 0;
  while (argv[argc]) argc++;
  memset(why, 0, sizeof why);
  return gxd_config_parse(argc, argv, &cfg, why, sizeof why);
}

/* Parses expecting -1 with @p needle in the reason. */
static void parse_fails(char **argv, const char *needle) {
  int rc = parse(argv);
  if (rc != -1) fail_msg("parse returned %d, want -1", rc);
  assert_contains(why, needle);
}

/* Runs a parse with stdout sent to a file; returns what it printed. */
static char *parse_capturing_stdout(char **argv, int *rc) {
  static char out[8192];
  FILE *tmp = tmpfile();
  int saved;
  ssize_t n;
  assert_non_null(tmp);
  fflush(stdout);
  saved = dup(STDOUT_FILENO);
  assert_true(saved >= 0);
  assert_true(dup2(fileno(tmp), STDOUT_FILENO) >= 0);
  *rc = parse(argv);
  fflush(stdout);
  assert_true(dup2(saved, STDOUT_FILENO) >= 0);
  close(saved);
  n = pread(fileno(tmp), out, sizeof out - 1, 0);
  assert_true(n >= 0);
  out[n] = '\0';
  fclose(tmp);
  return out;
}

/* ------------------------------------------------------------ defaults */

static void defaults(void **state) {
  char *argv[] = {"gexecd", NULL};
  (void)state;
  assert_int_equal(setenv("XDG_RUNTIME_DIR", "/run/user/4242", 1), 0);
  assert_int_equal(parse(argv), GXD_CONFIG_RUN);
  assert_int_equal(cfg.nlisten, 0);
  assert_string_equal(cfg.default_listen,
                      "unix:/run/user/4242/gexec/gexecd.sock");
  assert_int_equal(cfg.max_sessions, 1024);
  assert_int_equal(cfg.default_grace_ms, 5000);
  assert_int_equal(cfg.max_message_bytes, 4 * 1024 * 1024);
  assert_int_equal(cfg.log_level, GX_LOG_INFO);
  assert_int_equal(cfg.limits.max_argc, gxd_default_limits.max_argc);
  assert_int_equal(cfg.limits.max_envc, gxd_default_limits.max_envc);
  assert_int_equal(cfg.limits.max_arg_bytes, gxd_default_limits.max_arg_bytes);
  assert_int_equal(cfg.limits.max_timeout_ms, 24ull * 3600 * 1000);
  assert_int_equal(cfg.limits.max_grace_ms, 60000);
  assert_int_equal(cfg.limits.max_open_files,
                   gxd_open_files_ceiling("/proc/sys/fs/nr_open"));
  assert_int_equal(cfg.max_memory, 0);
  assert_int_equal(cfg.max_pids, 0);
  assert_int_equal(cfg.max_cpu_time_ms, 0);
  assert_int_equal(cfg.max_open_files, 0);
}

static void default_listen_without_xdg(void **state) {
  char *argv[] = {"gexecd", NULL};
  (void)state;
  assert_int_equal(unsetenv("XDG_RUNTIME_DIR"), 0);
  assert_int_equal(parse(argv), GXD_CONFIG_RUN);
  assert_string_equal(cfg.default_listen, "unix:/run/gexec/gexecd.sock");
}

/* A second parse starts again from the defaults. */
static void parse_resets_to_defaults(void **state) {
  char *a1[] = {"gexecd", "--max-sessions", "7", "-l", "unix:/a", NULL};
  char *a2[] = {"gexecd", NULL};
  (void)state;
  assert_int_equal(parse(a1), GXD_CONFIG_RUN);
  assert_int_equal(cfg.max_sessions, 7);
  assert_int_equal(cfg.nlisten, 1);
  assert_int_equal(parse(a2), GXD_CONFIG_RUN);
  assert_int_equal(cfg.max_sessions, 1024);
  assert_int_equal(cfg.nlisten, 0);
}

/* -------------------------------------------------------------- listen */

static void listen_repeatable(void **state) {
  char *argv[] = {"gexecd",     "-l",       "unix:/tmp/a.sock",
                  "--listen",   "127.0.0.1:7000", "--listen=[::1]:7001",
                  "-llocalhost:7002", NULL};
  (void)state;
  assert_int_equal(parse(argv), GXD_CONFIG_RUN);
  assert_int_equal(cfg.nlisten, 4);
  assert_string_equal(cfg.listen[0], "unix:/tmp/a.sock");
  assert_string_equal(cfg.listen[1], "127.0.0.1:7000");
  assert_string_equal(cfg.listen[2], "[::1]:7001");
  assert_string_equal(cfg.listen[3], "localhost:7002");
}

static void listen_refuses_non_loopback_tcp(void **state) {
  static const char *const refused[] = {
      "0.0.0.0:7000", "192.168.1.5:7000", "[::]:7000", "[fe80::1]:7000",
      "example.com:7000", "10.0.0.1:7000",
  };
  (void)state;
  for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
    char *argv[] = {"gexecd", "--listen", (char *)refused[i], NULL};
    char want[128];
    parse_fails(argv, "refusing plaintext TCP on a non-loopback address");
    snprintf(want, sizeof want, "--listen %s:", refused[i]);
    assert_contains(why, want);
  }
}

/* One bad address among good ones fails the whole parse. */
static void listen_refusal_after_good_one(void **state) {
  char *argv[] = {"gexecd", "-l", "127.0.0.1:1", "-l", "0.0.0.0:1", NULL};
  (void)state;
  parse_fails(argv, "--listen 0.0.0.0:1: refusing plaintext TCP");
}

static void listen_unparseable(void **state) {
  char *a1[] = {"gexecd", "--listen", "unix:relative.sock", NULL};
  char *a2[] = {"gexecd", "--listen", "127.0.0.1:70000", NULL};
  char *a3[] = {"gexecd", "--listen", "nocolon", NULL};
  (void)state;
  parse_fails(a1, "--listen: unix socket path 'relative.sock' must be "
                  "absolute");
  assert_int_equal(strncmp(why, "--listen: ", 10), 0);
  parse_fails(a2, "--listen: address '127.0.0.1:70000': port must be "
                  "0..65535");
  parse_fails(a3, "expected host:port or unix:/path");
}

static void listen_at_most_sixteen(void **state) {
  char *argv[2 + 2 * (GXD_MAX_LISTEN + 1)];
  char addrs[GXD_MAX_LISTEN + 1][32];
  int n = 0;
  (void)state;
  argv[n++] = "gexecd";
  for (int i = 0; i <= GXD_MAX_LISTEN; i++) {
    snprintf(addrs[i], sizeof addrs[i], "unix:/tmp/s%d", i);
    argv[n++] = "-l";
    argv[n++] = addrs[i];
  }
  argv[n] = NULL;
  assert_int_equal(GXD_MAX_LISTEN, 16);
  parse_fails(argv, "at most 16 --listen");

  argv[n - 2] = NULL; /* exactly 16 */
  assert_int_equal(parse(argv), GXD_CONFIG_RUN);
  assert_int_equal(cfg.nlisten, 16);
  assert_string_equal(cfg.listen[15], "unix:/tmp/s15");
}

/* ------------------------------------------------------- numeric flags */

static void max_sessions(void **state) {
  char *ok1[] = {"gexecd", "--max-sessions", "10", NULL};
  char *ok2[] = {"gexecd", "--max-sessions=1000000", NULL};
  char *zero[] = {"gexecd", "--max-sessions", "0", NULL};
  char *big[] = {"gexecd", "--max-sessions", "1000001", NULL};
  char *junk[] = {"gexecd", "--max-sessions", "ten", NULL};
  (void)state;
  assert_int_equal(parse(ok1), GXD_CONFIG_RUN);
  assert_int_equal(cfg.max_sessions, 10);
  assert_int_equal(parse(ok2), GXD_CONFIG_RUN);
  assert_int_equal(cfg.max_sessions, 1000000);
  parse_fails(zero, "invalid value '0' for --max-sessions: expected "
                    "1..1000000");
  parse_fails(big, "invalid value '1000001' for --max-sessions");
  parse_fails(junk, "invalid value 'ten' for --max-sessions");
}

static void max_timeout(void **state) {
  char *h[] = {"gexecd", "--max-timeout", "2h", NULL};
  char *bare[] = {"gexecd", "--max-timeout", "90", NULL};
  char *ms[] = {"gexecd", "--max-timeout=1500ms", NULL};
  char *zero[] = {"gexecd", "--max-timeout", "0s", NULL};
  char *unit[] = {"gexecd", "--max-timeout", "5x", NULL};
  char *neg[] = {"gexecd", "--max-timeout", "-1ms", NULL};
  (void)state;
  assert_int_equal(parse(h), GXD_CONFIG_RUN);
  assert_int_equal(cfg.limits.max_timeout_ms, 7200000);
  assert_int_equal(parse(bare), GXD_CONFIG_RUN);
  assert_int_equal(cfg.limits.max_timeout_ms, 90000);
  assert_int_equal(parse(ms), GXD_CONFIG_RUN);
  assert_int_equal(cfg.limits.max_timeout_ms, 1500);
  /* other limits keep their defaults */
  assert_int_equal(cfg.limits.max_grace_ms, 60000);
  parse_fails(zero, "invalid value '0s' for --max-timeout: expected a "
                    "duration like 24h");
  parse_fails(unit, "invalid value '5x' for --max-timeout");
  parse_fails(neg, "invalid value '-1ms' for --max-timeout");
}

static void kill_grace(void **state) {
  char *ms[] = {"gexecd", "--kill-grace", "250ms", NULL};
  char *zero[] = {"gexecd", "--kill-grace", "0", NULL};
  char *max[] = {"gexecd", "--kill-grace", "1m", NULL};
  char *over[] = {"gexecd", "--kill-grace", "61s", NULL};
  char *overms[] = {"gexecd", "--kill-grace", "60001ms", NULL};
  char *junk[] = {"gexecd", "--kill-grace", "soon", NULL};
  (void)state;
  assert_int_equal(parse(ms), GXD_CONFIG_RUN);
  assert_int_equal(cfg.default_grace_ms, 250);
  assert_int_equal(parse(zero), GXD_CONFIG_RUN);
  assert_int_equal(cfg.default_grace_ms, 0);
  assert_int_equal(parse(max), GXD_CONFIG_RUN);
  assert_int_equal(cfg.default_grace_ms, 60000);
  parse_fails(over, "invalid value '61s' for --kill-grace: expected a "
                    "duration up to 60s");
  parse_fails(overms, "invalid value '60001ms' for --kill-grace");
  parse_fails(junk, "invalid value 'soon' for --kill-grace");
}

static void max_message(void **state) {
  char *k[] = {"gexecd", "--max-message", "1K", NULL};
  char *g[] = {"gexecd", "--max-message", "1G", NULL};
  char *m[] = {"gexecd", "--max-message=16m", NULL};
  char *small[] = {"gexecd", "--max-message", "1023", NULL};
  char *big[] = {"gexecd", "--max-message", "1025M", NULL};
  char *junk[] = {"gexecd", "--max-message", "4MB", NULL};
  (void)state;
  assert_int_equal(parse(k), GXD_CONFIG_RUN);
  assert_int_equal(cfg.max_message_bytes, 1024);
  assert_int_equal(parse(g), GXD_CONFIG_RUN);
  assert_int_equal(cfg.max_message_bytes, 1u << 30);
  assert_int_equal(parse(m), GXD_CONFIG_RUN);
  assert_int_equal(cfg.max_message_bytes, 16u << 20);
  parse_fails(small, "invalid value '1023' for --max-message: expected "
                     "1K..1G");
  parse_fails(big, "invalid value '1025M' for --max-message");
  parse_fails(junk, "invalid value '4MB' for --max-message");
}

static void log_level(void **state) {
  static const struct {
    const char *name;
    gx_log_level level;
  } cases[] = {{"debug", GX_LOG_DEBUG},
               {"info", GX_LOG_INFO},
               {"warn", GX_LOG_WARN},
               {"error", GX_LOG_ERROR}};
  char *bad[] = {"gexecd", "--log-level", "verbose", NULL};
  (void)state;
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char *argv[] = {"gexecd", "--log-level", (char *)cases[i].name, NULL};
    assert_int_equal(parse(argv), GXD_CONFIG_RUN);
    assert_int_equal(cfg.log_level, cases[i].level);
  }
  parse_fails(bad, "invalid value 'verbose' for --log-level: expected "
                   "debug|info|warn|error");
}

/* ------------------------------------------------- help, version, misc */

static void help_long_and_short(void **state) {
  char *lng[] = {"gexecd", "--help", NULL};
  char *shrt[] = {"gexecd", "-h", NULL};
  int rc;
  char *out;
  (void)state;
  out = parse_capturing_stdout(lng, &rc);
  assert_int_equal(rc, GXD_CONFIG_EXIT);
  assert_int_equal(strncmp(out, "Usage: gexecd [OPTION]...\n", 26), 0);
  assert_contains(out, "--listen ADDR");
  assert_contains(out, "--max-sessions N");
  assert_contains(out, "--max-timeout DUR");
  assert_contains(out, "--kill-grace DUR");
  assert_contains(out, "--max-message SIZE");
  assert_contains(out, "--log-level LEVEL");
  assert_contains(out, "--version");

  out = parse_capturing_stdout(shrt, &rc);
  assert_int_equal(rc, GXD_CONFIG_EXIT);
  assert_int_equal(strncmp(out, "Usage: gexecd", 13), 0);
}

/* --help exits before later (even invalid) options are looked at. */
static void help_wins_over_later_options(void **state) {
  char *argv[] = {"gexecd", "--help", "--max-sessions", "0", NULL};
  int rc;
  char *out;
  (void)state;
  out = parse_capturing_stdout(argv, &rc);
  assert_int_equal(rc, GXD_CONFIG_EXIT);
  assert_contains(out, "Usage: gexecd");
}

static void version(void **state) {
  char *argv[] = {"gexecd", "--version", NULL};
  int rc;
  char *out;
  size_t len;
  (void)state;
  out = parse_capturing_stdout(argv, &rc);
  assert_int_equal(rc, GXD_CONFIG_EXIT);
  len = strlen(out);
  /* one line: "gexecd X.Y.Z\n" */
  assert_int_equal(strncmp(out, "gexecd ", 7), 0);
  assert_true(len > 8);
  assert_true(out[7] >= '0' && out[7] <= '9');
  assert_int_equal(out[len - 1], '\n');
  assert_ptr_equal(strchr(out, '\n'), out + len - 1);
  assert_null(strstr(out, "Usage"));
}

/* Nothing is printed when parsing succeeds or fails. */
static void run_prints_nothing(void **state) {
  char *ok[] = {"gexecd", "-l", "unix:/x", NULL};
  char *bad[] = {"gexecd", "--bogus", NULL};
  int rc;
  (void)state;
  assert_string_equal(parse_capturing_stdout(ok, &rc), "");
  assert_int_equal(rc, GXD_CONFIG_RUN);
  assert_string_equal(parse_capturing_stdout(bad, &rc), "");
  assert_int_equal(rc, -1);
}

static void missing_value(void **state) {
  char *l1[] = {"gexecd", "--listen", NULL};
  char *l2[] = {"gexecd", "-l", NULL};
  char *t[] = {"gexecd", "--max-timeout", NULL};
  (void)state;
  parse_fails(l1, "option --listen needs a value");
  parse_fails(l2, "option -l needs a value");
  parse_fails(t, "option --max-timeout needs a value");
}

static void unknown_option(void **state) {
  char *lng[] = {"gexecd", "--bogus", NULL};
  char *shrt[] = {"gexecd", "-x", NULL};
  char *noarg[] = {"gexecd", "--help=yes", NULL};
  (void)state;
  parse_fails(lng, "unknown option '--bogus' (see --help)");
  parse_fails(shrt, "unknown option '-x' (see --help)");
  parse_fails(noarg, "unknown option '--help=yes'");
}

static void unexpected_argument(void **state) {
  char *a1[] = {"gexecd", "extra", NULL};
  char *a2[] = {"gexecd", "-l", "unix:/s", "stray", NULL};
  (void)state;
  parse_fails(a1, "unexpected argument 'extra' (see --help)");
  parse_fails(a2, "unexpected argument 'stray' (see --help)");
}

/* A parse that stopped in the middle of "-hl..." must not leak getopt
 * state into the next parse (which would read the old argv). */
static void getopt_state_does_not_leak(void **state) {
  char *first[] = {"gexecd", "-hlunix:/stale", NULL};
  char *second[] = {"gexecd", NULL};
  int rc;
  (void)state;
  parse_capturing_stdout(first, &rc);
  assert_int_equal(rc, GXD_CONFIG_EXIT);
  assert_int_equal(parse(second), GXD_CONFIG_RUN);
  assert_int_equal(cfg.nlisten, 0);
}

/* Profile names are kept as given: they are checked against the profile
 * table once it is loaded (gxd_profiles_check_flags). */
static void profile_flags_kept_for_the_table(void **state) {
  char *argv[] = {"gexecd", "--profiles", "/etc/gexec/p.json",
                  "--default-profile=build", "--allow-reduced=restricted",
                  "--allow-reduced", "build", NULL};
  (void)state;
  assert_int_equal(parse(argv), GXD_CONFIG_RUN);
  assert_string_equal(cfg.profiles_file, "/etc/gexec/p.json");
  assert_string_equal(cfg.default_profile, "build");
  assert_int_equal(cfg.nallow_reduced, 2);
  assert_string_equal(cfg.allow_reduced[0], "restricted");
  assert_string_equal(cfg.allow_reduced[1], "build");
  char *none[] = {"gexecd", NULL};
  assert_int_equal(parse(none), GXD_CONFIG_RUN);
  assert_null(cfg.profiles_file);
  assert_string_equal(cfg.default_profile, "baseline");
  assert_int_equal(cfg.nallow_reduced, 0);
}

/* ------------------------------------------- caps on a run's limits */

/* Parses "gexecd OPT VALUE"; expects it accepted with *@p field == @p want. */
static void cap_ok(const char *opt, const char *value, const uint64_t *field,
                   uint64_t want) {
  char *argv[] = {"gexecd", (char *)opt, (char *)value, NULL};
  int rc = parse(argv);
  if (rc != GXD_CONFIG_RUN) fail_msg("%s %s refused: %s", opt, value, why);
  if (*field != want)
    fail_msg("%s %s gave %llu, want %llu", opt, value,
             (unsigned long long)*field, (unsigned long long)want);
}

/* Expects "gexecd OPT VALUE" refused with exactly "invalid value 'VALUE'
 * for OPT: expected @p expect, or 0 for no cap". */
static void cap_refused(const char *opt, const char *value,
                        const char *expect) {
  char *argv[] = {"gexecd", (char *)opt, (char *)value, NULL};
  char want[300];
  snprintf(want, sizeof want,
           "invalid value '%s' for %s: expected %s, or 0 for no cap", value,
           opt, expect);
  parse_fails(argv, want);
  assert_string_equal(why, want);
}

static void max_memory(void **state) {
  static const char range[] = "a size from 8M to 1048576G";
  (void)state;
  cap_ok("--max-memory", "0", &cfg.max_memory, 0);
  cap_ok("--max-memory", "8M", &cfg.max_memory, 8388608);
  cap_ok("--max-memory", "8388608", &cfg.max_memory, 8388608);
  cap_ok("--max-memory", "1048576G", &cfg.max_memory, 1ull << 50);
  cap_refused("--max-memory", "8388607", range);
  cap_refused("--max-memory", "1", range);
  cap_refused("--max-memory", "1125899906842625", range);
  cap_refused("--max-memory", "1048577G", range);
  cap_refused("--max-memory", "18446744073709551615", range);
  cap_refused("--max-memory", "lots", range);
}

static void max_pids(void **state) {
  static const char range[] = "a number from 2 to 4194304";
  (void)state;
  cap_ok("--max-pids", "0", &cfg.max_pids, 0);
  cap_ok("--max-pids", "2", &cfg.max_pids, 2);
  cap_ok("--max-pids", "4194304", &cfg.max_pids, 4194304);
  cap_refused("--max-pids", "1", range);
  cap_refused("--max-pids", "4194305", range);
  cap_refused("--max-pids", "18446744073709551615", range);
  cap_refused("--max-pids", "-1", range);
}

static void max_cpu_time(void **state) {
  static const char range[] = "a duration from 1ms to 8760h (365 days)";
  (void)state;
  cap_ok("--max-cpu-time", "0", &cfg.max_cpu_time_ms, 0);
  cap_ok("--max-cpu-time", "1ms", &cfg.max_cpu_time_ms, 1);
  cap_ok("--max-cpu-time", "8760h", &cfg.max_cpu_time_ms, 31536000000ull);
  cap_ok("--max-cpu-time", "31536000000ms", &cfg.max_cpu_time_ms,
         31536000000ull);
  cap_refused("--max-cpu-time", "31536000001ms", range);
  cap_refused("--max-cpu-time", "8761h", range);
  cap_refused("--max-cpu-time", "18446744073709551615ms", range);
  cap_refused("--max-cpu-time", "5d", range);
}

/* The upper bound is fs.nr_open where that is below 1048576. */
static void max_open_files(void **state) {
  uint64_t max = gxd_open_files_ceiling("/proc/sys/fs/nr_open");
  char range[80], at[32], above[32];
  (void)state;
  snprintf(range, sizeof range, "a number from 16 to %llu",
           (unsigned long long)max);
  snprintf(at, sizeof at, "%llu", (unsigned long long)max);
  snprintf(above, sizeof above, "%llu", (unsigned long long)max + 1);
  cap_ok("--max-open-files", "0", &cfg.max_open_files, 0);
  cap_ok("--max-open-files", "16", &cfg.max_open_files, 16);
  cap_ok("--max-open-files", at, &cfg.max_open_files, max);
  cap_refused("--max-open-files", "15", range);
  cap_refused("--max-open-files", "1", range);
  cap_refused("--max-open-files", above, range);
  cap_refused("--max-open-files", "1048577", range);
  cap_refused("--max-open-files", "many", range);
}

/* Writes @p text to a new temporary file; returns its path. */
static const char *temp_file(const char *text) {
  static char path[512];
  const char *dir = getenv("TEST_TMPDIR");
  snprintf(path, sizeof path, "%s/nr_open.XXXXXX", dir ? dir : "/tmp");
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
  close(fd);
  return path;
}

static void open_files_ceiling(void **state) {
  static const struct {
    const char *text;
    uint64_t want;
  } cases[] = {
      {"1024\n", 1024},          {"65536", 65536},
      {"1048576\n", 1048576},    {"16\n", 16},
      {"2097152\n", 1048576},    /* higher than ours: ours stays */
      {"1073741816\n", 1048576}, /* what systemd sets */
      {"15\n", 1048576},         /* implausible: ignored */
      {"", 1048576},             {"junk\n", 1048576},
      {"-5\n", 1048576},         {"1024 x\n", 1048576},
      {"99999999999999999999999\n", 1048576},
  };
  (void)state;
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    const char *path = temp_file(cases[i].text);
    uint64_t got = gxd_open_files_ceiling(path);
    unlink(path);
    if (got != cases[i].want)
      fail_msg("'%s' gave %llu, want %llu", cases[i].text,
               (unsigned long long)got, (unsigned long long)cases[i].want);
  }
  assert_int_equal(gxd_open_files_ceiling("/nonexistent/nr_open"), 1048576);
}

/* ------------------------------------------------------------ duration */

static void duration_units(void **state) {
  static const struct {
    const char *s;
    uint64_t ms;
  } cases[] = {
      {"250ms", 250},       {"0ms", 0},           {"0", 0},
      {"30s", 30000},       {"30", 30000},        {"1s", 1000},
      {"10m", 600000},      {"2h", 7200000},      {"24h", 86400000},
      {"18446744073709551615ms", UINT64_MAX},
      {"18446744073709551s", 18446744073709551000ull},
      {"5124095576030h", 18446744073708000000ull},
  };
  (void)state;
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    uint64_t ms = 12345;
    if (gxd_parse_duration_ms(cases[i].s, &ms) != 0)
      fail_msg("'%s' was refused", cases[i].s);
    if (ms != cases[i].ms)
      fail_msg("'%s' gave %llu, want %llu", cases[i].s,
               (unsigned long long)ms, (unsigned long long)cases[i].ms);
  }
}

static void duration_refused(void **state) {
  static const char *const bad[] = {
      "",   "-1", "-1ms", "s",     "ms",   "5 s",   "5sec", "5S",
      "5H", "1.5s", "5d", "5us",  "5ms ", "0x10", " 5",   "+5",
      " -5ms",
      "18446744073709551616ms", /* does not fit 64 bits */
      "18446744073709552s",     /* overflows once scaled */
      "5124095576031h",         /* likewise, in hours */
  };
  uint64_t ms = 777;
  (void)state;
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    if (gxd_parse_duration_ms(bad[i], &ms) != -1)
      fail_msg("'%s' was accepted as %llu ms", bad[i],
               (unsigned long long)ms);
  assert_int_equal(gxd_parse_duration_ms(NULL, &ms), -1);
}

/* ---------------------------------------------------------------- size */

static void size_suffixes(void **state) {
  static const struct {
    const char *s;
    uint64_t bytes;
  } cases[] = {
      {"0", 0},
      {"512", 512},
      {"1K", 1024},
      {"1k", 1024},
      {"4M", 4194304},
      {"4m", 4194304},
      {"1G", 1073741824},
      {"3g", 3221225472ull},
      {"18446744073709551615", UINT64_MAX},
      {"17179869183G", 17179869183ull << 30},
  };
  (void)state;
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    uint64_t b = 12345;
    if (gxd_parse_size(cases[i].s, &b) != 0)
      fail_msg("'%s' was refused", cases[i].s);
    if (b != cases[i].bytes)
      fail_msg("'%s' gave %llu, want %llu", cases[i].s,
               (unsigned long long)b, (unsigned long long)cases[i].bytes);
  }
}

static void size_refused(void **state) {
  static const char *const bad[] = {
      "",   "-1", "K",   "1KB", "1T",  "1.5K", "1 K", " 1", "+1",
      " -1", "1Kx", "0x10",
      "18446744073709551616", /* does not fit 64 bits */
      "17179869184G",         /* overflows once scaled */
      "18014398509481984K",
  };
  uint64_t b = 777;
  (void)state;
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    if (gxd_parse_size(bad[i], &b) != -1)
      fail_msg("'%s' was accepted as %llu bytes", bad[i],
               (unsigned long long)b);
  assert_int_equal(gxd_parse_size(NULL, &b), -1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(defaults),
      cmocka_unit_test(profile_flags_kept_for_the_table),
      cmocka_unit_test(default_listen_without_xdg),
      cmocka_unit_test(parse_resets_to_defaults),
      cmocka_unit_test(listen_repeatable),
      cmocka_unit_test(listen_refuses_non_loopback_tcp),
      cmocka_unit_test(listen_refusal_after_good_one),
      cmocka_unit_test(listen_unparseable),
      cmocka_unit_test(listen_at_most_sixteen),
      cmocka_unit_test(max_sessions),
      cmocka_unit_test(max_timeout),
      cmocka_unit_test(kill_grace),
      cmocka_unit_test(max_message),
      cmocka_unit_test(max_memory),
      cmocka_unit_test(max_pids),
      cmocka_unit_test(max_cpu_time),
      cmocka_unit_test(max_open_files),
      cmocka_unit_test(open_files_ceiling),
      cmocka_unit_test(log_level),
      cmocka_unit_test(help_long_and_short),
      cmocka_unit_test(help_wins_over_later_options),
      cmocka_unit_test(version),
      cmocka_unit_test(run_prints_nothing),
      cmocka_unit_test(missing_value),
      cmocka_unit_test(unknown_option),
      cmocka_unit_test(unexpected_argument),
      cmocka_unit_test(getopt_state_does_not_leak),
      cmocka_unit_test(duration_units),
      cmocka_unit_test(duration_refused),
      cmocka_unit_test(size_suffixes),
      cmocka_unit_test(size_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
