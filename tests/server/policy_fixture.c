/* What the policy tests share; see policy_fixture.h. */
#include "tests/server/policy_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

gxd_profiles gxt_policy_table;

const char *gxt_json(const char *s) {
  static char bufs[4][8192];
  static int next;
  char *b = bufs[next++ % 4];
  size_t n = strlen(s);
  assert_true(n < sizeof bufs[0]);
  for (size_t i = 0; i <= n; i++) b[i] = s[i] == '\'' ? '"' : s[i];
  return b;
}

gxd_policy *gxt_policy(const char *json) {
  gxd_policy *p = NULL;
  char why[512] = "";
  const char *text = gxt_json(json);
  if (gxd_policy_parse("p.json", text, strlen(text), &gxt_policy_table, &p, why,
                       sizeof why) != 0)
    fail_msg("policy refused: %s", why);
  assert_non_null(p);
  return p;
}

const char *gxt_policy_error(const char *json) {
  static char why[512];
  gxd_policy *p = NULL;
  const char *text = gxt_json(json);
  why[0] = '\0';
  assert_int_equal(gxd_policy_parse("p.json", text, strlen(text),
                                    &gxt_policy_table, &p, why, sizeof why),
                   -1);
  assert_null(p);
  return why;
}

gxd_peer gxt_unix_peer(uint32_t uid, uint32_t gid, const char *user) {
  gxd_peer p = {
      .kind = GXD_PEER_UNIX, .uid = uid, .gid = gid, .pid = 42, .user = user};
  return p;
}

gxd_peer gxt_tls_peer(const char *spiffe, const char *dns, const char *cn) {
  gxd_peer p = {.kind = GXD_PEER_TLS, .spiffe = spiffe, .dns = dns, .cn = cn};
  return p;
}

const char *gxt_matched(const gxd_policy *p, const gxd_peer *peer) {
  const gxd_policy_rule *r = gxd_policy_match(p, peer);
  return r ? gxd_policy_rule_name(r) : "(none)";
}
