/* Integration: Facts/Get against a real gexecd over its unix socket,
 * through libgexec (gexec_facts_get, gexec_facts_start_async): each fact
 * checked against what the test reads itself (gethostname, /etc/os-release,
 * /proc/meminfo, the loopback interface), the groups filter, the exact
 * refusals (an unknown group; a policy rule with "facts": false). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "tests/integration/harness.h"

#define conn gxt_group_conn

static int setup(void **state) {
  (void)state;
  gxt_group_start(ARGV("--kill-grace=500ms"));
  return 0;
}

static int teardown(void **state) {
  (void)state;
  gxt_group_stop();
  return 0;
}

static json_object *get(const char *const *groups) {
  gexec_facts_req req = GEXEC_FACTS_REQ_INIT;
  gexec_error err;
  char *text = NULL;
  req.groups = groups;
  int rc = gexec_facts_get(conn, &req, &text, &err);
  if (rc != GEXEC_OK) fail_msg("gexec_facts_get: %d %s", rc, err.message);
  json_object *o = json_tokener_parse(text);
  assert_non_null(o);
  free(text);
  return o;
}

/* The dotted @p path in @p o, or NULL. */
static json_object *at(json_object *o, const char *path) {
  char buf[128];
  snprintf(buf, sizeof buf, "%s", path);
  char *save = NULL;
  for (char *k = strtok_r(buf, ".", &save); k && o;
       k = strtok_r(NULL, ".", &save))
    if (!json_object_object_get_ex(o, k, &o)) return NULL;
  return o;
}

static const char *str_at(json_object *o, const char *path) {
  json_object *v = at(o, path);
  return v ? json_object_get_string(v) : "";
}

/* The value of KEY= in /etc/os-release (quotes removed). */
static void os_release(const char *key, char *out, size_t len) {
  char line[512];
  size_t klen = strlen(key);
  FILE *f = fopen("/etc/os-release", "r");
  out[0] = '\0';
  if (!f) f = fopen("/usr/lib/os-release", "r");
  assert_non_null(f);
  while (fgets(line, sizeof line, f))
    if (strncmp(line, key, klen) == 0 && line[klen] == '=') {
      char *v = line + klen + 1;
      v[strcspn(v, "\n")] = '\0';
      if (*v == '"' || *v == '\'') {
        v++;
        v[strlen(v) - 1] = '\0';
      }
      snprintf(out, len, "%.120s", v);
    }
  fclose(f);
}

static uint64_t meminfo_total(void) {
  char line[256];
  unsigned long long kb = 0;
  FILE *f = fopen("/proc/meminfo", "r");
  assert_non_null(f);
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "MemTotal: %llu kB", &kb) == 1) break;
  fclose(f);
  return (uint64_t)kb * 1024;
}

static void expect_loopback(json_object *o) {
  json_object *ifs = at(o, "interfaces");
  assert_non_null(ifs);
  for (size_t i = 0; i < json_object_array_length(ifs); i++) {
    json_object *f = json_object_array_get_idx(ifs, i);
    if (strcmp(str_at(f, "name"), "lo") != 0) continue;
    assert_true(json_object_get_boolean(at(f, "up")));
    json_object *as = at(f, "addresses");
    for (size_t k = 0; as && k < json_object_array_length(as); k++) {
      json_object *a = json_object_array_get_idx(as, k);
      if (strcmp(str_at(a, "address"), "127.0.0.1") == 0) {
        assert_int_equal(json_object_get_int(at(a, "prefix_length")), 8);
        assert_string_equal(str_at(a, "family"), "inet");
        return;
      }
    }
  }
  fail_msg("no lo with 127.0.0.1/8");
}

static void test_all_facts(void **state) {
  (void)state;
  char host[256], id[128];
  json_object *o = get(NULL);
  assert_int_equal(gethostname(host, sizeof host), 0);
  assert_string_equal(str_at(o, "hostname"), host);
  os_release("ID", id, sizeof id);
  assert_string_equal(str_at(o, "os.id"), id);
  assert_int_equal((uint64_t)json_object_get_uint64(at(o, "memory.total_bytes")),
                   meminfo_total());
  expect_loopback(o);
  assert_true(json_object_get_int(at(o, "cpu.logical_count")) > 0);
  assert_true(json_object_get_int64(at(o, "boot_time_unix")) > 1500000000);
  assert_non_null(at(o, "kernel.release"));
  assert_true(json_object_array_length(at(o, "filesystems")) > 0);
  assert_string_equal(str_at(o, "daemon.version"), "0.1.0");
  json_object *profiles = at(o, "daemon.profiles");
  assert_non_null(profiles);
  assert_string_equal(str_at(json_object_array_get_idx(profiles, 0), "name"),
                      "host");
  json_object_put(o);
}

/* Only the groups asked come back. */
static void test_groups_filter(void **state) {
  (void)state;
  json_object *o = get(ARGV("memory", "os"));
  int n = 0;
  json_object_object_foreach(o, key, val) {
    (void)val;
    n++;
    assert_true(strcmp(key, "memory") == 0 || strcmp(key, "os") == 0);
  }
  assert_int_equal(n, 2);
  json_object_put(o);
  o = get(ARGV("system"));
  assert_non_null(at(o, "hostname"));
  assert_null(at(o, "memory"));
  assert_null(at(o, "interfaces"));
  json_object_put(o);
}

static void test_unknown_group(void **state) {
  (void)state;
  gexec_facts_req req = GEXEC_FACTS_REQ_INIT;
  gexec_error err;
  char *text = (char *)"untouched";
  req.groups = ARGV("cpu", "nope");
  assert_int_equal(gexec_facts_get(conn, &req, &text, &err), GEXEC_ESTATUS);
  assert_null(text);
  assert_int_equal(err.status, 3); /* INVALID_ARGUMENT */
  assert_string_equal(err.message,
                      "unknown facts group 'nope'; known: system, os, "
                      "kernel, uptime, load, cpu, memory, filesystems, "
                      "interfaces, daemon");
}

static void test_async(void **state) {
  (void)state;
  char host[256];
  gexec_evq *q;
  gexec_proc *p;
  gexec_error err;
  const gexec_run_event *ev;
  gexec_facts_req req = GEXEC_FACTS_REQ_INIT;
  req.groups = ARGV("system");
  assert_int_equal(gexec_evq_new(&q, &err), GEXEC_OK);
  assert_int_equal(gexec_facts_start_async(conn, &req, q, &req, &p, &err),
                   GEXEC_OK);
  assert_int_equal(gexec_evq_next(q, &ev, 10000, &err), GEXEC_OK);
  assert_int_equal(ev->type, GEXEC_EV_FACTS);
  assert_ptr_equal(ev->proc, p);
  assert_ptr_equal(ev->user_data, &req);
  assert_int_equal(strlen((const char *)ev->data), ev->len);
  json_object *o = json_tokener_parse((const char *)ev->data);
  assert_int_equal(gethostname(host, sizeof host), 0);
  assert_string_equal(str_at(o, "hostname"), host);
  json_object_put(o);
  /* no process behind it */
  gexec_event e;
  assert_int_equal(gexec_proc_signal(p, 15, &err), GEXEC_EINVAL);
  assert_int_equal(gexec_proc_write(p, "x", 1, &err), GEXEC_EINVAL);
  assert_int_equal(gexec_proc_read(p, &e, 0, &err), GEXEC_EINVAL);
  /* that was its last event */
  assert_int_equal(gexec_evq_next(q, &ev, 200, &err), GEXEC_ETIMEDOUT);
  gexec_proc_free(p);
  /* an error arrives as GEXEC_EV_ERROR */
  req.groups = ARGV("nope");
  assert_int_equal(gexec_facts_start_async(conn, &req, q, NULL, &p, &err),
                   GEXEC_OK);
  assert_int_equal(gexec_evq_next(q, &ev, 10000, &err), GEXEC_OK);
  assert_int_equal(ev->type, GEXEC_EV_ERROR);
  assert_int_equal(ev->error->code, GEXEC_ESTATUS);
  assert_int_equal(ev->error->status, 3);
  gexec_proc_free(p);
  gexec_evq_free(q);
}

/* Writes a policy whose one rule (root's) does not allow facts to
 * $TEST_TMPDIR/@p name; its path goes to @p path. */
static void write_no_facts_policy(const char *name, char *path, size_t len) {
  const char *tmp = getenv("TEST_TMPDIR");
  snprintf(path, len, "%s/%s", tmp ? tmp : "/tmp", name);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fprintf(f, "{\"rules\": [{\"name\": \"no-facts\", \"match\": {\"uid\": 0},"
             " \"allow\": {\"facts\": false}}]}\n");
  assert_int_equal(fclose(f), 0);
}

/* A rule with "facts": false: refused by policy, with the reason. */
static void test_policy_refuses(void **state) {
  (void)state;
  char path[512];
  write_no_facts_policy("facts-policy.json", path, sizeof path);
  gxt_daemon d;
  gxt_daemon_start(&d, ARGV("--policy", path));
  gexec_conn *c = gxt_connect(&d);
  gexec_facts_req req = GEXEC_FACTS_REQ_INIT;
  gexec_error err;
  char *text = NULL;
  assert_int_equal(gexec_facts_get(c, &req, &text, &err), GEXEC_EREFUSED);
  assert_int_equal(err.status, 7); /* PERMISSION_DENIED */
  assert_string_equal(err.message, "refused by policy: policy rule "
                                   "'no-facts' does not allow reading facts");
  gexec_conn_close(c);
  assert_int_equal(gxt_daemon_stop(&d), 0);
}

/* --stream-rate holds for Facts/Get on the unix socket (which passes no
 * stream gate) as for runs: a caller flooding it, here one whose every
 * call is refused by policy (each refusal logged and audited), gets
 * RESOURCE_EXHAUSTED past its burst. Facts/Get used to charge nothing. */
static void test_stream_rate_unix(void **state) {
  (void)state;
  char path[512];
  write_no_facts_policy("facts-rate-policy.json", path, sizeof path);
  gxt_daemon d;
  gxt_daemon_start(&d, ARGV("--policy", path, "--stream-rate", "1/s,3"));
  gexec_conn *c = gxt_connect(&d);
  int refused = 0, limited = 0;
  for (int i = 0; i < 10; i++) {
    gexec_facts_req req = GEXEC_FACTS_REQ_INIT;
    gexec_error err;
    char *text = NULL;
    int rc = gexec_facts_get(c, &req, &text, &err);
    if (rc == GEXEC_EREFUSED && err.status == 7) refused++;
    else if (rc == GEXEC_ESTATUS && err.status == 8) limited++;
    else fail_msg("call %d: %d %d %s", i, rc, err.status, err.message);
  }
  /* the burst of 3, perhaps one more token refilled meanwhile */
  assert_in_range(refused, 3, 4);
  assert_int_equal(refused + limited, 10);
  gexec_conn_close(c);
  assert_int_equal(gxt_daemon_stop(&d), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_all_facts),   cmocka_unit_test(test_groups_filter),
      cmocka_unit_test(test_unknown_group), cmocka_unit_test(test_async),
      cmocka_unit_test(test_policy_refuses),
      cmocka_unit_test(test_stream_rate_unix),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
