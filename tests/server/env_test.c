/* Unit tests for server/env: gxd_env_build and gxd_env_get. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "server/env.h"

#define DEF_PATH "PATH=" GXD_DEFAULT_PATH

/* Asserts that @p env is exactly the NULL-terminated list @p want. */
static void assert_env(char **env, const char *const *want) {
  size_t i;
  assert_non_null(env);
  for (i = 0; want[i]; i++) {
    if (!env[i]) fail_msg("env ends at %zu, want '%s'", i, want[i]);
    if (strcmp(env[i], want[i]) != 0)
      fail_msg("env[%zu] is '%s', want '%s'", i, env[i], want[i]);
  }
  if (env[i]) fail_msg("env[%zu] is '%s', want the end", i, env[i]);
}

static void default_path_value(void **state) {
  (void)state;
  assert_string_equal(GXD_DEFAULT_PATH, "/usr/local/sbin:/usr/local/bin:"
                                        "/usr/sbin:/usr/bin:/sbin:/bin");
}

static void defaults_only(void **state) {
  static const char *const want[] = {DEF_PATH, "HOME=/home/alice",
                                     "LANG=C.UTF-8", NULL};
  char **env;
  (void)state;
  env = gxd_env_build("/home/alice", NULL, 0);
  assert_env(env, want);
  free(env);
}

/* Requested variables follow the defaults, in the order given. */
static void extras_appended_in_order(void **state) {
  static const gxd_env_var vars[] = {
      {"ZED", "last"}, {"ALPHA", "1"}, {"EMPTY", ""}, {"SP", "a b=c"}};
  static const char *const want[] = {
      DEF_PATH, "HOME=/root", "LANG=C.UTF-8", "ZED=last",
      "ALPHA=1", "EMPTY=", "SP=a b=c", NULL};
  char **env;
  (void)state;
  env = gxd_env_build("/root", vars, 4);
  assert_env(env, want);
  free(env);
}

static void override_home(void **state) {
  static const gxd_env_var vars[] = {{"X", "1"}, {"HOME", "/srv/h"}};
  static const char *const want[] = {DEF_PATH, "LANG=C.UTF-8", "X=1",
                                     "HOME=/srv/h", NULL};
  char **env;
  (void)state;
  env = gxd_env_build("/root", vars, 2);
  assert_env(env, want);
  assert_string_equal(gxd_env_get(env, "HOME"), "/srv/h");
  free(env);
}

static void override_path(void **state) {
  static const gxd_env_var vars[] = {{"PATH", "/opt/bin"}};
  static const char *const want[] = {"HOME=/root", "LANG=C.UTF-8",
                                     "PATH=/opt/bin", NULL};
  char **env;
  (void)state;
  env = gxd_env_build("/root", vars, 1);
  assert_env(env, want);
  assert_string_equal(gxd_env_get(env, "PATH"), "/opt/bin");
  free(env);
}

/* An empty value still replaces the default. */
static void override_with_empty_value(void **state) {
  static const gxd_env_var vars[] = {{"LANG", ""}};
  static const char *const want[] = {DEF_PATH, "HOME=/h", "LANG=", NULL};
  char **env;
  (void)state;
  env = gxd_env_build("/h", vars, 1);
  assert_env(env, want);
  assert_string_equal(gxd_env_get(env, "LANG"), "");
  free(env);
}

static void override_all_defaults(void **state) {
  static const gxd_env_var vars[] = {
      {"LANG", "de_DE.UTF-8"}, {"PATH", "/p"}, {"HOME", "/h2"}};
  static const char *const want[] = {"LANG=de_DE.UTF-8", "PATH=/p",
                                     "HOME=/h2", NULL};
  char **env;
  (void)state;
  env = gxd_env_build("/h", vars, 3);
  assert_env(env, want);
  free(env);
}

/* Names are compared whole: PATHX does not replace PATH. */
static void similar_names_do_not_override(void **state) {
  static const gxd_env_var vars[] = {{"PATHX", "1"}, {"HOM", "2"},
                                     {"lang", "3"}};
  static const char *const want[] = {DEF_PATH, "HOME=/h", "LANG=C.UTF-8",
                                     "PATHX=1", "HOM=2", "lang=3", NULL};
  char **env;
  (void)state;
  env = gxd_env_build("/h", vars, 3);
  assert_env(env, want);
  free(env);
}

/* The daemon's own environment never leaks into a run. */
static void daemon_environment_not_inherited(void **state) {
  char **env;
  (void)state;
  assert_int_equal(setenv("GXD_ENV_TEST_SECRET", "leak", 1), 0);
  assert_int_equal(setenv("LANG", "fr_FR.UTF-8", 1), 0);
  env = gxd_env_build("/h", NULL, 0);
  assert_null(gxd_env_get(env, "GXD_ENV_TEST_SECRET"));
  assert_string_equal(gxd_env_get(env, "LANG"), "C.UTF-8");
  assert_null(env[3]);
  free(env);
  unsetenv("GXD_ENV_TEST_SECRET");
}

/* Many and long variables: one allocation holds them all (ASan checks
 * the bounds), and every one is intact. */
static void many_long_variables(void **state) {
  enum { N = 300 };
  static char names[N][16], values[N][200];
  static gxd_env_var vars[N];
  char **env;
  (void)state;
  for (int i = 0; i < N; i++) {
    snprintf(names[i], sizeof names[i], "V%d", i);
    memset(values[i], 'a' + i % 26, sizeof values[i] - 1);
    values[i][sizeof values[i] - 1] = '\0';
    vars[i].name = names[i];
    vars[i].value = values[i];
  }
  env = gxd_env_build("/home/long", vars, N);
  assert_non_null(env);
  assert_string_equal(env[0], DEF_PATH);
  for (int i = 0; i < N; i++) {
    assert_int_equal(strncmp(env[3 + i], names[i], strlen(names[i])), 0);
    assert_int_equal(env[3 + i][strlen(names[i])], '=');
    assert_string_equal(gxd_env_get(env, names[i]), values[i]);
  }
  assert_null(env[3 + N]);
  free(env);
}

/* Other defaults (a run as a user's): each in order unless requested,
 * then the requested variables; more than GXD_ENV_DEFAULTS_MAX is
 * refused. */
static void build_with_defaults(void **state) {
  const gxd_env_var defs[] = {{"PATH", "/bin"}, {"HOME", "/home/a"},
                              {"USER", "a"},    {"SHELL", "/bin/sh"}};
  const gxd_env_var vars[] = {{"USER", "b"}, {"X", ""}};
  gxd_env_var many[GXD_ENV_DEFAULTS_MAX + 1];
  char **env;
  (void)state;
  env = gxd_env_build_with(defs, 4, vars, 2);
  assert_non_null(env);
  assert_string_equal(env[0], "PATH=/bin");
  assert_string_equal(env[1], "HOME=/home/a");
  assert_string_equal(env[2], "SHELL=/bin/sh");
  assert_string_equal(env[3], "USER=b");
  assert_string_equal(env[4], "X=");
  assert_null(env[5]);
  free(env);
  env = gxd_env_build_with(defs, 0, NULL, 0);
  assert_non_null(env);
  assert_null(env[0]);
  free(env);
  for (size_t i = 0; i < GXD_ENV_DEFAULTS_MAX + 1; i++) many[i] = defs[0];
  assert_null(gxd_env_build_with(many, GXD_ENV_DEFAULTS_MAX + 1, NULL, 0));
}

/* ----------------------------------------------------------- env_get */

static void get_finds_values(void **state) {
  char *envp[] = {"PATHX=wrong", "PATH=/bin", "A=", "B=x=y", "=odd", NULL};
  (void)state;
  assert_string_equal(gxd_env_get(envp, "PATH"), "/bin");
  assert_string_equal(gxd_env_get(envp, "PATHX"), "wrong");
  assert_string_equal(gxd_env_get(envp, "A"), "");
  assert_string_equal(gxd_env_get(envp, "B"), "x=y");
  assert_ptr_equal(gxd_env_get(envp, "B"), envp[3] + 2);
}

static void get_missing(void **state) {
  char *envp[] = {"PATH=/bin", "HOME=/h", NULL};
  char *empty[] = {NULL};
  (void)state;
  assert_null(gxd_env_get(envp, "PAT"));
  assert_null(gxd_env_get(envp, "PATH2"));
  assert_null(gxd_env_get(envp, "path"));
  assert_null(gxd_env_get(envp, "/bin"));
  assert_null(gxd_env_get(empty, "PATH"));
}

/* The first of duplicate entries wins, as getenv does. */
static void get_first_duplicate(void **state) {
  char *envp[] = {"X=1", "X=2", NULL};
  (void)state;
  assert_string_equal(gxd_env_get(envp, "X"), "1");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(default_path_value),
      cmocka_unit_test(defaults_only),
      cmocka_unit_test(extras_appended_in_order),
      cmocka_unit_test(override_home),
      cmocka_unit_test(override_path),
      cmocka_unit_test(override_with_empty_value),
      cmocka_unit_test(override_all_defaults),
      cmocka_unit_test(similar_names_do_not_override),
      cmocka_unit_test(daemon_environment_not_inherited),
      cmocka_unit_test(many_long_variables),
      cmocka_unit_test(build_with_defaults),
      cmocka_unit_test(get_finds_values),
      cmocka_unit_test(get_missing),
      cmocka_unit_test(get_first_duplicate),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
