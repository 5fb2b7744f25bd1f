/* Unit tests of server/caller.c: who a stream's transport says calls
 * (the fake rpc layer of tests/server/fake_rpc.c stands in for gRPC). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "server/caller.h"
#include "tests/server/fake_rpc.h"

/* Loopback in every spelling gRPC uses, and nothing else. */
static void loopback_addresses(void **state) {
  (void)state;
  assert_true(gxd_caller_loopback("ipv4:127.0.0.1:5555"));
  assert_true(gxd_caller_loopback("ipv4:127.3.2.1:1"));
  assert_true(gxd_caller_loopback("ipv6:[::1]:5555"));
  assert_true(gxd_caller_loopback("ipv6:%5B::1%5D:5555"));
  assert_true(gxd_caller_loopback("ipv6:%5B::ffff:127.0.0.1%5D:5555"));
  assert_false(gxd_caller_loopback("ipv4:10.0.0.1:5555"));
  assert_false(gxd_caller_loopback("ipv4:1127.0.0.1:5"));
  assert_false(gxd_caller_loopback("ipv6:%5B::2%5D:5555"));
  assert_false(gxd_caller_loopback("ipv6:%5B::ffff:10.0.0.1%5D:5555"));
  assert_false(gxd_caller_loopback("ipv6:%5Bfe80::1%5D:5555"));
  assert_false(gxd_caller_loopback("unix:/x"));
  assert_false(gxd_caller_loopback("ipv6:%5B::1"));
  assert_false(gxd_caller_loopback(""));
}

/* A unix peer: uid, gid, pid from the transport; its name and groups
 * looked up once per connection when a cache is given. */
static void unix_peer_and_cache(void **state) {
  (void)state;
  gxd_caller_cache cache;
  gxd_caller_info c;
  gxd_caller_cache_clear(&cache);
  gx_rpc_call *call = fake_call_new();
  call->uid = 0;
  gxd_caller_read(call, &cache, &c);
  assert_int_equal(c.peer.kind, GXD_PEER_UNIX);
  assert_string_equal(c.name, "uid=0(root)");
  assert_string_equal(c.peer.user, "root");
  assert_int_equal(c.peer.pid, 4242);
  assert_int_equal(cache.e[0].conn_id, 1); /* cached by connection */
  snprintf(cache.e[0].user, sizeof cache.e[0].user, "cached");
  gxd_caller_read(call, &cache, &c); /* the same connection: from cache */
  assert_string_equal(c.peer.user, "cached");
  gxd_caller_cache_clear(&cache);
  gxd_caller_read(call, &cache, &c);
  assert_string_equal(c.peer.user, "root");
  gxd_caller_info copy;
  gxd_caller_copy(&copy, &c);
  assert_ptr_equal(copy.peer.user, copy.user);
  assert_ptr_equal(copy.peer.groups, copy.groups);
  fake_call_free(call);
}

/* A TLS peer without any usable name is anonymous, never "". */
static void tls_peer_names(void **state) {
  (void)state;
  gxd_caller_info c;
  gx_rpc_call *call = fake_call_new();
  call->authenticated = 1;
  gxd_caller_read(call, NULL, &c);
  assert_int_equal(c.peer.kind, GXD_PEER_TLS);
  assert_string_equal(c.name, "fake-client");
  assert_string_equal(c.peer.cn, "fake-client");
  assert_null(c.peer.spiffe);
  fake_call_free(call);
}

/* Header values: printable ASCII; '%' and other bytes %XX-escaped. */
static void header_values(void **state) {
  (void)state;
  char out[32];
  gxd_caller_header_value("uid=0(root)", out, sizeof out);
  assert_string_equal(out, "uid=0(root)");
  gxd_caller_header_value("a%b\nc\xc3\xa9", out, sizeof out);
  assert_string_equal(out, "a%25b%0Ac%C3%A9");
  gxd_caller_header_value("abcdefghij", out, 8); /* cut to fit */
  assert_string_equal(out, "abcdefg");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(loopback_addresses),
      cmocka_unit_test(unix_peer_and_cache),
      cmocka_unit_test(tls_peer_names),
      cmocka_unit_test(header_values),
  };
  return cmocka_run_group_tests_name("server/caller", tests, NULL, NULL);
}
