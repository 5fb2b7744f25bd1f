/* Unit tests for server/users: gxd_user_lookup against this host's real
 * databases (root, nobody, an unknown name, bad names) and against users
 * the test creates with useradd (groups, an empty shell, more groups
 * than the bound), removed again at the end. Needs root. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "server/users.h"
#include "tests/server/accounts.h"

static gxd_user u;
static char why[512];

#define RUN(...) gxt_account_cmd((const char *const[]){__VA_ARGS__, NULL})

/* u's groups as `id -G` prints them (the primary first, then the rest
 * in the database's order; getgrouplist lists the primary first too). */
static const char *groups_line(void) {
  static char buf[8192];
  size_t off = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < u.ngroups; i++)
    off += (size_t)snprintf(buf + off, sizeof buf - off, "%s%u",
                            i ? " " : "", u.groups[i]);
  return buf;
}

static void expect_lookup_ok(const char *name) {
  memset(why, 0, sizeof why);
  int rc = gxd_user_lookup(name, &u, why, sizeof why);
  if (rc != 0) fail_msg("lookup of %s: %d %s", name, rc, why);
}

static void root_user(void **state) {
  (void)state;
  expect_lookup_ok("root");
  assert_string_equal(u.name, "root");
  assert_int_equal(u.uid, 0);
  assert_int_equal(u.gid, 0);
  assert_string_equal(u.home, "/root");
  assert_true(u.shell[0] == '/');
  assert_true(u.ngroups >= 1);
  assert_int_equal(u.groups[0], 0);
  assert_string_equal(groups_line(), gxt_id_of("-G", "root"));
}

static void nobody_user(void **state) {
  (void)state;
  expect_lookup_ok("nobody");
  assert_int_equal(u.uid, 65534);
  assert_int_equal(u.gid, 65534);
  assert_string_equal(u.home, "/nonexistent");
  assert_string_equal(u.shell, "/usr/sbin/nologin");
  assert_int_equal(u.ngroups, 1);
  assert_int_equal(u.groups[0], 65534);
  assert_string_equal(groups_line(), gxt_id_of("-G", "nobody"));
}

static void unknown_user(void **state) {
  (void)state;
  u.uid = 77;
  assert_int_equal(gxd_user_lookup("gxt-no-such-user", &u, why, sizeof why),
                   -ENOENT);
  assert_string_equal(why, "unknown user 'gxt-no-such-user'");
  assert_int_equal(u.uid, 0); /* nothing half-filled */
  assert_int_equal(u.ngroups, 0);
}

/* Names the validator refuses never reach the database. */
static void bad_names(void **state) {
  static const char *const bad[] = {"", "-root", "0", "65534", "ro ot",
                                    "root\n", "../root", "a:b",
                                    "abcdefghijklmnopqrstuvwxyz0123456"};
  (void)state;
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    assert_int_equal(gxd_user_lookup(bad[i], &u, why, sizeof why), -EINVAL);
    assert_non_null(strstr(why, "user"));
  }
  assert_int_equal(gxd_user_lookup(NULL, &u, why, sizeof why), -EINVAL);
}

/* A user made here: its uid, primary group, a supplementary group, its
 * home, and an empty shell taken as /bin/sh. */
static void created_user(void **state) {
  char user[32], group[32], home[64];
  (void)state;
  snprintf(user, sizeof user, "gxtu%d", (int)getpid());
  snprintf(group, sizeof group, "gxtg%d", (int)getpid());
  snprintf(home, sizeof home, "/home/%s", user);
  assert_int_equal(RUN("groupadd", group), 0);
  assert_int_equal(RUN("useradd", "-M", "-d", home, "-s", "", "-G", group,
                       user), 0);
  expect_lookup_ok(user);
  int uid_ok = u.uid == (uint32_t)atoi(gxt_id_of("-u", user));
  int gid_ok = u.gid == (uint32_t)atoi(gxt_id_of("-g", user));
  char want_groups[8192];
  snprintf(want_groups, sizeof want_groups, "%s", gxt_id_of("-G", user));
  RUN("userdel", user);
  RUN("groupdel", group);
  assert_true(uid_ok);
  assert_true(gid_ok);
  assert_int_equal(u.ngroups, 2);
  assert_int_equal(u.groups[0], u.gid);
  assert_string_equal(groups_line(), want_groups);
  assert_string_equal(u.home, home);
  assert_string_equal(u.shell, "/bin/sh");
  assert_string_equal(u.name, user);
  /* gone again: unknown */
  assert_int_equal(gxd_user_lookup(user, &u, why, sizeof why), -ENOENT);
}

/* In more groups than the bound: refused, never run with some missing;
 * exactly the bound is fine. */
static void too_many_groups(void **state) {
  enum { N = GXD_USER_GROUPS_MAX }; /* + the primary = one too many */
  static char names[N][24], list[N * 24];
  char user[32];
  size_t off = 0;
  int rc1, rc2;
  (void)state;
  snprintf(user, sizeof user, "gxtm%d", (int)getpid());
  for (int i = 0; i < N; i++) {
    snprintf(names[i], sizeof names[i], "gxtm%d-%d", (int)getpid(), i);
    assert_int_equal(RUN("groupadd", names[i]), 0);
    off += (size_t)snprintf(list + off, sizeof list - off, "%s%s",
                            i ? "," : "", names[i]);
  }
  /* N - 1 supplementary groups + the primary: the bound */
  list[off - strlen(names[N - 1]) - 1] = '\0';
  assert_int_equal(RUN("useradd", "-M", "-G", list, user), 0);
  rc1 = gxd_user_lookup(user, &u, why, sizeof why);
  size_t n1 = u.ngroups;
  list[off - strlen(names[N - 1]) - 1] = ',';
  assert_int_equal(RUN("usermod", "-G", list, user), 0);
  rc2 = gxd_user_lookup(user, &u, why, sizeof why);
  RUN("userdel", user);
  for (int i = 0; i < N; i++) RUN("groupdel", names[i]);
  assert_int_equal(rc1, 0);
  assert_int_equal(n1, GXD_USER_GROUPS_MAX);
  assert_int_equal(rc2, -E2BIG);
  char want[128];
  snprintf(want, sizeof want, "user '%s' is in more than 256 groups", user);
  assert_string_equal(why, want);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(root_user),     cmocka_unit_test(nobody_user),
      cmocka_unit_test(unknown_user),  cmocka_unit_test(bad_names),
      cmocka_unit_test(created_user),  cmocka_unit_test(too_many_groups),
  };
  return cmocka_run_group_tests_name("server/users", tests, NULL, NULL);
}
