/* Unit tests for server/session's lifecycle on a bare uv loop
 * (session_fixture.h): draining, the drain's bound, when a session is
 * freed, and the session slots taken at start. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lib/gx_err.h"
#include "server/guard.h"
#include "server/log.h"
#include "tests/server/session_fixture.h"

/* ----------------------------------------------------------- lifecycle */

/* Draining: a stream without start is refused UNAVAILABLE at once; a
 * launching run is killed at once and ends UNAVAILABLE; a running one
 * gets its grace and its client still gets `exited`. */
static void stop_all_while_draining(void **state) {
  gxt_req r;
  gxd_child *running_ch;
  (void)state;
  req(&r);
  gx_rpc_call *waiting = open_stream();
  gx_rpc_call *launching = open_run(&r);
  gxd_child *launching_ch = fake_child_last;
  gx_rpc_call *run = running(&r, &running_ch);
  gxd_session_stop_all(&sfx_ctx);
  expect_status(waiting, GX_STATUS_UNAVAILABLE, "gexecd is shutting down");
  assert_int_equal(launching_ch->nstops, 1);
  assert_int_equal(launching_ch->stops[0], 0);
  assert_int_equal(running_ch->nstops, 1);
  assert_int_equal(running_ch->stops[0], 5000);
  killed(launching_ch, 9, 0);
  expect_status(launching, GX_STATUS_UNAVAILABLE, "gexecd is shutting down");
  fake_child_output(running_ch, 1, "bye", 3); /* still sent */
  killed(running_ch, 15, 0);
  fake_call_sent(run, 1);
  expect_chunk(run, 1, 1, "bye");
  assert_int_equal(fake_call_kind(run, 2), EV(EXITED));
  expect_status(run, GX_STATUS_OK, "");
  end_run(waiting, NULL);
  end_run(launching, launching_ch);
  end_run(run, running_ch);
}

/* The drain's bound (daemon.c): the longest grace among the runs whose
 * command runs; a launching run (killed at once) and a reaped one count
 * for nothing. */
static void max_grace_of_running_runs(void **state) {
  gxt_req r1, r2, r3;
  gxd_child *a, *b;
  (void)state;
  assert_int_equal(gxd_session_max_grace(&sfx_ctx), 0);
  req(&r1);
  r1.s.kill_grace_ms = 300;
  gx_rpc_call *c1 = running(&r1, &a);
  req(&r2);
  r2.s.kill_grace_ms = 900;
  gx_rpc_call *c2 = running(&r2, &b);
  req(&r3);
  r3.s.kill_grace_ms = 60000;
  gx_rpc_call *launching = open_run(&r3);
  gxd_child *l = fake_child_last;
  assert_int_equal(gxd_session_max_grace(&sfx_ctx), 900);
  exit_code(b, 0);
  assert_int_equal(gxd_session_max_grace(&sfx_ctx), 300);
  exit_code(a, 0);
  assert_int_equal(gxd_session_max_grace(&sfx_ctx), 0);
  fake_call_cancel(launching);
  killed(l, 9, 0);
  end_run(c1, a);
  end_run(c2, b);
  end_run(launching, l);
}

/* The session goes only when gRPC is done with the call and the child
 * finished closing, in either order. */
static void freed_after_call_and_child(void **state) {
  gxt_req r;
  gxd_child *ch;
  (void)state;
  req(&r);
  gx_rpc_call *c = running(&r, &ch);
  exit_code(ch, 0);
  fake_call_end(c);
  uv_run(&sfx_loop, UV_RUN_NOWAIT);
  assert_int_equal(sfx_ctx.allocated, 1); /* the child is still closing */
  fake_child_closed(ch);
  uv_run(&sfx_loop, UV_RUN_NOWAIT);
  assert_int_equal(sfx_ctx.allocated, 0);
  fake_call_free(c);
  c = running(&r, &ch);
  exit_code(ch, 0);
  fake_child_closed(ch);
  uv_run(&sfx_loop, UV_RUN_NOWAIT);
  assert_int_equal(sfx_ctx.allocated, 1); /* gRPC still has the call */
  fake_call_end(c);
  uv_run(&sfx_loop, UV_RUN_NOWAIT);
  assert_int_equal(sfx_ctx.allocated, 0);
  fake_call_free(c);
}

/* Opens a stream holding a place in @p g (as the daemon's on_call). */
static gx_rpc_call *open_guarded(gxd_guard *g, const char *conn) {
  gxd_guard_slot slot = {0};
  assert_int_equal(gxd_guard_open(g, conn, "anonymous", 0, &slot),
                   GXD_GUARD_OK);
  gx_rpc_call *c = fake_call_new();
  session_start_slot(c, &slot);
  return c;
}

/* Session slots are taken at the start message, not when the stream
 * opens: two waiting streams on a one-slot daemon; the first to start
 * runs, the second is refused with the limit; each gives its place back
 * with its status. */
static void slots_taken_at_start(void **state) {
  gxt_req r;
  gxd_guard *g;
  gxd_guard_limits l = {.max_runs = 1, .max_conn_pending = 8};
  (void)state;
  assert_int_equal(gxd_guard_new(&l, &g), 0);
  sfx_ctx.guard = g;
  req(&r);
  gx_rpc_call *a = open_guarded(g, "conn:1"), *b = open_guarded(g, "conn:2");
  assert_int_equal(gxd_guard_runs(g), 0);
  send_start(a, &r);
  gxd_child *ch = fake_child_last;
  assert_non_null(ch);
  assert_int_equal(gxd_guard_runs(g), 1);
  fake_child_last = NULL;
  send_start(b, &r);
  assert_null(fake_child_last); /* nothing launched */
  expect_status(b, GX_STATUS_RESOURCE_EXHAUSTED,
                "gexecd is at its session limit (1 run); retry later");
  end_run(b, NULL);
  assert_int_equal(gxd_guard_entries(g), 1); /* a's identity */
  fake_call_cancel(a);
  killed(ch, 9, 0);
  expect_status(a, GX_STATUS_CANCELLED, "the client cancelled the run");
  assert_int_equal(gxd_guard_runs(g), 0);
  end_run(a, ch);
  assert_int_equal(gxd_guard_entries(g), 0);
  sfx_ctx.guard = NULL;
  gxd_guard_free(g);
}

int main(void) {
  gxd_log_set_level(GXD_LOG_DEBUG); /* the phase lines are built too */
  const struct CMUnitTest tests[] = {
      T(max_grace_of_running_runs),
      T(stop_all_while_draining),
      T(freed_after_call_and_child),
      T(slots_taken_at_start),
  };
  return cmocka_run_group_tests_name("server/session lifecycle", tests, NULL,
                                     NULL);
}
