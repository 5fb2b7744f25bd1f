/* The FactsResponse -> JSON mapping of libgexec (client/pb_json.c):
 * proto field names, nested messages and lists, 64-bit integers as JSON
 * numbers (also past 2^53 and 2^63), doubles in their shortest form,
 * default values left out, strings escaped (but "/" kept), exactly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "client/internal.h"
#include "gexec/v1/facts.pb-c.h"

static void check(const ProtobufCMessage *m, const char *want) {
  size_t len = 0;
  char *s = gexec__pb_json(m, &len);
  assert_non_null(s);
  assert_string_equal(s, want);
  assert_int_equal(len, strlen(want));
  free(s);
}

static void empty(void **state) {
  (void)state;
  Gexec__V1__FactsResponse r = GEXEC__V1__FACTS_RESPONSE__INIT;
  check(&r.base, "{}");
}

static void full(void **state) {
  (void)state;
  Gexec__V1__FactsResponse r = GEXEC__V1__FACTS_RESPONSE__INIT;
  Gexec__V1__FactsOs os = GEXEC__V1__FACTS_OS__INIT;
  Gexec__V1__FactsMemory mem = GEXEC__V1__FACTS_MEMORY__INIT;
  Gexec__V1__FactsLoad load = GEXEC__V1__FACTS_LOAD__INIT;
  Gexec__V1__FactsInterface lo = GEXEC__V1__FACTS_INTERFACE__INIT;
  Gexec__V1__FactsAddress a = GEXEC__V1__FACTS_ADDRESS__INIT;
  Gexec__V1__FactsAddress *as[] = {&a};
  Gexec__V1__FactsInterface *ifs[] = {&lo};
  r.hostname = "node\"07";
  r.boot_time_unix = 1764100000;
  r.uptime_seconds = 12345.67;
  os.id = "debian";
  os.version_id = "12";
  r.os = &os;
  mem.total_bytes = 18446744073709551615ull; /* past int64 */
  mem.available_bytes = 9007199254740993ull; /* past 2^53 */
  r.memory = &mem;
  load.avg1 = 0.5; /* avg5, avg15 0: left out */
  r.load = &load;
  lo.name = "lo";
  lo.mtu = 65536;
  lo.up = 1;
  a.address = "127.0.0.1";
  a.prefix_length = 8;
  a.family = "inet";
  lo.n_addresses = 1;
  lo.addresses = as;
  r.n_interfaces = 1;
  r.interfaces = ifs;
  check(&r.base,
        "{\"hostname\":\"node\\\"07\",\"os\":{\"id\":\"debian\","
        "\"version_id\":\"12\"},\"boot_time_unix\":1764100000,"
        "\"uptime_seconds\":12345.67,\"load\":{\"avg1\":0.5},"
        "\"memory\":{\"total_bytes\":18446744073709551615,"
        "\"available_bytes\":9007199254740993},"
        "\"interfaces\":[{\"name\":\"lo\",\"mtu\":65536,\"up\":true,"
        "\"addresses\":[{\"address\":\"127.0.0.1\",\"prefix_length\":8,"
        "\"family\":\"inet\"}]}]}");
}

static void slash_kept(void **state) {
  (void)state;
  Gexec__V1__FactsFilesystem f = GEXEC__V1__FACTS_FILESYSTEM__INIT;
  f.mount_point = "/mnt/a b";
  f.read_only = 1;
  check(&f.base, "{\"mount_point\":\"/mnt/a b\",\"read_only\":true}");
}

/* A hostile daemon's string that is not UTF-8 (protobuf-c unpacks it
 * without a check) makes no JSON: it used to be copied into the text,
 * which then was not valid UTF-8 (strict parsers refuse it). Valid UTF-8
 * and control characters (escaped by json-c) are fine. */
static void not_utf8_refused(void **state) {
  (void)state;
  Gexec__V1__FactsResponse r = GEXEC__V1__FACTS_RESPONSE__INIT;
  uint8_t buf[64];
  r.hostname = "n\xff\x1b";
  size_t n = gexec__v1__facts_response__pack(&r, buf);
  Gexec__V1__FactsResponse *m =
      gexec__v1__facts_response__unpack(NULL, n, buf);
  assert_non_null(m); /* protobuf-c lets it through */
  assert_null(gexec__pb_json(&m->base, NULL));
  gexec__v1__facts_response__free_unpacked(m, NULL);
  static const char *const bad[] = {"\xc0\xaf", "\xed\xa0\x80", "\xe2\x82",
                                    "\xf4\x90\x80\x80", "ok\x80"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    r.hostname = (char *)bad[i];
    assert_null(gexec__pb_json(&r.base, NULL));
  }
  r.hostname = "caf\xc3\xa9 \xf0\x9f\x98\x80\x1b";
  check(&r.base, "{\"hostname\":\"caf\xc3\xa9 \xf0\x9f\x98\x80\\u001b\"}");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(empty),
      cmocka_unit_test(full),
      cmocka_unit_test(slash_kept),
      cmocka_unit_test(not_utf8_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
