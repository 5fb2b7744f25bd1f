/* Unit tests for client/cli/facts_view: FIELD paths, the one-host block,
 * the fleet table, the fields that differ, and --json selection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "client/cli/facts_view.h"

static const char doc_a[] =
    "{\"hostname\":\"n1\",\"os\":{\"id\":\"debian\",\"version_id\":\"12\"},"
    "\"memory\":{\"total_bytes\":1024},"
    "\"interfaces\":[{\"name\":\"lo\",\"mtu\":65536,\"up\":true},"
    "{\"name\":\"eth0\",\"mtu\":1500,\"addresses\":[{\"address\":\"10.0.0.1\","
    "\"prefix_length\":24}]}]}";
static const char doc_b[] =
    "{\"hostname\":\"n2\",\"os\":{\"id\":\"debian\",\"version_id\":\"12\"},"
    "\"memory\":{\"total_bytes\":2048},"
    "\"interfaces\":[{\"name\":\"lo\",\"mtu\":65536,\"up\":true},"
    "{\"name\":\"eth0\",\"mtu\":9000,\"addresses\":[{\"address\":\"10.0.0.2\","
    "\"prefix_length\":24}]}]}";

static char *drain(gxc_out *o) {
  static char buf[4096];
  gxc_out_free(o);
  off_t len = lseek(o->fd, 0, SEEK_CUR);
  assert_true(len >= 0 && len < (off_t)sizeof buf);
  assert_int_equal(pread(o->fd, buf, (size_t)len, 0), len);
  buf[len] = '\0';
  close(o->fd);
  return buf;
}

static gxc_out mem(void) {
  gxc_out o = {.fd = memfd_create("o", 0)};
  assert_true(o.fd >= 0);
  return o;
}

static void lookup_paths(void **state) {
  char t[128];
  json_object *a = json_tokener_parse(doc_a);
  (void)state;
  assert_string_equal(gxc_facts_text(gxc_facts_lookup(a, "hostname"), t,
                                     sizeof t), "n1");
  assert_string_equal(gxc_facts_text(gxc_facts_lookup(a, "os.version_id"), t,
                                     sizeof t), "12");
  assert_string_equal(gxc_facts_text(
      gxc_facts_lookup(a, "memory.total_bytes"), t, sizeof t), "1024");
  assert_string_equal(gxc_facts_text(
      gxc_facts_lookup(a, "interfaces.eth0.mtu"), t, sizeof t), "1500");
  assert_string_equal(gxc_facts_text(
      gxc_facts_lookup(a, "interfaces.1.addresses.0.address"), t, sizeof t),
      "10.0.0.1");
  assert_string_equal(gxc_facts_text(gxc_facts_lookup(a, "interfaces.lo.up"),
                                     t, sizeof t), "true");
  assert_null(gxc_facts_lookup(a, "interfaces.7"));
  assert_null(gxc_facts_lookup(a, "nope"));
  assert_null(gxc_facts_lookup(a, "hostname.x"));
  assert_string_equal(gxc_facts_text(NULL, t, sizeof t), "-");
  assert_string_equal(gxc_facts_text(gxc_facts_lookup(a, "os"), t, sizeof t),
                      "{\"id\":\"debian\",\"version_id\":\"12\"}");
  json_object_put(a);
}

static void groups_for_fields(void **state) {
  const char *g[16];
  const char *f1[] = {"os.id", "hostname", "os.version_id", "fqdn",
                      "interfaces.eth0.mtu"};
  const char *f2[] = {"os.id", "bogus"};
  (void)state;
  assert_int_equal(gxc_facts_groups(f1, 5, g), 0);
  assert_string_equal(g[0], "os");
  assert_string_equal(g[1], "system");
  assert_string_equal(g[2], "interfaces");
  assert_null(g[3]);
  assert_int_equal(gxc_facts_groups(f2, 2, g), -1);
  assert_int_equal(gxc_facts_groups(NULL, 0, g), -1);
}

static void block_lines(void **state) {
  json_object *a = json_tokener_parse(doc_a);
  const char *f[] = {"os", "interfaces.eth0", "missing"};
  gxc_out o = mem();
  (void)state;
  assert_int_equal(gxc_facts_block(a, f, 3, &o), 0);
  assert_string_equal(drain(&o),
                      "os.id: debian\n"
                      "os.version_id: 12\n"
                      "interfaces.eth0.name: eth0\n"
                      "interfaces.eth0.mtu: 1500\n"
                      "interfaces.eth0.addresses.0.address: 10.0.0.1\n"
                      "interfaces.eth0.addresses.0.prefix_length: 24\n"
                      "missing: -\n");
  o = mem();
  assert_int_equal(gxc_facts_block(a, NULL, 0, &o), 0);
  const char *all = drain(&o);
  assert_non_null(strstr(all, "hostname: n1\nos.id: debian\n"));
  assert_non_null(strstr(all, "interfaces.lo.mtu: 65536\n"));
  json_object_put(a);
}

/* A hostile daemon's strings (escape sequences, newlines, C1 controls,
 * invalid UTF-8) are escaped in the block and the table, in values and
 * in interface names used as path segments; valid UTF-8 stays. */
static void remote_text_escaped(void **state) {
  static const char doc[] =
      "{\"hostname\":\"n1\\u001b]0;pwned\\u0007\","
      "\"os\":{\"pretty_name\":\"Deb\\nian \\u00e9\\u009b2J\"},"
      "\"interfaces\":[{\"name\":\"e\\u001b[2J\",\"mtu\":1}]}";
  json_object *a = json_tokener_parse(doc);
  const char *names[1] = {"node1"};
  const char *fields[] = {"hostname"};
  gxc_out o = mem();
  (void)state;
  assert_non_null(a);
  assert_int_equal(gxc_facts_block(a, NULL, 0, &o), 0);
  assert_string_equal(drain(&o),
                      "hostname: n1\\x1b]0;pwned\\x07\n"
                      "os.pretty_name: Deb\\x0aian \xc3\xa9\\xc2\\x9b2J\n"
                      "interfaces.e\\x1b[2J.name: e\\x1b[2J\n"
                      "interfaces.e\\x1b[2J.mtu: 1\n");
  o = mem();
  assert_int_equal(gxc_facts_table(names, &a, 1, fields, 1, &o), 0);
  assert_string_equal(drain(&o),
                      "HOST   hostname\n"
                      "node1  n1\\x1b]0;pwned\\x07\n");
  json_object_put(a);
}

static void table(void **state) {
  json_object *f[3] = {json_tokener_parse(doc_a), NULL,
                       json_tokener_parse(doc_b)};
  const char *names[3] = {"node1", "node2", "node10"};
  const char *fields[] = {"hostname", "memory.total_bytes",
                          "interfaces.eth0.mtu"};
  gxc_out o = mem();
  (void)state;
  assert_int_equal(gxc_facts_table(names, f, 3, fields, 3, &o), 0);
  assert_string_equal(drain(&o),
                      "HOST    hostname  memory.total_bytes  "
                      "interfaces.eth0.mtu\n"
                      "node1   n1        1024                1500\n"
                      "node2   -         -                   -\n"
                      "node10  n2        2048                9000\n");
  json_object_put(f[0]);
  json_object_put(f[2]);
}

static void differing(void **state) {
  json_object *f[3] = {json_tokener_parse(doc_a), NULL,
                       json_tokener_parse(doc_b)};
  char **paths;
  (void)state;
  long n = gxc_facts_differing(f, 3, NULL, 0, &paths);
  assert_int_equal(n, 4);
  assert_string_equal(paths[0], "hostname");
  assert_string_equal(paths[1], "memory.total_bytes");
  assert_string_equal(paths[2], "interfaces.eth0.mtu");
  assert_string_equal(paths[3], "interfaces.eth0.addresses.0.address");
  gxc_facts_paths_free(paths, (size_t)n);
  const char *only[] = {"os", "interfaces.lo"};
  n = gxc_facts_differing(f, 3, only, 2, &paths);
  assert_int_equal(n, 0);
  gxc_facts_paths_free(paths, 0);
  json_object_put(f[0]);
  json_object_put(f[2]);
}

static void selection(void **state) {
  json_object *a = json_tokener_parse(doc_a);
  const char *f[] = {"os.version_id", "memory.total_bytes",
                     "interfaces.eth0.mtu", "nope.x"};
  (void)state;
  json_object *s = gxc_facts_select(a, f, 4);
  assert_string_equal(
      json_object_to_json_string_ext(s, JSON_C_TO_STRING_PLAIN),
      "{\"os\":{\"version_id\":\"12\"},\"memory\":{\"total_bytes\":1024},"
      "\"interfaces\":[{\"name\":\"eth0\",\"mtu\":1500,\"addresses\":"
      "[{\"address\":\"10.0.0.1\",\"prefix_length\":24}]}]}");
  json_object_put(s);
  s = gxc_facts_select(a, NULL, 0);
  assert_ptr_equal(s, a);
  json_object_put(s);
  json_object_put(a);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(lookup_paths), cmocka_unit_test(groups_for_fields),
      cmocka_unit_test(block_lines),  cmocka_unit_test(table),
      cmocka_unit_test(differing),    cmocka_unit_test(selection),
      cmocka_unit_test(remote_text_escaped),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
