/* lib/rpc_sniff.c: what counts as rapid-reset input. Frames are built
 * here as the attacker (tests/attack/rapid_reset.py) writes them; the
 * peeked window starts wherever gRPC stopped reading, mid-frame. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lib/rpc_internal.h"

static uint8_t buf[64 * 1024];
static size_t len;

static void frame(uint8_t type, uint8_t flags, uint32_t sid, size_t n) {
  uint8_t *p = buf + len;
  p[0] = (uint8_t)(n >> 16);
  p[1] = (uint8_t)(n >> 8);
  p[2] = (uint8_t)n;
  p[3] = type;
  p[4] = flags;
  p[5] = (uint8_t)(sid >> 24);
  p[6] = (uint8_t)(sid >> 16);
  p[7] = (uint8_t)(sid >> 8);
  p[8] = (uint8_t)sid;
  for (size_t i = 0; i < n; i++) p[9 + i] = (uint8_t)(0x41 + i % 26);
  len += 9 + n;
}

/* HEADERS (a 120-byte block) then RST_STREAM(CANCEL), @p n times, from
 * stream @p sid on; with @p data, a 40-byte DATA frame between them. */
static void pairs(uint32_t sid, int n, int data) {
  for (int i = 0; i < n; i++, sid += 2) {
    frame(1, 4, sid, 120);
    if (data) frame(0, 0, sid, 40);
    frame(3, 0, sid, 4);
    buf[len - 1] = 8; /* CANCEL */
  }
}

static void reset(void) {
  memset(buf, 0, sizeof buf);
  len = 0;
}

static void rapid_reset_is_evidence(void **state) {
  (void)state;
  reset();
  pairs(1, 200, 0);
  assert_true(rpc_rapid_reset_evidence(buf, len));
  /* the window starts and ends mid-frame */
  assert_true(rpc_rapid_reset_evidence(buf + 57, len - 57 - 30));
  /* a SETTINGS ACK and a WINDOW_UPDATE among them change nothing */
  reset();
  pairs(1, 50, 0);
  frame(4, 1, 0, 0);
  frame(8, 0, 0, 4);
  pairs(101, 50, 0);
  assert_true(rpc_rapid_reset_evidence(buf, len));
}

/* A client starting runs sends a DATA frame (its start message) on each
 * stream: never evidence, even when it also resets them all. */
static void streams_with_data_are_not(void **state) {
  (void)state;
  reset();
  pairs(1, 200, 1);
  assert_false(rpc_rapid_reset_evidence(buf, len));
  reset();
  pairs(1, 100, 0);
  frame(0, 0, 201, 100); /* one DATA frame is enough */
  pairs(203, 100, 0);
  assert_false(rpc_rapid_reset_evidence(buf, len));
}

static void too_few_or_garbage_are_not(void **state) {
  (void)state;
  reset();
  pairs(1, 15, 0);
  assert_false(rpc_rapid_reset_evidence(buf, len));
  reset();
  pairs(1, 16, 0);
  assert_true(rpc_rapid_reset_evidence(buf, len));
  /* no RST_STREAM header to align on */
  reset();
  for (int i = 0; i < 100; i++) frame(1, 4, 1 + 2 * (uint32_t)i, 120);
  assert_false(rpc_rapid_reset_evidence(buf, len));
  /* bytes that look like an RST header, followed by nonsense */
  reset();
  frame(3, 0, 1, 4);
  memset(buf + len, 0xff, 4000);
  len += 4000;
  assert_false(rpc_rapid_reset_evidence(buf, len));
  assert_false(rpc_rapid_reset_evidence(buf, 0));
  /* many other frames: resets are not most of them */
  reset();
  pairs(1, 20, 0);
  for (int i = 0; i < 10; i++) frame(6, 0, 0, 8); /* PINGs */
  assert_false(rpc_rapid_reset_evidence(buf, len));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(rapid_reset_is_evidence),
      cmocka_unit_test(streams_with_data_are_not),
      cmocka_unit_test(too_few_or_garbage_are_not),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
