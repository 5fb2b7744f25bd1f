/* Unit tests for client/cli/targets: the fleet TARGETS syntax of
 * gexec run -w / -x. Every item kind (hosts with ranges and ports, IPv6
 * literals, unix:, ^FILE, @GROUP, dns:), duplicates, the limit,
 * exclusion, file stems, and every error with its exact text. Files are
 * written by the test below $TEST_TMPDIR. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "client/cli/targets.h"

static char dir[512];

/* Writes @p text (of @p n bytes, or strlen if n is 0) to dir/name;
 * returns the path (static, one at a time). */
static const char *put_file(const char *name, const char *text, size_t n) {
  static char path[2][640];
  static int which;
  char *p = path[which ^= 1];
  snprintf(p, sizeof path[0], "%s/%s", dir, name);
  FILE *f = fopen(p, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(text, 1, n ? n : strlen(text), f),
                   n ? n : strlen(text));
  assert_int_equal(fclose(f), 0);
  return p;
}

/* The list as "name=address name=address ...". */
static const char *show(const gxc_target_list *l) {
  static char buf[8192];
  size_t o = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < l->n && o < sizeof buf; i++)
    o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%s=%s", i ? " " : "",
                          l->v[i].name, l->v[i].address);
  return buf;
}

/* Parses @p spec with @p ctx expecting success; returns show(). */
static const char *parse_ctx(const char *spec, const gxc_targets_ctx *ctx) {
  gxc_target_list l = {0};
  char why[1024] = "";
  static char out[8192];
  if (gxc_targets_parse(spec, ctx, &l, why, sizeof why) != 0)
    fail_msg("parse('%s') failed: %s", spec, why);
  snprintf(out, sizeof out, "%s", show(&l));
  gxc_targets_free(&l);
  return out;
}

static const char *parse(const char *spec) { return parse_ctx(spec, NULL); }

/* Parses @p spec expecting the error @p want; a list given with one
 * target keeps exactly that target. */
static void fails_ctx(const char *spec, const gxc_targets_ctx *ctx,
                      const char *want) {
  gxc_target_list l = {0};
  char why[1024] = "";
  assert_int_equal(gxc_targets_parse("keep", NULL, &l, why, sizeof why), 0);
  assert_int_equal(gxc_targets_parse(spec, ctx, &l, why, sizeof why), -1);
  assert_string_equal(why, want);
  assert_string_equal(show(&l), "keep=keep:7443");
  gxc_targets_free(&l);
}

static void fails(const char *spec, const char *want) {
  fails_ctx(spec, NULL, want);
}

/* ------------------------------------------------------------- hosts */

static void hosts_and_ports(void **state) {
  (void)state;
  assert_int_equal(GXC_DEFAULT_PORT, 7443);
  assert_string_equal(parse("node07"), "node07=node07:7443");
  assert_string_equal(parse("node07:7443"), "node07=node07:7443");
  assert_string_equal(parse("node07:7000"), "node07:7000=node07:7000");
  assert_string_equal(parse("10.214.0.3"), "10.214.0.3=10.214.0.3:7443");
  assert_string_equal(parse("a.b-c_d:1,x:65535"),
                      "a.b-c_d:1=a.b-c_d:1 x:65535=x:65535");
}

static void hosts_with_ranges(void **state) {
  (void)state;
  assert_string_equal(parse("node[01-03]"),
                      "node01=node01:7443 node02=node02:7443 "
                      "node03=node03:7443");
  assert_string_equal(parse("n[1,3],m1:7000"),
                      "n1=n1:7443 n3=n3:7443 m1:7000=m1:7000");
  assert_string_equal(parse("rack[1-2]-n[1-2]:9"),
                      "rack1-n1:9=rack1-n1:9 rack1-n2:9=rack1-n2:9 "
                      "rack2-n1:9=rack2-n1:9 rack2-n2:9=rack2-n2:9");
  assert_string_equal(parse("10.0.0.[8-9]"),
                      "10.0.0.8=10.0.0.8:7443 10.0.0.9=10.0.0.9:7443");
  /* a bracket first, of digits: a range, not an address */
  assert_string_equal(parse("[1-2].x"), "1.x=1.x:7443 2.x=2.x:7443");
}

static void hosts_malformed(void **state) {
  (void)state;
  fails("node[1-", "'node[1-': position 5: unclosed '['");
  fails("node[3-1]:7000", "'node[3-1]:7000': position 6: range 3-1 goes "
                          "backwards");
  fails("a,node[1-2]]", "'node[1-2]]': position 10: ']' without '['");
  fails("no de", "'no de': position 3: character ' ' not allowed in a host "
                 "name");
  fails("a/b", "'a/b': position 2: character '/' not allowed in a host "
               "name");
  fails("ok,n\tx", "'n\\x09x': position 2: byte \\x09 not allowed in a host "
                   "name");
  fails("n\x7f", "'n\\x7f': position 2: byte \\x7f not allowed in a host "
                 "name");
  fails("n\xc3\xa9", "'n\\xc3\\xa9': position 2: byte \\xc3 not allowed in a "
                     "host name");
  fails("-n", "'-n': position 1: host name starts with '-'");
  fails(":7000", "':7000': position 1: empty host name");
  fails("node:", "'node:': position 6: empty port");
  fails("node:0", "'node:0': position 6: port must be 1..65535");
  fails("node:65536", "'node:65536': position 6: port must be 1..65535");
  fails("node:007443x", "'node:007443x': position 6: port must be "
                        "1..65535");
  fails("node:-1", "'node:-1': position 6: port must be 1..65535");
  fails("fd00::1", "'fd00::1': position 5: more than one ':' (an IPv6 "
                   "address goes in brackets)");
  fails("n[1-2]:x[1]", "'n[1-2]:x[1]': position 8: port must be 1..65535");
}

static void empty_items(void **state) {
  (void)state;
  fails("", "'': position 1: empty target");
  fails("a,,b", "'a,,b': position 3: empty target");
  fails("a,", "'a,': position 3: empty target");
  fails(",a", "',a': position 1: empty target");
}

/* -------------------------------------------------------------- IPv6 */

static void ipv6_literals(void **state) {
  (void)state;
  assert_string_equal(parse("[fd00::1]"), "[fd00::1]=[fd00::1]:7443");
  assert_string_equal(parse("[fd00::1]:7443"), "[fd00::1]=[fd00::1]:7443");
  assert_string_equal(parse("[fd00::1]:7000"),
                      "[fd00::1]:7000=[fd00::1]:7000");
  /* the name as written, the address canonical: one target */
  assert_string_equal(parse("[FD00:0::1],[fd00::1]"),
                      "[FD00:0::1]=[fd00::1]:7443");
  assert_string_equal(parse("[::ffff:10.0.0.1]"),
                      "[::ffff:10.0.0.1]=[::ffff:10.0.0.1]:7443");
}

static void ipv6_malformed(void **state) {
  (void)state;
  fails("[fd00::g]", "'[fd00::g]': position 2: not an IPv6 address");
  fails("[fd00::1%eth0]", "'[fd00::1%eth0]': position 2: not an IPv6 "
                          "address");
  fails("[fd00::1]x", "'[fd00::1]x': position 10: expected ':PORT' after "
                      "']'");
  fails("[fd00::1]:", "'[fd00::1]:': position 11: empty port");
  fails("[fd00::1]:99999", "'[fd00::1]:99999': position 11: port must be "
                           "1..65535");
  fails("[fd00::1", "'[fd00::1': position 1: unclosed '['");
  fails("[1.2.3.4:5]", "'[1.2.3.4:5]': position 2: not an IPv6 address");
}

/* -------------------------------------------------------------- unix */

static void unix_sockets(void **state) {
  char long_path[160];
  (void)state;
  assert_string_equal(parse("unix:/run/x.sock"),
                      "unix:/run/x.sock=unix:/run/x.sock");
  assert_string_equal(parse("unix:///run/x.sock,unix:/run/y"),
                      "unix:///run/x.sock=unix:///run/x.sock "
                      "unix:/run/y=unix:/run/y");
  fails("unix:rel.sock", "'unix:rel.sock': position 6: unix socket path "
                         "must be absolute");
  fails("unix:", "'unix:': position 6: unix socket path must be absolute");
  fails("unix:/a\x01", "'unix:/a\\x01': position 8: byte \\x01 not allowed "
                       "in a socket path");
  snprintf(long_path, sizeof long_path, "unix:/%0107d", 0);
  char want[512];
  snprintf(want, sizeof want, "'%s': position 6: unix socket path longer "
                              "than 107 bytes", long_path);
  fails(long_path, want);
  long_path[strlen(long_path) - 1] = '\0'; /* 107 bytes: fine */
  gxc_target_list l = {0};
  char why[256];
  assert_int_equal(gxc_targets_parse(long_path, NULL, &l, why, sizeof why),
                   0);
  gxc_targets_free(&l);
}

/* ----------------------------------------------------- duplicates */

static void duplicates_folded(void **state) {
  gxc_target_list l = {0};
  char why[256];
  (void)state;
  assert_string_equal(parse("n1,n1,n[1-2],n2:7443"),
                      "n1=n1:7443 n2=n2:7443");
  assert_string_equal(parse("n1,n1:7000"), "n1=n1:7443 n1:7000=n1:7000");
  /* against what the list held */
  assert_int_equal(gxc_targets_parse("b,a", NULL, &l, why, sizeof why), 0);
  assert_int_equal(gxc_targets_parse("a,c,b:7443", NULL, &l, why,
                                     sizeof why), 0);
  assert_string_equal(show(&l), "b=b:7443 a=a:7443 c=c:7443");
  gxc_targets_free(&l);
}

static void limit_of_targets(void **state) {
  gxc_target_list l = {0};
  char why[256];
  (void)state;
  assert_int_equal(gxc_targets_parse("a[1-60000],b[1-40000],a1", NULL, &l,
                                     why, sizeof why), 0);
  assert_int_equal(l.n, GXC_TARGETS_MAX);
  assert_string_equal(l.v[99999].name, "b40000");
  assert_int_equal(gxc_targets_parse("b1,c", NULL, &l, why, sizeof why), -1);
  assert_string_equal(why, "'c': more than 100000 targets");
  assert_int_equal(l.n, GXC_TARGETS_MAX);
  gxc_targets_free(&l);
  fails("a[1-65536],b[1-34463],c", "'c': more than 100000 targets");
  fails("n[1-65537]", "'n[1-65537]': position 2: more than 65536 names");
}

/* ------------------------------------------------------------- ^FILE */

static void file_of_targets(void **state) {
  char spec[700];
  (void)state;
  const char *p = put_file("hosts",
                           "# the rack\n"
                           "node[01-02]\n"
                           "\n"
                           "   web1:7000   # a comment\r\n"
                           "\t# indented comment\n"
                           "unix:/run/g.sock,[fd00::1]\n"
                           "node01",
                           0);
  snprintf(spec, sizeof spec, "a,^%s,b", p);
  assert_string_equal(parse(spec),
                      "a=a:7443 node01=node01:7443 node02=node02:7443 "
                      "web1:7000=web1:7000 unix:/run/g.sock=unix:/run/g.sock "
                      "[fd00::1]=[fd00::1]:7443 b=b:7443");
  p = put_file("empty", "# nothing\n\n", 0);
  snprintf(spec, sizeof spec, "^%s", p);
  assert_string_equal(parse(spec), "");
}

static void file_errors(void **state) {
  char spec[700], want[1024];
  (void)state;
  const char *p = put_file("bad", "n1\n# c\nno de\n", 0);
  snprintf(spec, sizeof spec, "^%s", p);
  snprintf(want, sizeof want, "%s:3: 'no de': position 3: character ' ' not "
                              "allowed in a host name", p);
  fails(spec, want);
  p = put_file("bad2", "n1\nn[1-\n", 0);
  snprintf(spec, sizeof spec, "^%s", p);
  snprintf(want, sizeof want, "%s:2: 'n[1-': position 2: unclosed '['", p);
  fails(spec, want);
  p = put_file("nul", "n1\nn\0x\n", 7);
  snprintf(spec, sizeof spec, "^%s", p);
  snprintf(want, sizeof want, "%s:2: NUL byte", p);
  fails(spec, want);
  snprintf(spec, sizeof spec, "^%s/missing", dir);
  snprintf(want, sizeof want, "'^%s/missing': No such file or directory",
           dir);
  fails(spec, want);
  snprintf(spec, sizeof spec, "^%s", dir);
  snprintf(want, sizeof want, "'^%s': Is a directory", dir);
  fails(spec, want);
  fails("^", "'^': position 2: empty file name");
}

static void file_bounds(void **state) {
  char spec[700], want[1024], line[5000];
  (void)state;
  memset(line, 'a', 4097);
  line[4097] = '\n';
  const char *p = put_file("long", line, 4098);
  snprintf(spec, sizeof spec, "^%s", p);
  snprintf(want, sizeof want, "%s:1: line longer than 4096 bytes", p);
  fails(spec, want);
  /* 4096 bytes and a comment: fine (the name is then too long) */
  memset(line, ' ', 4096);
  memcpy(line, "n1 #", 4);
  p = put_file("long_ok", line, 4096);
  snprintf(spec, sizeof spec, "^%s", p);
  assert_string_equal(parse(spec), "n1=n1:7443");
  p = put_file("big", "n1\n", 0);
  assert_int_equal(truncate(p, GXC_TARGETS_FILE_MAX + 1), 0);
  snprintf(spec, sizeof spec, "^%s", p);
  snprintf(want, sizeof want, "'^%s': larger than 16 MiB", p);
  fails(spec, want);
  assert_int_equal(truncate(p, GXC_TARGETS_FILE_MAX), 0);
  /* exactly 16 MiB: read (then the hole's second line is too long) */
  snprintf(want, sizeof want, "%s:2: line longer than 4096 bytes", p);
  fails(spec, want);
}

static void file_nesting(void **state) {
  char spec[700], text[700], want[2048], a[640];
  (void)state;
  snprintf(text, sizeof text, "x1\n^%s/inner\n", dir);
  snprintf(a, sizeof a, "%s", put_file("outer", text, 0));
  put_file("inner", "y1\n", 0);
  snprintf(spec, sizeof spec, "^%s", a);
  assert_string_equal(parse(spec), "x1=x1:7443 y1=y1:7443");
  snprintf(text, sizeof text, "x1\n^%s/self\n", dir);
  snprintf(a, sizeof a, "%s", put_file("self", text, 0));
  snprintf(spec, sizeof spec, "^%s", a);
  snprintf(want, sizeof want, "cycle: ^%s -> ^%s", a, a);
  fails(spec, want);
}

/* ------------------------------------------------------------ groups */

static const char *groups_text =
    "# groups of the lab\n"
    "compute: node[01-03]\n"
    "web: w1,w2:7000   # the front\n"
    "all: @compute,@web,db1\n"
    "\n"
    "  spaced  :  s1\n"
    "none:\n"
    "a: @b\n"
    "b: @c,x\n"
    "c: @a\n"
    "bad: n[1-\n";

static void groups_expand(void **state) {
  gxc_targets_ctx ctx = {0};
  (void)state;
  ctx.groups_file = put_file("groups", groups_text, 0);
  assert_string_equal(parse_ctx("@compute", &ctx),
                      "node01=node01:7443 node02=node02:7443 "
                      "node03=node03:7443");
  assert_string_equal(parse_ctx("@all,node02", &ctx),
                      "node01=node01:7443 node02=node02:7443 "
                      "node03=node03:7443 w1=w1:7443 w2:7000=w2:7000 "
                      "db1=db1:7443");
  assert_string_equal(parse_ctx("@spaced", &ctx), "s1=s1:7443");
  assert_string_equal(parse_ctx("@none,z", &ctx), "z=z:7443");
  /* no @GROUP: the groups file is not read */
  ctx.groups_file = "/nonexistent/groups";
  assert_string_equal(parse_ctx("n1", &ctx), "n1=n1:7443");
}

static void groups_errors(void **state) {
  gxc_targets_ctx ctx = {0};
  char want[1024];
  const char *p;
  (void)state;
  p = put_file("groups", groups_text, 0);
  ctx.groups_file = p;
  snprintf(want, sizeof want, "unknown group 'nope' in %s", p);
  fails_ctx("n1,@nope", &ctx, want);
  fails_ctx("@a", &ctx, "cycle: @a -> @b -> @c -> @a");
  snprintf(want, sizeof want, "%s:11: 'n[1-': position 2: unclosed '['", p);
  fails_ctx("@bad", &ctx, want);
  fails_ctx("@", &ctx, "'@': position 2: empty group name");
  fails_ctx("@a b", &ctx, "'@a b': position 3: character ' ' not allowed in "
                          "a group name");
  ctx.groups_file = "/nonexistent/groups";
  fails_ctx("@x", &ctx, "'@x': /nonexistent/groups: No such file or "
                        "directory");
}

static void groups_default_file(void **state) {
  gxc_targets_ctx ctx = {0};
  (void)state;
  if (access(GXC_GROUPS_FILE, F_OK) == 0) skip();
  fails_ctx("@x", &ctx, "'@x': /etc/gexec/groups: No such file or "
                        "directory");
}

static void groups_file_syntax(void **state) {
  gxc_targets_ctx ctx = {0};
  char want[1024];
  const char *p;
  (void)state;
  p = put_file("g1", "a: n1\nno colon here\n", 0);
  ctx.groups_file = p;
  snprintf(want, sizeof want, "%s:2: expected 'name: pattern[,pattern...]'",
           p);
  fails_ctx("@a", &ctx, want);
  p = put_file("g2", "a b: n1\n", 0);
  ctx.groups_file = p;
  snprintf(want, sizeof want, "%s:1: bad group name 'a b'", p);
  fails_ctx("@a", &ctx, want);
  p = put_file("g3", ": n1\n", 0);
  ctx.groups_file = p;
  snprintf(want, sizeof want, "%s:1: bad group name ''", p);
  fails_ctx("@a", &ctx, want);
  p = put_file("g4", "a: n1\n#\na: n2\n", 0);
  ctx.groups_file = p;
  snprintf(want, sizeof want, "%s:3: group 'a' defined twice (first on line "
                              "1)", p);
  fails_ctx("@a", &ctx, want);
}

static void groups_depth(void **state) {
  gxc_targets_ctx ctx = {0};
  char text[1024] = "";
  (void)state;
  for (int i = 0; i < 10; i++)
    snprintf(text + strlen(text), sizeof text - strlen(text),
             "g%d: @g%d\n", i, i + 1);
  snprintf(text + strlen(text), sizeof text - strlen(text), "g10: end\n");
  ctx.groups_file = put_file("deep", text, 0);
  fails_ctx("@g0", &ctx, "'@g8': nested deeper than 8");
  assert_string_equal(parse_ctx("@g3", &ctx), "end=end:7443");
}

/* A group using a file and a file using a group. */
static void groups_and_files(void **state) {
  gxc_targets_ctx ctx = {0};
  char text[1024], spec[700];
  (void)state;
  snprintf(text, sizeof text, "fromfile: ^%s/list\nsmall: s[1-2]\n", dir);
  ctx.groups_file = put_file("gf", text, 0);
  put_file("list", "f1\n@small\n", 0);
  assert_string_equal(parse_ctx("@fromfile", &ctx),
                      "f1=f1:7443 s1=s1:7443 s2=s2:7443");
  snprintf(spec, sizeof spec, "^%s/list", dir);
  assert_string_equal(parse_ctx(spec, &ctx),
                      "f1=f1:7443 s1=s1:7443 s2=s2:7443");
}

/* --------------------------------------------------------------- dns */

/* A fake resolver: ud is a ' '-separated address list, "" none, "!" an
 * error. */
static int fake_resolve(void *ud, const char *name, gxc_names *addrs,
                        char *why, size_t why_len) {
  char copy[512];
  check_expected(name);
  if (strcmp(ud, "!") == 0) return snprintf(why, why_len, "boom"), -1;
  snprintf(copy, sizeof copy, "%s", (const char *)ud);
  for (char *t = strtok(copy, " "); t; t = strtok(NULL, " "))
    assert_int_equal(gxc_names_add(addrs, t), 0);
  return 0;
}

static void dns_every_address(void **state) {
  gxc_targets_ctx ctx = {.resolve = fake_resolve};
  (void)state;
  ctx.resolve_ud = "10.0.0.2 10.0.0.1 fd00:0::5 10.0.0.1";
  expect_string(fake_resolve, name, "gexecd.fleet.svc");
  assert_string_equal(parse_ctx("dns:gexecd.fleet.svc", &ctx),
                      "10.0.0.2=10.0.0.2:7443 10.0.0.1=10.0.0.1:7443 "
                      "[fd00::5]=[fd00::5]:7443");
  expect_string(fake_resolve, name, "svc");
  assert_string_equal(parse_ctx("10.0.0.1:7000,dns:svc:7000", &ctx),
                      "10.0.0.1:7000=10.0.0.1:7000 "
                      "10.0.0.2:7000=10.0.0.2:7000 "
                      "[fd00::5]:7000=[fd00::5]:7000");
}

static void dns_errors(void **state) {
  gxc_targets_ctx ctx = {.resolve = fake_resolve};
  (void)state;
  ctx.resolve_ud = "!";
  expect_string(fake_resolve, name, "svc");
  fails_ctx("dns:svc", &ctx, "dns:svc: no address (boom)");
  ctx.resolve_ud = "";
  expect_string(fake_resolve, name, "svc");
  fails_ctx("dns:svc:7000", &ctx, "dns:svc:7000: no address (no A or AAAA "
                                  "record)");
  ctx.resolve_ud = "10.0.0.1 evil\x1b[0m";
  expect_string(fake_resolve, name, "svc");
  fails_ctx("dns:svc", &ctx, "dns:svc: resolver gave 'evil\\x1b[0m', not an "
                             "address");
  fails_ctx("dns:", &ctx, "'dns:': position 5: empty host name");
  fails_ctx("dns:a b", &ctx, "'dns:a b': position 6: character ' ' not "
                             "allowed in a host name");
  fails_ctx("dns:n[1-2]", &ctx, "'dns:n[1-2]': position 6: character '[' "
                                "not allowed in a host name");
  fails_ctx("dns:svc:", &ctx, "'dns:svc:': position 9: empty port");
  fails_ctx("dns:svc:0", &ctx, "'dns:svc:0': position 9: port must be "
                               "1..65535");
}

static void dns_default_resolver(void **state) {
  gxc_target_list l = {0};
  char why[512] = "";
  (void)state;
  assert_int_equal(gxc_targets_parse("dns:localhost", NULL, &l, why,
                                     sizeof why), 0);
  assert_true(l.n >= 1 && l.n <= 2);
  for (size_t i = 0; i < l.n; i++) {
    if (strcmp(l.v[i].address, "127.0.0.1:7443") == 0)
      assert_string_equal(l.v[i].name, "127.0.0.1");
    else if (strcmp(l.v[i].address, "[::1]:7443") == 0)
      assert_string_equal(l.v[i].name, "[::1]");
    else
      fail_msg("localhost resolved to %s", l.v[i].address);
  }
  gxc_targets_free(&l);
  assert_int_equal(gxc_targets_parse("dns:nonexistent.invalid", NULL, &l,
                                     why, sizeof why), -1);
  /* the reason is the resolver's (it differs with the network) */
  assert_int_equal(strncmp(why, "dns:nonexistent.invalid: no address (",
                           37), 0);
  assert_int_equal(why[strlen(why) - 1], ')');
  assert_true(strlen(why) > 39);
  assert_int_equal(l.n, 0);
}

/* --------------------------------------------------------- exclusion */

static void exclusion(void **state) {
  gxc_target_list l = {0}, x = {0};
  char why[256];
  (void)state;
  assert_int_equal(gxc_targets_parse("node[01-06],n:7000,[fd00::1]", NULL,
                                     &l, why, sizeof why), 0);
  assert_int_equal(gxc_targets_parse("node0[2-3],node05:7443,n,"
                                     "[fd00:0::1]",
                                     NULL, &x, why, sizeof why), 0);
  gxc_targets_exclude(&l, &x);
  assert_string_equal(show(&l), "node01=node01:7443 node04=node04:7443 "
                                "node06=node06:7443 n:7000=n:7000");
  gxc_targets_free(&x);
  /* by address text too: "-x node01:7443" */
  assert_int_equal(gxc_targets_parse("unix:/r/s,node06", NULL, &x, why,
                                     sizeof why), 0);
  gxc_target_list y = {0};
  assert_int_equal(gxc_targets_parse("unix:/r/s", NULL, &y, why,
                                     sizeof why), 0);
  gxc_targets_exclude(&x, &y);
  assert_string_equal(show(&x), "node06=node06:7443");
  gxc_targets_exclude(&l, &x);
  assert_string_equal(show(&l), "node01=node01:7443 node04=node04:7443 "
                                "n:7000=n:7000");
  gxc_targets_exclude(&l, &l);
  assert_int_equal(l.n, 0);
  gxc_targets_free(&l);
  gxc_targets_free(&x);
  gxc_targets_free(&y);
}

/* -------------------------------------------------------------- stem */

static void file_stems(void **state) {
  char out[64];
  (void)state;
  gxc_target_file_stem("node07", out, sizeof out);
  assert_string_equal(out, "node07");
  gxc_target_file_stem("[fd00::1]:7000", out, sizeof out);
  assert_string_equal(out, "_fd00__1__7000");
  gxc_target_file_stem("unix:/run/x.sock", out, sizeof out);
  assert_string_equal(out, "unix__run_x.sock");
  gxc_target_file_stem("a b\x01\xff/..", out, sizeof out);
  assert_string_equal(out, "a_b___..");
  gxc_target_file_stem(".", out, sizeof out);
  assert_string_equal(out, "_");
  gxc_target_file_stem("..", out, sizeof out);
  assert_string_equal(out, "__");
  gxc_target_file_stem("...x", out, sizeof out);
  assert_string_equal(out, "...x");
  gxc_target_file_stem("", out, sizeof out);
  assert_string_equal(out, "_");
  gxc_target_file_stem("node07", out, 5);
  assert_string_equal(out, "node");
  gxc_target_file_stem("..x", out, 3);
  assert_string_equal(out, "__");
  gxc_target_file_stem("x", out, 1);
  assert_string_equal(out, "");
}

/* Two targets whose --outdir files would be the same are found, with
 * the first of each pair; distinct stems are not a clash. */
static void stem_clashes(void **state) {
  (void)state;
  gxc_target_list l = {0};
  char why[512] = "";
  size_t a = 99, b = 99;
  assert_int_equal(gxc_targets_parse("n1,unix:/tmp/x_y,n2,unix:/tmp/x/y",
                                     NULL, &l, why, sizeof why), 0);
  assert_int_equal(gxc_targets_stem_clash(&l, &a, &b), 1);
  assert_int_equal(a, 1);
  assert_int_equal(b, 3);
  gxc_targets_free(&l);
  assert_int_equal(gxc_targets_parse("n[1-300],n1.x,n1-x", NULL, &l, why,
                                     sizeof why), 0);
  assert_int_equal(gxc_targets_stem_clash(&l, &a, &b), 0);
  gxc_targets_free(&l);
  assert_int_equal(gxc_targets_parse("h:7000,h_7000", NULL, &l, why,
                                     sizeof why), 0);
  assert_int_equal(gxc_targets_stem_clash(&l, &a, &b), 1);
  assert_int_equal(a, 0);
  assert_int_equal(b, 1);
  gxc_targets_free(&l);
}

static int setup(void **state) {
  const char *t = getenv("TEST_TMPDIR");
  (void)state;
  snprintf(dir, sizeof dir, "%s/targetsXXXXXX", t ? t : "/tmp");
  return mkdtemp(dir) ? 0 : -1;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(hosts_and_ports),
      cmocka_unit_test(hosts_with_ranges),
      cmocka_unit_test(hosts_malformed),
      cmocka_unit_test(empty_items),
      cmocka_unit_test(ipv6_literals),
      cmocka_unit_test(ipv6_malformed),
      cmocka_unit_test(unix_sockets),
      cmocka_unit_test(duplicates_folded),
      cmocka_unit_test(limit_of_targets),
      cmocka_unit_test(file_of_targets),
      cmocka_unit_test(file_errors),
      cmocka_unit_test(file_bounds),
      cmocka_unit_test(file_nesting),
      cmocka_unit_test(groups_expand),
      cmocka_unit_test(groups_errors),
      cmocka_unit_test(groups_default_file),
      cmocka_unit_test(groups_file_syntax),
      cmocka_unit_test(groups_depth),
      cmocka_unit_test(groups_and_files),
      cmocka_unit_test(dns_every_address),
      cmocka_unit_test(dns_errors),
      cmocka_unit_test(dns_default_resolver),
      cmocka_unit_test(exclusion),
      cmocka_unit_test(file_stems),
      cmocka_unit_test(stem_clashes),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
