/* Unit tests for server/policy: matching (every key, first match wins),
 * checking a run (every allow key, both ways, with the exact reason),
 * the default policy and reference counting. Policies are written as
 * JSON with ' for " (gxt_json). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/gx_err.h"
#include "server/policy.h"
#include "tests/server/policy_fixture.h"

/* A policy of one rule "r" matching cn "c" with allow @p allow. */
static gxd_policy *one_rule(const char *allow) {
  char json[4096];
  snprintf(json, sizeof json,
           "{'rules': [{'name': 'r', 'match': {'cn': 'c'}, 'allow': %s}]}",
           allow);
  return gxt_policy(json);
}

static char *default_argv[] = {"/bin/true", NULL};

/* A run that asks for nothing in particular. */
static gxd_policy_ask plain_ask(void) {
  gxd_policy_ask a = {
      .profile = "", .user = "", .argv = default_argv, .argc = 1, .cwd = ""};
  return a;
}

/* Checks @p a for the cn "c" peer against policy @p p's rule; returns
 * the status, the reason in @p why, the grant in @p g. */
static int check(const gxd_policy *p, const gxd_peer *peer,
                 const gxd_policy_ask *a, gxd_policy_grant *g, char *why) {
  const gxd_policy_rule *r = gxd_policy_match(p, peer);
  assert_non_null(r);
  why[0] = '\0';
  return gxd_policy_check_run(r, peer, a, g, why, 256);
}

/* The refusal of @p a under the one-rule policy with @p allow. */
static void assert_refused(const char *allow, const gxd_policy_ask *a,
                           const char *reason) {
  gxd_policy *p = one_rule(allow);
  gxd_peer peer = gxt_tls_peer(NULL, NULL, "c");
  gxd_policy_grant g;
  char why[256];
  assert_int_equal(check(p, &peer, a, &g, why), GX_STATUS_PERMISSION_DENIED);
  assert_string_equal(why, reason);
  assert_null(g.allow);
  assert_null(g.user);
  gxd_policy_unref(p);
}

/* A grant and the policy it came from. */
typedef struct {
  gxd_policy *p;
  gxd_policy_grant g;
} held;

/* The grant of @p a under the one-rule policy with @p allow (release
 * it). */
static held granted(const char *allow, const gxd_policy_ask *a) {
  held h = {.p = one_rule(allow)};
  gxd_peer peer = gxt_tls_peer(NULL, NULL, "c");
  char why[256];
  if (check(h.p, &peer, a, &h.g, why) != GX_STATUS_OK)
    fail_msg("refused: %s", why);
  assert_string_equal(h.g.rule, "r");
  return h;
}

static void release(held *h) {
  gxd_policy_grant_free(&h->g);
  gxd_policy_unref(h->p);
}

/* @p a is allowed under the one-rule policy with @p allow. */
static void assert_allowed(const char *allow, const gxd_policy_ask *a) {
  held h = granted(allow, a);
  release(&h);
}

/* ============================================================ matching */

/* Each certificate key: a glob over its field (no FNM_PATHNAME: '*'
 * crosses '/'); a peer without the field, or not a TLS peer, is not
 * matched. */
static void match_certificate_keys(void **state) {
  (void)state;
  gxd_policy *p = gxt_policy(
      "{'rules': ["
      " {'name': 's', 'match': {'spiffe': 'spiffe://ex.org/ops/*'}, "
      "  'allow': {}},"
      " {'name': 'd', 'match': {'dns': '*.ex.org'}, 'allow': {}},"
      " {'name': 'c', 'match': {'cn': 'prom?'}, 'allow': {}}]}");
  gxd_peer a = gxt_tls_peer("spiffe://ex.org/ops/team/alice", NULL, NULL);
  gxd_peer b = gxt_tls_peer("spiffe://ex.org/dev/alice", "h.ex.org", NULL);
  gxd_peer c = gxt_tls_peer(NULL, NULL, "prom1");
  gxd_peer d = gxt_tls_peer(NULL, NULL, "prom12");
  gxd_peer e = gxt_tls_peer(NULL, "ex.org", NULL);
  gxd_peer u = gxt_unix_peer(0, 0, "root");
  gxd_peer anon = {.kind = GXD_PEER_ANON_LOOPBACK};
  assert_string_equal(gxt_matched(p, &a), "s");
  assert_string_equal(gxt_matched(p, &b), "d");
  assert_string_equal(gxt_matched(p, &c), "c");
  assert_string_equal(gxt_matched(p, &d), "(none)");
  assert_string_equal(gxt_matched(p, &e), "(none)");
  assert_string_equal(gxt_matched(p, &u), "(none)");
  assert_string_equal(gxt_matched(p, &anon), "(none)");
  /* the certificate fields of a unix peer are not looked at */
  u.cn = "prom1";
  assert_string_equal(gxt_matched(p, &u), "(none)");
  gxd_policy_unref(p);
}

/* uid, user (resolved when loaded) and group (primary or
 * supplementary), for unix peers only. */
static void match_unix_keys(void **state) {
  (void)state;
  gxd_policy *p = gxt_policy(
      "{'rules': ["
      " {'name': 'u', 'match': {'uid': 1000}, 'allow': {}},"
      " {'name': 'n', 'match': {'user': 'daemon'}, 'allow': {}},"
      " {'name': 'g', 'match': {'group': 'nogroup'}, 'allow': {}}]}");
  uint32_t groups[] = {5, 65534};
  gxd_peer a = gxt_unix_peer(1000, 1000, "alice");
  gxd_peer b = gxt_unix_peer(1, 1, NULL); /* by uid, not by name */
  gxd_peer c = gxt_unix_peer(2000, 65534, "bob");
  gxd_peer d = gxt_unix_peer(2001, 2001, "carol");
  gxd_peer t = gxt_tls_peer(NULL, NULL, "daemon");
  t.uid = 1000;
  assert_string_equal(gxt_matched(p, &a), "u");
  assert_string_equal(gxt_matched(p, &b), "n");
  assert_string_equal(gxt_matched(p, &c), "g");
  assert_string_equal(gxt_matched(p, &d), "(none)");
  d.groups = groups;
  d.ngroups = 2;
  assert_string_equal(gxt_matched(p, &d), "g");
  d.ngroups = 1;
  assert_string_equal(gxt_matched(p, &d), "(none)");
  assert_string_equal(gxt_matched(p, &t), "(none)");
  gxd_policy_unref(p);
}

static void match_anonymous_loopback(void **state) {
  (void)state;
  gxd_policy *p = gxt_policy(
      "{'rules': [{'name': 'dev', "
      "'match': {'anonymous_loopback': true}, "
      "'allow': {}}]}");
  gxd_peer lo = {.kind = GXD_PEER_ANON_LOOPBACK};
  gxd_peer other = {.kind = GXD_PEER_ANON};
  gxd_peer u = gxt_unix_peer(0, 0, "root");
  assert_string_equal(gxt_matched(p, &lo), "dev");
  assert_string_equal(gxt_matched(p, &other), "(none)");
  assert_string_equal(gxt_matched(p, &u), "(none)");
  gxd_policy_unref(p);
}

/* Every key of one match must match. */
static void match_all_keys(void **state) {
  (void)state;
  gxd_policy *p = gxt_policy(
      "{'rules': [{'name': 'both', 'match': {'cn': 'a*', 'dns': '*.x'}, "
      "'allow': {}}, {'name': 'ug', 'match': {'uid': 7, 'group': 'daemon'},"
      " 'allow': {}}]}");
  gxd_peer a = gxt_tls_peer(NULL, "h.x", "ab");
  gxd_peer b = gxt_tls_peer(NULL, "h.y", "ab");
  gxd_peer c = gxt_tls_peer(NULL, "h.x", "ba");
  gxd_peer u = gxt_unix_peer(7, 1, "x");
  gxd_peer v = gxt_unix_peer(7, 2, "x");
  assert_string_equal(gxt_matched(p, &a), "both");
  assert_string_equal(gxt_matched(p, &b), "(none)");
  assert_string_equal(gxt_matched(p, &c), "(none)");
  assert_string_equal(gxt_matched(p, &u), "ug");
  assert_string_equal(gxt_matched(p, &v), "(none)");
  gxd_policy_unref(p);
}

/* The first matching rule wins, and what it refuses stays refused even
 * when a later rule would allow it. */
static void match_first_wins_no_fallthrough(void **state) {
  (void)state;
  gxd_policy *p = gxt_policy(
      "{'rules': [{'name': 'narrow', 'match': {'cn': 'svc-*'}, "
      "'allow': {'profiles': ['restricted']}}, "
      "{'name': 'wide', 'match': {'cn': '*'}, 'allow': {}}]}");
  gxd_peer svc = gxt_tls_peer(NULL, NULL, "svc-a");
  gxd_peer other = gxt_tls_peer(NULL, NULL, "b");
  gxd_policy_ask a = plain_ask();
  gxd_policy_grant g;
  char why[256];
  assert_string_equal(gxt_matched(p, &svc), "narrow");
  assert_string_equal(gxt_matched(p, &other), "wide");
  a.profile = "host";
  assert_int_equal(check(p, &svc, &a, &g, why), GX_STATUS_PERMISSION_DENIED);
  assert_string_equal(why,
                      "policy rule 'narrow' does not allow profile "
                      "'host' (allowed: restricted)");
  assert_int_equal(check(p, &other, &a, &g, why), GX_STATUS_OK);
  assert_null(g.profile);
  gxd_policy_grant_free(&g);
  gxd_policy_unref(p);
}

static void unmatched_reason(void **state) {
  (void)state;
  char why[256];
  gxd_peer u = gxt_unix_peer(1001, 1001, "alice");
  gxd_peer t = gxt_tls_peer("spiffe://ex.org/x", "h", "c");
  gxd_peer d = gxt_tls_peer(NULL, "h", "c");
  gxd_peer n = gxt_tls_peer(NULL, NULL, NULL);
  gxd_peer lo = {.kind = GXD_PEER_ANON_LOOPBACK};
  assert_int_equal(gxd_policy_unmatched(&u, why, sizeof why),
                   GX_STATUS_PERMISSION_DENIED);
  assert_string_equal(why,
                      "no policy rule matches this caller (unix uid "
                      "1001)");
  gxd_policy_unmatched(&t, why, sizeof why);
  assert_string_equal(why,
                      "no policy rule matches this caller (tls spiffe "
                      "'spiffe://ex.org/x')");
  gxd_policy_unmatched(&d, why, sizeof why);
  assert_string_equal(why,
                      "no policy rule matches this caller (tls dns "
                      "'h')");
  gxd_policy_unmatched(&n, why, sizeof why);
  assert_string_equal(why,
                      "no policy rule matches this caller (tls, no "
                      "identity)");
  gxd_policy_unmatched(&lo, why, sizeof why);
  assert_string_equal(why,
                      "no policy rule matches this caller (anonymous "
                      "loopback)");
}

/* ============================================================== allow */

/* "allow": {} grants everything: no profile, user, caps or programs. */
static void allow_empty_grants_all(void **state) {
  (void)state;
  char *argv[] = {"/bin/sh", "-c", "x", NULL};
  const char *env[] = {"LD_PRELOAD"};
  gxd_policy_ask a = plain_ask();
  a.profile = "host";
  a.timeout_ms = 1ull << 40;
  a.limits.memory_bytes = 1ull << 50;
  a.argv = argv;
  a.argc = 3;
  a.env_names = env;
  a.nenv = 1;
  a.cwd = "/root/../x";
  held h = granted("{}", &a);
  assert_null(h.g.profile);
  assert_null(h.g.user);
  assert_int_equal(h.g.max_timeout_ms, 0);
  assert_int_equal(h.g.limit_caps.memory_bytes, 0);
  assert_int_equal(h.g.allowc, 0);
  assert_false(gxd_policy_allows_facts(
      gxd_policy_match(h.p, &(gxd_peer){.kind = GXD_PEER_TLS, .cn = "c"})));
  gxd_policy_grant_free(&h.g); /* twice is fine */
  release(&h);
  /* ... but a user the client picks needs a run_as that names it */
  a.user = "root";
  assert_refused("{}", &a, "policy rule 'r' does not allow run-as user "
                           "'root' (it names no run_as)");
  /* NULL strings are "" */
  gxd_policy_ask none = {.argv = argv, .argc = 1};
  h = granted("{'profiles': ['baseline'], 'cwd': ['/']}", &none);
  assert_string_equal(h.g.profile, "baseline");
  release(&h);
}

static void allow_profiles(void **state) {
  (void)state;
  gxd_policy_ask a = plain_ask();
  const char *allow = "{'profiles': ['restricted', 'baseline']}";
  held h = granted(allow, &a); /* none asked: the first */
  assert_string_equal(h.g.profile, "restricted");
  release(&h);
  a.profile = "baseline";
  h = granted(allow, &a);
  assert_string_equal(h.g.profile, "baseline");
  release(&h);
  a.profile = "host";
  assert_refused(allow, &a,
                 "policy rule 'r' does not allow profile 'host' "
                 "(allowed: restricted, baseline)");
  a.profile = "";
  assert_refused("{'profiles': []}", &a, "policy rule 'r' allows no profile");
}

static void allow_run_as(void **state) {
  (void)state;
  gxd_policy_ask a = plain_ask();
  const char *allow = "{'run_as': ['nobody', 'daemon']}";
  held h = granted(allow, &a);
  assert_string_equal(h.g.user, "nobody");
  release(&h);
  a.user = "daemon";
  h = granted(allow, &a);
  assert_string_equal(h.g.user, "daemon");
  release(&h);
  a.user = "root";
  assert_refused(allow, &a,
                 "policy rule 'r' does not allow run-as user "
                 "'root'");
  a.user = "";
  assert_refused("{'run_as': []}", &a,
                 "policy rule 'r' allows no run-as user for this caller");
}

/* "$caller" is a unix peer's own user, and only theirs. */
static void allow_run_as_caller(void **state) {
  (void)state;
  gxd_policy *p = gxt_policy(
      "{'rules': [{'name': 'devs', 'match': {'group': 'daemon'}, "
      "'allow': {'run_as': ['$caller']}}, {'name': 'tls', "
      "'match': {'cn': '*'}, 'allow': {'run_as': ['$caller', 'nobody']}}]}");
  gxd_peer alice = gxt_unix_peer(1000, 1, "alice");
  gxd_peer anon = gxt_unix_peer(1001, 1, NULL); /* no passwd entry */
  gxd_peer cert = gxt_tls_peer(NULL, NULL, "alice");
  gxd_policy_ask a = plain_ask();
  gxd_policy_grant g;
  char why[256];
  assert_int_equal(check(p, &alice, &a, &g, why), GX_STATUS_OK);
  assert_string_equal(g.user, "alice");
  gxd_policy_grant_free(&g);
  a.user = "alice";
  assert_int_equal(check(p, &alice, &a, &g, why), GX_STATUS_OK);
  assert_string_equal(g.user, "alice");
  gxd_policy_grant_free(&g);
  a.user = "bob";
  assert_int_equal(check(p, &alice, &a, &g, why), GX_STATUS_PERMISSION_DENIED);
  assert_string_equal(why,
                      "policy rule 'devs' does not allow run-as user "
                      "'bob'");
  a.user = "$caller"; /* the literal is not a user name */
  assert_int_equal(check(p, &alice, &a, &g, why), GX_STATUS_PERMISSION_DENIED);
  a.user = "";
  assert_int_equal(check(p, &anon, &a, &g, why), GX_STATUS_PERMISSION_DENIED);
  assert_string_equal(why,
                      "policy rule 'devs' allows no run-as user for "
                      "this caller");
  /* a TLS peer has no "$caller": the next entry is the default */
  assert_int_equal(check(p, &cert, &a, &g, why), GX_STATUS_OK);
  assert_string_equal(g.user, "nobody");
  gxd_policy_grant_free(&g);
  a.user = "alice";
  assert_int_equal(check(p, &cert, &a, &g, why), GX_STATUS_PERMISSION_DENIED);
  assert_string_equal(why,
                      "policy rule 'tls' does not allow run-as user "
                      "'alice'");
  gxd_policy_unref(p);
}

static void allow_max_timeout(void **state) {
  (void)state;
  gxd_policy_ask a = plain_ask();
  held h = granted("{'max_timeout': '10s'}", &a);
  assert_int_equal(h.g.max_timeout_ms, 10000);
  release(&h);
  a.timeout_ms = 10000;
  assert_allowed("{'max_timeout': '10s'}", &a);
  a.timeout_ms = 10001;
  assert_refused("{'max_timeout': '10s'}", &a,
                 "policy rule 'r' allows no timeout above 10s");
  a.timeout_ms = 7200001;
  assert_refused("{'max_timeout': '2h'}", &a,
                 "policy rule 'r' allows no timeout above 2h");
  assert_refused("{'max_timeout': '1.5s'}", &a,
                 "policy rule 'r' allows no timeout above 1500ms");
}

/* allow.limits: caps on what a run asks, and its defaults. */
static void allow_limits(void **state) {
  (void)state;
  const char *allow =
      "{'limits': {'memory': '1G', 'pids': 256, "
      "'cpu_time': '10m', 'open_files': 1024}}";
  gxd_policy_ask a = plain_ask();
  held h = granted(allow, &a);
  assert_int_equal(h.g.limit_caps.memory_bytes, 1ull << 30);
  assert_int_equal(h.g.limit_caps.pids, 256);
  assert_int_equal(h.g.limit_caps.cpu_time_ms, 600000);
  assert_int_equal(h.g.limit_caps.open_files, 1024);
  assert_memory_equal(&h.g.limit_defaults, &h.g.limit_caps,
                      sizeof h.g.limit_caps);
  release(&h);
  a.limits = (gxi_limits){1ull << 30, 256, 600000, 1024}; /* at the caps */
  assert_allowed(allow, &a);
  a.limits = (gxi_limits){2ull << 30, 0, 0, 0};
  assert_refused(allow, &a,
                 "policy rule 'r' does not allow memory limit 2G "
                 "(cap 1G)");
  a.limits = (gxi_limits){0, 300, 0, 0};
  assert_refused(allow, &a,
                 "policy rule 'r' does not allow pids limit 300 "
                 "(cap 256)");
  a.limits = (gxi_limits){0, 0, 1200000, 0};
  assert_refused(allow, &a,
                 "policy rule 'r' does not allow cpu_time limit "
                 "20m (cap 10m)");
  a.limits = (gxi_limits){0, 0, 0, 2048};
  assert_refused(allow, &a,
                 "policy rule 'r' does not allow open_files "
                 "limit 2048 (cap 1024)");
  /* a number of bytes is a memory limit too; a cap only where given */
  a.limits = (gxi_limits){(1ull << 30) + 1, 0, 0, 99999};
  assert_refused("{'limits': {'memory': 1073741824}}", &a,
                 "policy rule 'r' does not allow memory limit 1073741825 "
                 "(cap 1G)");
}

static void allow_env(void **state) {
  (void)state;
  const char *allow = "{'env': ['LANG', 'TZ', 'APP_*']}";
  const char *ok[] = {"LANG", "APP_X", "APP_", "TZ"};
  const char *bad[] = {"LANG", "LD_PRELOAD"};
  gxd_policy_ask a = plain_ask();
  a.env_names = ok;
  a.nenv = 4;
  assert_allowed(allow, &a);
  a.env_names = bad;
  a.nenv = 2;
  assert_refused(allow, &a,
                 "policy rule 'r' does not allow env "
                 "'LD_PRELOAD'");
  a.nenv = 1;
  assert_refused("{'env': []}", &a,
                 "policy rule 'r' does not allow env "
                 "'LANG'");
}

/* Under a program constraint (commands or argv, not "*"): no env key
 * means no variable; a glob never lets through a variable that changes
 * what the allowed program runs (BASH_ENV, LD_*, PATH...), only its
 * exact name does. Without a constraint the env is free. */
static void allow_env_under_program_constraint(void **state) {
  (void)state;
  char *argv[] = {"/usr/bin/status.sh", NULL};
  const char *lang[] = {"LANG"}, *bash_env[] = {"BASH_ENV"},
             *preload[] = {"LD_PRELOAD"}, *path[] = {"PATH"};
  gxd_policy_ask a = plain_ask();
  a.argv = argv;
  a.argc = 1;
  a.nenv = 1;
  a.env_names = lang;
  assert_refused("{'commands': ['/usr/bin/status.sh']}", &a,
                 "policy rule 'r' does not allow env 'LANG' (its programs "
                 "are constrained: list the variables it may set in "
                 "allow.env)");
  assert_allowed("{'commands': ['*']}", &a); /* any program: env free */
  assert_allowed("{'commands': ['/usr/bin/status.sh'], 'env': ['*']}", &a);
  a.env_names = bash_env;
  assert_refused("{'commands': ['/usr/bin/status.sh'], 'env': ['*']}", &a,
                 "policy rule 'r' does not allow env 'BASH_ENV' (it changes "
                 "what the allowed programs run: allow.env must name it "
                 "exactly)");
  assert_allowed("{'commands': ['/usr/bin/status.sh'], 'env': ['BASH_ENV']}",
                 &a);
  a.env_names = preload;
  assert_refused("{'argv': [['/usr/bin/status.sh']], 'env': ['LD_*']}", &a,
                 "policy rule 'r' does not allow env 'LD_PRELOAD' (it "
                 "changes what the allowed programs run: allow.env must "
                 "name it exactly)");
  assert_allowed("{'env': ['LD_*']}", &a); /* no constraint */
  a.env_names = path;
  assert_refused("{'commands': ['/usr/bin/*'], 'env': ['P*']}", &a,
                 "policy rule 'r' does not allow env 'PATH' (it changes "
                 "what the allowed programs run: allow.env must name it "
                 "exactly)");
}

static void allow_cwd(void **state) {
  (void)state;
  const char *allow = "{'cwd': ['/srv/*', '/']}";
  static const char *const good[] = {"", "/", "/srv/a", "/srv/a/b"};
  static const char *const outside[] = {"/root", "/srv", "/srvx"};
  static const char *const uncanonical[] = {
      "/srv/../root", "/srv/./a", "/srv//a", "/srv/a/", "/srv/..", "/srv/."};
  gxd_policy_ask a = plain_ask();
  char reason[256];
  for (size_t i = 0; i < 4; i++) {
    a.cwd = good[i];
    assert_allowed(allow, &a);
  }
  for (size_t i = 0; i < 3; i++) {
    a.cwd = outside[i];
    snprintf(reason, sizeof reason,
             "policy rule 'r' does not allow cwd "
             "'%s'",
             outside[i]);
    assert_refused(allow, &a, reason);
  }
  for (size_t i = 0; i < 6; i++) {
    a.cwd = uncanonical[i];
    snprintf(reason, sizeof reason,
             "policy rule 'r' does not allow cwd "
             "'%s' (not canonical)",
             uncanonical[i]);
    assert_refused(allow, &a, reason);
  }
  a.cwd = "";
  assert_refused("{'cwd': ['/srv/*']}", &a,
                 "policy rule 'r' does not allow cwd '/'");
}

static void allow_facts(void **state) {
  (void)state;
  gxd_policy *p = gxt_policy(
      "{'rules': [{'name': 'a', 'match': {'uid': 1}, "
      "'allow': {'facts': true}}, {'name': 'b', "
      "'match': {'uid': 2}, 'allow': {'facts': false}}]}");
  gxd_peer one = gxt_unix_peer(1, 1, NULL), two = gxt_unix_peer(2, 2, NULL);
  assert_true(gxd_policy_allows_facts(gxd_policy_match(p, &one)));
  assert_false(gxd_policy_allows_facts(gxd_policy_match(p, &two)));
  gxd_policy_unref(p);
}

/* allow.commands: the globs go to the launcher; "*" means any program. */
static void allow_commands(void **state) {
  (void)state;
  gxd_policy_ask a = plain_ask();
  held h = granted("{'commands': ['/usr/bin/uptime', '/usr/bin/d*']}", &a);
  assert_int_equal(h.g.allowc, 2);
  assert_string_equal(h.g.allow[0], "/usr/bin/uptime");
  assert_string_equal(h.g.allow[1], "/usr/bin/d*");
  assert_null(h.g.allow[2]);
  release(&h);
  h = granted("{'commands': ['/bin/ls', '*']}", &a);
  assert_int_equal(h.g.allowc, 0);
  assert_null(h.g.allow);
  release(&h);
  assert_refused("{'commands': []}", &a,
                 "policy rule 'r' does not allow the command '/bin/true'");
}

/* allow.argv: only patterns whose arguments match give their program. */
static void allow_argv(void **state) {
  (void)state;
  const char *allow =
      "{'commands': ['/usr/bin/uptime'], 'argv': ["
      "['/usr/bin/systemctl', 'status', '*'], ['/usr/bin/journalctl', '**'],"
      "['/bin/ls'], ['/bin/echo', 'a', '**']]}";
  char *status[] = {"systemctl", "status", "ssh.service", NULL};
  char *stop[] = {"systemctl", "stop", "ssh.service", NULL};
  char *two[] = {"systemctl", "status", "a", "b", NULL};
  char *ls[] = {"ls", NULL};
  char *ls_l[] = {"ls", "-l", NULL};
  char *echo[] = {"echo", "a", NULL};
  char *echo_b[] = {"echo", "b", NULL};
  gxd_policy_ask a = plain_ask();
  a.argv = status;
  a.argc = 3;
  held h = granted(allow, &a);
  assert_int_equal(h.g.allowc, 3); /* commands, then matching patterns */
  assert_string_equal(h.g.allow[0], "/usr/bin/uptime");
  assert_string_equal(h.g.allow[1], "/usr/bin/systemctl");
  assert_string_equal(h.g.allow[2], "/usr/bin/journalctl");
  release(&h);
  a.argv = stop; /* journalctl's "**" still matches these arguments */
  h = granted(allow, &a);
  assert_int_equal(h.g.allowc, 2);
  assert_string_equal(h.g.allow[1], "/usr/bin/journalctl");
  release(&h);
  a.argv = two;
  a.argc = 4;
  h = granted(allow, &a);
  assert_int_equal(h.g.allowc, 2); /* one '*' is one argument */
  release(&h);
  a.argv = ls; /* "**" matches no arguments too; ["/bin/ls"] only none */
  a.argc = 1;
  h = granted(allow, &a);
  assert_int_equal(h.g.allowc, 3);
  assert_string_equal(h.g.allow[1], "/usr/bin/journalctl");
  assert_string_equal(h.g.allow[2], "/bin/ls");
  release(&h);
  a.argv = ls_l;
  a.argc = 2;
  h = granted(allow, &a);
  assert_int_equal(h.g.allowc, 2);
  release(&h);
  a.argv = echo; /* "a" then "**" (nothing more) */
  h = granted(allow, &a);
  assert_int_equal(h.g.allowc, 3);
  assert_string_equal(h.g.allow[2], "/bin/echo");
  release(&h);
  /* without commands: no pattern matches these arguments, refused now */
  a.argv = echo_b;
  assert_refused("{'argv': [['/bin/echo', 'a', '**'], ['/bin/ls']]}", &a,
                 "policy rule 'r' does not allow the command 'echo' with "
                 "these arguments");
}

/* Client strings in a reason are cut and cleaned. */
static void reason_quotes_client_strings(void **state) {
  (void)state;
  char name[300], reason[256];
  const char *env[] = {name};
  memset(name, 'A', sizeof name - 1);
  name[sizeof name - 1] = '\0';
  name[3] = '\n';
  gxd_policy_ask a = plain_ask();
  a.env_names = env;
  a.nenv = 1;
  snprintf(reason, sizeof reason,
           "policy rule 'r' does not allow env "
           "'AAA?%.96s'",
           name + 4);
  assert_refused("{'env': ['B']}", &a, reason);
  /* cut before a UTF-8 sequence, never inside it */
  memset(name, 'A', 99);
  memcpy(name + 99, "\xc3\xa9", 3);
  snprintf(reason, sizeof reason,
           "policy rule 'r' does not allow env "
           "'%.99s'",
           name);
  assert_refused("{'env': ['B']}", &a, reason);
}

/* ============================================================ default */

static void default_policy(void **state) {
  (void)state;
  gxd_policy *p = NULL;
  assert_int_equal(gxd_policy_default(1000, &p), GX_OK);
  assert_int_equal(gxd_policy_count(p), 1);
  gxd_peer self = gxt_unix_peer(1000, 1000, "gx");
  gxd_peer root = gxt_unix_peer(0, 0, "root");
  gxd_peer other = gxt_unix_peer(1001, 1000, "x");
  gxd_peer cert = gxt_tls_peer("spiffe://a/b", "a", "a");
  gxd_peer lo = {.kind = GXD_PEER_ANON_LOOPBACK};
  assert_string_equal(gxt_matched(p, &self), GXD_POLICY_DEFAULT_RULE);
  assert_string_equal(gxt_matched(p, &root), "default-local-admin");
  assert_string_equal(gxt_matched(p, &other), "(none)");
  assert_string_equal(gxt_matched(p, &cert), "(none)");
  assert_string_equal(gxt_matched(p, &lo), "(none)");
  const gxd_policy_rule *r = gxd_policy_match(p, &root);
  assert_true(gxd_policy_allows_facts(r));
  char *argv[] = {"/bin/sh", "-c", "id", NULL};
  const char *env[] = {"LD_PRELOAD"};
  gxd_policy_ask a = {.profile = "host",
                      .user = "root",
                      .timeout_ms = 1ull << 40,
                      .argv = argv,
                      .argc = 3,
                      .env_names = env,
                      .nenv = 1,
                      .cwd = "/root"};
  gxd_policy_grant g;
  char why[256];
  assert_int_equal(gxd_policy_check_run(r, &root, &a, &g, why, sizeof why),
                   GX_STATUS_OK);
  assert_string_equal(g.rule, "default-local-admin");
  assert_null(g.profile);
  assert_null(g.user);
  assert_int_equal(g.allowc, 0);
  assert_int_equal(g.max_timeout_ms, 0);
  gxd_policy_grant_free(&g);
  gxd_policy_unref(p);
}

/* The last reference frees; rules stay valid while one is held (ASan
 * and LSan check both). */
static void refcount(void **state) {
  (void)state;
  gxd_policy *p = one_rule("{'commands': ['/bin/ls']}");
  gxd_peer peer = gxt_tls_peer(NULL, NULL, "c");
  gxd_policy_ref(p);
  gxd_policy_ref(p);
  gxd_policy_unref(p);
  gxd_policy_unref(p);
  const gxd_policy_rule *r = gxd_policy_match(p, &peer);
  assert_string_equal(gxd_policy_rule_name(r), "r");
  gxd_policy_unref(p);
  gxd_policy_unref(NULL);
}

static int group_setup(void **state) {
  (void)state;
  gxd_profiles_init(&gxt_policy_table);
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(match_certificate_keys),
      cmocka_unit_test(match_unix_keys),
      cmocka_unit_test(match_anonymous_loopback),
      cmocka_unit_test(match_all_keys),
      cmocka_unit_test(match_first_wins_no_fallthrough),
      cmocka_unit_test(unmatched_reason),
      cmocka_unit_test(allow_empty_grants_all),
      cmocka_unit_test(allow_profiles),
      cmocka_unit_test(allow_run_as),
      cmocka_unit_test(allow_run_as_caller),
      cmocka_unit_test(allow_max_timeout),
      cmocka_unit_test(allow_limits),
      cmocka_unit_test(allow_env),
      cmocka_unit_test(allow_env_under_program_constraint),
      cmocka_unit_test(allow_cwd),
      cmocka_unit_test(allow_facts),
      cmocka_unit_test(allow_commands),
      cmocka_unit_test(allow_argv),
      cmocka_unit_test(reason_quotes_client_strings),
      cmocka_unit_test(default_policy),
      cmocka_unit_test(refcount),
  };
  return cmocka_run_group_tests(tests, group_setup, NULL);
}
