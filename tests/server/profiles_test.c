/* Unit tests for server/profiles: the table (built-ins, lookup, names),
 * the --profiles file (a good file, then every refusal with its exact
 * text) and the flags that name profiles. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "server/profiles.h"
#include "tests/server/scratch.h"

#define GIB (1ull << 30)
#define NS_BASELINE \
  (GXI_MECH_PID | GXI_MECH_IPC | GXI_MECH_UTS | GXI_MECH_MOUNT)

static gxd_profiles t;
static char why[1024];

/* Parses @p text as file "p.json" into the built-ins' table. */
static int parse(const char *text) {
  gxd_profiles_init(&t);
  memset(why, 0, sizeof why);
  return gxd_profiles_parse(&t, "p.json", text, strlen(text), 65536, why,
                            sizeof why);
}

/* Expects @p text to be refused with exactly @p want, the table left as
 * it was. */
static void refused(const char *text, const char *want) {
  if (parse(text) == 0) fail_msg("accepted: %s", text);
  if (strcmp(why, want) != 0)
    fail_msg("for %s\n  got  '%s'\n  want '%s'", text, why, want);
  assert_int_equal(t.n, GXI_PROFILE_BUILTINS);
}

/* A file with one profile whose entry is @p body (without braces). */
static void refused_entry(const char *body, const char *want) {
  char text[1024];
  snprintf(text, sizeof text, "{\"profiles\": [{%s}]}", body);
  refused(text, want);
}

static void builtins_and_names(void **state) {
  char buf[128];
  (void)state;
  gxd_profiles_init(&t);
  assert_int_equal(t.n, 3);
  assert_int_equal(gxd_profiles_find(&t, "host"), GXI_PROFILE_HOST);
  assert_int_equal(gxd_profiles_find(&t, "baseline"), GXI_PROFILE_BASELINE);
  assert_int_equal(gxd_profiles_find(&t, "restricted"),
                   GXI_PROFILE_RESTRICTED);
  assert_int_equal(gxd_profiles_find(&t, "nope"), -1);
  assert_memory_equal(&t.entry[2], gxi_profile_builtin(GXI_PROFILE_RESTRICTED),
                      sizeof t.entry[2]);
  assert_string_equal(gxd_profiles_names(&t, ", ", buf, sizeof buf),
                      "host, baseline, restricted");
  assert_string_equal(gxd_profiles_names(&t, " or ", buf, sizeof buf),
                      "host, baseline or restricted");
}

static void good_file(void **state) {
  static const char text[] =
      "{\"profiles\": [\n"
      "  {\"name\": \"build\", \"base\": \"restricted\", \"add\": [],\n"
      "   \"remove\": [\"net\"],\n"
      "   \"limits\": {\"memory\": \"2G\", \"pids\": 4096,\n"
      "              \"cpu_time\": \"10m\", \"open_files\": 4096}},\n"
      "  {\"name\": \"nonet\", \"base\": \"baseline\", \"add\": [\"net\"]},\n"
      "  {\"name\": \"host_cpu-1\", \"base\": \"host\",\n"
      "   \"limits\": {\"cpu_time\": 1500, \"open_files\": \"2K\"}},\n"
      "  {\"name\": \"counted\", \"base\": \"baseline\",\n"
      "   \"limits\": {\"pids\": \"64\"}},\n"
      "  {\"name\": \"loose\", \"base\": \"restricted\",\n"
      "   \"remove\": [\"cgroup\", \"seccomp\"]}\n"
      "]}\n";
  char buf[128];
  (void)state;
  assert_int_equal(parse(text), 0);
  assert_int_equal(t.n, 8);
  const gxi_profile *b = &t.entry[gxd_profiles_find(&t, "build")];
  const uint32_t restricted = gxi_profile_builtin(GXI_PROFILE_RESTRICTED)->mechs;
  assert_int_equal(gxd_profiles_find(&t, "build"), 3);
  assert_int_equal(b->base, GXI_PROFILE_RESTRICTED);
  assert_int_equal(b->mechs, restricted & ~(uint32_t)GXI_MECH_NET);
  assert_int_equal(b->defaults.memory_bytes, 2 * GIB);
  assert_int_equal(b->defaults.pids, 4096);
  assert_int_equal(b->defaults.cpu_time_ms, 600000);
  assert_int_equal(b->defaults.open_files, 4096);
  const gxi_profile *n = &t.entry[4];
  assert_string_equal(n->name, "nonet");
  assert_int_equal(n->base, GXI_PROFILE_BASELINE);
  assert_int_equal(n->mechs, NS_BASELINE | GXI_MECH_CAPS | GXI_MECH_NET);
  assert_int_equal(n->defaults.memory_bytes + n->defaults.pids +
                       n->defaults.cpu_time_ms + n->defaults.open_files, 0);
  const gxi_profile *h = &t.entry[5];
  assert_int_equal(h->mechs, 0);
  assert_int_equal(h->defaults.cpu_time_ms, 1500); /* a number: ms */
  assert_int_equal(h->defaults.open_files, 2048);
  /* a pids default makes cgroup part of the profile (fail closed) */
  const gxi_profile *c = &t.entry[6];
  assert_int_equal(c->mechs, NS_BASELINE | GXI_MECH_CAPS | GXI_MECH_CGROUP);
  assert_int_equal(c->defaults.pids, 64);
  /* removing cgroup drops the base's memory and pids defaults */
  const gxi_profile *l = &t.entry[7];
  assert_int_equal(l->mechs, restricted & ~(uint32_t)(GXI_MECH_CGROUP |
                                                      GXI_MECH_SECCOMP));
  assert_int_equal(l->defaults.memory_bytes, 0);
  assert_int_equal(l->defaults.pids, 0);
  assert_int_equal(l->defaults.open_files, 1024);
  assert_string_equal(gxd_profiles_names(&t, ", ", buf, sizeof buf),
                      "host, baseline, restricted, build, nonet, "
                      "host_cpu-1, counted, loose");
  assert_int_equal(parse("{\"profiles\": []}"), 0); /* none is fine */
  assert_int_equal(t.n, 3);
}

static void json_errors(void **state) {
  (void)state;
  refused("{\"profiles\": [\n{\"name\": \"a\",}]}",
          "p.json: not valid JSON at line 2: unexpected character");
  refused("{\"profiles\": [", "p.json: not valid JSON at line 1: "
                               "unexpected end of data");
  refused("{\"profiles\": []}\n{}",
          "p.json: not valid JSON at line 2: unexpected character");
  refused("{\"profiles\": []} // no comments",
          "p.json: not valid JSON at line 1: unexpected character");
  refused("", "p.json: not valid JSON at line 1: unexpected end of data");
  refused("[]", "p.json: expected an object with a \"profiles\" array, "
                "not an array");
  refused("{\"profile\": []}",
          "p.json: unknown key 'profile' (expected profiles)");
  refused("{}", "p.json: no \"profiles\" array");
  refused("{\"profiles\": {}}",
          "p.json: profiles: expected an array, not an object");
  refused("{\"profiles\": [1]}",
          "p.json: profiles[0]: expected an object, not a number");
}

static void name_errors(void **state) {
  (void)state;
  refused_entry("\"base\": \"host\"", "p.json: profiles[0]: name is missing");
  refused_entry("\"name\": 3", "p.json: profiles[0]: name: expected a "
                               "string, not a number");
  refused_entry("\"name\": \"Build\"",
                "p.json: profiles[0]: name 'Build' is not 1 to 32 of a-z, "
                "0-9, '_' and '-'");
  refused_entry("\"name\": \"\"", "p.json: profiles[0]: name '' is not 1 "
                                  "to 32 of a-z, 0-9, '_' and '-'");
  refused_entry("\"name\": \"a23456789012345678901234567890123\"",
                "p.json: profiles[0]: name "
                "'a23456789012345678901234567890123' is not 1 to 32 of "
                "a-z, 0-9, '_' and '-'");
  refused_entry("\"name\": \"a\\u0000b\"",
                "p.json: profiles[0]: name: expected a string, not a "
                "string with a NUL byte");
  refused_entry("\"name\": \"baseline\", \"base\": \"host\"",
                "p.json: profiles[0]: name 'baseline' is a built-in "
                "profile's");
  refused("{\"profiles\": [{\"name\": \"a\", \"base\": \"host\"},"
          " {\"name\": \"a\", \"base\": \"host\"}]}",
          "p.json: profiles[1]: name 'a' is defined twice");
}

static void field_errors(void **state) {
  (void)state;
  refused_entry("\"name\": \"a\", \"base\": \"host\", \"limit\": {}",
                "p.json: profile 'a': unknown key 'limit' (expected name, "
                "base, add, remove, limits)");
  refused_entry("\"name\": \"a\"", "p.json: profile 'a': base is missing "
                                   "(host, baseline or restricted)");
  refused_entry("\"name\": \"a\", \"base\": [\"host\"]",
                "p.json: profile 'a': base: expected a string, not an "
                "array");
  refused_entry("\"name\": \"a\", \"base\": \"nonet\"",
                "p.json: profile 'a': base 'nonet' is not host, baseline "
                "or restricted");
}

static void mechanism_errors(void **state) {
  (void)state;
  refused_entry("\"name\": \"a\", \"base\": \"host\", \"add\": \"net\"",
                "p.json: profile 'a': add: expected an array of mechanism "
                "names, not a string");
  refused_entry("\"name\": \"a\", \"base\": \"host\", \"remove\": [null]",
                "p.json: profile 'a': remove[0]: expected a mechanism "
                "name, not null");
  refused_entry("\"name\": \"a\", \"base\": \"host\", \"add\": [\"netw\"]",
                "p.json: profile 'a': add: unknown mechanism 'netw' (pid, "
                "ipc, uts, mount, user, net, seccomp, cgroup, ro-root, nnp, "
                "caps)");
  refused_entry("\"name\": \"a\", \"base\": \"host\", \"add\": [\"net\"], "
                "\"remove\": [\"uts\", \"net\"]",
                "p.json: profile 'a': net is both added and removed");
  refused_entry("\"name\": \"a\", \"base\": \"restricted\", "
                "\"remove\": [\"mount\"]",
                "p.json: profile 'a': ro-root needs mount (the read-only "
                "root is built in the run's mount namespace)");
  refused_entry("\"name\": \"a\", \"base\": \"host\", \"add\": "
                "[\"ro-root\"]",
                "p.json: profile 'a': ro-root needs mount (the read-only "
                "root is built in the run's mount namespace)");
}

static void limit_errors(void **state) {
  (void)state;
  refused_entry("\"name\": \"a\", \"base\": \"host\", \"limits\": 5",
                "p.json: profile 'a': limits: expected an object, not a "
                "number");
  refused_entry("\"name\": \"a\", \"base\": \"host\", \"limits\": "
                "{\"mem\": 1}",
                "p.json: profile 'a': limits: unknown key 'mem' (expected "
                "memory, pids, cpu_time, open_files)");
  refused_entry("\"name\": \"a\", \"base\": \"host\", \"limits\": "
                "{\"pids\": true}",
                "p.json: profile 'a': limits.pids: expected a string or a "
                "whole number, not a boolean");
  refused_entry("\"name\": \"a\", \"base\": \"host\", \"limits\": "
                "{\"memory\": 1.5}",
                "p.json: profile 'a': limits.memory: expected a string or "
                "a whole number, not a fraction");
  refused_entry("\"name\": \"a\", \"base\": \"host\", \"limits\": "
                "{\"memory\": \"2X\"}",
                "p.json: profile 'a': limits.memory: '2X' is not a number "
                "with an optional K, M or G suffix");
  refused_entry("\"name\": \"a\", \"base\": \"host\", \"limits\": "
                "{\"cpu_time\": \"10 minutes\"}",
                "p.json: profile 'a': limits.cpu_time: '10 minutes' is not "
                "a duration (a number with a unit: 500ms, 30s, 10m, 2h)");
  refused_entry("\"name\": \"a\", \"base\": \"host\", \"limits\": "
                "{\"pids\": 1}",
                "p.json: profile 'a': limits.pids 1 is outside 2..4194304 "
                "(0 means none)");
  refused_entry("\"name\": \"a\", \"base\": \"host\", \"limits\": "
                "{\"memory\": \"4K\"}",
                "p.json: profile 'a': limits.memory 4096 is outside "
                "8388608..1125899906842624 (0 means none)");
  refused_entry("\"name\": \"a\", \"base\": \"host\", \"limits\": "
                "{\"open_files\": -3}",
                "p.json: profile 'a': limits.open_files -3 is outside "
                "16..65536 (0 means none)");
  refused_entry("\"name\": \"a\", \"base\": \"host\", \"limits\": "
                "{\"open_files\": 70000}",
                "p.json: profile 'a': limits.open_files 70000 is outside "
                "16..65536 (0 means none)");
  refused_entry("\"name\": \"a\", \"base\": \"restricted\", \"remove\": "
                "[\"cgroup\"], \"limits\": {\"memory\": \"1G\"}",
                "p.json: profile 'a': limits.memory needs the cgroup "
                "mechanism, which this profile removes");
  refused_entry("\"name\": \"a\", \"base\": \"baseline\", \"remove\": "
                "[\"cgroup\"], \"limits\": {\"pids\": 10}",
                "p.json: profile 'a': limits.pids needs the cgroup "
                "mechanism, which this profile removes");
}

static void too_many(void **state) {
  char text[8192];
  size_t n = (size_t)snprintf(text, sizeof text, "{\"profiles\": [");
  (void)state;
  for (int i = 0; i < GXD_PROFILES_MAX - GXI_PROFILE_BUILTINS + 1; i++)
    n += (size_t)snprintf(text + n, sizeof text - n,
                          "%s{\"name\": \"p%d\", \"base\": \"host\"}",
                          i ? "," : "", i);
  snprintf(text + n, sizeof text - n, "]}");
  refused(text, "p.json: 62 profiles; at most 61 besides the built-ins");
}

static void load_file(void **state) {
  char want[400];
  (void)state;
  gxt_make_file("profiles.json", "{\"profiles\": [{\"name\": \"nonet\", "
                "\"base\": \"baseline\", \"add\": [\"net\"]}]}\n", 0644);
  gxd_profiles_init(&t);
  assert_int_equal(gxd_profiles_load(&t, gxt_at("profiles.json"), 1024, why,
                                     sizeof why), 0);
  assert_int_equal(gxd_profiles_find(&t, "nonet"), 3);
  gxd_profiles_init(&t);
  assert_int_equal(gxd_profiles_load(&t, gxt_at("missing.json"), 1024, why,
                                     sizeof why), -1);
  snprintf(want, sizeof want, "%s: cannot read: No such file or directory",
           gxt_at("missing.json"));
  assert_string_equal(why, want);
  assert_int_equal(gxd_profiles_load(&t, gxt_scratch_root(), 1024, why,
                                     sizeof why), -1);
  snprintf(want, sizeof want, "%s: cannot read: Is a directory",
           gxt_scratch_root());
  assert_string_equal(why, want);
  char *big = malloc(GXD_PROFILES_FILE_MAX + 2);
  assert_non_null(big);
  memset(big, ' ', GXD_PROFILES_FILE_MAX + 1);
  big[GXD_PROFILES_FILE_MAX + 1] = '\0';
  gxt_make_file("big.json", big, 0644);
  free(big);
  assert_int_equal(gxd_profiles_load(&t, gxt_at("big.json"), 1024, why,
                                     sizeof why), -1);
  snprintf(want, sizeof want, "%s: larger than 1048576 bytes",
           gxt_at("big.json"));
  assert_string_equal(why, want);
  assert_int_equal(t.n, 3);
}

static void flags_name_entries(void **state) {
  gxd_config cfg;
  (void)state;
  assert_int_equal(parse("{\"profiles\": [{\"name\": \"build\", "
                         "\"base\": \"restricted\"}]}"), 0);
  memset(&cfg, 0, sizeof cfg);
  cfg.default_profile = "build";
  cfg.allow_reduced[cfg.nallow_reduced++] = "restricted";
  cfg.allow_reduced[cfg.nallow_reduced++] = "build";
  assert_int_equal(gxd_profiles_check_flags(&t, &cfg, why, sizeof why), 0);
  cfg.default_profile = "nope";
  assert_int_equal(gxd_profiles_check_flags(&t, &cfg, why, sizeof why), -1);
  assert_string_equal(why, "invalid value 'nope' for --default-profile: "
                           "expected host, baseline, restricted or build");
  cfg.default_profile = "baseline";
  cfg.allow_reduced[1] = "biuld";
  assert_int_equal(gxd_profiles_check_flags(&t, &cfg, why, sizeof why), -1);
  assert_string_equal(why, "invalid value 'biuld' for --allow-reduced: "
                           "expected host, baseline, restricted or build");
  gxd_profiles_init(&t); /* the built-ins alone: today's text */
  cfg.default_profile = "build";
  assert_int_equal(gxd_profiles_check_flags(&t, &cfg, why, sizeof why), -1);
  assert_string_equal(why, "invalid value 'build' for --default-profile: "
                           "expected host, baseline or restricted");
}

/* Which profiles clients may ask for: all by default; with
 * --default-profile, it and those with all its mechanisms; or a list. */
static void allowed_profiles(void **state) {
  (void)state;
  gxd_profiles t;
  gxd_config cfg;
  char why[256];
  unsigned char a[GXD_PROFILES_MAX];
  static const char nonet[] =
      "{\"profiles\":[{\"name\":\"nonet\",\"base\":\"baseline\","
      "\"add\":[\"net\"]},{\"name\":\"weak\",\"base\":\"baseline\","
      "\"remove\":[\"pid\"]}]}";
  gxd_profiles_init(&t);
  assert_int_equal(gxd_profiles_parse(&t, "t.json", nonet, sizeof nonet - 1,
                                      1024, why, sizeof why), 0);
  memset(&cfg, 0, sizeof cfg);
  cfg.default_profile = "baseline"; /* the default, not given */
  assert_int_equal(gxd_profiles_allowed(&t, &cfg, a, why, sizeof why), 0);
  assert_memory_equal(a, ((unsigned char[]){1, 1, 1, 1, 1}), 5);
  cfg.default_profile_set = 1; /* --default-profile baseline */
  assert_int_equal(gxd_profiles_allowed(&t, &cfg, a, why, sizeof why), 0);
  /* host, baseline, restricted, nonet, weak */
  assert_memory_equal(a, ((unsigned char[]){0, 1, 1, 1, 0}), 5);
  cfg.default_profile = "restricted";
  assert_int_equal(gxd_profiles_allowed(&t, &cfg, a, why, sizeof why), 0);
  assert_memory_equal(a, ((unsigned char[]){0, 0, 1, 0, 0}), 5);
  cfg.allow_profiles = "restricted,nonet";
  assert_int_equal(gxd_profiles_allowed(&t, &cfg, a, why, sizeof why), 0);
  assert_memory_equal(a, ((unsigned char[]){0, 0, 1, 1, 0}), 5);
  cfg.allow_profiles = "host,nonet";
  assert_int_equal(gxd_profiles_check_flags(&t, &cfg, why, sizeof why), -1);
  assert_string_equal(why, "--default-profile restricted is not in "
                           "--allow-profiles host,nonet");
  cfg.allow_profiles = "restricted,,host";
  assert_int_equal(gxd_profiles_allowed(&t, &cfg, a, why, sizeof why), -1);
  assert_string_equal(why, "invalid value '' for --allow-profiles: expected "
                           "host, baseline, restricted, nonet or weak");
  cfg.allow_profiles = "restricted,hots";
  assert_int_equal(gxd_profiles_allowed(&t, &cfg, a, why, sizeof why), -1);
  assert_string_equal(why, "invalid value 'hots' for --allow-profiles: "
                           "expected host, baseline, restricted, nonet or weak");
}

static int group_setup(void **state) {
  (void)state;
  return gxt_scratch_setup("profiles_test");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(builtins_and_names),
      cmocka_unit_test(good_file),
      cmocka_unit_test(json_errors),
      cmocka_unit_test(name_errors),
      cmocka_unit_test(field_errors),
      cmocka_unit_test(mechanism_errors),
      cmocka_unit_test(limit_errors),
      cmocka_unit_test(too_many),
      cmocka_unit_test(load_file),
      cmocka_unit_test(flags_name_entries),
      cmocka_unit_test(allowed_profiles),
  };
  return cmocka_run_group_tests_name("server/profiles", tests, group_setup,
                                     NULL);
}
