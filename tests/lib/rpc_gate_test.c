/* lib/rpc's stream gate (gx_rpc_server_opts.admit_stream): a real server
 * on a unix socket under $TEST_TMPDIR and real channels (each its own
 * connection). The gate names connections, runs off the loop thread, and
 * a stream it refuses never reaches on_call: its client gets
 * RESOURCE_EXHAUSTED with the gate's reason. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/gx_err.h"
#include "lib/rpc.h"
#include "lib/rpc_internal.h"

#define METHOD "/gexec.test.Rpc/Echo"
#define NCALLS 6
#define REASON "test gate: no more streams on this connection"

/* What one client call saw (written on its channel's thread). */
typedef struct {
  atomic_int status; /* -1 until on_status */
  char msg[128];
  atomic_int done;
} client_call;

typedef struct {
  uv_loop_t loop;
  uv_timer_t tick;
  gx_rpc_server *srv;
  pthread_t loop_thread;
  /* the gate's view, written on gRPC's threads */
  pthread_mutex_t mu;
  uint64_t gate_ids[NCALLS];
  int gate_calls;
  int gate_on_loop; /* the gate ran on the loop thread */
  int admit_per_conn; /* streams admitted per connection; then refused */
  int hold;           /* on_call keeps calls (held[]) instead of ending */
  gx_rpc_call *held[NCALLS];
  int nheld;
  /* on_call's view (loop thread) */
  uint64_t call_ids[NCALLS];
  int call_gated[NCALLS];
  int calls;
  client_call cc[NCALLS];
} world;

static const char *admit(void *ud, uint64_t conn_id) {
  world *w = ud;
  int seen = 0;
  pthread_mutex_lock(&w->mu);
  if (pthread_equal(pthread_self(), w->loop_thread)) w->gate_on_loop = 1;
  for (int i = 0; i < w->gate_calls; i++) seen += w->gate_ids[i] == conn_id;
  if (w->gate_calls < NCALLS) w->gate_ids[w->gate_calls++] = conn_id;
  pthread_mutex_unlock(&w->mu);
  return seen < w->admit_per_conn ? NULL : REASON;
}

/* What admit recorded on gRPC's threads, read on the test's under its
 * lock. */
static int gate_calls(world *w) {
  pthread_mutex_lock(&w->mu);
  int n = w->gate_calls;
  pthread_mutex_unlock(&w->mu);
  return n;
}

static uint64_t gate_id(world *w, int i) {
  pthread_mutex_lock(&w->mu);
  uint64_t id = w->gate_ids[i];
  pthread_mutex_unlock(&w->mu);
  return id;
}

static int gate_on_loop(world *w) {
  pthread_mutex_lock(&w->mu);
  int on = w->gate_on_loop;
  pthread_mutex_unlock(&w->mu);
  return on;
}

static void on_call(void *ud, gx_rpc_call *call, int method) {
  world *w = ud;
  gx_rpc_auth a;
  (void)method;
  assert_int_equal(gx_rpc_call_auth(call, &a), GX_OK);
  if (w->calls < NCALLS) {
    w->call_gated[w->calls] = a.gated;
    w->call_ids[w->calls++] = a.conn_id;
  }
  if (w->hold && w->nheld < NCALLS)
    w->held[w->nheld++] = call;
  else
    gx_rpc_call_finish(call, 0, "");
}

static void cli_status(void *ud, int code, const char *msg) {
  client_call *c = ud;
  snprintf(c->msg, sizeof c->msg, "%s", msg);
  atomic_store(&c->status, code);
}

static void cli_done(void *ud) { atomic_store(&((client_call *)ud)->done, 1); }

static const gx_rpc_handlers cli_handlers = {NULL, NULL, NULL, cli_status,
                                             cli_done};

static void on_tick(uv_timer_t *t) { (void)t; }

static int group_setup(void **state) {
  (void)state;
  const char *tmp = getenv("TEST_TMPDIR");
  if (tmp && chdir(tmp) != 0) return -1; /* short socket paths */
  gx_rpc_global_init();
  return 0;
}

static int group_teardown(void **state) {
  (void)state;
  gx_rpc_global_shutdown();
  return 0;
}

/* A started server listening on a fresh socket; its target in @p target.
 * With a gate, a connection may have @p max_calls calls at once. */
static void start_world(world *w, int with_gate, char *target, size_t len,
                        unsigned max_calls) {
  static int n;
  gx_rpc_server_opts o = {.max_calls_per_conn = max_calls};
  memset(w, 0, sizeof *w);
  pthread_mutex_init(&w->mu, NULL);
  w->loop_thread = pthread_self();
  w->admit_per_conn = NCALLS;
  if (with_gate) {
    o.admit_stream = admit;
    o.admit_ud = w;
  }
  for (int i = 0; i < NCALLS; i++) atomic_init(&w->cc[i].status, -1);
  assert_int_equal(uv_loop_init(&w->loop), 0);
  uv_timer_init(&w->loop, &w->tick);
  uv_timer_start(&w->tick, on_tick, 1, 1);
  snprintf(target, len, "unix:gate-%d-%d.sock", (int)getpid(), n++);
  assert_int_equal(gx_rpc_server_new(&w->loop, &o, &w->srv), GX_OK);
  assert_int_equal(gx_rpc_server_add_method(w->srv, METHOD), 0);
  assert_true(gx_rpc_server_listen(w->srv, target, NULL) > 0);
  assert_int_equal(gx_rpc_server_start(w->srv, on_call, w), GX_OK);
}

static void on_shut(void *ud) { *(int *)ud = 1; }

static void stop_world(world *w) {
  int shut = 0;
  gx_rpc_server_shutdown(w->srv, on_shut, &shut);
  while (!shut) uv_run(&w->loop, UV_RUN_ONCE);
  gx_rpc_server_free(w->srv);
  uv_close((uv_handle_t *)&w->tick, NULL);
  uv_run(&w->loop, UV_RUN_DEFAULT);
  assert_int_equal(uv_loop_close(&w->loop), 0);
  pthread_mutex_destroy(&w->mu);
  assert_int_equal(atomic_load(&rpc_calls_alive), 0);
}

/* Starts call @p i on @p ch and serves the loop until the server has
 * @p want calls held or the client's call ended. */
static void start_held(world *w, gx_rpc_channel *ch, int i, int want) {
  gx_rpc_call *c;
  assert_int_equal(gx_rpc_call_start(ch, METHOD, 10000, 1, &cli_handlers,
                                     &w->cc[i], &c),
                   GX_OK);
  uint64_t end = uv_hrtime() + 10000000000ull;
  while (w->nheld < want && !atomic_load(&w->cc[i].done) &&
         uv_hrtime() < end)
    uv_run(&w->loop, UV_RUN_ONCE);
}

/* Runs call @p i on @p ch to its end (the loop serves the server, which
 * ends every call at once; the client sends nothing: a refused call may
 * be over before gx_rpc_call_start returned). */
static void one_call(world *w, gx_rpc_channel *ch, int i) {
  gx_rpc_call *c;
  assert_int_equal(gx_rpc_call_start(ch, METHOD, 10000, 1, &cli_handlers,
                                     &w->cc[i], &c),
                   GX_OK);
  uint64_t end = uv_hrtime() + 10000000000ull;
  while (!atomic_load(&w->cc[i].done) && uv_hrtime() < end)
    uv_run(&w->loop, UV_RUN_ONCE);
  assert_true(atomic_load(&w->cc[i].done));
}

static gx_rpc_channel *connect_own(const char *target) {
  gx_rpc_channel_opts o = {.own_connection = 1};
  gx_rpc_channel *ch;
  assert_int_equal(gx_rpc_channel_new(target, NULL, &o, &ch), GX_OK);
  return ch;
}

/* Two connections, three calls each: the gate sees every stream off the
 * loop; each connection has one number, its own, nonzero; on_call gets
 * the same number in gx_rpc_auth.conn_id. */
static void gate_names_connections(void **state) {
  (void)state;
  world w;
  char target[64];
  start_world(&w, 1, target, sizeof target, 0);
  gx_rpc_channel *a = connect_own(target), *b = connect_own(target);
  for (int i = 0; i < NCALLS; i++) one_call(&w, i % 2 ? b : a, i);
  for (int i = 0; i < NCALLS; i++)
    assert_int_equal(atomic_load(&w.cc[i].status), 0);
  assert_int_equal(gate_calls(&w), NCALLS);
  assert_int_equal(w.calls, NCALLS);
  assert_false(gate_on_loop(&w));
  assert_true(gate_id(&w, 0) != 0 && gate_id(&w, 1) != 0);
  assert_true(gate_id(&w, 0) != gate_id(&w, 1));
  for (int i = 0; i < NCALLS; i++) {
    assert_int_equal(gate_id(&w, i), gate_id(&w, i % 2));
    assert_int_equal(w.call_ids[i], gate_id(&w, i));
    assert_int_equal(w.call_gated[i], 1);
  }
  gx_rpc_channel_free(a);
  gx_rpc_channel_free(b);
  stop_world(&w);
}

/* A gate admitting two streams per connection: the third and later are
 * refused before on_call, with RESOURCE_EXHAUSTED and the gate's reason;
 * another connection is not affected; nothing stays alive. */
static void gate_refuses_before_on_call(void **state) {
  (void)state;
  world w;
  char target[64];
  start_world(&w, 1, target, sizeof target, 0);
  pthread_mutex_lock(&w.mu); /* admit reads it on gRPC's threads */
  w.admit_per_conn = 2;
  pthread_mutex_unlock(&w.mu);
  gx_rpc_channel *a = connect_own(target), *b = connect_own(target);
  for (int i = 0; i < 4; i++) one_call(&w, a, i);
  one_call(&w, b, 4);
  assert_int_equal(atomic_load(&w.cc[0].status), 0);
  assert_int_equal(atomic_load(&w.cc[1].status), 0);
  for (int i = 2; i < 4; i++) {
    assert_int_equal(atomic_load(&w.cc[i].status), 8 /* EXHAUSTED */);
    assert_string_equal(w.cc[i].msg, REASON);
  }
  assert_int_equal(atomic_load(&w.cc[4].status), 0);
  assert_int_equal(gate_calls(&w), 5);
  assert_int_equal(w.calls, 3);
  assert_int_equal(w.call_ids[2], gate_id(&w, 4));
  gx_rpc_channel_free(a);
  gx_rpc_channel_free(b);
  stop_world(&w);
}

/* max_calls_per_conn 2: two calls held by the server, a third stream of
 * that connection is refused (after the gate saw it), another
 * connection's is not; once one held call ended, a stream is admitted
 * again. */
static void gate_bounds_calls_per_connection(void **state) {
  (void)state;
  world w;
  char target[64];
  start_world(&w, 1, target, sizeof target, 2);
  w.hold = 1;
  gx_rpc_channel *a = connect_own(target), *b = connect_own(target);
  start_held(&w, a, 0, 1);
  start_held(&w, a, 1, 2);
  assert_int_equal(w.nheld, 2);
  one_call(&w, a, 2); /* refused: ends at once */
  assert_int_equal(atomic_load(&w.cc[2].status), 8 /* EXHAUSTED */);
  assert_string_equal(w.cc[2].msg,
                      "too many calls in progress on this connection");
  assert_int_equal(gate_calls(&w), 3);
  start_held(&w, b, 3, 3);
  assert_int_equal(w.nheld, 3);
  assert_int_equal(gx_rpc_call_finish(w.held[0], 0, ""), GX_OK);
  /* its place is free once the rpc module let go of the server's side:
   * left are two held calls and their two clients */
  while (!atomic_load(&w.cc[0].done) || atomic_load(&rpc_calls_alive) > 4)
    uv_run(&w.loop, UV_RUN_ONCE);
  w.hold = 0;
  one_call(&w, a, 4); /* the finished call's place is free again */
  assert_int_equal(atomic_load(&w.cc[4].status), 0);
  for (int i = 1; i < 3; i++) gx_rpc_call_finish(w.held[i], 0, "");
  while (!atomic_load(&w.cc[1].done) || !atomic_load(&w.cc[3].done))
    uv_run(&w.loop, UV_RUN_ONCE);
  gx_rpc_channel_free(a);
  gx_rpc_channel_free(b);
  stop_world(&w);
}

/* Without a gate, calls carry no connection number. */
static void no_gate_no_number(void **state) {
  (void)state;
  world w;
  char target[64];
  start_world(&w, 0, target, sizeof target, 0);
  gx_rpc_channel *a = connect_own(target);
  one_call(&w, a, 0);
  assert_int_equal(atomic_load(&w.cc[0].status), 0);
  assert_int_equal(w.calls, 1);
  assert_int_equal(w.call_ids[0], 0);
  assert_int_equal(w.call_gated[0], 0);
  assert_int_equal(gate_calls(&w), 0);
  gx_rpc_channel_free(a);
  stop_world(&w);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(gate_names_connections),
      cmocka_unit_test(gate_refuses_before_on_call),
      cmocka_unit_test(gate_bounds_calls_per_connection),
      cmocka_unit_test(no_gate_no_number),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
