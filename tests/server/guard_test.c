/* server/guard: per-connection and per-identity accounting, exact
 * verdicts for given limits and times. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "server/guard.h"

#define MS 1000000ull /* ns */

static gxd_guard *make(uint32_t runs, uint32_t id_runs, uint32_t pending,
                       uint32_t burst, uint32_t rate, uint32_t entries) {
  gxd_guard_limits l = {.max_runs = runs,
                        .max_identity_runs = id_runs,
                        .max_conn_pending = pending,
                        .stream_burst = burst,
                        .stream_rate = rate,
                        .max_entries = entries};
  gxd_guard *g = NULL;
  assert_int_equal(gxd_guard_new(&l, &g), 0);
  return g;
}

/* A burst of B with no refill: B pass, B-1 refused, the 2B-th and every
 * later stream condemn the connection; other connections unaffected. */
static void test_rate_burst_then_cut(void **state) {
  (void)state;
  gxd_guard *g = make(0, 0, 0, 3, 0, 0);
  const gxd_guard_verdict want[] = {GXD_GUARD_OK,   GXD_GUARD_OK,
                                    GXD_GUARD_OK,   GXD_GUARD_RATE,
                                    GXD_GUARD_RATE, GXD_GUARD_CUT,
                                    GXD_GUARD_CUT};
  for (size_t i = 0; i < sizeof want / sizeof *want; i++)
    assert_int_equal(gxd_guard_stream(g, "conn:1", 0), want[i]);
  assert_true(gxd_guard_is_cut(g, "conn:1"));
  assert_false(gxd_guard_is_cut(g, "conn:2"));
  assert_int_equal(gxd_guard_stream(g, "conn:2", 0), GXD_GUARD_OK);
  /* condemned for good, however long it waits */
  assert_int_equal(gxd_guard_stream(g, "conn:1", 3600000 * MS),
                   GXD_GUARD_CUT);
  gxd_guard_free(g);
}

/* A debt D: B pass, then D-1 are refused, the (B+D)-th condemns. */
static void test_rate_debt(void **state) {
  (void)state;
  gxd_guard_limits l = {.stream_burst = 2, .stream_debt = 5};
  gxd_guard *g = NULL;
  assert_int_equal(gxd_guard_new(&l, &g), 0);
  for (int i = 1; i <= 8; i++)
    assert_int_equal(gxd_guard_stream(g, "c", 0),
                     i <= 2 ? GXD_GUARD_OK
                            : i < 7 ? GXD_GUARD_RATE : GXD_GUARD_CUT);
  gxd_guard_free(g);
}

/* Tokens come back at the rate: 1000/s is one per millisecond. */
static void test_rate_refill(void **state) {
  (void)state;
  gxd_guard *g = make(0, 0, 0, 2, 1000, 0);
  assert_int_equal(gxd_guard_stream(g, "c", 0), GXD_GUARD_OK);
  assert_int_equal(gxd_guard_stream(g, "c", 0), GXD_GUARD_OK);
  assert_int_equal(gxd_guard_stream(g, "c", 0), GXD_GUARD_RATE); /* -1 */
  assert_int_equal(gxd_guard_stream(g, "c", 1 * MS), GXD_GUARD_RATE);
  /* 3 ms: -1 -1 +3 = 1 token */
  assert_int_equal(gxd_guard_stream(g, "c", 3 * MS), GXD_GUARD_OK);
  assert_int_equal(gxd_guard_stream(g, "c", 3 * MS), GXD_GUARD_RATE);
  /* never more than the burst, however long the pause */
  assert_int_equal(gxd_guard_stream(g, "c", 10000 * MS), GXD_GUARD_OK);
  assert_int_equal(gxd_guard_stream(g, "c", 10000 * MS), GXD_GUARD_OK);
  assert_int_equal(gxd_guard_stream(g, "c", 10000 * MS), GXD_GUARD_RATE);
  gxd_guard_free(g);
}

/* Many refills too small to make a thousandth of a token each add up
 * exactly: 500/s over 2000 steps of 1 us is 1 token, not 0. */
static void test_refill_no_rounding_loss(void **state) {
  (void)state;
  gxd_guard *g = make(0, 0, 0, 1, 500, 0);
  assert_int_equal(gxd_guard_stream(g, "c", 0), GXD_GUARD_OK); /* empty */
  for (uint64_t us = 1; us < 2000; us++) gxd_guard_sweep(g, us * 1000);
  assert_int_equal(gxd_guard_entries(g), 1); /* 0.9995 of a token */
  gxd_guard_sweep(g, 2000 * 1000);
  assert_int_equal(gxd_guard_entries(g), 0); /* full again: freed */
  gxd_guard_free(g);
}

/* The daemon's defaults' purpose: a fan-out of 1000 runs opened at once
 * on one connection passes; a rapid reset at 50,000 streams/s is cut
 * within half a second, after about 2000 admitted. */
static void test_fanout_passes_rapid_reset_cut(void **state) {
  (void)state;
  gxd_guard_limits l = {.max_runs = 1024,
                        .max_identity_runs = 1024,
                        .max_conn_pending = 1024,
                        .stream_burst = 2000,
                        .stream_rate = 1000,
                        .stream_debt = 20000};
  gxd_guard *g = NULL;
  assert_int_equal(gxd_guard_new(&l, &g), 0);
  gxd_guard_slot slots[1000];
  memset(slots, 0, sizeof slots);
  for (int i = 0; i < 1000; i++) {
    assert_int_equal(gxd_guard_stream(g, "conn:fan", 5 * MS), GXD_GUARD_OK);
    assert_int_equal(gxd_guard_open(g, "conn:fan", "uid:1000", 5 * MS,
                                    &slots[i]),
                     GXD_GUARD_OK);
  }
  for (int i = 0; i < 1000; i++)
    assert_int_equal(gxd_guard_start(g, &slots[i]), GXD_GUARD_OK);
  assert_int_equal(gxd_guard_runs(g), 1000);
  int admitted = 0, n = 0;
  uint64_t t = 0;
  gxd_guard_verdict v = GXD_GUARD_OK;
  for (; n < 100000 && v != GXD_GUARD_CUT; n++, t += 20000) {
    v = gxd_guard_stream(g, "conn:evil", t);
    admitted += v == GXD_GUARD_OK;
  }
  assert_int_equal(v, GXD_GUARD_CUT);
  assert_true(t < 500 * MS);
  assert_in_range(admitted, 2000, 2500);
  for (int i = 0; i < 1000; i++) gxd_guard_close(g, &slots[i]);
  assert_int_equal(gxd_guard_runs(g), 0);
  gxd_guard_free(g);
}

/* max_conn_pending is per connection; a close frees a place. */
static void test_pending_per_connection(void **state) {
  (void)state;
  gxd_guard *g = make(0, 0, 2, 0, 0, 0);
  gxd_guard_slot a = {0}, b = {0}, c = {0}, d = {0};
  assert_int_equal(gxd_guard_open(g, "c1", "id", 0, &a), GXD_GUARD_OK);
  assert_int_equal(gxd_guard_open(g, "c1", "id", 0, &b), GXD_GUARD_OK);
  assert_int_equal(gxd_guard_open(g, "c1", "id", 0, &c), GXD_GUARD_PENDING);
  assert_null(c.conn);
  assert_int_equal(c.state, 0);
  assert_int_equal(gxd_guard_open(g, "c2", "id", 0, &d), GXD_GUARD_OK);
  gxd_guard_close(g, &a);
  assert_int_equal(gxd_guard_open(g, "c1", "id", 0, &c), GXD_GUARD_OK);
  /* a started stream no longer waits: it frees its place too */
  assert_int_equal(gxd_guard_start(g, &b), GXD_GUARD_OK);
  assert_int_equal(gxd_guard_open(g, "c1", "id", 0, &a), GXD_GUARD_OK);
  gxd_guard_close(g, &a);
  gxd_guard_close(g, &b);
  gxd_guard_close(g, &c);
  gxd_guard_close(g, &d);
  assert_int_equal(gxd_guard_entries(g), 0);
  gxd_guard_free(g);
}

/* An identity's share and the total: a run refused at start stays
 * pending until closed; closing a run frees its place. */
static void test_identity_share_and_total(void **state) {
  (void)state;
  gxd_guard *g = make(3, 2, 0, 0, 0, 0);
  gxd_guard_slot a[3], b[2];
  memset(a, 0, sizeof a);
  memset(b, 0, sizeof b);
  for (int i = 0; i < 3; i++)
    assert_int_equal(gxd_guard_open(g, "ca", "spiffe://x/a", 0, &a[i]),
                     GXD_GUARD_OK);
  for (int i = 0; i < 2; i++)
    assert_int_equal(gxd_guard_open(g, "cb", "spiffe://x/b", 0, &b[i]),
                     GXD_GUARD_OK);
  assert_int_equal(gxd_guard_start(g, &a[0]), GXD_GUARD_OK);
  assert_int_equal(gxd_guard_start(g, &a[1]), GXD_GUARD_OK);
  assert_int_equal(gxd_guard_start(g, &a[2]), GXD_GUARD_IDENTITY);
  assert_int_equal(a[2].state, 1);
  assert_int_equal(gxd_guard_start(g, &b[0]), GXD_GUARD_OK);
  assert_int_equal(gxd_guard_start(g, &b[1]), GXD_GUARD_SESSIONS);
  assert_int_equal(gxd_guard_runs(g), 3);
  gxd_guard_close(g, &a[0]);
  assert_int_equal(gxd_guard_start(g, &b[1]), GXD_GUARD_OK);
  assert_int_equal(gxd_guard_start(g, &a[2]), GXD_GUARD_SESSIONS);
  gxd_guard_close(g, &b[0]);
  assert_int_equal(gxd_guard_start(g, &a[2]), GXD_GUARD_OK);
  /* start on a run (or an empty slot) changes nothing */
  assert_int_equal(gxd_guard_start(g, &a[2]), GXD_GUARD_OK);
  assert_int_equal(gxd_guard_runs(g), 3);
  gxd_guard_close(g, &a[1]);
  gxd_guard_close(g, &a[2]);
  gxd_guard_close(g, &b[1]);
  gxd_guard_close(g, &b[1]); /* twice: the second does nothing */
  assert_int_equal(gxd_guard_runs(g), 0);
  assert_int_equal(gxd_guard_entries(g), 0);
  gxd_guard_free(g);
}

/* The red-team finding: 20 streams that never send start, on a 20-slot
 * daemon, from the same identity as everyone else: another connection
 * still gets a run, and all 20 slots. */
static void test_idle_streams_take_no_slots(void **state) {
  (void)state;
  gxd_guard *g = make(20, 20, 64, 0, 0, 0);
  gxd_guard_slot idle[20], other[20];
  memset(idle, 0, sizeof idle);
  memset(other, 0, sizeof other);
  for (int i = 0; i < 20; i++)
    assert_int_equal(gxd_guard_open(g, "conn:idle", "uid:0", 0, &idle[i]),
                     GXD_GUARD_OK);
  for (int i = 0; i < 20; i++) {
    assert_int_equal(gxd_guard_open(g, "conn:ok", "uid:0", 0, &other[i]),
                     GXD_GUARD_OK);
    assert_int_equal(gxd_guard_start(g, &other[i]), GXD_GUARD_OK);
  }
  assert_int_equal(gxd_guard_runs(g), 20);
  for (int i = 0; i < 20; i++) {
    gxd_guard_close(g, &idle[i]);
    gxd_guard_close(g, &other[i]);
  }
  gxd_guard_free(g);
}

/* Entries exist only while they hold something. */
static void test_entries_freed(void **state) {
  (void)state;
  gxd_guard *g = make(0, 0, 0, 10, 1000, 0);
  gxd_guard_slot s = {0};
  assert_int_equal(gxd_guard_open(g, "c", "i", 0, &s), GXD_GUARD_OK);
  assert_int_equal(gxd_guard_entries(g), 2); /* the connection, the id */
  assert_int_equal(gxd_guard_start(g, &s), GXD_GUARD_OK);
  assert_int_equal(gxd_guard_entries(g), 1); /* the run's identity */
  gxd_guard_close(g, &s);
  assert_int_equal(gxd_guard_entries(g), 0);
  /* a bucket not full yet is kept until it is */
  assert_int_equal(gxd_guard_stream(g, "c", 0), GXD_GUARD_OK);
  gxd_guard_sweep(g, 0);
  assert_int_equal(gxd_guard_entries(g), 1);
  gxd_guard_sweep(g, 1 * MS);
  assert_int_equal(gxd_guard_entries(g), 0);
  /* a condemned connection is remembered for a minute after its last
   * stream, then forgotten */
  for (int i = 0; i < 20; i++) gxd_guard_stream(g, "bad", 0);
  assert_int_equal(gxd_guard_stream(g, "bad", 5000 * MS), GXD_GUARD_CUT);
  gxd_guard_sweep(g, 5000 * MS + GXD_GUARD_CUT_LINGER_NS - 1);
  assert_true(gxd_guard_is_cut(g, "bad"));
  gxd_guard_sweep(g, 5000 * MS + GXD_GUARD_CUT_LINGER_NS);
  assert_int_equal(gxd_guard_entries(g), 0);
  gxd_guard_free(g);
}

/* The table is capped; a full one is swept before refusing, and a
 * fruitless sweep is not repeated for 100 ms. */
static void test_entry_cap(void **state) {
  (void)state;
  gxd_guard *g = make(0, 0, 0, 5, 1000, 4);
  gxd_guard_slot s[2] = {{0}, {0}};
  assert_int_equal(gxd_guard_open(g, "c1", "i1", 0, &s[0]), GXD_GUARD_OK);
  assert_int_equal(gxd_guard_open(g, "c2", "i2", 0, &s[1]), GXD_GUARD_OK);
  assert_int_equal(gxd_guard_entries(g), 4);
  assert_int_equal(gxd_guard_stream(g, "c3", 0), GXD_GUARD_FULL);
  assert_int_equal(gxd_guard_open(g, "c3", "i1", 0, &s[0]), GXD_GUARD_FULL);
  gxd_guard_close(g, &s[1]);
  assert_int_equal(gxd_guard_entries(g), 2);
  assert_int_equal(gxd_guard_stream(g, "c3", 0), GXD_GUARD_OK);
  assert_int_equal(gxd_guard_stream(g, "c4", 0), GXD_GUARD_OK);
  /* full of buckets that refill: swept only once the gap has passed */
  assert_int_equal(gxd_guard_stream(g, "c5", 1 * MS), GXD_GUARD_FULL);
  assert_int_equal(gxd_guard_stream(g, "c5", 50 * MS), GXD_GUARD_FULL);
  assert_int_equal(gxd_guard_stream(g, "c5", 101 * MS), GXD_GUARD_OK);
  gxd_guard_close(g, &s[0]);
  gxd_guard_free(g);
}

/* Keys are bounded; connections and identities are separate names. */
static void test_keys(void **state) {
  (void)state;
  static char big[GXD_GUARD_KEY_MAX + 2];
  gxd_guard *g = make(0, 0, 1, 1, 0, 0);
  gxd_guard_slot s = {0}, t = {0};
  memset(big, 'k', GXD_GUARD_KEY_MAX + 1);
  assert_int_equal(gxd_guard_stream(g, big, 0), GXD_GUARD_FULL);
  assert_int_equal(gxd_guard_open(g, big, "i", 0, &s), GXD_GUARD_FULL);
  assert_int_equal(gxd_guard_open(g, "c", big, 0, &s), GXD_GUARD_FULL);
  assert_int_equal(gxd_guard_entries(g), 0);
  big[GXD_GUARD_KEY_MAX] = '\0'; /* exactly the maximum */
  assert_int_equal(gxd_guard_stream(g, big, 0), GXD_GUARD_OK);
  assert_int_equal(gxd_guard_stream(g, big, 0), GXD_GUARD_CUT);
  /* "x" as a connection and "x" as an identity do not mix */
  assert_int_equal(gxd_guard_open(g, "x", "x", 0, &s), GXD_GUARD_OK);
  assert_int_equal(gxd_guard_entries(g), 3);
  assert_int_equal(gxd_guard_open(g, "x", "y", 0, &t), GXD_GUARD_PENDING);
  gxd_guard_close(g, &s);
  gxd_guard_free(g);
}

/* stream_burst 0: no rate limit, nothing stored. */
static void test_no_rate_limit(void **state) {
  (void)state;
  gxd_guard *g = make(0, 0, 0, 0, 0, 0);
  for (int i = 0; i < 100000; i++)
    assert_int_equal(gxd_guard_stream(g, "c", 0), GXD_GUARD_OK);
  assert_int_equal(gxd_guard_entries(g), 0);
  assert_false(gxd_guard_is_cut(g, "c"));
  gxd_guard_free(g);
}

/* A connection's tag is set once, taken once, and goes with its entry. */
static void test_tags(void **state) {
  (void)state;
  char out[64] = "untouched";
  gxd_guard *g = make(0, 0, 0, 2, 1000, 0);
  assert_int_equal(gxd_guard_set_tag(g, "c", "ipv4:127.0.0.1:5"), -1);
  assert_int_equal(gxd_guard_take_tag(g, "c", out, sizeof out), -1);
  assert_string_equal(out, "untouched");
  assert_int_equal(gxd_guard_stream(g, "c", 0), GXD_GUARD_OK);
  assert_int_equal(gxd_guard_take_tag(g, "c", out, sizeof out), -1);
  assert_int_equal(gxd_guard_set_tag(g, "c", "ipv4:127.0.0.1:5"), 0);
  assert_int_equal(gxd_guard_set_tag(g, "c", "other"), 0); /* kept */
  assert_int_equal(gxd_guard_take_tag(g, "c", out, 8), 0);
  assert_string_equal(out, "ipv4:12"); /* bounded */
  assert_int_equal(gxd_guard_take_tag(g, "c", out, sizeof out), 0);
  assert_string_equal(out, ""); /* taken */
  assert_int_equal(gxd_guard_set_tag(g, "c", "again"), 0);
  assert_int_equal(gxd_guard_take_tag(g, "c", out, sizeof out), 0);
  assert_string_equal(out, "");
  gxd_guard_sweep(g, 1 * MS); /* full again: gone, and its tag */
  assert_int_equal(gxd_guard_take_tag(g, "c", out, sizeof out), -1);
  assert_int_equal(gxd_guard_stream(g, "c", 1 * MS), GXD_GUARD_OK);
  assert_int_equal(gxd_guard_set_tag(g, "c", "t"), 0);
  gxd_guard_free(g); /* frees the tag too (LeakSanitizer) */
}

static void test_reasons(void **state) {
  (void)state;
  for (int v = GXD_GUARD_SESSIONS; v <= GXD_GUARD_FULL; v++) {
    const char *r = gxd_guard_reason((gxd_guard_verdict)v);
    assert_true(strlen(r) > 10);
    for (int w = GXD_GUARD_SESSIONS; w < v; w++)
      assert_string_not_equal(r, gxd_guard_reason((gxd_guard_verdict)w));
  }
  assert_string_equal(gxd_guard_reason(GXD_GUARD_CUT),
                      "this connection kept opening streams far over the "
                      "rate and was cut off");
}

static void test_describe(void **state) {
  (void)state;
  char buf[200];
  gxd_guard *g = make(20, 5, 64, 2000, 1000, 0);
  assert_string_equal(gxd_guard_describe(g, GXD_GUARD_SESSIONS, buf, sizeof buf),
                      "gexecd is at its session limit (20 runs); retry later");
  assert_string_equal(gxd_guard_describe(g, GXD_GUARD_IDENTITY, buf, sizeof buf),
                      "this caller holds its share of the session slots (5 "
                      "runs); retry later");
  assert_string_equal(
      gxd_guard_describe(g, GXD_GUARD_PENDING, buf, sizeof buf),
      "too many streams on this connection are waiting to send their start "
      "message (64 streams); retry later");
  assert_string_equal(gxd_guard_describe(g, GXD_GUARD_RATE, buf, sizeof buf),
                      "this connection opens new streams too fast (1000 a "
                      "second); retry later");
  assert_string_equal(gxd_guard_describe(g, GXD_GUARD_CUT, buf, sizeof buf),
                      gxd_guard_reason(GXD_GUARD_CUT));
  assert_string_equal(gxd_guard_describe(g, GXD_GUARD_SESSIONS, buf, 8),
                      "gexecd ");
  gxd_guard_free(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rate_burst_then_cut),
      cmocka_unit_test(test_rate_debt),
      cmocka_unit_test(test_rate_refill),
      cmocka_unit_test(test_refill_no_rounding_loss),
      cmocka_unit_test(test_fanout_passes_rapid_reset_cut),
      cmocka_unit_test(test_pending_per_connection),
      cmocka_unit_test(test_identity_share_and_total),
      cmocka_unit_test(test_idle_streams_take_no_slots),
      cmocka_unit_test(test_entries_freed),
      cmocka_unit_test(test_entry_cap),
      cmocka_unit_test(test_keys),
      cmocka_unit_test(test_no_rate_limit),
      cmocka_unit_test(test_tags),
      cmocka_unit_test(test_reasons),
      cmocka_unit_test(test_describe),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
