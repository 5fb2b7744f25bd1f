/* Golden tests of the /proc readers (server/facts_proc.c) on fixture
 * trees: an x86 host with 2 sockets of 2 cores with hyper-threading, and
 * an arm64 host whose cpuinfo has no physical or core ids. Every field is
 * asserted exactly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "server/facts_read.h"

#define X86 "tests/server/data/facts/x86"
#define ARM "tests/server/data/facts/arm64"

static void cpu_x86(void **state) {
  (void)state;
  Gexec__V1__FactsCpu c = GEXEC__V1__FACTS_CPU__INIT;
  assert_int_equal(gxd_facts_cpu(X86, &c), 0);
  assert_string_equal(c.model, "Intel(R) Xeon(R) Gold 6130 CPU @ 2.10GHz");
  assert_int_equal(c.logical_count, 8);
  assert_int_equal(c.physical_count, 4); /* (0,0) (0,1) (1,0) (1,1) */
  assert_int_equal(c.sockets, 2);
  free(c.model);
}

static void cpu_arm64(void **state) {
  (void)state;
  Gexec__V1__FactsCpu c = GEXEC__V1__FACTS_CPU__INIT;
  assert_int_equal(gxd_facts_cpu(ARM, &c), 0);
  assert_string_equal(c.model, ""); /* no model name on arm64 */
  assert_int_equal(c.logical_count, 4);
  assert_int_equal(c.physical_count, 4); /* no ids: one core each */
  assert_int_equal(c.sockets, 1);
  free(c.model);
}

static void memory(void **state) {
  (void)state;
  Gexec__V1__FactsMemory m = GEXEC__V1__FACTS_MEMORY__INIT;
  assert_int_equal(gxd_facts_memory(X86, &m), 0);
  assert_int_equal(m.total_bytes, 16318412ull * 1024);
  assert_int_equal(m.available_bytes, 12345678ull * 1024);
  assert_int_equal(m.swap_total_bytes, 2097148ull * 1024);
  assert_int_equal(m.swap_free_bytes, 2000000ull * 1024);
  Gexec__V1__FactsMemory a = GEXEC__V1__FACTS_MEMORY__INIT;
  assert_int_equal(gxd_facts_memory(ARM, &a), 0);
  assert_int_equal(a.total_bytes, 8029276ull * 1024);
  assert_int_equal(a.available_bytes, 6000000ull * 1024);
  assert_int_equal(a.swap_total_bytes, 0);
  assert_int_equal(a.swap_free_bytes, 0);
}

static void load(void **state) {
  (void)state;
  Gexec__V1__FactsLoad l = GEXEC__V1__FACTS_LOAD__INIT;
  assert_int_equal(gxd_facts_load(X86, &l), 0);
  assert_true(l.avg1 == 0.52);
  assert_true(l.avg5 == 1.25);
  assert_true(l.avg15 == 2.00);
}

static void uptime(void **state) {
  (void)state;
  Gexec__V1__FactsResponse r = GEXEC__V1__FACTS_RESPONSE__INIT;
  assert_int_equal(gxd_facts_uptime(X86, &r), 0);
  assert_true(r.uptime_seconds == 356412.27);
  assert_int_equal(r.boot_time_unix, 1764100000);
  assert_int_equal(gxd_facts_uptime(ARM, &r), 0);
  assert_true(r.uptime_seconds == 42.5);
  assert_int_equal(r.boot_time_unix, 1764200000);
}

static void missing_files(void **state) {
  (void)state;
  Gexec__V1__FactsCpu c = GEXEC__V1__FACTS_CPU__INIT;
  Gexec__V1__FactsMemory m = GEXEC__V1__FACTS_MEMORY__INIT;
  assert_int_equal(gxd_facts_cpu("/nonexistent", &c), -1);
  assert_int_equal(gxd_facts_memory("/nonexistent", &m), -1);
  assert_int_equal(c.logical_count, 0);
  assert_int_equal(m.total_bytes, 0);
}

/* The size cap: a file larger than the cap is cut after its last whole
 * line. */
static void bounded_read(void **state) {
  (void)state;
  char *t;
  long n = gxd_facts_read_file(X86, "/proc/meminfo", 40, &t);
  assert_int_equal(n, 28); /* "MemTotal: ... kB\n" is 28 bytes */
  assert_int_equal(strlen(t), 28);
  assert_int_equal(t[27], '\n');
  free(t);
}

static void utf8(void **state) {
  (void)state;
  char *s = gxd_facts_strndup("a\xff" "b\xc3\xa9" "c\xe0\x80", 8);
  assert_string_equal(s, "a?b\xc3\xa9" "c??");
  free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(cpu_x86),     cmocka_unit_test(cpu_arm64),
      cmocka_unit_test(memory),      cmocka_unit_test(load),
      cmocka_unit_test(uptime),      cmocka_unit_test(missing_files),
      cmocka_unit_test(bounded_read), cmocka_unit_test(utf8),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
