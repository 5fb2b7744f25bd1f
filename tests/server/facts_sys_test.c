/* Golden tests of the system readers (server/facts_sys.c) and the
 * mountinfo reader (server/facts_fs.c) on fixture trees: os-release with
 * quotes and escapes (and the /usr/lib fallback), ids, hostname, kernel;
 * mountinfo with escaped names (\040 \134 \011), pseudo filesystems left
 * out or in, read-only mounts. Every field is asserted exactly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include <cmocka.h>

#include "server/facts_read.h"

#define X86 "tests/server/data/facts/x86"
#define ARM "tests/server/data/facts/arm64"

static void os_x86(void **state) {
  (void)state;
  Gexec__V1__FactsOs *o = calloc(1, sizeof *o);
  gexec__v1__facts_os__init(o);
  assert_int_equal(gxd_facts_os(X86, o), 0);
  assert_string_equal(o->id, "debian");
  assert_string_equal(o->name, "Debian GNU/Linux");
  assert_string_equal(o->version, "12 (bookworm)");
  assert_string_equal(o->version_id, "12");
  assert_string_equal(o->codename, "bookworm");
  assert_string_equal(o->pretty_name, "Debian GNU/Linux 12 (bookworm)");
  gexec__v1__facts_os__free_unpacked(o, NULL);
}

/* /usr/lib/os-release when /etc has none; single quotes keep what is in
 * them; in double quotes \" \\ \$ are escapes; trailing blanks go. */
static void os_arm_fallback(void **state) {
  (void)state;
  Gexec__V1__FactsOs *o = calloc(1, sizeof *o);
  gexec__v1__facts_os__init(o);
  assert_int_equal(gxd_facts_os(ARM, o), 0);
  assert_string_equal(o->id, "fancy");
  assert_string_equal(o->name, "Fancy \"OS\"");
  assert_string_equal(o->version, "1.0 \"Quoted\" \\ $HOME");
  assert_string_equal(o->version_id, "1.0");
  assert_string_equal(o->codename, "");
  assert_string_equal(o->pretty_name, "Fancy OS 1.0");
  gexec__v1__facts_os__free_unpacked(o, NULL);
}

/* A key given twice: the last one counts (and nothing leaks). */
static void os_repeated_key(void **state) {
  (void)state;
  Gexec__V1__FactsOs *o = calloc(1, sizeof *o);
  gexec__v1__facts_os__init(o);
  assert_int_equal(gxd_facts_os_parse("ID=a\nID=\"b\"\nnoequals\n", o), 0);
  assert_string_equal(o->id, "b");
  gexec__v1__facts_os__free_unpacked(o, NULL);
}

static void system_ids(void **state) {
  (void)state;
  Gexec__V1__FactsResponse *r = calloc(1, sizeof *r);
  gexec__v1__facts_response__init(r);
  assert_int_equal(gxd_facts_system(X86, 0, r), 0);
  assert_string_equal(r->hostname, "node07");
  assert_string_equal(r->fqdn, "node07"); /* not live: no lookup */
  assert_string_equal(r->machine_id, "0123456789abcdef0123456789abcdef");
  assert_string_equal(r->boot_id, "3f9c1a2e-7b4d-4e8f-9a0b-1c2d3e4f5a6b");
  gexec__v1__facts_response__free_unpacked(r, NULL);
}

static void kernel(void **state) {
  (void)state;
  struct utsname u;
  assert_int_equal(uname(&u), 0);
  Gexec__V1__FactsKernel *k = calloc(1, sizeof *k);
  gexec__v1__facts_kernel__init(k);
  assert_int_equal(gxd_facts_kernel(X86, k), 0);
  assert_string_equal(k->release, "6.1.0-27-amd64");
  assert_string_equal(k->version,
                      "#1 SMP PREEMPT_DYNAMIC Debian 6.1.115-1 (2024-11-01)");
  assert_string_equal(k->arch, u.machine); /* uname(2), live */
  gexec__v1__facts_kernel__free_unpacked(k, NULL);
}

static Gexec__V1__FactsResponse *mounts(const char *root, int pseudo) {
  Gexec__V1__FactsResponse *r = calloc(1, sizeof *r);
  gexec__v1__facts_response__init(r);
  assert_int_equal(gxd_facts_filesystems(root, pseudo, 0, r), 0);
  return r;
}

static void expect_fs(const Gexec__V1__FactsFilesystem *f, const char *mp,
                      const char *type, const char *dev, int ro) {
  assert_string_equal(f->mount_point, mp);
  assert_string_equal(f->type, type);
  assert_string_equal(f->device, dev);
  assert_int_equal(f->read_only, ro);
  assert_int_equal(f->size_bytes, 0); /* not live: no statvfs */
}

static void filesystems(void **state) {
  (void)state;
  Gexec__V1__FactsResponse *r = mounts(X86, 0);
  assert_int_equal(r->n_filesystems, 4);
  expect_fs(r->filesystems[0], "/", "ext4", "/dev/sda1", 0);
  expect_fs(r->filesystems[1], "/mnt/My Data", "ext4", "/dev/sdb1", 0);
  expect_fs(r->filesystems[2], "/srv/back\\slash\ttab", "xfs", "/dev/sdc1",
            1);
  expect_fs(r->filesystems[3], "/mnt/nfs", "nfs4", "server:/export/a b", 0);
  gexec__v1__facts_response__free_unpacked(r, NULL);
}

static void filesystems_pseudo(void **state) {
  (void)state;
  Gexec__V1__FactsResponse *r = mounts(X86, 1);
  assert_int_equal(r->n_filesystems, 10);
  expect_fs(r->filesystems[1], "/proc", "proc", "proc", 0);
  expect_fs(r->filesystems[2], "/sys", "sysfs", "sysfs", 0);
  expect_fs(r->filesystems[3], "/sys/fs/cgroup", "cgroup2", "cgroup2", 0);
  expect_fs(r->filesystems[4], "/dev", "devtmpfs", "udev", 0);
  expect_fs(r->filesystems[5], "/dev/pts", "devpts", "devpts", 0);
  expect_fs(r->filesystems[6], "/run", "tmpfs", "tmpfs", 0);
  gexec__v1__facts_response__free_unpacked(r, NULL);
  r = mounts(ARM, 0);
  assert_int_equal(r->n_filesystems, 1);
  expect_fs(r->filesystems[0], "/", "ext4", "/dev/mmcblk0p2", 1);
  gexec__v1__facts_response__free_unpacked(r, NULL);
}

/* Live: "/" has a size from statvfs. */
static void filesystems_live(void **state) {
  (void)state;
  Gexec__V1__FactsResponse *r = calloc(1, sizeof *r);
  gexec__v1__facts_response__init(r);
  assert_int_equal(gxd_facts_filesystems("", 1, 1, r), 0);
  int found = 0;
  for (size_t i = 0; i < r->n_filesystems; i++)
    if (strcmp(r->filesystems[i]->mount_point, "/") == 0) {
      found = 1;
      assert_true(r->filesystems[i]->size_bytes > 0);
      assert_true(r->filesystems[i]->free_bytes >=
                  r->filesystems[i]->available_bytes);
    }
  assert_true(found);
  gexec__v1__facts_response__free_unpacked(r, NULL);
}

static void pseudo_list(void **state) {
  (void)state;
  assert_true(gxd_facts_fs_pseudo("proc"));
  assert_true(gxd_facts_fs_pseudo("cgroup2"));
  assert_true(gxd_facts_fs_pseudo("tmpfs"));
  assert_false(gxd_facts_fs_pseudo("ext4"));
  assert_false(gxd_facts_fs_pseudo("nfs4"));
  assert_false(gxd_facts_fs_pseudo("procfs"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(os_x86),           cmocka_unit_test(os_arm_fallback),
      cmocka_unit_test(os_repeated_key),  cmocka_unit_test(system_ids),
      cmocka_unit_test(kernel),           cmocka_unit_test(filesystems),
      cmocka_unit_test(filesystems_pseudo),
      cmocka_unit_test(filesystems_live), cmocka_unit_test(pseudo_list),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
