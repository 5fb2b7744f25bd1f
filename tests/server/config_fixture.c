/* The gxd_config tests' shared parsing helpers: see config_fixture.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/server/config_fixture.h"

gxd_config cfg;
char why[512];

/* Runs gxd_config_parse on a NULL-terminated @p argv. */
int parse(char **argv) {
  int argc = 0;
  while (argv[argc]) argc++;
  memset(why, 0, sizeof why);
  return gxd_config_parse(argc, argv, &cfg, why, sizeof why);
}

/* Parses expecting -1 with @p needle in the reason. */
void parse_fails(char **argv, const char *needle) {
  int rc = parse(argv);
  if (rc != -1) fail_msg("parse returned %d, want -1", rc);
  assert_contains(why, needle);
}

/* Runs a parse with stdout sent to a file; returns what it printed. */
char *parse_capturing_stdout(char **argv, int *rc) {
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

/* Parses "gexecd OPT VALUE"; expects it accepted with *@p field == @p want. */
void value_ok(const char *opt, const char *value,
                     const uint64_t *field, uint64_t want) {
  char *argv[] = {"gexecd", (char *)opt, (char *)value, NULL};
  int rc = parse(argv);
  if (rc != GXD_CONFIG_RUN) fail_msg("%s %s refused: %s", opt, value, why);
  if (*field != want)
    fail_msg("%s %s gave %llu, want %llu", opt, value,
             (unsigned long long)*field, (unsigned long long)want);
}

/* Expects "gexecd OPT VALUE" refused with exactly "invalid value 'VALUE'
 * for OPT: expected @p expect". */
void refuses(const char *opt, const char *value, const char *expect) {
  char *argv[] = {"gexecd", (char *)opt, (char *)value, NULL};
  char want[300];
  snprintf(want, sizeof want, "invalid value '%s' for %s: expected %s", value,
           opt, expect);
  parse_fails(argv, want);
  assert_string_equal(why, want);
}

