/* The fixture of lib/rpc's unit tests; see rpc_fixture.h. */
#include "tests/lib/rpc_fixture.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "grpc/health/v1/health.pb-c.h"
#include "lib/gx_err.h"

/* The server's second streaming method, and the unary method's index. */
#define METHOD2 "/gexec.test.Rpc/Other"
#define UNARY_INDEX 2

/* ------------------------------------------------------ fault injection */

/* Batches containing an op of type g_fail_op fail while g_fail_left > 0
 * (each failure takes one). Read on the loop and channel threads. */
static atomic_int g_fail_op = -1;
static atomic_int g_fail_left;
atomic_int g_fail_request_at;
static atomic_int g_requests_posted;
atomic_int g_recv_batches;

void fail_batches_with(grpc_op_type op, int times) {
  atomic_store(&g_fail_left, times);
  atomic_store(&g_fail_op, (int)op);
}

static int take_fault(void) {
  int left = atomic_load(&g_fail_left);
  while (left > 0)
    if (atomic_compare_exchange_weak(&g_fail_left, &left, left - 1))
      return 1;
  return 0;
}

static grpc_call_error faulty_start_batch(grpc_call *call, const grpc_op *ops,
                                          size_t n, void *tag,
                                          void *reserved) {
  int op = atomic_load(&g_fail_op);
  for (size_t i = 0; i < n; i++)
    if ((int)ops[i].op == op && take_fault()) return GRPC_CALL_ERROR;
  for (size_t i = 0; i < n; i++)
    if (ops[i].op == GRPC_OP_RECV_MESSAGE)
      atomic_fetch_add(&g_recv_batches, 1);
  return grpc_call_start_batch(call, ops, n, tag, reserved);
}

static grpc_call_error faulty_request(grpc_server *server, void *method,
                                      grpc_call **call,
                                      gpr_timespec *deadline,
                                      grpc_metadata_array *md,
                                      grpc_byte_buffer **payload,
                                      grpc_completion_queue *call_cq,
                                      grpc_completion_queue *notify_cq,
                                      void *tag) {
  int n = atomic_fetch_add(&g_requests_posted, 1) + 1;
  if (n == atomic_load(&g_fail_request_at)) return GRPC_CALL_ERROR;
  return grpc_server_request_registered_call(server, method, call, deadline,
                                             md, payload, call_cq, notify_cq,
                                             tag);
}

int failing_thread_create(pthread_t *t, const pthread_attr_t *attr,
                          void *(*fn)(void *), void *arg) {
  (void)t, (void)attr, (void)fn, (void)arg;
  return EAGAIN;
}

/* -------------------------------------------------------------- fixture */

static void record(side *s, char ev) {
  pthread_mutex_lock(&s->mu);
  if (s->nev < MAX_EVENTS) s->ev[s->nev++] = ev;
  pthread_mutex_unlock(&s->mu);
  if (s->script) s->script(s, ev);
}

int count(side *s, char ev) {
  int n = 0;
  pthread_mutex_lock(&s->mu);
  for (size_t i = 0; i < s->nev; i++) n += s->ev[i] == ev;
  pthread_mutex_unlock(&s->mu);
  return n;
}

void events(side *s, char *out, size_t len) {
  pthread_mutex_lock(&s->mu);
  snprintf(out, len, "%s", s->ev);
  pthread_mutex_unlock(&s->mu);
}

static void on_recv(void *ud, const uint8_t *data, size_t len) {
  side *s = ud;
  pthread_mutex_lock(&s->mu);
  if (data) {
    s->data_len = len;
    memcpy(s->data, data, len < sizeof s->data ? len : sizeof s->data);
  }
  pthread_mutex_unlock(&s->mu);
  record(s, data ? 'M' : 'E');
}

static void on_sent(void *ud, int ok) {
  side *s = ud;
  pthread_mutex_lock(&s->mu);
  s->sent_ok = ok;
  pthread_mutex_unlock(&s->mu);
  record(s, 'W');
}

static void on_closed(void *ud, int cancelled) {
  side *s = ud;
  pthread_mutex_lock(&s->mu);
  s->cancelled = cancelled;
  pthread_mutex_unlock(&s->mu);
  record(s, 'C');
}

static void on_status(void *ud, int code, const char *msg) {
  side *s = ud;
  pthread_mutex_lock(&s->mu);
  s->status = code;
  snprintf(s->msg, sizeof s->msg, "%s", msg ? msg : "(null)");
  s->has_trailer = gx_rpc_call_trailer(s->call, "gexec-test", s->trailer,
                                       sizeof s->trailer);
  pthread_mutex_unlock(&s->mu);
  record(s, 'S');
}

static void on_done(void *ud) { record(ud, 'D'); }

const gx_rpc_handlers handlers = {on_recv, on_sent, on_closed, on_status,
                                  on_done};

static void see_auth(gx_rpc_call *call, auth_seen *a) {
  gx_rpc_auth au, again;
  a->rc = gx_rpc_call_auth(call, &au);
  if (a->rc != GX_OK) return;
  snprintf(a->transport, sizeof a->transport, "%s", au.transport);
  a->authenticated = au.authenticated;
  a->has_identity_property = au.identity_property != NULL;
  a->nidentities = au.nidentities;
  a->identities_null = au.identities == NULL;
  a->has_unix_cred = au.has_unix_cred;
  a->uid = au.uid;
  a->gid = au.gid;
  a->pid = au.pid;
  a->conn_id = au.conn_id;
  snprintf(a->peer, sizeof a->peer, "%s", gx_rpc_call_peer(call));
  a->cached = gx_rpc_call_auth(call, &again) == GX_OK &&
              again.transport == au.transport;
}

/* The unary method: records the request, then answers as the test said. */
static void on_unary(void *ud, gx_rpc_call *call, const ProtobufCMessage *m) {
  fixture *f = ud;
  const Grpc__Health__V1__HealthCheckRequest *req =
      (const Grpc__Health__V1__HealthCheckRequest *)m;
  Grpc__Health__V1__HealthCheckResponse r =
      GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;
  r.status = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
  f->unary_calls++;
  snprintf(f->unary_service, sizeof f->unary_service, "%s", req->service);
  see_auth(call, &f->unary_auth);
  if (f->unary_mode == UNARY_REPLY)
    f->rc1 = gx_rpc_call_finish_msg(call, &r.base, GX_STATUS_OK, "");
  else if (f->unary_mode == UNARY_FAIL)
    f->rc1 = gx_rpc_call_finish(call, GX_STATUS_NOT_FOUND, "nope");
  else
    f->unary_call = call;
}

void on_call(void *ud, gx_rpc_call *call, int method) {
  fixture *f = ud;
  f->calls++;
  f->method = method;
  snprintf(f->peer, sizeof f->peer, "%s", gx_rpc_call_peer(call));
  see_auth(call, &f->auth);
  if (f->calls <= MAX_SEEN) {
    f->seen[f->calls - 1] = call;
    f->seen_auth[f->calls - 1] = f->auth;
  }
  f->srv_side.call = call;
  gx_rpc_call_set_handlers(call, &handlers, &f->srv_side);
  record(&f->srv_side, 'N');
}

static void on_tick(uv_timer_t *t) { (void)t; }

static void on_shut_down(void *ud) { ((fixture *)ud)->shut_down = 1; }

int run_until(fixture *f, int (*pred)(fixture *), int ms) {
  uint64_t end = uv_hrtime() + (uint64_t)ms * 1000000u;
  while (!pred(f) && uv_hrtime() < end) uv_run(&f->loop, UV_RUN_ONCE);
  return pred(f);
}

int both_done(fixture *f) {
  return count(&f->cli, 'D') == 1 && count(&f->srv_side, 'D') == 1;
}
int client_done(fixture *f) { return count(&f->cli, 'D') == 1; }
int has_call(fixture *f) { return f->calls > 0; }
int never(fixture *f) { return (void)f, 0; }
static int is_shut_down(fixture *f) { return f->shut_down; }
int no_call_alive(fixture *f) {
  return (void)f, atomic_load(&rpc_calls_alive) == 0;
}
int all_released(fixture *f) {
  return client_done(f) && no_call_alive(f);
}
int unary_called(fixture *f) { return f->unary_calls > 0; }
int client_sent(fixture *f) { return count(&f->cli, 'W') > 0; }
int both_calls_alive(fixture *f) {
  return (void)f, atomic_load(&rpc_calls_alive) == 2;
}

static void init_side(side *s, fixture *f) {
  pthread_mutex_init(&s->mu, NULL);
  s->f = f;
  s->status = -1;
  s->cancelled = -1;
  s->sent_ok = -1;
}

/* A server listening on a fresh unix socket in the current directory
 * (TEST_TMPDIR: its absolute path is too long for sun_path), with
 * @p creds. */
static void make_server(fixture *f, const options *o,
                        const gx_rpc_creds *creds) {
  static int n;
  gx_rpc_server_opts so = {.max_recv_bytes = o ? o->max_recv_bytes : 0};
  snprintf(f->target, sizeof f->target, "unix:rpc-%d-%d.sock", (int)getpid(),
           n++);
  assert_int_equal(gx_rpc_server_new(&f->loop, &so, &f->srv), GX_OK);
  assert_int_equal(gx_rpc_server_add_method(f->srv, METHOD), 0);
  assert_int_equal(gx_rpc_server_add_method(f->srv, METHOD2), 1);
  const ProtobufCMessageDescriptor *req_type =
      &grpc__health__v1__health_check_request__descriptor;
  assert_int_equal(gx_rpc_server_add_unary(f->srv, UNARY, req_type, on_unary,
                                           f),
                   UNARY_INDEX);
  if (o && o->own_unix)
    assert_int_equal(gx_rpc_server_listen_unix(f->srv, f->target + 5,
                                               &o->unix_opts),
                     GX_OK);
  else
    assert_int_equal(gx_rpc_server_listen(f->srv, f->target, creds), 1);
  if (o && o->tcp) {
    f->tcp_port = gx_rpc_server_listen(f->srv, "127.0.0.1:0", creds);
    assert_true(f->tcp_port > 0);
  }
}

int group_setup(void **state) {
  const char *tmp = getenv("TEST_TMPDIR");
  (void)state;
  if (tmp && *tmp && chdir(tmp) != 0) return -1;
  gx_rpc_global_init();
  return 0;
}

int group_teardown(void **state) {
  (void)state;
  gx_rpc_global_shutdown();
  return 0;
}

int setup(void **state) {
  const options *o = *state;
  fixture *f = calloc(1, sizeof *f);
  assert_non_null(f);
  rpc_start_batch = faulty_start_batch;
  rpc_request_registered = faulty_request;
  atomic_store(&g_fail_op, -1);
  atomic_store(&g_fail_left, 0);
  atomic_store(&g_fail_request_at, 0);
  atomic_store(&g_requests_posted, 0);
  atomic_store(&g_recv_batches, 0);
  init_side(&f->cli, f);
  init_side(&f->srv_side, f);
  assert_int_equal(uv_loop_init(&f->loop), 0);
  assert_int_equal(uv_timer_init(&f->loop, &f->tick), 0);
  assert_int_equal(uv_timer_start(&f->tick, on_tick, 1, 1), 0);
  /* Credentials are borrowed: freed before the server and channel that
   * were made with them are used (ASan would see a kept pointer). */
  gx_rpc_creds *creds = NULL;
  if (!o || !o->null_creds)
    assert_int_equal(gx_rpc_creds_insecure(&creds), GX_OK);
  make_server(f, o, creds);
  if (!o || o->start)
    assert_int_equal(gx_rpc_server_start(f->srv, on_call, f), GX_OK);
  assert_int_equal(gx_rpc_channel_new(f->target, creds, NULL, &f->ch), GX_OK);
  gx_rpc_creds_free(creds);
  *state = f;
  return 0;
}

int teardown(void **state) {
  fixture *f = *state;
  atomic_store(&g_fail_op, -1);
  if (f->cli.call && !count(&f->cli, 'D')) gx_rpc_call_cancel(f->cli.call);
  if (f->unary_call) /* deferred, and the test failed before answering */
    gx_rpc_call_finish(f->unary_call, GX_STATUS_CANCELLED, "");
  if (f->srv) {
    gx_rpc_server_shutdown(f->srv, on_shut_down, f);
    gx_rpc_server_cancel_all(f->srv);
    run_until(f, is_shut_down, WAIT_MS);
  }
  if (f->cli.call) run_until(f, client_done, WAIT_MS);
  gx_rpc_channel_free(f->ch);
  if (f->srv) gx_rpc_server_free(f->srv);
  uv_close((uv_handle_t *)&f->tick, NULL);
  uv_run(&f->loop, UV_RUN_DEFAULT);
  assert_int_equal(uv_loop_close(&f->loop), 0);
  assert_int_equal(atomic_load(&rpc_calls_alive), 0); /* none leaked */
  rpc_start_batch = grpc_call_start_batch;
  rpc_request_registered = grpc_server_request_registered_call;
  rpc_thread_create = pthread_create;
  pthread_mutex_destroy(&f->cli.mu);
  pthread_mutex_destroy(&f->srv_side.mu);
  free(f);
  return 0;
}

void client_reads_all(side *s, char ev) {
  int rc = ev == 'M' ? gx_rpc_call_recv(s->call) : GX_OK;
  if (rc != GX_OK && !s->script_err) s->script_err = rc;
}

void client_start(fixture *f, const char *method) {
  f->cli.script = client_reads_all;
  assert_int_equal(gx_rpc_call_start(f->ch, method, WAIT_MS, 1, &handlers,
                                     &f->cli, &f->cli.call),
                   GX_OK);
}

void assert_events(side *s, const char *want) {
  char got[MAX_EVENTS + 1];
  events(s, got, sizeof got);
  assert_string_equal(got, want);
}

/* The client's end: on_recv(NULL) and on_status complete in gRPC's order,
 * which is not specified; everything else is. */
static void check_end(side *s, const char *got, const char *before) {
  char a[MAX_EVENTS + 1], b[MAX_EVENTS + 1];
  snprintf(a, sizeof a, "%sESD", before);
  snprintf(b, sizeof b, "%sSED", before);
  assert_int_equal(s->script_err, 0);
  if (strcmp(got, a) != 0 && strcmp(got, b) != 0)
    fail_msg("client events \"%s\", want \"%s\" or \"%s\"", got, a, b);
}

void assert_client_end(side *s, const char *before) {
  char got[MAX_EVENTS + 1];
  events(s, got, sizeof got);
  check_end(s, got, before);
}

void assert_client_end_echoed(side *s, const char *before) {
  char got[MAX_EVENTS + 1], rest[MAX_EVENTS + 1];
  size_t n = 0;
  events(s, got, sizeof got);
  for (const char *p = got; *p; p++)
    if (*p != 'W') rest[n++] = *p;
  rest[n] = '\0';
  assert_int_equal(count(s, 'W'), 1);
  check_end(s, rest, before);
}
