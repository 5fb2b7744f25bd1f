/* Unit tests for client/cli/nodeset: expanding ClusterShell/pdsh ranges
 * (padding, several ranges, lists, limits, every malformed form with its
 * exact message) and folding names back (shapes, padding, a varying run
 * anywhere, two dimensions, round trips, truncation). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "client/cli/nodeset.h"

/* Expands @p pat expecting success; the names joined by ' '. */
static const char *expand(const char *pat) {
  static char joined[65536];
  gxc_names l = {0};
  char why[512] = "";
  size_t o = 0;
  if (gxc_nodeset_expand(pat, &l, why, sizeof why) != 0)
    fail_msg("expand('%s') failed: %s", pat, why);
  joined[0] = '\0';
  for (size_t i = 0; i < l.n && o < sizeof joined; i++)
    o += (size_t)snprintf(joined + o, sizeof joined - o, "%s%s",
                          i ? " " : "", l.v[i]);
  gxc_names_free(&l);
  return joined;
}

/* Expands @p pat expecting exactly the error @p want; the list given
 * is left as it was. */
static void expand_fails(const char *pat, const char *want) {
  gxc_names l = {0};
  char why[512] = "";
  assert_int_equal(gxc_names_add(&l, "before"), 0);
  assert_int_equal(gxc_nodeset_expand(pat, &l, why, sizeof why), -1);
  assert_string_equal(why, want);
  assert_int_equal(l.n, 1);
  assert_string_equal(l.v[0], "before");
  gxc_names_free(&l);
}

/* Folds the names of @p list (separated by ' ') into a string. */
static const char *fold(const char *list) {
  static char out[65536];
  char copy[65536];
  const char *v[8192];
  size_t n = 0;
  snprintf(copy, sizeof copy, "%s", list);
  for (char *t = strtok(copy, " "); t; t = strtok(NULL, " ")) v[n++] = t;
  size_t len = gxc_nodeset_fold(v, n, out, sizeof out);
  assert_int_equal(len, strlen(out));
  return out;
}

/* ------------------------------------------------------------ expand */

static void expand_plain_names(void **state) {
  (void)state;
  assert_string_equal(expand("x"), "x");
  assert_string_equal(expand("node07"), "node07");
  assert_string_equal(expand("10.0.0.1"), "10.0.0.1");
}

static void expand_padding(void **state) {
  (void)state;
  assert_string_equal(expand("node[01-03]"), "node01 node02 node03");
  assert_string_equal(expand("n[8-11]"), "n8 n9 n10 n11");
  assert_string_equal(expand("n[08-11]"), "n08 n09 n10 n11");
  assert_string_equal(expand("n[098-101]"), "n098 n099 n100 n101");
  assert_string_equal(expand("n[1-01]"), "n1");
  assert_string_equal(expand("n[0]"), "n0");
  assert_string_equal(expand("n[00]"), "n00");
  /* 64 names, the last one node64 */
  const char *all = expand("node[01-64]");
  assert_int_equal(strlen(all), 64 * 6 + 63);
  assert_string_equal(all + strlen(all) - 13, "node63 node64");
}

static void expand_lists(void **state) {
  (void)state;
  assert_string_equal(expand("n[1,3,5-7]"), "n1 n3 n5 n6 n7");
  assert_string_equal(expand("n[3,1]"), "n3 n1");
  assert_string_equal(expand("n[1-2,01-02]"), "n1 n2 n01 n02");
}

static void expand_two_ranges(void **state) {
  (void)state;
  assert_string_equal(expand("rack[1-2]-n[1-3]"),
                      "rack1-n1 rack1-n2 rack1-n3 rack2-n1 rack2-n2 rack2-n3");
  assert_string_equal(expand("10.0.0.[1-3]"), "10.0.0.1 10.0.0.2 10.0.0.3");
  assert_string_equal(expand("[1-2]x[1,3]"), "1x1 1x3 2x1 2x3");
  assert_string_equal(expand("10.[0-1].0.[8-9]:7000"),
                      "10.0.0.8:7000 10.0.0.9:7000 10.1.0.8:7000 "
                      "10.1.0.9:7000");
}

static void expand_at_the_limit(void **state) {
  gxc_names l = {0};
  char why[256];
  (void)state;
  assert_int_equal(gxc_nodeset_expand("n[1-65536]", &l, why, sizeof why), 0);
  assert_int_equal(l.n, 65536);
  assert_string_equal(l.v[65535], "n65536");
  gxc_names_free(&l);
  assert_int_equal(gxc_nodeset_expand("a[1-256]b[1-256]", &l, why,
                                      sizeof why), 0);
  assert_int_equal(l.n, 65536);
  assert_string_equal(l.v[257], "a2b2");
  gxc_names_free(&l);
}

static void expand_over_the_limits(void **state) {
  char long_name[300];
  (void)state;
  expand_fails("n[1-65537]", "'n[1-65537]': position 2: more than 65536 "
                             "names");
  expand_fails("n[0-999999999]", "'n[0-999999999]': position 2: more than "
                                 "65536 names");
  expand_fails("a[1-256]b[1-257]", "'a[1-256]b[1-257]': position 10: more "
                                   "than 65536 names");
  expand_fails("n[1-1000000000]", "'n[1-1000000000]': position 5: number "
                                  "longer than 9 digits");
  memset(long_name, 'a', 254);
  memcpy(long_name + 254, "[1-2]", 6);
  assert_int_equal(strlen(strchr(expand(long_name), ' ') + 1), 255);
  memcpy(long_name + 254, "[9-10]", 7);
  char want[512];
  snprintf(want, sizeof want, "'%.200s...': position 255: names longer than "
                              "255 bytes", long_name);
  expand_fails(long_name, want);
}

static void expand_malformed(void **state) {
  (void)state;
  expand_fails("node[3-1]", "'node[3-1]': position 6: range 3-1 goes "
                            "backwards");
  expand_fails("n[1,10-09]", "'n[1,10-09]': position 5: range 10-09 goes "
                             "backwards");
  expand_fails("node[1-", "'node[1-': position 5: unclosed '['");
  expand_fails("node[1-2", "'node[1-2': position 5: unclosed '['");
  expand_fails("a[1]b[2", "'a[1]b[2': position 6: unclosed '['");
  expand_fails("node1-2]", "'node1-2]': position 8: ']' without '['");
  expand_fails("n[]", "'n[]': position 3: expected a number");
  expand_fails("n[1-]", "'n[1-]': position 5: expected a number");
  expand_fails("n[,1]", "'n[,1]': position 3: expected a number");
  expand_fails("n[1,]", "'n[1,]': position 5: expected a number");
  expand_fails("n[a-b]", "'n[a-b]': position 3: expected a number");
  expand_fails("n[1[2]]", "'n[1[2]]': position 4: '[' inside a range");
  expand_fails("n[1x]", "'n[1x]': position 4: expected ',', '-' or ']'");
  expand_fails("n[1--2]", "'n[1--2]': position 5: expected a number");
  expand_fails("[fd00::1]", "'[fd00::1]': position 2: expected a number");
  expand_fails("", "'': position 1: empty pattern");
}

static void expand_error_quoting(void **state) {
  char big[5000];
  (void)state;
  expand_fails("n\x01[2-1]", "'n\\x01[2-1]': position 4: range 2-1 goes "
                             "backwards");
  memset(big, 'a', 4097);
  big[4097] = '\0';
  char want[512];
  snprintf(want, sizeof want, "'%.200s...': position 4097: pattern longer "
                              "than 4096 bytes", big);
  expand_fails(big, want);
}

static void expand_small_why(void **state) {
  gxc_names l = {0};
  char why[8];
  (void)state;
  assert_int_equal(gxc_nodeset_expand("n[2-1]", &l, why, sizeof why), -1);
  assert_string_equal(why, "'n[2-1]");
  assert_int_equal(gxc_nodeset_expand("n[2-1]", &l, NULL, 0), -1);
}

static void names_list(void **state) {
  gxc_names l = {0};
  (void)state;
  for (int i = 0; i < 100; i++) assert_int_equal(gxc_names_add(&l, "x"), 0);
  assert_int_equal(l.n, 100);
  gxc_names_truncate(&l, 3);
  assert_int_equal(l.n, 3);
  gxc_names_free(&l);
  assert_int_equal(l.n, 0);
  assert_null(l.v);
  assert_int_equal(gxc_names_add(&l, "y"), 0);
  assert_string_equal(l.v[0], "y");
  gxc_names_free(&l);
}

/* -------------------------------------------------------------- fold */

static void fold_one_range(void **state) {
  char names[2048] = "";
  (void)state;
  for (int i = 1; i <= 40; i++)
    snprintf(names + strlen(names), sizeof names - strlen(names),
             "node%02d ", i);
  snprintf(names + strlen(names), sizeof names - strlen(names), "node42");
  assert_string_equal(fold(names), "node[01-40,42]");
  assert_string_equal(fold("node3 node1 node2"), "node[1-3]");
  assert_string_equal(fold("n1"), "n1");
  assert_string_equal(fold("n1 n3"), "n[1,3]");
  assert_string_equal(fold("n9 n10 n11"), "n[9-11]");
  assert_string_equal(fold("n09 n10 n11"), "n[09-11]");
}

static void fold_keeps_padding(void **state) {
  (void)state;
  assert_string_equal(fold("node1 node01"), "node[1,01]");
  assert_string_equal(fold("n1 n2 n01 n02"), "n[1-2,01-02]");
  assert_string_equal(fold("n9 n09 n10"), "n[9-10,09]");
}

static void fold_no_digits_and_duplicates(void **state) {
  (void)state;
  assert_string_equal(fold("beta alpha beta"), "alpha,beta");
  assert_string_equal(fold("n1 n1 n2 n2"), "n[1-2]");
  assert_string_equal(fold("web db1 db2 web"), "db[1-2],web");
  assert_string_equal(fold(""), "");
}

static void fold_any_run(void **state) {
  (void)state;
  assert_string_equal(fold("10.214.0.5:7443 10.214.0.6:7443 "
                           "10.214.0.7:7443"),
                      "10.214.0.[5-7]:7443");
  char names[4096] = "";
  for (int i = 1; i <= 16; i++)
    snprintf(names + strlen(names), sizeof names - strlen(names),
             "10.214.0.%d ", i);
  assert_string_equal(fold(names), "10.214.0.[1-16]");
  assert_string_equal(fold("a1b5 a2b5 a3b5"), "a[1-3]b5");
}

static void fold_two_dimensions(void **state) {
  char names[4096] = "";
  (void)state;
  for (int r = 1; r <= 2; r++)
    for (int n = 1; n <= 8; n++)
      snprintf(names + strlen(names), sizeof names - strlen(names),
               "rack%d-n%d ", r, n);
  assert_string_equal(fold(names), "rack[1-2]-n[1-8]");
  assert_string_equal(fold("r1n1 r1n2 r2n1"), "r1n[1-2],r2n1");
  assert_string_equal(fold("a1b1 a2b1 a3b1 a1b2"), "a[1-3]b1,a1b2");
}

static void fold_order(void **state) {
  (void)state;
  assert_string_equal(fold("n10 m2 n2 a"), "a,m2,n[2,10]");
  assert_string_equal(fold("x2y1 x1y9"), "x1y9,x2y1");
  assert_string_equal(fold("n n1"), "n,n1");
  /* a run longer than 9 digits is constant text */
  assert_string_equal(fold("a1234567890 a1234567891"),
                      "a1234567890,a1234567891");
}

static void fold_truncates(void **state) {
  const char *v[] = {"node1", "node2", "web"};
  char out[16];
  (void)state;
  assert_int_equal(gxc_nodeset_fold(v, 3, out, 8), 13);
  assert_string_equal(out, "node...");
  assert_int_equal(gxc_nodeset_fold(v, 3, out, 3), 13);
  assert_string_equal(out, "..");
  assert_int_equal(gxc_nodeset_fold(v, 3, NULL, 0), 13);
  assert_int_equal(gxc_nodeset_fold(v, 3, out, 14), 13);
  assert_string_equal(out, "node[1-2],web");
}

/* expand(fold(x)) is x as a sorted set: a name list of each shape. */
static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void round_trip(const char *const *names, size_t n) {
  char text[65536], why[512];
  gxc_names back = {0}, want = {0};
  gxc_nodeset_fold(names, n, text, sizeof text);
  /* split at the commas outside brackets */
  char *p = text, *start = text;
  int depth = 0;
  for (;; p++) {
    if (*p == '[') depth++;
    if (*p == ']') depth--;
    if ((*p == ',' && depth == 0) || *p == '\0') {
      char end = *p;
      *p = '\0';
      if (gxc_nodeset_expand(start, &back, why, sizeof why) != 0)
        fail_msg("%s", why);
      if (end == '\0') break;
      start = p + 1;
    }
  }
  for (size_t i = 0; i < n; i++) assert_int_equal(gxc_names_add(&want, names[i]), 0);
  qsort(want.v, want.n, sizeof *want.v, cmp_str);
  size_t u = 0;
  for (size_t i = 0; i < want.n; i++)
    if (u == 0 || strcmp(want.v[i], want.v[u - 1]) != 0) {
      char *t = want.v[u];
      want.v[u++] = want.v[i];
      want.v[i] = t;
    }
  qsort(back.v, back.n, sizeof *back.v, cmp_str);
  assert_int_equal(back.n, u);
  for (size_t i = 0; i < u; i++) assert_string_equal(back.v[i], want.v[i]);
  gxc_names_free(&back);
  gxc_names_free(&want);
}

static void fold_round_trips(void **state) {
  gxc_names l = {0};
  char why[256];
  const char *pats[] = {
      "node[01-40,42]",  "rack[1-3]-n[1-8,10]", "10.214.[0-1].[1-16]",
      "n[1-5,01-03,7]",  "a[1-3]b[2,4]c[5-6]",   "10.0.0.[9-12]:7443",
      "x[098-102]y",     "db[1-2]",
  };
  (void)state;
  for (size_t i = 0; i < sizeof pats / sizeof *pats; i++)
    assert_int_equal(gxc_nodeset_expand(pats[i], &l, why, sizeof why), 0);
  assert_int_equal(gxc_names_add(&l, "web"), 0);
  assert_int_equal(gxc_names_add(&l, "node07"), 0); /* a duplicate */
  round_trip((const char *const *)l.v, l.n);
  /* each shape alone, and reversed */
  for (size_t i = 0; i < sizeof pats / sizeof *pats; i++) {
    gxc_names one = {0};
    assert_int_equal(gxc_nodeset_expand(pats[i], &one, why, sizeof why), 0);
    round_trip((const char *const *)one.v, one.n);
    for (size_t a = 0, b = one.n - 1; a < b; a++, b--) {
      char *t = one.v[a];
      one.v[a] = one.v[b];
      one.v[b] = t;
    }
    round_trip((const char *const *)one.v, one.n);
    gxc_names_free(&one);
  }
  gxc_names_free(&l);
}

/* A random subset of a 3-dimensional grid still round-trips. */
static void fold_round_trip_random(void **state) {
  gxc_names l = {0};
  char name[64];
  unsigned seed = 12345;
  (void)state;
  for (int round = 0; round < 20; round++) {
    for (int a = 0; a < 4; a++)
      for (int b = 0; b < 6; b++)
        for (int c = 8; c < 14; c++) {
          seed = seed * 1103515245u + 12345u;
          if ((seed >> 16) % 3 == 0) continue;
          snprintf(name, sizeof name, "r%d-s%02d-n%d", a, b, c);
          assert_int_equal(gxc_names_add(&l, name), 0);
        }
    round_trip((const char *const *)l.v, l.n);
    gxc_names_free(&l);
  }
}

static void fold_shortest_of_two_orders(void **state) {
  (void)state;
  /* the last run first: "a1b[1-2],a[2-3]b1"; the first run first is
   * shorter */
  assert_string_equal(fold("a1b1 a2b1 a3b1 a1b2"), "a[1-3]b1,a1b2");
  /* the first run first: "b1a[1-3],b2a1"; the last run first is shorter */
  assert_string_equal(fold("b1a1 b1a2 b1a3 b2a1"), "b1a[1-3],b2a1");
  /* a tie (17 bytes each way): the last run first */
  assert_string_equal(fold("a1b1 a2b1 a1b2 a2b2 a3b1"),
                      "a[1-2]b[1-2],a3b1");
}

/* The largest expansions fold back, in linear-logarithmic time (a
 * quadratic union would take minutes here). */
static void fold_large(void **state) {
  gxc_names l = {0};
  char why[256], out[256];
  (void)state;
  assert_int_equal(gxc_nodeset_expand("node[00001-65536]", &l, why,
                                      sizeof why), 0);
  assert_int_equal(gxc_nodeset_fold((const char *const *)l.v, l.n, out,
                                    sizeof out), 17);
  assert_string_equal(out, "node[00001-65536]");
  gxc_names_free(&l);
  assert_int_equal(gxc_nodeset_expand("10.1.[0-255].[1-256]:7443", &l, why,
                                      sizeof why), 0);
  gxc_nodeset_fold((const char *const *)l.v, l.n, out, sizeof out);
  assert_string_equal(out, "10.1.[0-255].[1-256]:7443");
  gxc_names_free(&l);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(expand_plain_names),
      cmocka_unit_test(expand_padding),
      cmocka_unit_test(expand_lists),
      cmocka_unit_test(expand_two_ranges),
      cmocka_unit_test(expand_at_the_limit),
      cmocka_unit_test(expand_over_the_limits),
      cmocka_unit_test(expand_malformed),
      cmocka_unit_test(expand_error_quoting),
      cmocka_unit_test(expand_small_why),
      cmocka_unit_test(names_list),
      cmocka_unit_test(fold_one_range),
      cmocka_unit_test(fold_keeps_padding),
      cmocka_unit_test(fold_no_digits_and_duplicates),
      cmocka_unit_test(fold_any_run),
      cmocka_unit_test(fold_two_dimensions),
      cmocka_unit_test(fold_order),
      cmocka_unit_test(fold_truncates),
      cmocka_unit_test(fold_round_trips),
      cmocka_unit_test(fold_round_trip_random),
      cmocka_unit_test(fold_shortest_of_two_orders),
      cmocka_unit_test(fold_large),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
