/* Unit tests for server/policy: loading a policy file, and every load
 * error (fail closed: a typo never widens access). Policies are written
 * as JSON with ' for " (gxt_json). Users and groups are Debian's standard
 * ones: root (0), daemon (1), nobody (65534); groups root, daemon,
 * nogroup. */
#include <errno.h>
#include <limits.h>
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
#include "tests/server/scratch.h"

/* ============================================================= loading */

/* The issue's example (with this host's users and groups) loads. */
static void load_issue_example(void **state) {
  (void)state;
  gxd_policy *p = gxt_policy(
      "{'rules': ["
      " {'name': 'ops', 'match': {'spiffe': 'spiffe://example.org/ops/*'},"
      "  'allow': {'commands': ['*'], 'profiles': ['host', 'baseline',"
      "   'restricted'], 'run_as': ['root', 'daemon'], 'max_timeout': '1h',"
      "   'env': ['LANG', 'TZ', 'APP_*']}},"
      " {'name': 'monitoring', 'match': {'cn': 'prometheus'},"
      "  'allow': {'commands': ['/usr/bin/uptime', '/usr/bin/df'],"
      "   'profiles': ['restricted'], 'run_as': ['nobody'],"
      "   'max_timeout': '10s'}},"
      " {'name': 'local-devs', 'match': {'group': 'daemon'},"
      "  'allow': {'commands': ['*'], 'profiles': ['restricted'],"
      "   'run_as': ['$caller']}}]}");
  assert_int_equal(gxd_policy_count(p), 3);
  gxd_peer ops = gxt_tls_peer("spiffe://example.org/ops/alice", NULL, "x");
  gxd_peer prom = gxt_tls_peer(NULL, NULL, "prometheus");
  gxd_peer dev = gxt_unix_peer(1000, 1, "alice");
  assert_string_equal(gxt_matched(p, &ops), "ops");
  assert_string_equal(gxt_matched(p, &prom), "monitoring");
  assert_string_equal(gxt_matched(p, &dev), "local-devs");
  gxd_policy_unref(p);
}

/* gxd_policy_load reads a file; a missing or oversized one is refused
 * naming it. */
static void load_file(void **state) {
  (void)state;
  const gxd_profiles *t = &gxt_policy_table;
  gxd_policy *p = NULL;
  char why[256];
  gxt_make_file("ok.json",
                gxt_json("{'rules': [{'name': 'a', 'match': {'uid': 5}, "
                         "'allow': {}}]}"),
                0644);
  assert_int_equal(gxd_policy_load(gxt_at("ok.json"), t, &p, why, sizeof why),
                   0);
  assert_int_equal(gxd_policy_count(p), 1);
  gxd_policy_unref(p);
  p = NULL;
  assert_int_equal(gxd_policy_load(gxt_at("none.json"), t, &p, why, sizeof why),
                   -1);
  char expect[PATH_MAX + 64];
  snprintf(expect, sizeof expect,
           "%s: cannot read: No such file or "
           "directory",
           gxt_at("none.json"));
  assert_string_equal(why, expect);
  char *big = malloc(GXD_POLICY_FILE_MAX + 2);
  memset(big, ' ', GXD_POLICY_FILE_MAX + 1);
  big[GXD_POLICY_FILE_MAX + 1] = '\0';
  gxt_make_file("big.json", big, 0644);
  free(big);
  assert_int_equal(gxd_policy_load(gxt_at("big.json"), t, &p, why, sizeof why),
                   -1);
  snprintf(expect, sizeof expect, "%s: larger than 1048576 bytes",
           gxt_at("big.json"));
  assert_string_equal(why, expect);
  assert_null(p);
}

/* Whole-file errors. */
static void load_errors_file(void **state) {
  (void)state;
  assert_string_equal(gxt_policy_error("[]"),
                      "p.json: expected an object with a \"rules\" array, "
                      "not an array");
  assert_string_equal(gxt_policy_error("{'rules': [], 'x': 1}"),
                      "p.json: unknown key 'x' (expected rules)");
  assert_string_equal(gxt_policy_error("{}"), "p.json: no \"rules\" array");
  assert_string_equal(gxt_policy_error("{'rules': {}}"),
                      "p.json: rules: expected an array, not an object");
  assert_string_equal(gxt_policy_error("{'rules': []}"),
                      "p.json: rules: empty (no caller could run anything: "
                      "leave --policy out, or write a rule)");
  assert_string_equal(gxt_policy_error("{'rules': [}"),
                      "p.json: not valid JSON at line 1: unexpected "
                      "character");
  /* json-c would keep the last of two keys: refused, as are escapes */
  assert_string_equal(
      gxt_policy_error(
          "{'rules': [{'name': 'a', 'match': {'uid': 5},\n"
          " 'allow': {'commands': ['/bin/ls'], 'commands': ['*']}}]}"),
      "p.json: line 2: duplicate key 'commands'");
  assert_string_equal(
      gxt_policy_error("{'rules': [{'name': 'a', 'match': {'uid': 5},"
                       " 'allow': {'\\u0063ommands': ['*']}}]}"),
      "p.json: line 1: a key written with an escape: '\\u0063ommands'");
}

/* Too many rules: the bound is GXD_POLICY_MAX_RULES. */
static void load_errors_too_many_rules(void **state) {
  (void)state;
  size_t cap = 64 * (GXD_POLICY_MAX_RULES + 2);
  char *json = malloc(cap);
  size_t n = (size_t)snprintf(json, cap, "{'rules': [");
  for (int i = 0; i <= GXD_POLICY_MAX_RULES; i++)
    n += (size_t)snprintf(json + n, cap - n,
                          "%s{'name': 'r%d', 'match': {'uid': %d}, "
                          "'allow': {}}",
                          i ? "," : "", i, i);
  snprintf(json + n, cap - n, "]}");
  for (size_t i = 0; json[i]; i++) json[i] = json[i] == '\'' ? '"' : json[i];
  gxd_policy *p = NULL;
  char why[256];
  assert_int_equal(gxd_policy_parse("p.json", json, strlen(json),
                                    &gxt_policy_table, &p, why, sizeof why),
                   -1);
  assert_string_equal(why, "p.json: rules: 257 rules; at most 256");
  free(json);
}

/* A rule's own keys and its name. */
static void load_errors_rule(void **state) {
  (void)state;
  assert_string_equal(gxt_policy_error("{'rules': [5]}"),
                      "p.json: rules[0]: expected an object, not a number");
  assert_string_equal(gxt_policy_error("{'rules': [{'match': {'uid': 1}, "
                                       "'allow': {}}]}"),
                      "p.json: rules[0]: name is missing");
  assert_string_equal(gxt_policy_error("{'rules': [{'name': 'a b', "
                                       "'match': {'uid': 1}, 'allow': {}}]}"),
                      "p.json: rules[0]: name 'a b' is not 1 to 64 of A-Z, "
                      "a-z, 0-9, '.', '_' and '-'");
  assert_string_equal(gxt_policy_error("{'rules': [{'name': '', "
                                       "'match': {'uid': 1}, 'allow': {}}]}"),
                      "p.json: rules[0]: name: empty");
  assert_string_equal(
      gxt_policy_error("{'rules': [{'name': 'a', 'match': {'uid': 1}, "
                       "'allow': {}}, {'name': 'a', 'match': {'uid': 2}, "
                       "'allow': {}}]}"),
      "p.json: rules[1]: name 'a' is used by rules[0] too");
  assert_string_equal(gxt_policy_error("{'rules': [{'name': 'a', "
                                       "'allow': {}}]}"),
                      "p.json: rule 'a': match is missing");
  assert_string_equal(gxt_policy_error("{'rules': [{'name': 'a', "
                                       "'match': {'uid': 1}}]}"),
                      "p.json: rule 'a': allow is missing");
  assert_string_equal(
      gxt_policy_error("{'rules': [{'name': 'a', 'match': "
                       "{'uid': 1}, 'allow': {}, 'alow': {}}]}"),
      "p.json: rule 'a': rule: unknown key 'alow' (expected "
      "name, match, allow, comment)");
  assert_string_equal(
      gxt_policy_error("{'rules': [{'name': 'a', 'match': "
                       "{'uid': 1}, 'allow': {}, 'comment': 3}]}"),
      "p.json: rule 'a': comment: expected a string, not a "
      "number");
}

/* One refused input of a table test and the reason after the rule. */
typedef struct {
  const char *in, *why;
} error_case;

/* Each case's input between @p head and @p tail (a policy whose one rule
 * is 'a') is refused with "p.json: rule 'a': " and its reason. */
static void assert_cases(const char *head, const char *tail,
                         const error_case *cases, size_t n) {
  for (size_t i = 0; i < n; i++) {
    char json[1024], expect[512];
    snprintf(json, sizeof json, "%s%s%s", head, cases[i].in, tail);
    snprintf(expect, sizeof expect, "p.json: rule 'a': %s", cases[i].why);
    assert_string_equal(gxt_policy_error(json), expect);
  }
}

/* The match object. */
static void load_errors_match(void **state) {
  (void)state;
  static const error_case cases[] = {
      {"{}", "match: no keys (a rule must say whom it is for)"},
      {"[]", "match: expected an object, not an array"},
      {"{'cn': 'a', 'uid': 3}",
       "match: mixes keys of different callers (certificate: spiffe, dns, "
       "cn; unix: uid, user, group; anonymous_loopback): no caller matches"},
      {"{'anonymous_loopback': true, 'group': 'root'}",
       "match: mixes keys of different callers (certificate: spiffe, dns, "
       "cn; unix: uid, user, group; anonymous_loopback): no caller matches"},
      {"{'common_name': 'a'}",
       "match: unknown key 'common_name' (expected spiffe, dns, cn, uid, "
       "user, group, anonymous_loopback)"},
      {"{'cn': 5}", "match.cn: expected a string, not a number"},
      {"{'spiffe': ''}", "match.spiffe: empty"},
      {"{'uid': '0'}", "match.uid: expected a number, not a string"},
      {"{'uid': -1}", "match.uid: -1 is not a uid"},
      {"{'uid': 4294967295}", "match.uid: 4294967295 is not a uid"},
      {"{'uid': 1.5}", "match.uid: expected a number, not a fraction"},
      {"{'user': 'gx-no-such-user'}",
       "match.user: unknown user 'gx-no-such-user'"},
      {"{'group': 'gx-no-such-group'}",
       "match.group: unknown group 'gx-no-such-group'"},
      {"{'anonymous_loopback': false}",
       "match.anonymous_loopback: false matches nothing (leave the key "
       "out)"},
      {"{'anonymous_loopback': 1}",
       "match.anonymous_loopback: expected true, not a number"},
  };
  assert_cases("{'rules': [{'name': 'a', 'match': ", ", 'allow': {}}]}", cases,
               sizeof cases / sizeof cases[0]);
  /* a long glob */
  char json[GXD_POLICY_MAX_STRING + 128], glob[GXD_POLICY_MAX_STRING + 2];
  memset(glob, 'a', sizeof glob - 1);
  glob[sizeof glob - 1] = '\0';
  snprintf(json, sizeof json,
           "{'rules': [{'name': 'm', 'match': {'cn': '%s'}, 'allow': {}}]}",
           glob);
  assert_string_equal(gxt_policy_error(json),
                      "p.json: rule 'm': match.cn: longer than 1024 bytes");
}

/* The allow object. */
static void load_errors_allow(void **state) {
  (void)state;
  static const error_case cases[] = {
      {"[]", "allow: expected an object, not an array"},
      {"{'comands': ['*']}",
       "allow: unknown key 'comands' (expected commands, argv, profiles, "
       "run_as, max_timeout, limits, env, cwd, facts)"},
      {"{'commands': '*'}", "allow.commands: expected an array, not a string"},
      {"{'commands': [1]}",
       "allow.commands[0]: expected a string, not a "
       "number"},
      {"{'commands': ['bin/ls']}",
       "allow.commands[0]: 'bin/ls' is neither an absolute path nor a glob "
       "that can match one"},
      {"{'argv': ['/bin/ls']}",
       "allow.argv[0]: expected an array, not a string"},
      {"{'argv': {}}",
       "allow.argv: expected an array of arrays, not an "
       "object"},
      {"{'argv': [[]]}", "allow.argv[0]: empty (element 0 is the program)"},
      {"{'argv': [['ls', 'x']]}",
       "allow.argv[0][0]: 'ls' is not a program (an absolute path or a "
       "glob)"},
      {"{'argv': [['**']]}",
       "allow.argv[0][0]: '**' is not a program (an absolute path or a "
       "glob)"},
      {"{'argv': [['/bin/ls', '**', 'x']]}",
       "allow.argv[0][1]: \"**\" may only be the last element"},
      {"{'profiles': ['secure']}",
       "allow.profiles[0]: unknown profile 'secure' (host, baseline, "
       "restricted)"},
      {"{'run_as': ['gx-no-such-user']}",
       "allow.run_as[0]: unknown user 'gx-no-such-user'"},
      {"{'run_as': ['root', '$callr']}",
       "allow.run_as[1]: unknown user '$callr'"},
      {"{'max_timeout': 10}",
       "allow.max_timeout: expected a duration string (500ms, 30s, 10m, 2h), "
       "not a number"},
      {"{'max_timeout': '10 s'}",
       "allow.max_timeout: '10 s' is not a duration: unknown unit (expected "
       "ms, s, m or h)"},
      {"{'max_timeout': '0s'}",
       "allow.max_timeout: 0 would refuse every run (leave the key out for "
       "no cap)"},
      {"{'limits': {'memory': '1T'}}",
       "allow.limits.memory: '1T' is not a size: unknown suffix (expected K, "
       "M or G)"},
      {"{'limits': {'memory': '1K'}}",
       "allow.limits.memory 1K is outside 8388608..1125899906842624"},
      {"{'limits': {'pids': 1}}", "allow.limits.pids 1 is outside 2..4194304"},
      {"{'limits': {'pids': -5}}",
       "allow.limits.pids -5 is outside 2..4194304"},
      {"{'limits': {'pids': '256'}}",
       "allow.limits.pids: expected a number, not a string"},
      {"{'limits': {'cpu_time': 60}}",
       "allow.limits.cpu_time: expected a duration string (500ms, 30s, 10m, "
       "2h), not a number"},
      {"{'limits': {'cpu_time': '0s'}}",
       "allow.limits.cpu_time 0s is outside 1..31536000000"},
      {"{'limits': {'open_files': 8}}",
       "allow.limits.open_files 8 is outside 16..1048576"},
      {"{'limits': {'swap': 1}}",
       "allow.limits: unknown key 'swap' (expected memory, pids, cpu_time, "
       "open_files)"},
      {"{'limits': 5}", "allow.limits: expected an object, not a number"},
      {"{'env': ['A=b']}", "allow.env[0]: 'A=b' has '=' (names only)"},
      {"{'cwd': ['tmp']}",
       "allow.cwd[0]: 'tmp' is neither an absolute path nor a glob that can "
       "match one"},
      {"{'facts': 'yes'}", "allow.facts: expected true or false, not a string"},
  };
  assert_cases("{'rules': [{'name': 'a', 'match': {'uid': 1}, 'allow': ", "}]}",
               cases, sizeof cases / sizeof cases[0]);
}

/* Lists are bounded (GXD_POLICY_MAX_LIST entries, GXD_POLICY_MAX_PATTERN
 * elements a pattern, GXD_POLICY_MAX_PROGRAMS programs a rule). */
static void load_errors_bounds(void **state) {
  (void)state;
  char *json = malloc(65536), list[16384], pat[2048];
  size_t n = 0;
  for (int i = 0; i <= GXD_POLICY_MAX_LIST; i++)
    n +=
        (size_t)snprintf(list + n, sizeof list - n, "%s'E%d'", i ? "," : "", i);
  snprintf(json, 65536,
           "{'rules': [{'name': 'a', 'match': {'uid': 1}, "
           "'allow': {'env': [%s]}}]}",
           list);
  assert_string_equal(gxt_policy_error(json),
                      "p.json: rule 'a': allow.env: 257 entries; at most "
                      "256");
  n = (size_t)snprintf(pat, sizeof pat, "'/bin/x'");
  for (int i = 1; i <= GXD_POLICY_MAX_PATTERN; i++)
    n += (size_t)snprintf(pat + n, sizeof pat - n, ",'a'");
  snprintf(json, 65536,
           "{'rules': [{'name': 'a', 'match': {'uid': 1}, "
           "'allow': {'argv': [[%s]]}}]}",
           pat);
  assert_string_equal(gxt_policy_error(json),
                      "p.json: rule 'a': allow.argv[0]: 65 elements; at "
                      "most 64");
  /* 200 commands and 57 argv patterns: 257 programs */
  n = 0;
  for (int i = 0; i < 200; i++)
    n += (size_t)snprintf(list + n, sizeof list - n, "%s'/b/%d'", i ? "," : "",
                          i);
  n = 0;
  for (int i = 0; i < 57; i++)
    n += (size_t)snprintf(pat + n, sizeof pat - n, "%s['/a/%d']", i ? "," : "",
                          i);
  snprintf(json, 65536,
           "{'rules': [{'name': 'a', 'match': {'uid': 1}, "
           "'allow': {'commands': [%s], 'argv': [%s]}}]}",
           list, pat);
  assert_string_equal(gxt_policy_error(json),
                      "p.json: rule 'a': allow: commands and argv name 257 "
                      "programs; at most 256 together");
  free(json);
}

static int group_setup(void **state) {
  (void)state;
  gxd_profiles_init(&gxt_policy_table);
  return gxt_scratch_setup("policy_load_test");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(load_issue_example),
      cmocka_unit_test(load_file),
      cmocka_unit_test(load_errors_file),
      cmocka_unit_test(load_errors_too_many_rules),
      cmocka_unit_test(load_errors_rule),
      cmocka_unit_test(load_errors_match),
      cmocka_unit_test(load_errors_allow),
      cmocka_unit_test(load_errors_bounds),
  };
  return cmocka_run_group_tests(tests, group_setup, NULL);
}
