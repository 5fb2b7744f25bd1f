/* Unit tests for lib/rpc's streaming calls on a bare libuv loop (the
 * fixture, its event letters and its fault injection: rpc_fixture.h):
 * happy paths, error paths through fault injection, credentials and
 * auth. The unary methods are rpc_unary_test.c's. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <uv.h>

#include "grpc/health/v1/health.pb-c.h"
#include "lib/gx_err.h"
#include "lib/rpc.h"
#include "lib/rpc_internal.h"
#include "tests/lib/rpc_fixture.h"

/* ------------------------------------------------------- happy paths */

/* Server: read one message, answer "pong", then finish OK. */
static void server_echoes(side *s, char ev) {
  if (ev == 'N') s->f->rc1 = gx_rpc_call_recv(s->call);
  if (ev == 'M') s->f->rc2 = gx_rpc_call_send_bytes(s->call, "pong", 4);
  if (ev == 'W') s->f->rc3 = gx_rpc_call_finish(s->call, 0, "");
}

static void exchange_delivers_message_status_done_in_order(void **state) {
  fixture *f = *state;
  f->srv_side.script = server_echoes;
  client_start(f, METHOD);
  assert_int_equal(gx_rpc_call_send_bytes(f->cli.call, "ping", 4), GX_OK);
  assert_int_equal(gx_rpc_call_close_send(f->cli.call), GX_OK);
  assert_int_equal(gx_rpc_call_recv(f->cli.call), GX_OK);
  assert_true(run_until(f, both_done, WAIT_MS));

  assert_int_equal(f->calls, 1);
  assert_int_equal(f->method, 0);
  assert_string_equal(f->peer, "unix:");
  assert_int_equal(f->rc1, GX_OK);
  assert_int_equal(f->rc2, GX_OK);
  assert_int_equal(f->rc3, GX_OK);
  assert_events(&f->srv_side, "NMWCD");
  assert_int_equal(f->srv_side.data_len, 4);
  assert_memory_equal(f->srv_side.data, "ping", 4);
  assert_int_equal(f->srv_side.sent_ok, 1);
  assert_int_equal(f->srv_side.cancelled, 0);

  assert_client_end_echoed(&f->cli, "M");
  assert_int_equal(f->cli.data_len, 4);
  assert_memory_equal(f->cli.data, "pong", 4);
  assert_int_equal(f->cli.status, GX_STATUS_OK);
  assert_string_equal(f->cli.msg, "");
}

/* Server: answer at once with one message and NOT_FOUND in one batch. */
static void server_finishes_with_message(side *s, char ev) {
  Grpc__Health__V1__HealthCheckResponse r =
      GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;
  r.status = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
  if (ev == 'N')
    s->f->rc1 = gx_rpc_call_finish_msg(s->call, &r.base,
                                       GX_STATUS_NOT_FOUND, "gone");
}

static void finish_msg_sends_message_then_status(void **state) {
  fixture *f = *state;
  f->srv_side.script = server_finishes_with_message;
  client_start(f, METHOD);
  assert_int_equal(gx_rpc_call_recv(f->cli.call), GX_OK);
  assert_true(run_until(f, both_done, WAIT_MS));

  assert_int_equal(f->rc1, GX_OK);
  assert_events(&f->srv_side, "NCD");
  assert_client_end(&f->cli, "M");
  assert_int_equal(f->cli.data_len, 2); /* field 1, varint 1 (SERVING) */
  assert_memory_equal(f->cli.data, "\x08\x01", 2);
  assert_int_equal(f->cli.status, GX_STATUS_NOT_FOUND);
  assert_string_equal(f->cli.msg, "gone");
}

/* Server: refuse whatever arrives. */
static void server_refuses(side *s, char ev) {
  if (ev == 'N')
    s->f->rc1 = gx_rpc_call_finish(s->call, GX_STATUS_UNIMPLEMENTED, "no");
}

static void unknown_method_arrives_as_minus_one(void **state) {
  fixture *f = *state;
  f->srv_side.script = server_refuses;
  client_start(f, "/gexec.test.Rpc/Missing");
  assert_true(run_until(f, both_done, WAIT_MS));

  assert_int_equal(f->calls, 1);
  assert_int_equal(f->method, -1);
  assert_int_equal(f->rc1, GX_OK);
  assert_events(&f->srv_side, "NCD");
  assert_events(&f->cli, "SD");
  assert_int_equal(f->cli.status, GX_STATUS_UNIMPLEMENTED);
  assert_string_equal(f->cli.msg, "no");
}

/* Server: refuse with two trailers, after trying bad ones. */
static void server_refuses_with_trailers(side *s, char ev) {
  if (ev != 'N') return;
  fixture *f = s->f;
  f->rc2 = gx_rpc_call_set_trailer(s->call, "Gexec-Test", "x") == GX_EINVAL &&
           gx_rpc_call_set_trailer(s->call, "grpc-status", "0") == GX_EINVAL &&
           gx_rpc_call_set_trailer(s->call, "gexec-x-bin", "0") == GX_EINVAL &&
           gx_rpc_call_set_trailer(s->call, "gexec-test", "a\nb") == GX_EINVAL;
  f->rc3 = gx_rpc_call_set_trailer(s->call, "gexec-test", "policy rule-7");
  gx_rpc_call_set_trailer(s->call, "gexec-other", "1");
  gx_rpc_call_set_trailer(s->call, "gexec-other", "2");
  gx_rpc_call_set_trailer(s->call, "gexec-other", "3");
  f->done_after1 = gx_rpc_call_set_trailer(s->call, "gexec-more", "4");
  f->rc1 = gx_rpc_call_finish(s->call, GX_STATUS_PERMISSION_DENIED, "no");
  f->done_after2 = gx_rpc_call_set_trailer(s->call, "gexec-late", "5");
}

/* Trailing metadata reaches the client with the status; keys and values
 * that HTTP/2 or gRPC would refuse are refused here; at most 4. */
static void trailers_reach_the_client(void **state) {
  fixture *f = *state;
  f->srv_side.script = server_refuses_with_trailers;
  client_start(f, METHOD);
  assert_true(run_until(f, both_done, WAIT_MS));
  assert_int_equal(f->rc1, GX_OK);
  assert_int_equal(f->rc2, 1);
  assert_int_equal(f->rc3, GX_OK);
  assert_int_equal(f->done_after1, GX_E2BIG);
  assert_int_equal(f->done_after2, GX_ECLOSED);
  assert_int_equal(f->cli.status, GX_STATUS_PERMISSION_DENIED);
  assert_int_equal(f->cli.has_trailer, 1);
  assert_string_equal(f->cli.trailer, "policy rule-7");
}

/* Without trailers the client finds none. */
static void no_trailer_is_absent(void **state) {
  fixture *f = *state;
  f->srv_side.script = server_refuses;
  client_start(f, METHOD);
  assert_true(run_until(f, both_done, WAIT_MS));
  assert_int_equal(f->cli.has_trailer, 0);
  assert_string_equal(f->cli.trailer, "");
}

/* Server: post a receive; when it fails, end the call. */
static void server_reads_then_finishes(side *s, char ev) {
  if (ev == 'N') s->f->rc1 = gx_rpc_call_recv(s->call);
  if (ev == 'E') s->f->rc2 = gx_rpc_call_finish(s->call, 3, "unused");
}

static void message_over_max_recv_bytes_is_resource_exhausted(void **state) {
  fixture *f = *state;
  uint8_t big[100];
  memset(big, 'x', sizeof big);
  f->srv_side.script = server_reads_then_finishes;
  client_start(f, METHOD);
  assert_int_equal(gx_rpc_call_send_bytes(f->cli.call, big, sizeof big),
                   GX_OK);
  assert_true(run_until(f, both_done, WAIT_MS));

  assert_int_equal(f->rc1, GX_OK);
  assert_int_equal(f->srv_side.data_len, 0); /* no message delivered */
  assert_int_equal(f->cli.status, GX_STATUS_RESOURCE_EXHAUSTED);
  assert_int_equal(count(&f->srv_side, 'E'), 1);
  assert_int_equal(count(&f->srv_side, 'D'), 1);
  assert_int_equal(f->srv_side.cancelled, 1);
  /* the client's send completion and the status race each other */
  char got[MAX_EVENTS + 1];
  events(&f->cli, got, sizeof got);
  if (strcmp(got, "WSD") != 0 && strcmp(got, "SWD") != 0)
    fail_msg("client events \"%s\", want \"WSD\" or \"SWD\"", got);
}

/* ------------------------------------------ error paths (fault-injected)
 * The rule under test (rpc.h): a function that returns an error never
 * also fires a callback, and leaves the call valid until on_done. */

/* Server: end the call with a message and a status whose batch fails,
 * then fall back to a plain finish (server/session.c's finish_with). */
static void server_status_fails(side *s, char ev) {
  fixture *f = s->f;
  Grpc__Health__V1__HealthCheckResponse r =
      GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;
  if (ev != 'N') return;
  fail_batches_with(GRPC_OP_SEND_STATUS_FROM_SERVER, 1);
  f->rc1 = gx_rpc_call_finish_msg(s->call, &r.base, GX_STATUS_OK, "");
  f->done_after1 = count(s, 'C') + count(s, 'D');
  f->rc2 = gx_rpc_call_finish(s->call, GX_STATUS_OK, "");
  f->done_after2 = count(s, 'C') + count(s, 'D');
}

static void failed_status_fires_nothing_now_and_done_once_later(
    void **state) {
  fixture *f = *state;
  f->srv_side.script = server_status_fails;
  client_start(f, METHOD);
  assert_true(run_until(f, both_done, WAIT_MS));

  assert_int_equal(f->rc1, GX_ERPC);
  assert_int_equal(f->done_after1, 0);
  assert_int_equal(f->rc2, GX_ECLOSED);
  assert_int_equal(f->done_after2, 0);
  assert_events(&f->srv_side, "NCD");
  assert_int_equal(f->srv_side.cancelled, 1);
  assert_events(&f->cli, "SD");
  assert_int_equal(f->cli.status, GX_STATUS_CANCELLED);
  run_until(f, never, 50); /* a second on_done would show here */
  assert_events(&f->srv_side, "NCD");
}

static int server_closed(fixture *f) { return count(&f->srv_side, 'C'); }

/* Regression (issue item 9): once the client went away, the close had
 * completed and nothing else was in flight. A failed status batch then
 * destroyed the call and fired on_done inside gx_rpc_call_finish_msg, and
 * server/session.c's fallback gx_rpc_call_finish touched freed memory.
 * As there, the finish comes from outside any callback of the call (a
 * child's exit), here straight from the test. */
static void failed_status_after_close_fires_nothing_now(void **state) {
  fixture *f = *state;
  Grpc__Health__V1__HealthCheckResponse r =
      GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;
  client_start(f, METHOD);
  assert_true(run_until(f, has_call, WAIT_MS));
  gx_rpc_call_cancel(f->cli.call);
  assert_true(run_until(f, server_closed, WAIT_MS));
  assert_events(&f->srv_side, "NC");

  fail_batches_with(GRPC_OP_SEND_STATUS_FROM_SERVER, 1);
  assert_int_equal(gx_rpc_call_finish_msg(f->srv_side.call, &r.base,
                                          GX_STATUS_CANCELLED, "gone"),
                   GX_ERPC);
  assert_events(&f->srv_side, "NC"); /* no on_done from inside */
  assert_int_equal(gx_rpc_call_finish(f->srv_side.call, GX_STATUS_CANCELLED,
                                      "gone"),
                   GX_ECLOSED);
  assert_events(&f->srv_side, "NC");
  assert_true(run_until(f, both_done, WAIT_MS));

  assert_events(&f->srv_side, "NCD");
  assert_int_equal(f->srv_side.cancelled, 1);
  assert_events(&f->cli, "SD");
  assert_int_equal(f->cli.status, GX_STATUS_CANCELLED);
  run_until(f, never, 50);
  assert_events(&f->srv_side, "NCD");
}

/* Counts the loop's handles by kind: [0] timers, [1] closing asyncs,
 * [2] anything else. Reads each handle (ASan sees freed ones). */
static void walk_count(uv_handle_t *h, void *arg) {
  int *n = arg;
  if (h->type == UV_TIMER && !uv_is_closing(h)) n[0]++;
  else if (h->type == UV_ASYNC && uv_is_closing(h)) n[1]++;
  else n[2]++;
}

/* Regression (issue item 9): the pump's failed start closed its async
 * handle and freed the memory holding it at once, while libuv still had
 * the handle in its lists until the close callback. libuv itself is not
 * instrumented, so the walk below is what reads the handle: under ASan
 * (--config=asan) the old code fails here with heap-use-after-free. */
static void pump_thread_failure_releases_memory_in_close_callback(
    void **state) {
  fixture *f = *state;
  int before[3] = {0, 0, 0}, after[3] = {0, 0, 0};
  rpc_thread_create = failing_thread_create;
  assert_int_equal(gx_rpc_server_start(f->srv, on_call, f), GX_ESYS);
  rpc_thread_create = pthread_create;
  uv_walk(&f->loop, walk_count, before);
  assert_int_equal(before[0], 1); /* the tick timer */
  assert_int_equal(before[1], 1); /* the pump's async, being closed */
  assert_int_equal(before[2], 0);
  uv_run(&f->loop, UV_RUN_NOWAIT); /* runs the close callback */
  uv_walk(&f->loop, walk_count, after);
  assert_int_equal(after[0], 1);
  assert_int_equal(after[1], 0);
  assert_int_equal(after[2], 0);
  assert_int_equal(f->calls, 0);
}

static void channel_thread_failure_fails_new(void **state) {
  fixture *f = *state;
  gx_rpc_channel *ch = (gx_rpc_channel *)f; /* must stay untouched */
  rpc_thread_create = failing_thread_create;
  assert_int_equal(gx_rpc_channel_new(f->target, NULL, NULL, &ch), GX_ESYS);
  rpc_thread_create = pthread_create;
  assert_ptr_equal(ch, f);
}

/* Regression: when posting the second method's request failed, start
 * returned an error yet the first method's request still delivered
 * calls to on_call. */
static void request_failure_fails_start_and_delivers_no_call(void **state) {
  fixture *f = *state;
  atomic_store(&g_fail_request_at, 2);
  assert_int_equal(gx_rpc_server_start(f->srv, on_call, f), GX_ERPC);
  f->cli.script = client_reads_all;
  assert_int_equal(gx_rpc_call_start(f->ch, METHOD, 2000, 1, &handlers,
                                     &f->cli, &f->cli.call),
                   GX_OK);
  assert_true(run_until(f, client_done, WAIT_MS));

  assert_int_equal(f->calls, 0);
  assert_events(&f->cli, "SD");
  assert_int_equal(f->cli.status, GX_STATUS_CANCELLED);
}

/* Server: read until the client half-closes, then finish OK. */
static void server_reads_to_end(side *s, char ev) {
  if (ev == 'N' || ev == 'M') s->f->rc1 = gx_rpc_call_recv(s->call);
  if (ev == 'E') s->f->rc2 = gx_rpc_call_finish(s->call, 0, "");
}

/* Regression: a failed half-close left the call marked half-closed, so
 * the retry returned GX_OK and sent nothing; the server never saw the
 * end of the stream. */
static void failed_close_send_can_be_retried(void **state) {
  fixture *f = *state;
  f->srv_side.script = server_reads_to_end;
  client_start(f, METHOD);
  fail_batches_with(GRPC_OP_SEND_CLOSE_FROM_CLIENT, 1);
  assert_int_equal(gx_rpc_call_close_send(f->cli.call), GX_ERPC);
  assert_int_equal(gx_rpc_call_close_send(f->cli.call), GX_OK);
  assert_true(run_until(f, both_done, WAIT_MS));

  assert_int_equal(f->rc2, GX_OK);
  assert_events(&f->srv_side, "NECD");
  assert_events(&f->cli, "SD");
  assert_int_equal(f->cli.status, GX_STATUS_OK);
}

static void failed_send_and_recv_fire_nothing_and_can_be_retried(
    void **state) {
  fixture *f = *state;
  f->srv_side.script = server_echoes;
  client_start(f, METHOD);
  fail_batches_with(GRPC_OP_SEND_MESSAGE, 1);
  assert_int_equal(gx_rpc_call_send_bytes(f->cli.call, "ping", 4), GX_ERPC);
  fail_batches_with(GRPC_OP_RECV_MESSAGE, 1);
  assert_int_equal(gx_rpc_call_recv(f->cli.call), GX_ERPC);
  assert_int_equal(gx_rpc_call_send_bytes(f->cli.call, "ping", 4), GX_OK);
  assert_int_equal(gx_rpc_call_close_send(f->cli.call), GX_OK);
  assert_int_equal(gx_rpc_call_recv(f->cli.call), GX_OK);
  assert_true(run_until(f, both_done, WAIT_MS));

  assert_events(&f->srv_side, "NMWCD");
  assert_client_end_echoed(&f->cli, "M"); /* one on_sent: the retry's */
  assert_int_equal(f->cli.status, GX_STATUS_OK);
}

static void failed_call_start_fires_nothing(void **state) {
  fixture *f = *state;
  gx_rpc_call *call = (gx_rpc_call *)f;
  fail_batches_with(GRPC_OP_RECV_STATUS_ON_CLIENT, 1);
  assert_int_equal(gx_rpc_call_start(f->ch, METHOD, WAIT_MS, 1, &handlers,
                                     &f->cli, &call),
                   GX_ERPC);
  assert_null(call);
  run_until(f, never, 200); /* nothing may fire, not even later */
  assert_events(&f->cli, "");
  assert_int_equal(f->calls, 0);
}

/* ------------------------------------------------ credentials and auth */

/* Over plaintext the transport is "insecure" and proves nothing: no
 * identity, and (gRPC hides the socket) no unix peer credentials. The
 * answer is read once and kept by the call. A client call has none. */
static void plaintext_auth_is_insecure_and_unauthenticated(void **state) {
  fixture *f = *state;
  gx_rpc_auth au;
  f->srv_side.script = server_refuses;
  client_start(f, METHOD);
  assert_int_equal(gx_rpc_call_auth(f->cli.call, &au), GX_EINVAL);
  assert_true(run_until(f, both_done, WAIT_MS));

  assert_int_equal(f->auth.rc, GX_OK);
  assert_string_equal(f->auth.transport, "insecure");
  assert_int_equal(f->auth.authenticated, 0);
  assert_int_equal(f->auth.has_identity_property, 0);
  assert_int_equal(f->auth.nidentities, 0);
  assert_int_equal(f->auth.identities_null, 1);
  assert_int_equal(f->auth.has_unix_cred, 0);
  assert_int_equal(f->auth.cached, 1);
}

/* gRPC refuses the address: a negative gx_err, not 0. */
static void listen_failure_is_an_error(void **state) {
  fixture *f = *state;
  gx_rpc_creds *creds;
  assert_int_equal(gx_rpc_creds_insecure(&creds), GX_OK);
  assert_int_equal(
      gx_rpc_server_listen(f->srv, "unix:no-such-dir/x.sock", creds),
      GX_ERPC);
  assert_int_equal(gx_rpc_server_listen(f->srv, "unix:no-such-dir/x.sock",
                                        NULL),
                   GX_ERPC);
  gx_rpc_creds_free(creds);
  gx_rpc_creds_free(NULL);
}

static const options unstarted = {.start = 0};
static const options null_creds = {.start = 1, .null_creds = 1};
static const options small_recv = {.max_recv_bytes = 64, .start = 1};

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(
          exchange_delivers_message_status_done_in_order, setup, teardown),
      cmocka_unit_test_setup_teardown(finish_msg_sends_message_then_status,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(unknown_method_arrives_as_minus_one,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(trailers_reach_the_client, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(no_trailer_is_absent, setup, teardown),
      cmocka_unit_test_prestate_setup_teardown(
          message_over_max_recv_bytes_is_resource_exhausted, setup, teardown,
          (void *)&small_recv),
      cmocka_unit_test_setup_teardown(
          failed_status_fires_nothing_now_and_done_once_later, setup,
          teardown),
      cmocka_unit_test_setup_teardown(
          failed_status_after_close_fires_nothing_now, setup, teardown),
      cmocka_unit_test_prestate_setup_teardown(
          pump_thread_failure_releases_memory_in_close_callback, setup,
          teardown, (void *)&unstarted),
      cmocka_unit_test_setup_teardown(channel_thread_failure_fails_new,
                                      setup, teardown),
      cmocka_unit_test_prestate_setup_teardown(
          request_failure_fails_start_and_delivers_no_call, setup, teardown,
          (void *)&unstarted),
      cmocka_unit_test_setup_teardown(failed_close_send_can_be_retried,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(
          failed_send_and_recv_fire_nothing_and_can_be_retried, setup,
          teardown),
      cmocka_unit_test_setup_teardown(failed_call_start_fires_nothing, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(
          plaintext_auth_is_insecure_and_unauthenticated, setup, teardown),
      cmocka_unit_test_prestate_setup_teardown(
          plaintext_auth_is_insecure_and_unauthenticated, setup, teardown,
          (void *)&null_creds),
      cmocka_unit_test_prestate_setup_teardown(
          listen_failure_is_an_error, setup, teardown, (void *)&unstarted),
  };
  return cmocka_run_group_tests_name("lib/rpc", tests, group_setup,
                                     group_teardown);
}
