/* Tests of server/facts_collect.c and facts_net.c: group names (the
 * unknown-group message exactly), a whole response read from the x86
 * fixture with only the groups asked present, the daemon group, and the
 * live interfaces (loopback: 127.0.0.1/8, MTU from /sys). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "server/facts.h"
#include "server/facts_read.h"

#define X86 "tests/server/data/facts/x86"

static void groups(void **state) {
  (void)state;
  char why[256] = "";
  unsigned g = 0;
  char *two[] = {"cpu", "daemon"};
  assert_int_equal(gxd_facts_groups(two, 2, &g, why, sizeof why), 0);
  assert_int_equal(g, GXD_FACTS_CPU | GXD_FACTS_DAEMON);
  assert_int_equal(gxd_facts_groups(NULL, 0, &g, why, sizeof why), 0);
  assert_int_equal(g, GXD_FACTS_ALL);
  char *bad[] = {"os", "disks"};
  assert_int_equal(gxd_facts_groups(bad, 2, &g, why, sizeof why), -1);
  assert_string_equal(why, "unknown facts group 'disks'; known: system, os, "
                           "kernel, uptime, load, cpu, memory, filesystems, "
                           "interfaces, daemon");
  char names[128];
  gxd_facts_group_names(GXD_FACTS_OS | GXD_FACTS_MEMORY, names, sizeof names);
  assert_string_equal(names, "os, memory");
}

static gxd_facts_src fixture(void) {
  gxd_facts_src s = {.root = X86, .live = 0, .version = "9.9.9"};
  snprintf(s.profiles[0].name, sizeof s.profiles[0].name, "host");
  snprintf(s.profiles[0].tier, sizeof s.profiles[0].tier, "none");
  s.profiles[0].full = s.profiles[0].served = 1;
  snprintf(s.profiles[1].name, sizeof s.profiles[1].name, "restricted");
  s.nprofiles = 2;
  return s;
}

static void only_asked_groups(void **state) {
  (void)state;
  gxd_facts_src s = fixture();
  Gexec__V1__FactsResponse *r = NULL;
  assert_int_equal(
      gxd_facts_collect(&s, GXD_FACTS_MEMORY | GXD_FACTS_SYSTEM, 0, &r), 0);
  assert_string_equal(r->hostname, "node07");
  assert_non_null(r->memory);
  assert_int_equal(r->memory->total_bytes, 16318412ull * 1024);
  assert_null(r->os);
  assert_null(r->kernel);
  assert_null(r->cpu);
  assert_null(r->load);
  assert_null(r->daemon);
  assert_int_equal(r->n_filesystems, 0);
  assert_int_equal(r->n_interfaces, 0);
  assert_int_equal(r->boot_time_unix, 0);
  gexec__v1__facts_response__free_unpacked(r, NULL);
}

static void all_groups(void **state) {
  (void)state;
  gxd_facts_src s = fixture();
  Gexec__V1__FactsResponse *r = NULL;
  assert_int_equal(gxd_facts_collect(&s, GXD_FACTS_ALL, 0, &r), 0);
  assert_string_equal(r->os->id, "debian");
  assert_string_equal(r->kernel->release, "6.1.0-27-amd64");
  assert_int_equal(r->boot_time_unix, 1764100000);
  assert_true(r->load->avg15 == 2.0);
  assert_int_equal(r->cpu->sockets, 2);
  assert_int_equal(r->n_filesystems, 4);
  assert_string_equal(r->daemon->version, "9.9.9");
  assert_int_equal(r->daemon->n_profiles, 2);
  assert_string_equal(r->daemon->profiles[0]->name, "host");
  assert_string_equal(r->daemon->profiles[0]->tier, "none");
  assert_true(r->daemon->profiles[0]->served);
  assert_string_equal(r->daemon->profiles[1]->name, "restricted");
  assert_false(r->daemon->profiles[1]->full);
  /* it packs (valid UTF-8 everywhere) and reads back */
  size_t n = gexec__v1__facts_response__get_packed_size(r);
  uint8_t *buf = malloc(n);
  gexec__v1__facts_response__pack(r, buf);
  Gexec__V1__FactsResponse *back =
      gexec__v1__facts_response__unpack(NULL, n, buf);
  assert_non_null(back);
  assert_string_equal(back->filesystems[1]->mount_point, "/mnt/My Data");
  gexec__v1__facts_response__free_unpacked(back, NULL);
  free(buf);
  gexec__v1__facts_response__free_unpacked(r, NULL);
}

static void interfaces_live(void **state) {
  (void)state;
  Gexec__V1__FactsResponse *r = calloc(1, sizeof *r);
  gexec__v1__facts_response__init(r);
  assert_int_equal(gxd_facts_interfaces("", r), 0);
  const Gexec__V1__FactsInterface *lo = NULL;
  for (size_t i = 0; i < r->n_interfaces; i++)
    if (strcmp(r->interfaces[i]->name, "lo") == 0) lo = r->interfaces[i];
  assert_non_null(lo);
  assert_true(lo->up);
  assert_int_equal(lo->mtu, 65536);
  assert_string_equal(lo->mac, "00:00:00:00:00:00");
  int v4 = 0;
  for (size_t i = 0; i < lo->n_addresses; i++)
    if (strcmp(lo->addresses[i]->address, "127.0.0.1") == 0) {
      v4 = 1;
      assert_int_equal(lo->addresses[i]->prefix_length, 8);
      assert_string_equal(lo->addresses[i]->family, "inet");
    }
  assert_true(v4);
  gexec__v1__facts_response__free_unpacked(r, NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(groups), cmocka_unit_test(only_asked_groups),
      cmocka_unit_test(all_groups), cmocka_unit_test(interfaces_live),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
