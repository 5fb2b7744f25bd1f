/* Unit tests for lib/rpc's unary methods (gx_rpc_server_add_unary) on a
 * bare libuv loop; the fixture, with the unary handler that each test
 * tells how to answer, is rpc_fixture.h's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "grpc/health/v1/health.pb-c.h"
#include "lib/gx_err.h"
#include "lib/rpc.h"
#include "lib/rpc_internal.h"
#include "tests/lib/rpc_fixture.h"

/* Client: one HealthCheckRequest for @p service, half-close, read. */
static void client_unary(fixture *f, const char *service) {
  Grpc__Health__V1__HealthCheckRequest req =
      GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
  req.service = (char *)service;
  client_start(f, UNARY);
  assert_int_equal(gx_rpc_call_send(f->cli.call, &req.base), GX_OK);
  assert_int_equal(gx_rpc_call_close_send(f->cli.call), GX_OK);
  assert_int_equal(gx_rpc_call_recv(f->cli.call), GX_OK);
}

static void unary_reply_is_message_then_ok(void **state) {
  fixture *f = *state;
  f->unary_mode = UNARY_REPLY;
  client_unary(f, "svc");
  assert_true(run_until(f, all_released, WAIT_MS));

  assert_int_equal(f->calls, 0); /* on_call never sees a unary call */
  assert_int_equal(f->unary_calls, 1);
  assert_string_equal(f->unary_service, "svc");
  assert_int_equal(f->rc1, GX_OK);
  assert_client_end(&f->cli, "WM");
  assert_int_equal(f->cli.data_len, 2);
  assert_memory_equal(f->cli.data, "\x08\x01", 2);
  assert_int_equal(f->cli.status, GX_STATUS_OK);
  assert_string_equal(f->cli.msg, "");
  /* the handler may ask for the peer's auth */
  assert_int_equal(f->unary_auth.rc, GX_OK);
  assert_string_equal(f->unary_auth.transport, "insecure");
  assert_int_equal(f->unary_auth.authenticated, 0);
}

static void unary_error_status_has_no_message(void **state) {
  fixture *f = *state;
  f->unary_mode = UNARY_FAIL;
  client_unary(f, "");
  assert_true(run_until(f, all_released, WAIT_MS));

  assert_int_equal(f->unary_calls, 1);
  assert_int_equal(f->rc1, GX_OK);
  assert_client_end(&f->cli, "W");
  assert_int_equal(f->cli.data_len, 0);
  assert_int_equal(f->cli.status, GX_STATUS_NOT_FOUND);
  assert_string_equal(f->cli.msg, "nope");
}

/* The handler keeps the call and the answer comes later, from outside
 * any callback. */
static void unary_answer_may_come_later(void **state) {
  fixture *f = *state;
  Grpc__Health__V1__HealthCheckResponse r =
      GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;
  f->unary_mode = UNARY_DEFER;
  client_unary(f, "later");
  assert_true(run_until(f, unary_called, WAIT_MS));
  run_until(f, never, 50);
  assert_events(&f->cli, "W"); /* nothing answered yet */

  assert_int_equal(gx_rpc_call_finish_msg(f->unary_call, &r.base,
                                          GX_STATUS_OK, ""),
                   GX_OK);
  f->unary_call = NULL;
  assert_true(run_until(f, all_released, WAIT_MS));
  assert_client_end(&f->cli, "WM");
  assert_int_equal(f->cli.data_len, 0); /* UNKNOWN (0) packs to nothing */
  assert_int_equal(f->cli.status, GX_STATUS_OK);
}

/* The client goes away while the handler holds the call: the call stays
 * valid until answered, and the answer releases it. */
static void unary_call_outlives_client_until_answered(void **state) {
  fixture *f = *state;
  f->unary_mode = UNARY_DEFER;
  client_unary(f, "gone");
  assert_true(run_until(f, unary_called, WAIT_MS));
  gx_rpc_call_cancel(f->cli.call);
  assert_true(run_until(f, client_done, WAIT_MS));
  run_until(f, never, 50);
  assert_int_equal(atomic_load(&rpc_calls_alive), 1);

  int rc = gx_rpc_call_finish(f->unary_call, GX_STATUS_OK, "");
  f->unary_call = NULL;
  assert_true(rc == GX_OK || rc == GX_ERPC);
  assert_true(run_until(f, no_call_alive, WAIT_MS));
  assert_int_equal(f->cli.status, GX_STATUS_CANCELLED);
}

static void unary_without_request_is_invalid_argument(void **state) {
  fixture *f = *state;
  client_start(f, UNARY);
  assert_int_equal(gx_rpc_call_close_send(f->cli.call), GX_OK);
  assert_int_equal(gx_rpc_call_recv(f->cli.call), GX_OK);
  assert_true(run_until(f, all_released, WAIT_MS));

  assert_int_equal(f->unary_calls, 0);
  assert_client_end(&f->cli, "");
  assert_int_equal(f->cli.status, GX_STATUS_INVALID_ARGUMENT);
  assert_string_equal(f->cli.msg, "Unary needs one HealthCheckRequest");
}

static void unary_malformed_request_is_invalid_argument(void **state) {
  fixture *f = *state;
  client_start(f, UNARY);
  /* field 31 with wire type 7, which does not exist */
  assert_int_equal(gx_rpc_call_send_bytes(f->cli.call, "\xff", 1), GX_OK);
  assert_int_equal(gx_rpc_call_close_send(f->cli.call), GX_OK);
  assert_true(run_until(f, all_released, WAIT_MS));

  assert_int_equal(f->unary_calls, 0);
  /* refused at the message, so the status may overtake the send's end */
  assert_int_equal(count(&f->cli, 'W'), 1);
  assert_int_equal(count(&f->cli, 'S'), 1);
  assert_int_equal(f->cli.status, GX_STATUS_INVALID_ARGUMENT);
  assert_string_equal(f->cli.msg,
                      "not a valid grpc.health.v1.HealthCheckRequest");
}

/* A second message is refused as soon as it arrives, without waiting
 * for a half-close, and the handler never runs. */
static void unary_second_message_is_invalid_argument(void **state) {
  fixture *f = *state;
  Grpc__Health__V1__HealthCheckRequest req =
      GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
  client_start(f, UNARY);
  assert_int_equal(gx_rpc_call_send(f->cli.call, &req.base), GX_OK);
  assert_true(run_until(f, client_sent, WAIT_MS));
  assert_int_equal(gx_rpc_call_send(f->cli.call, &req.base), GX_OK);
  assert_true(run_until(f, all_released, WAIT_MS));

  assert_int_equal(f->unary_calls, 0);
  assert_int_equal(count(&f->cli, 'S'), 1);
  assert_int_equal(f->cli.status, GX_STATUS_INVALID_ARGUMENT);
  assert_string_equal(f->cli.msg,
                      "Unary takes one HealthCheckRequest, not a stream");
}

/* Cancels the client's unary call once @p ready holds, then checks that
 * the handler never ran and that both sides were released. */
static void cancel_unary_when(fixture *f, int (*ready)(fixture *),
                              const char *client_events) {
  assert_true(run_until(f, ready, WAIT_MS));
  gx_rpc_call_cancel(f->cli.call);
  assert_true(run_until(f, all_released, WAIT_MS));

  assert_int_equal(f->unary_calls, 0);
  assert_events(&f->cli, client_events);
  assert_int_equal(f->cli.status, GX_STATUS_CANCELLED);
}

/* The client cancels before sending anything. */
static void unary_cancel_before_request_never_calls_handler(void **state) {
  fixture *f = *state;
  client_start(f, UNARY);
  cancel_unary_when(f, both_calls_alive, "SD");
}

/* The server took the request and waits for the half-close, and the
 * client saw its send complete. */
static int server_holds_request(fixture *f) {
  /* the client posts no receive: both are the server's */
  return atomic_load(&g_recv_batches) == 2 && client_sent(f);
}

/* The client cancels after its message but before the half-close: the
 * server holds the unpacked request, which must be released. */
static void unary_cancel_after_request_never_calls_handler(void **state) {
  fixture *f = *state;
  Grpc__Health__V1__HealthCheckRequest req =
      GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
  req.service = "held";
  client_start(f, UNARY);
  assert_int_equal(gx_rpc_call_send(f->cli.call, &req.base), GX_OK);
  cancel_unary_when(f, server_holds_request, "WSD");
}

/* The helper's own receive fails to start: the call ends INTERNAL. */
static void unary_receive_failure_ends_call(void **state) {
  fixture *f = *state;
  fail_batches_with(GRPC_OP_RECV_MESSAGE, 1); /* the client posts none */
  client_start(f, UNARY);
  assert_true(run_until(f, all_released, WAIT_MS));

  assert_int_equal(f->unary_calls, 0);
  assert_events(&f->cli, "SD");
  assert_int_equal(f->cli.status, GX_STATUS_INTERNAL);
  assert_string_equal(f->cli.msg, "receive failed");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(unary_reply_is_message_then_ok, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(unary_error_status_has_no_message,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(unary_answer_may_come_later, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(
          unary_call_outlives_client_until_answered, setup, teardown),
      cmocka_unit_test_setup_teardown(
          unary_without_request_is_invalid_argument, setup, teardown),
      cmocka_unit_test_setup_teardown(
          unary_malformed_request_is_invalid_argument, setup, teardown),
      cmocka_unit_test_setup_teardown(
          unary_second_message_is_invalid_argument, setup, teardown),
      cmocka_unit_test_setup_teardown(
          unary_cancel_before_request_never_calls_handler, setup, teardown),
      cmocka_unit_test_setup_teardown(
          unary_cancel_after_request_never_calls_handler, setup, teardown),
      cmocka_unit_test_setup_teardown(unary_receive_failure_ends_call,
                                      setup, teardown),
  };
  return cmocka_run_group_tests_name("lib/rpc unary", tests, group_setup,
                                     group_teardown);
}
