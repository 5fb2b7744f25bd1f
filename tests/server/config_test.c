/* Unit tests for server/config: gxd_config_parse and
 * gxd_open_files_ceiling. The syntaxes of DUR and SIZE themselves are
 * tested in tests/lib/gx_units_test.c; here, that every flag takes them. */
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
#include "tests/server/config_fixture.h"

/* A value of an option and the number it must give. */
typedef struct {
  const char *in;
  uint64_t want;
} value_row;

#define N(a) (sizeof(a) / sizeof *(a))

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
  assert_int_equal(cfg.log_level, GXD_LOG_INFO);
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
  assert_int_equal(cfg.start_timeout_ms, 10000);
  assert_int_equal(cfg.max_sessions_per_identity, 0);
  assert_int_equal(cfg.max_pending_starts, 0); /* the identity's share */
  assert_int_equal(cfg.stream_rate, 1000);
  assert_int_equal(cfg.stream_burst, 2000);
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
  static const value_row ok[] = {{"2h", 7200000},  {"90", 90000},
                                 {"1500ms", 1500}, {"0.25h", 900000},
                                 {"1.5", 1500},    {"2.5m", 150000}};
  static const char *const bad[] = {"0s",     "0",  "5x", "-1ms",
                                    "1.0005", ".5", "1."};
  char *eq[] = {"gexecd", "--max-timeout=1500ms", NULL};
  (void)state;
  for (size_t i = 0; i < N(ok); i++)
    value_ok("--max-timeout", ok[i].in, &cfg.limits.max_timeout_ms,
             ok[i].want);
  assert_int_equal(parse(eq), GXD_CONFIG_RUN);
  assert_int_equal(cfg.limits.max_timeout_ms, 1500);
  /* other limits keep their defaults */
  assert_int_equal(cfg.limits.max_grace_ms, 60000);
  for (size_t i = 0; i < N(bad); i++)
    refuses("--max-timeout", bad[i], "a duration like 24h");
}

static void kill_grace(void **state) {
  static const value_row ok[] = {{"250ms", 250},  {"0", 0},
                                 {"1m", 60000},   {"60s", 60000},
                                 {"0.5", 500},    {"2.25s", 2250},
                                 {"0.5m", 30000}};
  static const char *const bad[] = {"61s",     "60001ms", "soon",
                                    "60.001s", "0.5ms",   "1."};
  char *eq[] = {"gexecd", "--kill-grace=2.25s", NULL};
  (void)state;
  for (size_t i = 0; i < N(ok); i++) {
    char *argv[] = {"gexecd", "--kill-grace", (char *)ok[i].in, NULL};
    assert_int_equal(parse(argv), GXD_CONFIG_RUN);
    assert_int_equal(cfg.default_grace_ms, ok[i].want);
  }
  assert_int_equal(parse(eq), GXD_CONFIG_RUN);
  assert_int_equal(cfg.default_grace_ms, 2250);
  for (size_t i = 0; i < N(bad); i++)
    refuses("--kill-grace", bad[i], "a duration up to 60s");
}

static void start_timeout(void **state) {
  static const value_row ok[] = {{"10s", 10000},    {"0.25", 250},
                                 {"300ms", 300},    {"1h", 3600000},
                                 {"0.5h", 1800000}, {"60m", 3600000}};
  static const char *const bad[] = {"0", "0ms", "1.0001h", "61m", "0.0001",
                                    "3600001ms"};
  char *dflt[] = {"gexecd", NULL};
  char *eq[] = {"gexecd", "--start-timeout=0.25", NULL};
  (void)state;
  assert_int_equal(parse(dflt), GXD_CONFIG_RUN);
  assert_int_equal(cfg.start_timeout_ms, 10000);
  for (size_t i = 0; i < N(ok); i++)
    value_ok("--start-timeout", ok[i].in, &cfg.start_timeout_ms, ok[i].want);
  assert_int_equal(parse(eq), GXD_CONFIG_RUN);
  assert_int_equal(cfg.start_timeout_ms, 250);
  for (size_t i = 0; i < N(bad); i++)
    refuses("--start-timeout", bad[i], "a duration up to 1h");
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
    gxd_log_level level;
  } cases[] = {{"debug", GXD_LOG_DEBUG},
               {"info", GXD_LOG_INFO},
               {"warn", GXD_LOG_WARN},
               {"error", GXD_LOG_ERROR}};
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
  assert_contains(out, "unix:/path, host[:port] or\n"
                       "                           [v6-address][:port] "
                       "(port default 7443)");
  assert_contains(out, "--max-sessions N");
  assert_contains(out, "--max-timeout DUR");
  assert_contains(out, "--kill-grace DUR");
  assert_contains(out, "--max-message SIZE");
  assert_contains(out, "--log-level LEVEL");
  assert_contains(out, "--socket-group NAME");
  assert_contains(out, "--tls-cert FILE");
  assert_contains(out, "--tls-key FILE");
  assert_contains(out, "--tls-client-ca FILE");
  assert_contains(out, "--tls-crl-dir DIR");
  assert_contains(out, "--policy FILE");
  assert_contains(out, "--keepalive-time DUR");
  assert_contains(out, "--keepalive-timeout DUR");
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

/* Expects "gexecd OPT VALUE" refused with exactly "invalid value 'VALUE'
 * for OPT: expected @p expect, or 0 for no cap". */
static void cap_refused(const char *opt, const char *value,
                        const char *expect) {
  char full[200];
  snprintf(full, sizeof full, "%s, or 0 for no cap", expect);
  refuses(opt, value, full);
}

static void max_memory(void **state) {
  static const char range[] = "a size from 8M to 1048576G";
  (void)state;
  value_ok("--max-memory", "0", &cfg.max_memory, GXD_CAP_NONE);
  value_ok("--max-memory", "8M", &cfg.max_memory, 8388608);
  value_ok("--max-memory", "8388608", &cfg.max_memory, 8388608);
  value_ok("--max-memory", "1048576G", &cfg.max_memory, 1ull << 50);
  value_ok("--max-memory", "8192k", &cfg.max_memory, 8388608);
  value_ok("--max-memory", "1g", &cfg.max_memory, 1ull << 30);
  cap_refused("--max-memory", "8388607", range);
  cap_refused("--max-memory", "1", range);
  cap_refused("--max-memory", "1125899906842625", range);
  cap_refused("--max-memory", "1048577G", range);
  cap_refused("--max-memory", "18446744073709551615", range);
  cap_refused("--max-memory", "lots", range);
  cap_refused("--max-memory", "1.5G", range);
  cap_refused("--max-memory", "64MB", range);
}

/* --allow-profiles is kept as given (checked against the profile table
 * later); --default-profile records that it was given. */
static void allow_profiles_flag(void **state) {
  (void)state;
  char *argv[] = {"gexecd", "--allow-profiles", "restricted,baseline",
                  "--default-profile", "restricted", NULL};
  assert_int_equal(parse(argv), GXD_CONFIG_RUN);
  assert_string_equal(cfg.allow_profiles, "restricted,baseline");
  assert_int_equal(cfg.default_profile_set, 1);
  char *bare[] = {"gexecd", NULL};
  assert_int_equal(parse(bare), GXD_CONFIG_RUN);
  assert_null(cfg.allow_profiles);
  assert_int_equal(cfg.default_profile_set, 0);
}

static void max_pids(void **state) {
  static const char range[] = "a number from 2 to 4194304";
  (void)state;
  value_ok("--max-pids", "0", &cfg.max_pids, GXD_CAP_NONE);
  value_ok("--max-pids", "2", &cfg.max_pids, 2);
  value_ok("--max-pids", "4194304", &cfg.max_pids, 4194304);
  cap_refused("--max-pids", "1", range);
  cap_refused("--max-pids", "4194305", range);
  cap_refused("--max-pids", "18446744073709551615", range);
  cap_refused("--max-pids", "-1", range);
}

static void max_cpu_time(void **state) {
  static const char range[] = "a duration from 1ms to 8760h (365 days)";
  (void)state;
  value_ok("--max-cpu-time", "0", &cfg.max_cpu_time_ms, GXD_CAP_NONE);
  value_ok("--max-cpu-time", "1ms", &cfg.max_cpu_time_ms, 1);
  value_ok("--max-cpu-time", "8760h", &cfg.max_cpu_time_ms, 31536000000ull);
  value_ok("--max-cpu-time", "31536000000ms", &cfg.max_cpu_time_ms,
         31536000000ull);
  value_ok("--max-cpu-time", "1.5", &cfg.max_cpu_time_ms, 1500);
  value_ok("--max-cpu-time", "0.001", &cfg.max_cpu_time_ms, 1);
  value_ok("--max-cpu-time", "0.25h", &cfg.max_cpu_time_ms, 900000);
  value_ok("--max-cpu-time", "8759.9999h", &cfg.max_cpu_time_ms,
         31535999640ull);
  value_ok("--max-cpu-time", "0.0", &cfg.max_cpu_time_ms, GXD_CAP_NONE);
  cap_refused("--max-cpu-time", "31536000001ms", range);
  cap_refused("--max-cpu-time", "8761h", range);
  cap_refused("--max-cpu-time", "18446744073709551615ms", range);
  cap_refused("--max-cpu-time", "5d", range);
  cap_refused("--max-cpu-time", "8760.001h", range);
  cap_refused("--max-cpu-time", "0.5ms", range);
  cap_refused("--max-cpu-time", "0.0001", range);
  cap_refused("--max-cpu-time", "1.", range);
  cap_refused("--max-cpu-time", ".5", range);
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
  value_ok("--max-open-files", "0", &cfg.max_open_files, GXD_CAP_NONE);
  value_ok("--max-open-files", "16", &cfg.max_open_files, 16);
  value_ok("--max-open-files", at, &cfg.max_open_files, max);
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

/* Parses "gexecd OPT VALUE" into a 32-bit field. */
static void value_ok32(const char *opt, const char *value,
                       const uint32_t *field, uint32_t want) {
  uint64_t got;
  char *argv[] = {"gexecd", (char *)opt, (char *)value, NULL};
  if (parse(argv) != GXD_CONFIG_RUN)
    fail_msg("%s %s refused: %s", opt, value, why);
  got = *field;
  if (got != want)
    fail_msg("%s %s gave %llu, want %u", opt, value,
             (unsigned long long)got, want);
}

static void guard_counts(void **state) {
  static const char *const bad[] = {"0", "-1", "1000001", "x", "", "2G"};
  (void)state;
  value_ok32("--max-pending-starts", "1", &cfg.max_pending_starts, 1);
  value_ok32("--max-pending-starts", "1000000", &cfg.max_pending_starts,
             1000000);
  char *a[] = {"gexecd", "--max-sessions-per-identity=5", NULL};
  assert_int_equal(parse(a), GXD_CONFIG_RUN);
  assert_int_equal(cfg.max_sessions_per_identity, 5);
  for (size_t i = 0; i < N(bad); i++) {
    refuses("--max-pending-starts", bad[i], "1..1000000");
    refuses("--max-sessions-per-identity", bad[i], "1..1000000");
  }
}

static void stream_rate(void **state) {
  static const struct {
    const char *in;
    uint32_t rate, burst;
  } ok[] = {{"500", 500, 1000},           {"500/s", 500, 1000},
            {"500/s,700", 500, 700},      {"500,1", 500, 1},
            {"1000000", 1000000, 1000000}, {"off", 0, 0},
            {"1/s,1000000", 1, 1000000}};
  static const char *const bad[] = {
      "0",   "0/s", "1000001", "500/m", "500,",  ",5",   "500,0",
      "/s",  "5/s/s", "5,6,7", "-5",    "OFF",   "500 ", "500/s,1000001",
      ""};
  (void)state;
  for (size_t i = 0; i < N(ok); i++) {
    char *argv[] = {"gexecd", "--stream-rate", (char *)ok[i].in, NULL};
    if (parse(argv) != GXD_CONFIG_RUN)
      fail_msg("--stream-rate %s refused: %s", ok[i].in, why);
    assert_int_equal(cfg.stream_rate, ok[i].rate);
    assert_int_equal(cfg.stream_burst, ok[i].burst);
  }
  for (size_t i = 0; i < N(bad); i++)
    refuses("--stream-rate", bad[i],
            "'off' or N[/s][,BURST], each 1..1000000 (e.g. 1000/s,2000)");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(defaults),
      cmocka_unit_test(profile_flags_kept_for_the_table),
      cmocka_unit_test(default_listen_without_xdg),
      cmocka_unit_test(parse_resets_to_defaults),
      cmocka_unit_test(max_sessions),
      cmocka_unit_test(max_timeout),
      cmocka_unit_test(kill_grace),
      cmocka_unit_test(start_timeout),
      cmocka_unit_test(guard_counts),
      cmocka_unit_test(stream_rate),
      cmocka_unit_test(max_message),
      cmocka_unit_test(max_memory),
      cmocka_unit_test(max_pids),
      cmocka_unit_test(allow_profiles_flag),
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
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
