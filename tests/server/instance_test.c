/* Unit tests for server/instance: names derived from listen addresses,
 * the instance lock, run ids and cgroup names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "server/instance.h"

static void name_of(const char *addr, unsigned long netns, long pid,
                    const char *expect) {
  char out[GXD_INSTANCE_NAME_MAX + 1], why[160];
  assert_int_equal(gxd_instance_name_from(addr, netns, pid, out, sizeof out),
                   0);
  assert_string_equal(out, expect);
  assert_true(gxd_instance_name_ok(out, why, sizeof why));
}

static void names_from_addresses(void **state) {
  (void)state;
  name_of("unix:/run/gexec/gexecd.sock", 0, 0, "run_gexec_gexecd.sock");
  name_of("unix:///tmp/a b/x.sock", 0, 0, "tmp_a_b_x.sock");
  name_of("127.0.0.1:7000", 0, 0, "127.0.0.1_7000");
  name_of("[::1]:7000", 0, 0, "1__7000");
  name_of("10.1.2.3:7000", 4026532000ul, 0, "10.1.2.3_7000-net4026532000");
  name_of("127.0.0.1:0", 0, 4242, "127.0.0.1_0-pid4242");
  name_of("unix:/", 0, 0, "gexecd");
}

static void long_names_stay_unique(void **state) {
  (void)state;
  char a[GXD_INSTANCE_NAME_MAX + 1], b[GXD_INSTANCE_NAME_MAX + 1], why[160];
  const char *pa = "unix:/very/long/directory/name/that/goes/on/and/on/and/on/and/on/forever/a.sock";
  const char *pb = "unix:/very/long/directory/name/that/goes/on/and/on/and/on/and/on/forever/b.sock";
  gxd_instance_name_from(pa, 0, 0, a, sizeof a);
  gxd_instance_name_from(pb, 0, 0, b, sizeof b);
  assert_int_equal(strlen(a), GXD_INSTANCE_NAME_MAX);
  assert_string_not_equal(a, b); /* same head, different hash */
  assert_int_equal(strncmp(a, "very_long_directory", 19), 0);
  assert_true(gxd_instance_name_ok(a, why, sizeof why));
  char small[8];
  assert_int_equal(gxd_instance_name_from(pa, 0, 0, small, sizeof small), -1);
}

static void invalid_names(void **state) {
  (void)state;
  char why[160];
  const char *bad[] = {"", ".hidden", "a/b", "a b", "x\n",
                       "0123456789012345678901234567890123456789012345678901234567890123456789"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    why[0] = '\0';
    if (gxd_instance_name_ok(bad[i], why, sizeof why))
      fail_msg("accepted '%s'", bad[i]);
    assert_non_null(strstr(why, "[A-Za-z0-9._-]"));
  }
}

static void lock_is_exclusive(void **state) {
  (void)state;
  gxd_instance a, b;
  char why[300], name[64];
  uv_loop_t *loop = uv_default_loop();
  snprintf(name, sizeof name, "instance-test-%d", (int)getpid());
  assert_int_equal(gxd_instance_open(&a, loop, name, why, sizeof why), 0);
  why[0] = '\0';
  assert_int_equal(gxd_instance_open(&b, loop, name, why, sizeof why), -1);
  char expect[120];
  snprintf(expect, sizeof expect, "in use by another gexecd (pid %d)",
           (int)getpid());
  if (!strstr(why, expect)) fail_msg("'%s' lacks '%s'", why, expect);
  gxd_instance_close(&a);
  assert_int_equal(gxd_instance_open(&b, loop, name, why, sizeof why), 0);
  gxd_instance_close(&b);
  assert_int_equal(access(b.lock_path, F_OK), -1); /* removed on close */
}

static void run_ids_and_cgroup_names(void **state) {
  (void)state;
  gxd_instance in;
  char why[300], cg[GXI_CGROUP_NAME_MAX + 1];
  assert_int_equal(gxd_instance_open(&in, uv_default_loop(), "ids-test", why,
                                     sizeof why), 0);
  in.cgroups = 1;
  assert_int_equal(gxd_instance_new_run(&in, cg, sizeof cg), 1);
  assert_string_equal(cg, "ids-test/run-1");
  assert_int_equal(gxd_instance_new_run(&in, cg, sizeof cg), 2);
  assert_string_equal(cg, "ids-test/run-2");
  in.cgroups = 0;
  assert_int_equal(gxd_instance_new_run(&in, cg, sizeof cg), 3);
  assert_string_equal(cg, "");
  /* nothing to reclaim for a cgroup that does not exist */
  gxd_instance_reclaim(&in, 99, "ids-test/run-99");
  assert_int_equal(gxd_instance_reclaiming(&in), 0);
  gxd_instance_close(&in);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(names_from_addresses),
      cmocka_unit_test(long_names_stay_unique),
      cmocka_unit_test(invalid_names),
      cmocka_unit_test(lock_is_exclusive),
      cmocka_unit_test(run_ids_and_cgroup_names),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
