/* Unit tests for server/validate: gxd_validate_start, gxd_validate_signal
 * and gxd_utf8_invalid_at (the wire scan is in validate_wire_test.c). */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gexec/v1/exec.pb-c.h"
#include "lib/gx_err.h"
#include "server/validate.h"
#include "tests/server/start_req.h"

#define assert_contains(hay, needle)                                   \
  do {                                                                 \
    if (!strstr((hay), (needle)))                                      \
      fail_msg("'%s' does not contain '%s'", (hay), (needle));         \
  } while (0)

static char why[1024];

/* Validates @p r with @p lim (default limits when NULL). */
static int check(const gxt_req *r, const gxd_limits *lim) {
  memset(why, 0, sizeof why);
  return gxd_validate_start(&r->s, lim ? lim : &gxd_default_limits, why,
                            sizeof why);
}

/* Expects INVALID_ARGUMENT with @p needle in the reason. */
static void check_fails(const gxt_req *r, const gxd_limits *lim,
                        const char *needle) {
  int st = check(r, lim);
  if (st != GX_STATUS_INVALID_ARGUMENT)
    fail_msg("status %d (%s), want INVALID_ARGUMENT; wanted '%s'", st,
             gx_status_name(st), needle);
  assert_contains(why, needle);
}

static void check_ok(const gxt_req *r, const gxd_limits *lim) {
  int st = check(r, lim);
  if (st != GX_STATUS_OK) fail_msg("status %d: %s", st, why);
}

static const char *const TRUE_ARGV[] = {"true", NULL};

/* ------------------------------------------------------------- limits */

static void default_limits(void **state) {
  (void)state;
  assert_int_equal(gxd_default_limits.max_argc, 4096);
  assert_int_equal(gxd_default_limits.max_envc, 1024);
  assert_int_equal(gxd_default_limits.max_arg_bytes, 1024 * 1024);
  assert_int_equal(gxd_default_limits.max_timeout_ms, 86400000ull);
  assert_int_equal(gxd_default_limits.max_grace_ms, 60000);
  assert_int_equal(gxd_default_limits.max_open_files, 1048576);
}

/* ------------------------------------------------------- start: argv */

static void start_minimal_ok(void **state) {
  gxt_req r;
  (void)state;
  gxt_req_init(&r, TRUE_ARGV);
  assert_int_equal(check(&r, NULL), GX_STATUS_OK);
}

static void start_everything_ok(void **state) {
  static const char *const argv[] = {"/bin/echo", "a", "", "b c", NULL};
  gxt_req r;
  (void)state;
  gxt_req_init(&r, argv);
  gxt_req_env(&r, "A", "1");
  gxt_req_env(&r, "EMPTY", "");
  gxt_req_env(&r, "PATH", "/bin");
  r.s.cwd = "/tmp";
  r.s.timeout_ms = 86400000;
  r.s.kill_grace_ms = 60000;
  r.s.stdin_mode = GEXEC__V1__STDIN_MODE__STDIN_NULL;
  r.s.stdout_mode = GEXEC__V1__OUTPUT_MODE__OUTPUT_PIPE;
  r.s.stderr_mode = GEXEC__V1__OUTPUT_MODE__OUTPUT_TO_STDOUT;
  r.s.max_output_bytes = UINT64_MAX;
  check_ok(&r, NULL);
}

static void start_argv_empty(void **state) {
  static const char *const empty0[] = {"", "x", NULL};
  gxt_req r;
  (void)state;
  gxt_req_init(&r, NULL);
  check_fails(&r, NULL, "argv is empty: name a program to run");
  gxt_req_init(&r, empty0);
  check_fails(&r, NULL, "argv is empty: name a program to run");
}

static void start_argc_limit(void **state) {
  static const char *const three[] = {"a", "b", "c", NULL};
  static const char *const two[] = {"a", "b", NULL};
  gxd_limits lim = gxd_default_limits;
  gxt_req r;
  (void)state;
  lim.max_argc = 2;
  gxt_req_init(&r, two);
  check_ok(&r, &lim);
  gxt_req_init(&r, three);
  check_fails(&r, &lim, "argv has 3 elements; the limit is 2");
}

static void start_argc_default_limit(void **state) {
  static char *argv[4097];
  Gexec__V1__Start s = GEXEC__V1__START__INIT;
  int st;
  (void)state;
  for (size_t i = 0; i < 4097; i++) argv[i] = "x";
  s.argv = argv;
  s.n_argv = 4096;
  st = gxd_validate_start(&s, &gxd_default_limits, why, sizeof why);
  assert_int_equal(st, GX_STATUS_OK);
  s.n_argv = 4097;
  st = gxd_validate_start(&s, &gxd_default_limits, why, sizeof why);
  assert_int_equal(st, GX_STATUS_INVALID_ARGUMENT);
  assert_contains(why, "argv has 4097 elements; the limit is 4096");
}

/* -------------------------------------------------------- start: env */

static void start_envc_limit(void **state) {
  gxd_limits lim = gxd_default_limits;
  gxt_req r;
  (void)state;
  lim.max_envc = 1;
  gxt_req_init(&r, TRUE_ARGV);
  gxt_req_env(&r, "A", "1");
  check_ok(&r, &lim);
  gxt_req_env(&r, "B", "2");
  check_fails(&r, &lim, "env has 2 entries; the limit is 1");
}

static void start_env_empty_name(void **state) {
  gxt_req r;
  (void)state;
  gxt_req_init(&r, TRUE_ARGV);
  gxt_req_env(&r, "A", "1");
  gxt_req_env(&r, "", "x");
  check_fails(&r, NULL, "env: empty variable name");
  gxt_req_init(&r, TRUE_ARGV);
  gxt_req_env(&r, NULL, "x");
  check_fails(&r, NULL, "env: empty variable name");
}

static void start_env_name_with_equals(void **state) {
  gxt_req r;
  (void)state;
  gxt_req_init(&r, TRUE_ARGV);
  gxt_req_env(&r, "A=B", "x");
  check_fails(&r, NULL, "env: variable name 'A=B' contains '='");
  gxt_req_init(&r, TRUE_ARGV);
  gxt_req_env(&r, "=", "x");
  check_fails(&r, NULL, "contains '='");
  /* '=' in the value is fine */
  gxt_req_init(&r, TRUE_ARGV);
  gxt_req_env(&r, "OPTS", "a=b=c");
  check_ok(&r, NULL);
}

/* argv counts strlen+1 per element, env strlen(k)+strlen(v)+2 per entry. */
static void start_arg_bytes_limit(void **state) {
  static const char *const argv[] = {"ab", "c", NULL}; /* 3 + 2 = 5 */
  gxd_limits lim = gxd_default_limits;
  gxt_req r;
  (void)state;
  gxt_req_init(&r, argv);
  gxt_req_env(&r, "K", "V");   /* 4 */
  gxt_req_env(&r, "E", NULL);  /* 3: a missing value counts as empty */
  lim.max_arg_bytes = 12;
  check_ok(&r, &lim);
  lim.max_arg_bytes = 11;
  check_fails(&r, &lim, "argv and env total 12 bytes; the limit is 11");
}

static void start_arg_bytes_default_limit(void **state) {
  const size_t mib = 1024 * 1024;
  char *big = malloc(mib);
  const char *argv[] = {"x", big, NULL};
  gxt_req r;
  (void)state;
  assert_non_null(big);
  /* "x" takes 2 bytes, big strlen + 1: 2 + (mib - 3) + 1 == 1 MiB */
  memset(big, 'a', mib);
  big[mib - 3] = '\0';
  gxt_req_init(&r, argv);
  check_ok(&r, NULL);
  big[mib - 3] = 'a';
  big[mib - 2] = '\0';
  gxt_req_init(&r, argv);
  check_fails(&r, NULL,
              "argv and env total 1048577 bytes; the limit is 1048576");
  free(big);
}

/* -------------------------------------------------------- start: cwd */

static void start_cwd(void **state) {
  gxt_req r;
  (void)state;
  gxt_req_init(&r, TRUE_ARGV);
  r.s.cwd = "";
  check_ok(&r, NULL);
  r.s.cwd = "/";
  check_ok(&r, NULL);
  r.s.cwd = "/var/tmp";
  check_ok(&r, NULL);
  r.s.cwd = NULL;
  check_ok(&r, NULL);
  r.s.cwd = "tmp";
  check_fails(&r, NULL, "cwd 'tmp' must be an absolute path");
  r.s.cwd = "./x";
  check_fails(&r, NULL, "cwd './x' must be an absolute path");
}

static void start_cwd_too_long(void **state) {
  char *cwd = malloc(PATH_MAX + 1);
  gxt_req r;
  (void)state;
  assert_non_null(cwd);
  memset(cwd, 'd', PATH_MAX);
  cwd[0] = '/';
  cwd[PATH_MAX - 1] = '\0'; /* PATH_MAX - 1 bytes: fits with its NUL */
  gxt_req_init(&r, TRUE_ARGV);
  r.s.cwd = cwd;
  check_ok(&r, NULL);
  cwd[PATH_MAX - 1] = 'd';
  cwd[PATH_MAX] = '\0';
  check_fails(&r, NULL, "cwd is longer than 4095 bytes");
  free(cwd);
}

/* ------------------------------------------------ start: time limits */

static void start_timeout(void **state) {
  gxd_limits lim = gxd_default_limits;
  gxt_req r;
  (void)state;
  lim.max_timeout_ms = 1000;
  gxt_req_init(&r, TRUE_ARGV);
  r.s.timeout_ms = 0;
  check_ok(&r, &lim);
  r.s.timeout_ms = 1000;
  check_ok(&r, &lim);
  r.s.timeout_ms = 1001;
  check_fails(&r, &lim,
              "timeout_ms 1001 exceeds the daemon's maximum of 1000 ms "
              "(0 means the maximum)");
  r.s.timeout_ms = UINT64_MAX;
  check_fails(&r, &lim, "timeout_ms 18446744073709551615 exceeds");
}

static void start_kill_grace(void **state) {
  gxd_limits lim = gxd_default_limits;
  gxt_req r;
  (void)state;
  gxt_req_init(&r, TRUE_ARGV);
  r.s.kill_grace_ms = 60000;
  check_ok(&r, &lim);
  r.s.kill_grace_ms = 60001;
  check_fails(&r, &lim, "kill_grace_ms 60001 exceeds the maximum of 60000 ms");
  lim.max_grace_ms = 10;
  r.s.kill_grace_ms = 11;
  check_fails(&r, &lim, "kill_grace_ms 11 exceeds the maximum of 10 ms");
}

/* ------------------------------------------------------ start: modes */

static void start_stdin_mode(void **state) {
  gxt_req r;
  (void)state;
  gxt_req_init(&r, TRUE_ARGV);
  r.s.stdin_mode = GEXEC__V1__STDIN_MODE__STDIN_PIPE;
  check_ok(&r, NULL);
  r.s.stdin_mode = GEXEC__V1__STDIN_MODE__STDIN_NULL;
  check_ok(&r, NULL);
  r.s.stdin_mode = (Gexec__V1__StdinMode)2;
  check_fails(&r, NULL, "stdin_mode 2 is not a known mode");
  r.s.stdin_mode = (Gexec__V1__StdinMode)-1;
  check_fails(&r, NULL, "stdin_mode -1 is not a known mode");
}

static void start_stdout_mode(void **state) {
  gxt_req r;
  (void)state;
  gxt_req_init(&r, TRUE_ARGV);
  r.s.stdout_mode = GEXEC__V1__OUTPUT_MODE__OUTPUT_DISCARD;
  check_ok(&r, NULL);
  r.s.stdout_mode = GEXEC__V1__OUTPUT_MODE__OUTPUT_TO_STDOUT;
  check_fails(&r, NULL,
              "stdout_mode 2 is not valid (PIPE or DISCARD; "
              "OUTPUT_TO_STDOUT applies to stderr only)");
  r.s.stdout_mode = (Gexec__V1__OutputMode)3;
  check_fails(&r, NULL, "stdout_mode 3 is not valid");
  r.s.stdout_mode = (Gexec__V1__OutputMode)-5;
  check_fails(&r, NULL, "stdout_mode -5 is not valid");
}

static void start_stderr_mode(void **state) {
  gxt_req r;
  (void)state;
  gxt_req_init(&r, TRUE_ARGV);
  r.s.stderr_mode = GEXEC__V1__OUTPUT_MODE__OUTPUT_DISCARD;
  check_ok(&r, NULL);
  r.s.stdout_mode = GEXEC__V1__OUTPUT_MODE__OUTPUT_DISCARD;
  check_ok(&r, NULL);
  r.s.stdout_mode = GEXEC__V1__OUTPUT_MODE__OUTPUT_PIPE;
  r.s.stderr_mode = GEXEC__V1__OUTPUT_MODE__OUTPUT_TO_STDOUT;
  check_ok(&r, NULL);
  r.s.stderr_mode = (Gexec__V1__OutputMode)3;
  check_fails(&r, NULL, "stderr_mode 3 is not a known mode");
}

static void start_stderr_to_stdout_needs_pipe(void **state) {
  gxt_req r;
  (void)state;
  gxt_req_init(&r, TRUE_ARGV);
  r.s.stdout_mode = GEXEC__V1__OUTPUT_MODE__OUTPUT_DISCARD;
  r.s.stderr_mode = GEXEC__V1__OUTPUT_MODE__OUTPUT_TO_STDOUT;
  check_fails(&r, NULL,
              "stderr_mode OUTPUT_TO_STDOUT needs stdout_mode OUTPUT_PIPE");
}

/* The reason buffer is bounded: a long cwd is cut, not overflowed. */
static void start_reason_bounded(void **state) {
  char small[16];
  gxt_req r;
  (void)state;
  memset(small, 'z', sizeof small);
  gxt_req_init(&r, TRUE_ARGV);
  r.s.cwd = "relative/dir/that/is/long";
  assert_int_equal(gxd_validate_start(&r.s, &gxd_default_limits, small, 8),
                   GX_STATUS_INVALID_ARGUMENT);
  assert_string_equal(small, "cwd 're");
  assert_int_equal(small[8], 'z');
}

/* ---------------------------------------------------------------- UTF-8 */

/* Checks gxd_utf8_invalid_at on a heap copy of exactly strlen+1 bytes,
 * so that ASan sees any read past the terminating NUL. */
static long utf8_at(const char *s) {
  char *copy = strdup(s);
  long at;
  assert_non_null(copy);
  at = gxd_utf8_invalid_at(copy);
  free(copy);
  return at;
}

static void utf8_valid(void **state) {
  static const char *const ok[] = {
      "", "plain ascii\t~\x7f", "w\xc3\xb6rld",
      "\xc2\x80",             /* U+0080, the first 2-byte form */
      "\xdf\xbf",             /* U+07FF */
      "\xe0\xa0\x80",         /* U+0800, the first 3-byte form */
      "\xe2\x82\xac",         /* the euro sign */
      "\xed\x9f\xbf",         /* U+D7FF, just below the surrogates */
      "\xee\x80\x80",         /* U+E000, just above them */
      "\xef\xbf\xbf",         /* U+FFFF */
      "\xf0\x90\x80\x80",     /* U+10000, the first 4-byte form */
      "\xf0\x9d\x84\x9e",     /* U+1D11E */
      "\xf4\x8f\xbf\xbf",     /* U+10FFFF, the last code point */
  };
  (void)state;
  for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
    if (utf8_at(ok[i]) != -1) fail_msg("ok[%zu] refused", i);
}

static void utf8_invalid(void **state) {
  static const struct {
    const char *s;
    long at;
  } bad[] = {
      {"\x80", 0},                 /* a stray continuation byte */
      {"ab\xbf", 2},
      {"\xc0\xaf", 0},             /* overlong '/' */
      {"a\xc1\xbf", 1},            /* overlong U+007F */
      {"\xe0\x80\xaf", 0},         /* overlong '/' in 3 bytes */
      {"\xe0\x9f\xbf", 0},         /* overlong U+07FF */
      {"\xf0\x80\x80\xaf", 0},     /* overlong '/' in 4 bytes */
      {"\xf0\x8f\xbf\xbf", 0},     /* overlong U+FFFF */
      {"ok\xed\xa0\x80", 2},       /* U+D800, a surrogate */
      {"\xed\xbf\xbf", 0},         /* U+DFFF */
      {"\xf4\x90\x80\x80", 0},     /* U+110000 */
      {"\xf5\x80\x80\x80", 0},     /* no lead byte above F4 */
      {"\xff", 0},
      {"\xfe\xfe", 0},
      {"\xc3", 0},                 /* truncated at the end */
      {"x\xe2\x82", 1},
      {"\xf0\x9d\x84", 0},
      {"\xe2\x82x", 0},            /* truncated by an ASCII byte */
      {"\xc3" "A", 0},
      {"\xf0\x9d\x84\x9e\xf0\x9d\xc4\x9e", 4}, /* a good one, then not */
  };
  (void)state;
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    long at = utf8_at(bad[i].s);
    if (at != bad[i].at)
      fail_msg("bad[%zu]: offset %ld, want %ld", i, at, bad[i].at);
  }
}

/* Every string of a Start is checked, and the reason names it. */
static void start_utf8(void **state) {
  static const char *const argv2[] = {"echo", "ok", "hello\xffx", NULL};
  static const char *const argv0[] = {"\xc0\xae", NULL};
  static const char *const good[] = {"echo", "w\xc3\xb6rld", NULL};
  gxt_req r;
  (void)state;
  gxt_req_init(&r, argv2);
  check_fails(&r, NULL, "argv[2] is not valid UTF-8 (byte offset 5)");
  gxt_req_init(&r, argv0);
  check_fails(&r, NULL, "argv[0] is not valid UTF-8 (byte offset 0)");
  gxt_req_init(&r, good);
  gxt_req_env(&r, "GEXEC_\xc3\xbc", "\xe2\x82\xac");
  r.s.cwd = "/tmp/\xc3\xa9t\xc3\xa9";
  r.s.profile = "baseline";
  check_ok(&r, NULL);
  gxt_req_env(&r, "OK\xed\xa0\x80", "v");
  check_fails(&r, NULL, "env[1] name is not valid UTF-8 (byte offset 2)");
  gxt_req_init(&r, good);
  gxt_req_env(&r, "GEXEC_X", "a\xf4\x90\x80\x80");
  check_fails(&r, NULL,
              "env 'GEXEC_X' value is not valid UTF-8 (byte offset 1)");
  gxt_req_init(&r, good);
  r.s.cwd = "/tmp/\xc0\xae\xc0\xae";
  check_fails(&r, NULL, "cwd is not valid UTF-8 (byte offset 5)");
  r.s.cwd = "relative\xff"; /* refused for its bytes, not its form */
  check_fails(&r, NULL, "cwd is not valid UTF-8 (byte offset 8)");
  gxt_req_init(&r, good);
  r.s.profile = "restricted\xe2\x82";
  check_fails(&r, NULL, "profile is not valid UTF-8 (byte offset 10)");
  /* checked before the name's '=' check, which prints the name */
  gxt_req_init(&r, good);
  gxt_req_env(&r, "A=\xff", "v");
  check_fails(&r, NULL, "env[0] name is not valid UTF-8 (byte offset 2)");
}

/* Start.user: a name of [A-Za-z0-9_.-], 1..32 bytes, no leading '-',
 * not all digits; empty means none. Checked after UTF-8. */
static void start_user(void **state) {
  static const char *const ok[] = {
      "root", "nobody", "_apt", "systemd-network", "a", "a.b", "x_1-2.",
      "Deploy", "0day", ".hidden",
      "abcdefghijklmnopqrstuvwxyz012345" /* 32 bytes */};
  static const struct {
    const char *name, *why;
  } bad[] = {
      {"-root", "user '-root' is not a valid user name (a user name is 1 "
                "to 32 bytes of [A-Za-z0-9_.-], not starting with '-')"},
      {"al ice", "user 'al ice' is not a valid user name"},
      {"root:x", "user 'root:x' is not a valid user name"},
      {"a/b", "user 'a/b' is not a valid user name"},
      {"bob\n", "user 'bob\n' is not a valid user name"},
      {"j\xc3\xb6rg", "user 'j\xc3\xb6rg' is not a valid user name"},
      {"$x", "user '$x' is not a valid user name"},
      {"1000", "user '1000' is a number: name the user (a numeric uid is "
               "not accepted)"},
      {"0", "user '0' is a number"},
      {"123456789012345678901234567890123",
       "user is longer than 32 bytes (a user name is 1 to 32 bytes"},
  };
  gxt_req r;
  (void)state;
  for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
    gxt_req_init(&r, TRUE_ARGV);
    r.s.user = (char *)ok[i];
    check_ok(&r, NULL);
    assert_int_equal(gxd_validate_user_name(ok[i], why, sizeof why),
                     GX_STATUS_OK);
  }
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    gxt_req_init(&r, TRUE_ARGV);
    r.s.user = (char *)bad[i].name;
    check_fails(&r, NULL, bad[i].why);
  }
  gxt_req_init(&r, TRUE_ARGV);
  r.s.user = "";
  check_ok(&r, NULL); /* none */
  assert_int_equal(gxd_validate_user_name("", why, sizeof why),
                   GX_STATUS_INVALID_ARGUMENT);
  assert_string_equal(why, "user is empty (a user name is 1 to 32 bytes of "
                           "[A-Za-z0-9_.-], not starting with '-')");
  assert_int_equal(gxd_validate_user_name(NULL, why, sizeof why),
                   GX_STATUS_INVALID_ARGUMENT);
  r.s.user = "r\xffoot";
  check_fails(&r, NULL, "user is not valid UTF-8 (byte offset 1)");
}

/* A long name is cut at 64 bytes in a reason, never inside a character. */
static void start_reason_cuts_whole_characters(void **state) {
  char name[1 + 40 * 2 + 1], want[160];
  gxt_req r;
  (void)state;
  name[0] = 'a';
  for (int i = 0; i < 40; i++) memcpy(name + 1 + 2 * i, "\xc3\xa9", 2);
  name[sizeof name - 1] = '\0';
  gxt_req_init(&r, TRUE_ARGV);
  gxt_req_env(&r, name, "\xff");
  /* 64 bytes would end inside the 32nd e-acute: 63 are printed */
  snprintf(want, sizeof want, "env '%.63s' value is not valid UTF-8 "
           "(byte offset 0)", name);
  check_fails(&r, NULL, want);
  name[3] = '=';
  name[4] = 'x';
  gxt_req_init(&r, TRUE_ARGV);
  gxt_req_env(&r, name, "v");
  snprintf(want, sizeof want, "env: variable name '%.63s' contains '='",
           name);
  check_fails(&r, NULL, want);
}

/* ----------------------------------------------------------------- PATH */

/* A PATH of @p n elements, each "/b" (so 3n - 1 bytes). */
static char *path_of(size_t n) {
  char *p = malloc(3 * n);
  assert_non_null(p);
  for (size_t i = 0; i < n; i++) memcpy(p + 3 * i, "/b:", 3);
  p[3 * n - 1] = '\0';
  return p;
}

static void start_path_elements(void **state) {
  char *at = path_of(GXD_MAX_PATH_ENTRIES);
  char *above = path_of(GXD_MAX_PATH_ENTRIES + 1);
  gxt_req r;
  (void)state;
  assert_int_equal(GXD_MAX_PATH_ENTRIES, 128);
  gxt_req_init(&r, TRUE_ARGV);
  gxt_req_env(&r, "PATH", at);
  check_ok(&r, NULL);
  gxt_req_init(&r, TRUE_ARGV);
  gxt_req_env(&r, "PATH", above);
  check_fails(&r, NULL, "env PATH has 129 elements; the limit is 128");
  gxt_req_init(&r, TRUE_ARGV);
  gxt_req_env(&r, "PATH", ":::"); /* empty elements count too */
  check_ok(&r, NULL);
  gxt_req_env(&r, "PATH", "/bin"); /* every PATH entry is checked */
  gxt_req_env(&r, "PATH", above);
  check_fails(&r, NULL, "env PATH has 129 elements; the limit is 128");
  gxt_req_init(&r, TRUE_ARGV); /* only PATH itself */
  gxt_req_env(&r, "PATHS", above);
  gxt_req_env(&r, "path", above);
  check_ok(&r, NULL);
  free(at);
  free(above);
}

/* The PATH that stalled the daemon: a million ':'. */
static void start_path_million_colons(void **state) {
  char *colons = malloc(1000001);
  gxt_req r;
  (void)state;
  assert_non_null(colons);
  memset(colons, ':', 1000000);
  colons[1000000] = '\0';
  gxt_req_init(&r, TRUE_ARGV);
  gxt_req_env(&r, "PATH", colons);
  check_fails(&r, NULL, "env PATH has 1000001 elements; the limit is 128");
  free(colons);
}

static void start_path_bytes(void **state) {
  char *path = malloc(GXD_MAX_PATH_BYTES + 2);
  gxt_req r;
  (void)state;
  assert_non_null(path);
  assert_int_equal(GXD_MAX_PATH_BYTES, 4096);
  memset(path, 'd', GXD_MAX_PATH_BYTES + 1);
  path[0] = '/';
  path[2048] = ':';
  path[GXD_MAX_PATH_BYTES] = '\0';
  gxt_req_init(&r, TRUE_ARGV);
  gxt_req_env(&r, "PATH", path);
  check_ok(&r, NULL);
  path[GXD_MAX_PATH_BYTES] = 'd';
  path[GXD_MAX_PATH_BYTES + 1] = '\0';
  check_fails(&r, NULL, "env PATH is 4097 bytes long; the limit is 4096");
  gxt_req_init(&r, TRUE_ARGV);
  gxt_req_env(&r, "PATH", "");
  check_ok(&r, NULL);
  free(path);
}

/* --------------------------------------------------------------- limits */

/* Sets one field of @p l by its number in exec.proto (1..4). */
static void set_limit(Gexec__V1__Limits *l, int field, uint64_t v) {
  Gexec__V1__Limits init = GEXEC__V1__LIMITS__INIT;
  *l = init;
  switch (field) {
    case 1: l->memory_bytes = v; break;
    case 2: l->pids = v; break;
    case 3: l->cpu_time_ms = v; break;
    default: l->open_files = v;
  }
}

/* Accepts 0, @p min and @p max for limit @p field, refuses min - 1 (when
 * that is not 0), max + 1 and 2^64-1 with the exact reason. */
static void check_limit_range(int field, const char *name, uint64_t min,
                              uint64_t max, const gxd_limits *lim) {
  const uint64_t refused[3] = {min - 1, max + 1, UINT64_MAX};
  Gexec__V1__Limits l;
  gxt_req r;
  gxt_req_init(&r, TRUE_ARGV);
  r.s.limits = &l;
  set_limit(&l, field, 0);
  check_ok(&r, lim);
  set_limit(&l, field, min);
  check_ok(&r, lim);
  set_limit(&l, field, max);
  check_ok(&r, lim);
  for (int i = 0; i < 3; i++) {
    char want[200];
    if (refused[i] == 0) continue; /* 0 is "the profile's default" */
    set_limit(&l, field, refused[i]);
    snprintf(want, sizeof want,
             "limits.%s %llu is outside %llu..%llu (0 means the profile's "
             "default)", name, (unsigned long long)refused[i],
             (unsigned long long)min, (unsigned long long)max);
    check_fails(&r, lim, want);
    assert_string_equal(why, want);
  }
}

static void limits_constants(void **state) {
  (void)state;
  assert_int_equal(GXD_LIMIT_MEMORY_MIN, 8ull * 1024 * 1024);
  assert_int_equal(GXD_LIMIT_MEMORY_MAX, 1ull << 50);
  assert_int_equal(GXD_LIMIT_PIDS_MIN, 2);
  assert_int_equal(GXD_LIMIT_PIDS_MAX, 4194304);
  assert_int_equal(GXD_LIMIT_CPU_TIME_MIN_MS, 1);
  assert_int_equal(GXD_LIMIT_CPU_TIME_MAX_MS, 365ull * 24 * 3600 * 1000);
  assert_int_equal(GXD_LIMIT_OPEN_FILES_MIN, 16);
  assert_int_equal(GXD_LIMIT_OPEN_FILES_MAX, 1048576);
}

static void limits_memory(void **state) {
  (void)state;
  check_limit_range(1, "memory_bytes", 8388608, 1125899906842624, NULL);
}

static void limits_pids(void **state) {
  Gexec__V1__Limits l;
  gxt_req r;
  (void)state;
  check_limit_range(2, "pids", 2, 4194304, NULL);
  gxt_req_init(&r, TRUE_ARGV);
  r.s.limits = &l;
  set_limit(&l, 2, 1);
  check_fails(&r, NULL, "limits.pids 1 is outside 2..4194304");
  set_limit(&l, 2, UINT64_MAX);
  check_fails(&r, NULL,
              "limits.pids 18446744073709551615 is outside 2..4194304");
}

static void limits_cpu_time(void **state) {
  (void)state;
  check_limit_range(3, "cpu_time_ms", 1, 31536000000ull, NULL);
}

/* The upper bound is the one in gxd_limits (fs.nr_open where lower). */
static void limits_open_files(void **state) {
  gxd_limits lim = gxd_default_limits;
  (void)state;
  check_limit_range(4, "open_files", 16, 1048576, NULL);
  lim.max_open_files = 4096;
  check_limit_range(4, "open_files", 16, 4096, &lim);
}

/* The first limit out of range is named; all of them at once are fine. */
static void limits_all_set(void **state) {
  Gexec__V1__Limits l = GEXEC__V1__LIMITS__INIT;
  gxt_req r;
  (void)state;
  gxt_req_init(&r, TRUE_ARGV);
  r.s.limits = &l;
  l.memory_bytes = 64ull << 20;
  l.pids = 64;
  l.cpu_time_ms = 5000;
  l.open_files = 256;
  check_ok(&r, NULL);
  l.pids = 1;
  l.open_files = 1;
  check_fails(&r, NULL, "limits.pids 1 is outside 2..4194304");
  l.pids = 0;
  check_fails(&r, NULL, "limits.open_files 1 is outside 16..1048576");
}

/* ------------------------------------------------------------- signal */

static void signal_numbers(void **state) {
  static const int32_t good[] = {1, 2, 9, 15, 34, 64};
  static const int32_t bad[] = {0, 65, -1, -9, INT32_MIN, INT32_MAX};
  (void)state;
  for (size_t i = 0; i < sizeof good / sizeof *good; i++)
    assert_int_equal(gxd_validate_signal(good[i], why, sizeof why),
                     GX_STATUS_OK);
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    char want[80];
    memset(why, 0, sizeof why);
    assert_int_equal(gxd_validate_signal(bad[i], why, sizeof why),
                     GX_STATUS_INVALID_ARGUMENT);
    snprintf(want, sizeof want,
             "signal %d is not a valid signal number (1..64)", bad[i]);
    assert_string_equal(why, want);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(default_limits),
      cmocka_unit_test(start_minimal_ok),
      cmocka_unit_test(start_everything_ok),
      cmocka_unit_test(start_argv_empty),
      cmocka_unit_test(start_argc_limit),
      cmocka_unit_test(start_argc_default_limit),
      cmocka_unit_test(start_envc_limit),
      cmocka_unit_test(start_env_empty_name),
      cmocka_unit_test(start_env_name_with_equals),
      cmocka_unit_test(start_arg_bytes_limit),
      cmocka_unit_test(start_arg_bytes_default_limit),
      cmocka_unit_test(start_cwd),
      cmocka_unit_test(start_cwd_too_long),
      cmocka_unit_test(start_timeout),
      cmocka_unit_test(start_kill_grace),
      cmocka_unit_test(start_stdin_mode),
      cmocka_unit_test(start_stdout_mode),
      cmocka_unit_test(start_stderr_mode),
      cmocka_unit_test(start_stderr_to_stdout_needs_pipe),
      cmocka_unit_test(start_reason_bounded),
      cmocka_unit_test(utf8_valid),
      cmocka_unit_test(utf8_invalid),
      cmocka_unit_test(start_utf8),
      cmocka_unit_test(start_user),
      cmocka_unit_test(start_reason_cuts_whole_characters),
      cmocka_unit_test(start_path_elements),
      cmocka_unit_test(start_path_million_colons),
      cmocka_unit_test(start_path_bytes),
      cmocka_unit_test(limits_constants),
      cmocka_unit_test(limits_memory),
      cmocka_unit_test(limits_pids),
      cmocka_unit_test(limits_cpu_time),
      cmocka_unit_test(limits_open_files),
      cmocka_unit_test(limits_all_set),
      cmocka_unit_test(signal_numbers),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
