/* Unit tests for client/cli/json_out: the object of `gexec run --json`,
 * UTF-8 validation and repair, base64. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "client/cli/json_out.h"

#define S(lit) ((const uint8_t *)(lit)), (sizeof(lit) - 1)

static const char *const sample_argv[] = {"sh", "-c", "echo \"hi\"/", NULL};

/* A run that exited with code 3 after writing to both streams. */
static gxc_json_run sample(void) {
  gxc_json_run r;
  memset(&r, 0, sizeof r);
  r.target = "unix:/tmp/x.sock";
  r.argv = sample_argv;
  r.has_exit = 1;
  r.exit.pid = 4242;
  r.exit.run_id = 17;
  r.exit.exit_code = 3;
  r.exit.user_time_us = 1000;
  r.exit.system_time_us = 2000;
  r.exit.max_rss_kb = 3000;
  r.exit.wall_time_us = 4000;
  r.pid = 4242;
  r.run_id = 17;
  r.out = (const uint8_t *)"hi\n";
  r.out_len = 3;
  r.err = (const uint8_t *)"warn\t\"x\"\\";
  r.err_len = 9;
  r.rc = GEXEC_OK;
  return r;
}

/* Builds @p r and compares its text with @p want. */
static void expect_json(const gxc_json_run *r, const char *want) {
  json_object *o = gxc_json_build(r);
  size_t len = 0;
  assert_non_null(o);
  const char *text = gxc_json_text(o, &len);
  assert_string_equal(text, want);
  assert_int_equal(len, strlen(want));
  json_object_put(o);
}

static void exited_run(void **state) {
  gxc_json_run r = sample();
  (void)state;
  expect_json(&r,
              "{\"target\":\"unix:/tmp/x.sock\","
              "\"argv\":[\"sh\",\"-c\",\"echo \\\"hi\\\"/\"],"
              "\"exit_code\":3,\"signal\":null,"
              "\"core_dumped\":false,\"timed_out\":false,"
              "\"oom_killed\":false,"
              "\"output_truncated\":false,\"pid\":4242,\"run_id\":17,"
              "\"user_time_us\":1000,\"system_time_us\":2000,"
              "\"max_rss_kb\":3000,\"wall_time_us\":4000,"
              "\"isolation\":null,"
              "\"stdout\":\"hi\\n\","
              "\"stderr\":\"warn\\t\\\"x\\\"\\\\\","
              "\"error\":null}");
}

static void killed_run(void **state) {
  gxc_json_run r = sample();
  (void)state;
  r.exit.exit_code = 0;
  r.exit.signal = 9;
  r.exit.core_dumped = 1;
  r.exit.timed_out = 1;
  r.exit.output_truncated = 1;
  r.out = NULL;
  r.out_len = 0;
  r.err = NULL;
  r.err_len = 0;
  expect_json(&r,
              "{\"target\":\"unix:/tmp/x.sock\","
              "\"argv\":[\"sh\",\"-c\",\"echo \\\"hi\\\"/\"],"
              "\"exit_code\":null,\"signal\":9,"
              "\"core_dumped\":true,\"timed_out\":true,"
              "\"oom_killed\":false,"
              "\"output_truncated\":true,\"pid\":4242,\"run_id\":17,"
              "\"user_time_us\":1000,\"system_time_us\":2000,"
              "\"max_rss_kb\":3000,\"wall_time_us\":4000,"
              "\"isolation\":null,"
              "\"stdout\":\"\",\"stderr\":\"\",\"error\":null}");
}

/* The daemon refused the run: no run fields, the status as error. */
static void refused_run(void **state) {
  static const char *const argv[] = {"nope", NULL};
  gexec_error err;
  gxc_json_run r;
  (void)state;
  memset(&err, 0, sizeof err);
  err.code = GEXEC_ESTATUS;
  err.status = GEXEC_STATUS_NOT_FOUND;
  snprintf(err.message, sizeof err.message, "%s", "cannot run 'nope': program or its interpreter not found");
  memset(&r, 0, sizeof r);
  r.target = "unix:/run/gexec/gexecd.sock";
  r.argv = argv;
  r.rc = GEXEC_ESTATUS;
  r.error = &err;
  expect_json(&r,
              "{\"target\":\"unix:/run/gexec/gexecd.sock\","
              "\"argv\":[\"nope\"],"
              "\"exit_code\":null,\"signal\":null,"
              "\"core_dumped\":null,\"timed_out\":null,"
              "\"oom_killed\":null,"
              "\"output_truncated\":false,\"pid\":null,\"run_id\":null,"
              "\"user_time_us\":null,\"system_time_us\":null,"
              "\"max_rss_kb\":null,\"wall_time_us\":null,"
              "\"isolation\":null,"
              "\"stdout\":\"\",\"stderr\":\"\","
              "\"error\":{\"status\":\"NOT_FOUND\",\"code\":5,"
              "\"message\":\"cannot run 'nope': program or its "
              "interpreter not found\"}}");
}

/* A local failure gets the closest gRPC status; an empty message the
 * library's description; an unknown target null. */
static void connect_failure(void **state) {
  static const char *const argv[] = {"true", NULL};
  gexec_error err;
  gxc_json_run r;
  (void)state;
  memset(&err, 0, sizeof err);
  memset(&r, 0, sizeof r);
  r.argv = argv;
  r.rc = GEXEC_ECONNECT;
  r.error = &err;
  json_object *o = gxc_json_build(&r), *e, *v;
  assert_non_null(o);
  assert_true(json_object_object_get_ex(o, "target", &v));
  assert_null(v);
  assert_true(json_object_object_get_ex(o, "error", &e));
  assert_true(json_object_object_get_ex(e, "status", &v));
  assert_string_equal(json_object_get_string(v), "UNAVAILABLE");
  assert_true(json_object_object_get_ex(e, "code", &v));
  assert_int_equal(json_object_get_int(v), 14);
  assert_true(json_object_object_get_ex(e, "message", &v));
  assert_string_equal(json_object_get_string(v),
                      gexec_strerror(GEXEC_ECONNECT));
  json_object_put(o);
}

/* The run started (pid known) but the stream broke before the exit. */
static void broken_after_start(void **state) {
  gexec_error err;
  gxc_json_run r = sample();
  (void)state;
  memset(&err, 0, sizeof err);
  err.status = GEXEC_STATUS_UNAVAILABLE;
  snprintf(err.message, sizeof err.message, "%s", "run of 'sh' failed: connection lost");
  r.has_exit = 0;
  r.capture_truncated = 1;
  r.rc = GEXEC_ESTATUS;
  r.error = &err;
  json_object *o = gxc_json_build(&r), *v;
  assert_non_null(o);
  assert_true(json_object_object_get_ex(o, "pid", &v));
  assert_int_equal(json_object_get_int(v), 4242);
  assert_true(json_object_object_get_ex(o, "run_id", &v));
  assert_int_equal(json_object_get_int64(v), 17);
  assert_true(json_object_object_get_ex(o, "exit_code", &v));
  assert_null(v);
  assert_true(json_object_object_get_ex(o, "output_truncated", &v));
  assert_true(json_object_get_boolean(v));
  assert_true(json_object_object_get_ex(o, "stdout", &v));
  assert_string_equal(json_object_get_string(v), "hi\n");
  assert_true(json_object_object_get_ex(o, "error", &v));
  assert_true(json_object_object_get_ex(v, "status", &v));
  assert_string_equal(json_object_get_string(v), "UNAVAILABLE");
  json_object_put(o);
}

/* The isolation of a restricted run, as the daemon reports it. */
static void set_restricted(gexec_isolation *i) {
  memset(i, 0, sizeof *i);
  snprintf(i->profile, sizeof i->profile, "%s", "restricted");
  snprintf(i->namespaces, sizeof i->namespaces, "%s", "pid,ipc,uts,mount,user,net");
  snprintf(i->cgroup, sizeof i->cgroup, "%s", "v2");
  i->seccomp = 1;
  i->uid = 1000;
  i->read_only_root = 1;
  i->no_new_privs = 1;
  snprintf(i->description, sizeof i->description, "%s", "restricted: full (\"all\" mechanisms)");
}

/* A run that ended: the isolation object in full, oom_killed false. */
static void isolation_object(void **state) {
  gxc_json_run r = sample();
  (void)state;
  set_restricted(&r.exit.isolation);
  r.exit.exit_code = 0;
  r.out = NULL;
  r.out_len = 0;
  r.err = NULL;
  r.err_len = 0;
  expect_json(&r,
              "{\"target\":\"unix:/tmp/x.sock\","
              "\"argv\":[\"sh\",\"-c\",\"echo \\\"hi\\\"/\"],"
              "\"exit_code\":0,\"signal\":null,"
              "\"core_dumped\":false,\"timed_out\":false,"
              "\"oom_killed\":false,"
              "\"output_truncated\":false,\"pid\":4242,\"run_id\":17,"
              "\"user_time_us\":1000,\"system_time_us\":2000,"
              "\"max_rss_kb\":3000,\"wall_time_us\":4000,"
              "\"isolation\":{\"profile\":\"restricted\","
              "\"namespaces\":[\"pid\",\"ipc\",\"uts\",\"mount\",\"user\","
              "\"net\"],"
              "\"cgroup\":\"v2\",\"seccomp\":true,\"uid\":1000,"
              "\"read_only_root\":true,\"no_new_privs\":true,"
              "\"description\":\"restricted: full (\\\"all\\\" mechanisms)\"},"
              "\"stdout\":\"\",\"stderr\":\"\",\"error\":null}");
}

/* Killed by the memory limit: SIGKILL and oom_killed; a host run
 * without namespaces or cgroup gets [] and null for them. */
static void oom_killed_host(void **state) {
  gxc_json_run r = sample();
  (void)state;
  r.exit.exit_code = 0;
  r.exit.signal = 9;
  r.exit.oom_killed = 1;
  snprintf(r.exit.isolation.profile, sizeof r.exit.isolation.profile, "%s", "host");
  snprintf(r.exit.isolation.description, sizeof r.exit.isolation.description, "%s", "host: no isolation");
  r.out = NULL;
  r.out_len = 0;
  r.err = NULL;
  r.err_len = 0;
  expect_json(&r,
              "{\"target\":\"unix:/tmp/x.sock\","
              "\"argv\":[\"sh\",\"-c\",\"echo \\\"hi\\\"/\"],"
              "\"exit_code\":null,\"signal\":9,"
              "\"core_dumped\":false,\"timed_out\":false,"
              "\"oom_killed\":true,"
              "\"output_truncated\":false,\"pid\":4242,\"run_id\":17,"
              "\"user_time_us\":1000,\"system_time_us\":2000,"
              "\"max_rss_kb\":3000,\"wall_time_us\":4000,"
              "\"isolation\":{\"profile\":\"host\",\"namespaces\":[],"
              "\"cgroup\":null,\"seccomp\":false,\"uid\":0,"
              "\"read_only_root\":false,\"no_new_privs\":false,"
              "\"description\":\"host: no isolation\"},"
              "\"stdout\":\"\",\"stderr\":\"\",\"error\":null}");
}

/* Odd lists: one name, empty items skipped; an unnamed profile is null. */
static void isolation_edge_cases(void **state) {
  gxc_json_run r = sample();
  (void)state;
  snprintf(r.exit.isolation.namespaces, sizeof r.exit.isolation.namespaces, "%s", "pid");
  json_object *o = gxc_json_build(&r), *iso, *v;
  assert_non_null(o);
  assert_true(json_object_object_get_ex(o, "isolation", &iso));
  assert_non_null(iso);
  assert_true(json_object_object_get_ex(iso, "profile", &v));
  assert_null(v);
  assert_true(json_object_object_get_ex(iso, "namespaces", &v));
  assert_string_equal(json_object_to_json_string_ext(
                          v, JSON_C_TO_STRING_PLAIN),
                      "[\"pid\"]");
  assert_true(json_object_object_get_ex(iso, "description", &v));
  assert_string_equal(json_object_get_string(v), "");
  json_object_put(o);
  snprintf(r.exit.isolation.namespaces, sizeof r.exit.isolation.namespaces, "%s", ",pid,,net,");
  o = gxc_json_build(&r);
  assert_true(json_object_object_get_ex(o, "isolation", &iso));
  assert_true(json_object_object_get_ex(iso, "namespaces", &v));
  assert_string_equal(json_object_to_json_string_ext(
                          v, JSON_C_TO_STRING_PLAIN),
                      "[\"pid\",\"net\"]");
  json_object_put(o);
}

/* No exit (the run broke after starting): isolation and oom_killed are
 * null even if the struct holds something. */
static void isolation_null_without_exit(void **state) {
  gexec_error err;
  gxc_json_run r = sample();
  (void)state;
  memset(&err, 0, sizeof err);
  err.status = GEXEC_STATUS_UNAVAILABLE;
  set_restricted(&r.exit.isolation);
  r.exit.oom_killed = 1;
  r.has_exit = 0;
  r.rc = GEXEC_ESTATUS;
  r.error = &err;
  json_object *o = gxc_json_build(&r), *v;
  assert_non_null(o);
  assert_true(json_object_object_get_ex(o, "isolation", &v));
  assert_null(v);
  assert_true(json_object_object_get_ex(o, "oom_killed", &v));
  assert_null(v);
  json_object_put(o);
}

/* The run id: the exit's, else the one `started` gave; a daemon that
 * reports none (0) gives null; the full uint64 range survives. */
static void run_id_sources(void **state) {
  gxc_json_run r = sample();
  json_object *o, *v;
  (void)state;
  r.exit.run_id = 0;
  r.run_id = 9;
  o = gxc_json_build(&r);
  assert_true(json_object_object_get_ex(o, "run_id", &v));
  assert_int_equal(json_object_get_int64(v), 9);
  json_object_put(o);
  r.run_id = 0;
  o = gxc_json_build(&r);
  assert_true(json_object_object_get_ex(o, "run_id", &v));
  assert_null(v);
  json_object_put(o);
  r.exit.run_id = UINT64_MAX;
  o = gxc_json_build(&r);
  assert_non_null(strstr(gxc_json_text(o, NULL),
                         "\"run_id\":18446744073709551615,"));
  json_object_put(o);
}

static void isolation_reported(void **state) {
  gexec_isolation i;
  (void)state;
  memset(&i, 0, sizeof i);
  assert_false(gxc_isolation_reported(&i));
  i.uid = 1000;
  assert_true(gxc_isolation_reported(&i));
  memset(&i, 0, sizeof i);
  snprintf(i.profile, sizeof i.profile, "%s", "host");
  assert_true(gxc_isolation_reported(&i));
}

/* Not UTF-8: U+FFFD in the string, the exact bytes in *_base64. */
static void invalid_utf8_stream(void **state) {
  gxc_json_run r = sample();
  (void)state;
  r.out = (const uint8_t *)"a\xff" "b";
  r.out_len = 3;
  r.err = (const uint8_t *)"\x00\x01\xc3\xa9";
  r.err_len = 4;
  expect_json(&r,
              "{\"target\":\"unix:/tmp/x.sock\","
              "\"argv\":[\"sh\",\"-c\",\"echo \\\"hi\\\"/\"],"
              "\"exit_code\":3,\"signal\":null,"
              "\"core_dumped\":false,\"timed_out\":false,"
              "\"oom_killed\":false,"
              "\"output_truncated\":false,\"pid\":4242,\"run_id\":17,"
              "\"user_time_us\":1000,\"system_time_us\":2000,"
              "\"max_rss_kb\":3000,\"wall_time_us\":4000,"
              "\"isolation\":null,"
              "\"stdout\":\"a\xef\xbf\xbd" "b\",\"stdout_base64\":\"Yf9i\","
              "\"stderr\":\"\\u0000\\u0001\xc3\xa9\","
              "\"error\":null}");
}

/* Command-line strings are repaired too, without a base64 twin. */
static void invalid_utf8_argv(void **state) {
  static const char *const argv[] = {"echo", "\xfe", NULL};
  gxc_json_run r = sample();
  (void)state;
  r.argv = argv;
  json_object *o = gxc_json_build(&r), *v;
  assert_non_null(o);
  assert_true(json_object_object_get_ex(o, "argv", &v));
  assert_string_equal(json_object_get_string(json_object_array_get_idx(v, 1)),
                      "\xef\xbf\xbd");
  assert_false(json_object_object_get_ex(o, "argv_base64", &v));
  json_object_put(o);
}

/* The text parses back to the same bytes, NULs included. */
static void round_trip(void **state) {
  static const uint8_t bin[] = {'x', 0, '"', '\\', '/', 0x1f, 0x7f, '\n'};
  gxc_json_run r = sample();
  (void)state;
  r.out = bin;
  r.out_len = sizeof bin;
  json_object *o = gxc_json_build(&r), *v;
  json_object *back = json_tokener_parse(gxc_json_text(o, NULL));
  assert_non_null(back);
  assert_true(json_object_object_get_ex(back, "stdout", &v));
  assert_int_equal(json_object_get_string_len(v), sizeof bin);
  assert_memory_equal(json_object_get_string(v), bin, sizeof bin);
  json_object_put(back);
  json_object_put(o);
}

static void utf8_valid(void **state) {
  (void)state;
  assert_true(gxc_utf8_valid(S("")));
  assert_true(gxc_utf8_valid(S("plain ascii\n")));
  assert_true(gxc_utf8_valid(S("\xc3\xa9")));             /* e-acute */
  assert_true(gxc_utf8_valid(S("\xe2\x82\xac")));         /* euro */
  assert_true(gxc_utf8_valid(S("\xf0\x9f\x98\x80")));     /* U+1F600 */
  assert_true(gxc_utf8_valid(S("\xf4\x8f\xbf\xbf")));     /* U+10FFFF */
  assert_true(gxc_utf8_valid(S("\xed\x9f\xbf")));         /* U+D7FF */
  assert_false(gxc_utf8_valid(S("\xc0\x80")));            /* overlong */
  assert_false(gxc_utf8_valid(S("\xc1\xbf")));            /* overlong */
  assert_false(gxc_utf8_valid(S("\xe0\x80\x80")));        /* overlong */
  assert_false(gxc_utf8_valid(S("\xf0\x80\x80\x80")));    /* overlong */
  assert_false(gxc_utf8_valid(S("\xed\xa0\x80")));        /* surrogate */
  assert_false(gxc_utf8_valid(S("\xf4\x90\x80\x80")));    /* > U+10FFFF */
  assert_false(gxc_utf8_valid(S("\xf5\x80\x80\x80")));
  assert_false(gxc_utf8_valid(S("\xe2\x82")));            /* cut short */
  assert_false(gxc_utf8_valid(S("\x80")));                /* stray cont. */
  assert_false(gxc_utf8_valid(S("\xff")));
}

/* Replaces each maximal invalid subpart with U+FFFD, out[] with the
 * sanitized text of @p in, and compares. */
static void expect_lossy(const uint8_t *in, size_t len, const char *want) {
  char out[64];
  assert_true(3 * len + 1 <= sizeof out);
  size_t n = gxc_utf8_lossy(in, len, out, 3 * len + 1);
  assert_int_equal(n, strlen(want));
  assert_string_equal(out, want);
}

#define R "\xef\xbf\xbd"

static void utf8_lossy(void **state) {
  (void)state;
  expect_lossy(S(""), "");
  expect_lossy(S("abc"), "abc");
  expect_lossy(S("\xc3\xa9"), "\xc3\xa9");
  expect_lossy(S("a\xff" "b"), "a" R "b");
  expect_lossy(S("\xe2\x82"), R);                  /* one subpart */
  expect_lossy(S("\xe2\x82" "A"), R "A");
  expect_lossy(S("\xf0\x9f\x98"), R);
  expect_lossy(S("\xf0\x80\x80"), R R R);          /* F0 needs 90..BF */
  expect_lossy(S("\xed\xa0\x80"), R R R);          /* ED needs 80..9F */
  expect_lossy(S("\xc0\xaf"), R R);
  expect_lossy(S("\xff\xfe\xfd"), R R R);
  expect_lossy(S("\x80\x80"), R R);
  expect_lossy(S("\xe2\x82\xac\xe2"), "\xe2\x82\xac" R);
}

static void base64(void **state) {
  static const struct {
    const char *in, *out;
  } rows[] = {{"", ""},         {"f", "Zg=="},       {"fo", "Zm8="},
              {"foo", "Zm9v"},  {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="},
              {"foobar", "Zm9vYmFy"}};
  char out[32];
  (void)state;
  for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
    size_t len = strlen(rows[i].in);
    size_t n = gxc_base64((const uint8_t *)rows[i].in, len, out,
                          4 * ((len + 2) / 3) + 1);
    assert_int_equal(n, strlen(rows[i].out));
    assert_string_equal(out, rows[i].out);
  }
  assert_int_equal(gxc_base64(S("\xff\x00\xfb"), out, sizeof out), 4);
  assert_string_equal(out, "/wD7");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(exited_run),
      cmocka_unit_test(killed_run),
      cmocka_unit_test(refused_run),
      cmocka_unit_test(connect_failure),
      cmocka_unit_test(broken_after_start),
      cmocka_unit_test(isolation_object),
      cmocka_unit_test(oom_killed_host),
      cmocka_unit_test(isolation_edge_cases),
      cmocka_unit_test(isolation_null_without_exit),
      cmocka_unit_test(run_id_sources),
      cmocka_unit_test(isolation_reported),
      cmocka_unit_test(invalid_utf8_stream),
      cmocka_unit_test(invalid_utf8_argv),
      cmocka_unit_test(round_trip),
      cmocka_unit_test(utf8_valid),
      cmocka_unit_test(utf8_lossy),
      cmocka_unit_test(base64),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
