/* client/evq.c on fake runs: gexec_proc structs set up by hand in the
 * states the rpc callbacks would leave them in, with no call and no
 * daemon. Covers the order of a run's events, turn-taking between runs,
 * the eventfd's level, a run forgotten while queued, timeouts, the one
 * message in flight per run, and the error event of a run that never got
 * a call. */
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "client/internal.h"

static gexec_proc *fake_run(gexec_evq *q, intptr_t id) {
  gexec_proc *p = calloc(1, sizeof *p);
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->cv, NULL);
  p->q = q;
  p->user = (void *)id;
  p->stream_ended = 1; /* take_pending posts no receive: there is no call */
  p->state = GEXEC__PROC_CALLING;
  return p;
}

static void free_run(gexec_proc *p) {
  pthread_mutex_lock(&p->mu);
  gexec__evq_forget(p);
  gexec__release_current(p);
  if (p->pending) gexec__v1__run_response__free_unpacked(p->pending, NULL);
  pthread_mutex_unlock(&p->mu);
  pthread_mutex_destroy(&p->mu);
  pthread_cond_destroy(&p->cv);
  free(p);
}

/* What on_recv leaves: an output message waiting for the reader. */
static void give_output(gexec_proc *p, int err, const char *text) {
  Gexec__V1__RunResponse r = GEXEC__V1__RUN_RESPONSE__INIT;
  ProtobufCBinaryData d = {strlen(text), (uint8_t *)text};
  r.event_case = err ? GEXEC__V1__RUN_RESPONSE__EVENT_STDERR
                     : GEXEC__V1__RUN_RESPONSE__EVENT_STDOUT;
  if (err)
    r.stderr = d;
  else
    r.stdout = d;
  uint8_t buf[256];
  size_t n = gexec__v1__run_response__pack(&r, buf);
  pthread_mutex_lock(&p->mu);
  assert_null(p->pending);
  p->pending = gexec__v1__run_response__unpack(NULL, n, buf);
  gexec__proc_wake(p);
  pthread_mutex_unlock(&p->mu);
}

static void give_started(gexec_proc *p) {
  pthread_mutex_lock(&p->mu);
  p->started = 1;
  p->state = GEXEC__PROC_RUNNING;
  p->pid = 42;
  gexec__proc_wake(p);
  pthread_mutex_unlock(&p->mu);
}

/* What on_status + on_done leave after `exited` with status OK. */
static void give_exit(gexec_proc *p, int code) {
  pthread_mutex_lock(&p->mu);
  p->exited_seen = 1;
  p->exit.exit_code = code;
  p->status_received = 1;
  p->status = 0;
  p->done = 1;
  p->state = GEXEC__PROC_ENDED;
  gexec__proc_wake(p);
  pthread_mutex_unlock(&p->mu);
}

static int readable(gexec_evq *q) {
  struct pollfd pf = {.fd = gexec_evq_fd(q), .events = POLLIN};
  return poll(&pf, 1, 0);
}

static const gexec_run_event *take(gexec_evq *q, gexec_event_type type,
                                   gexec_proc *p) {
  const gexec_run_event *ev = NULL;
  assert_int_equal(gexec_evq_next(q, &ev, 0, NULL), GEXEC_OK);
  assert_int_equal(ev->type, type);
  assert_ptr_equal(ev->proc, p);
  assert_ptr_equal(ev->user_data, p->user);
  return ev;
}

static void expect_empty(gexec_evq *q) {
  const gexec_run_event *ev;
  gexec_error e = {0};
  assert_int_equal(gexec_evq_next(q, &ev, 0, &e), GEXEC_ETIMEDOUT);
  assert_string_equal(e.message, "no event within timeout");
  assert_int_equal(readable(q), 0);
}

/* One run: started, its output in order, then the exit; the fd is
 * readable exactly while something waits. */
static void test_one_run_in_order(void **state) {
  (void)state;
  gexec_evq *q;
  assert_int_equal(gexec_evq_new(&q, NULL), GEXEC_OK);
  gexec_proc *p = fake_run(q, 1);
  expect_empty(q);
  give_started(p);
  assert_int_equal(readable(q), 1);
  take(q, GEXEC_EV_STARTED, p);
  give_output(p, 0, "out");
  const gexec_run_event *ev = take(q, GEXEC_EV_STDOUT, p);
  assert_int_equal(ev->len, 3);
  assert_memory_equal(ev->data, "out", 3);
  give_output(p, 1, "err!"); /* the first is still being read */
  give_exit(p, 5);
  ev = take(q, GEXEC_EV_STDERR, p);
  assert_memory_equal(ev->data, "err!", 4);
  ev = take(q, GEXEC_EV_EXIT, p);
  assert_int_equal(ev->exit->exit_code, 5);
  assert_null(ev->error);
  expect_empty(q);
  free_run(p);
  gexec_evq_free(q);
}

/* Runs take turns: a run with more events goes behind the others. */
static void test_runs_take_turns(void **state) {
  (void)state;
  gexec_evq *q;
  assert_int_equal(gexec_evq_new(&q, NULL), GEXEC_OK);
  gexec_proc *a = fake_run(q, 1), *b = fake_run(q, 2), *c = fake_run(q, 3);
  give_started(a);
  give_output(a, 0, "a1");
  give_started(b);
  give_started(c);
  give_output(c, 0, "c1");
  take(q, GEXEC_EV_STARTED, a);
  take(q, GEXEC_EV_STARTED, b);
  take(q, GEXEC_EV_STARTED, c);
  take(q, GEXEC_EV_STDOUT, a);
  take(q, GEXEC_EV_STDOUT, c);
  expect_empty(q);
  free_run(a);
  free_run(b);
  free_run(c);
  gexec_evq_free(q);
}

/* A run freed while queued leaves the queue (and its level) at once. */
static void test_forget_while_queued(void **state) {
  (void)state;
  gexec_evq *q;
  assert_int_equal(gexec_evq_new(&q, NULL), GEXEC_OK);
  gexec_proc *a = fake_run(q, 1), *b = fake_run(q, 2);
  give_started(a);
  give_started(b);
  free_run(a);
  assert_int_equal(readable(q), 1);
  take(q, GEXEC_EV_STARTED, b);
  free_run(b); /* the run of the current event */
  expect_empty(q);
  gexec_evq_free(q);
}

/* A run that never got a call ends with one GEXEC_EV_ERROR. */
static void test_local_failure_is_error(void **state) {
  (void)state;
  gexec_evq *q;
  assert_int_equal(gexec_evq_new(&q, NULL), GEXEC_OK);
  gexec_proc *p = fake_run(q, 9);
  p->state = GEXEC__PROC_WAITING;
  pthread_mutex_lock(&p->mu);
  gexec__proc_fail(p, GEXEC_ECONNECT, "cannot connect to %s: %s", "h:1",
                   "connection refused");
  pthread_mutex_unlock(&p->mu);
  const gexec_run_event *ev = take(q, GEXEC_EV_ERROR, p);
  assert_int_equal(ev->error->code, GEXEC_ECONNECT);
  assert_string_equal(ev->error->message,
                      "cannot connect to h:1: connection refused");
  assert_null(ev->exit);
  expect_empty(q);
  free_run(p);
  gexec_evq_free(q);
}

/* A wait with a timeout returns when it runs out; one without a wait
 * returns at once. */
static void test_timeouts(void **state) {
  (void)state;
  gexec_evq *q;
  const gexec_run_event *ev;
  assert_int_equal(gexec_evq_new(&q, NULL), GEXEC_OK);
  assert_int_equal(gexec_evq_next(q, &ev, 20, NULL), GEXEC_ETIMEDOUT);
  assert_int_equal(gexec_evq_next(q, &ev, 0, NULL), GEXEC_ETIMEDOUT);
  gexec_evq_free(q);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_one_run_in_order),
      cmocka_unit_test(test_runs_take_turns),
      cmocka_unit_test(test_forget_while_queued),
      cmocka_unit_test(test_local_failure_is_error),
      cmocka_unit_test(test_timeouts),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
