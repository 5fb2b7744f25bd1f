#include "tests/integration/flood.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "gexec/v1/exec.pb-c.h"
#include "lib/gx_err.h"
#include "lib/rpc.h"

#define FLOOD_MAX 10000
#define WAIT_MS 120000

typedef struct {
  gxt_flood *f;
  int got_started;
  gx_rpc_call *call;
} flood_call;

struct gxt_flood {
  gx_rpc_channel *ch;
  int n;
  atomic_int started, exhausted, other, done;
  pthread_mutex_t mu; /* first_refusal */
  char first_refusal[200];
  flood_call calls[FLOOD_MAX];
};

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
  nanosleep(&ts, NULL);
}

static void on_recv(void *ud, const uint8_t *data, size_t len) {
  flood_call *fc = ud;
  (void)len;
  if (data && !fc->got_started) {
    fc->got_started = 1;
    atomic_fetch_add(&fc->f->started, 1);
  }
}

static void on_status(void *ud, int code, const char *msg) {
  flood_call *fc = ud;
  if (fc->got_started) return;
  atomic_fetch_add(code == GX_STATUS_RESOURCE_EXHAUSTED ? &fc->f->exhausted
                                                       : &fc->f->other,
                   1);
  pthread_mutex_lock(&fc->f->mu);
  if (!fc->f->first_refusal[0])
    snprintf(fc->f->first_refusal, sizeof fc->f->first_refusal, "%d %s",
             code, msg);
  pthread_mutex_unlock(&fc->f->mu);
}

static void on_done(void *ud) {
  atomic_fetch_add(&((flood_call *)ud)->f->done, 1);
}

gxt_flood *gxt_flood_start(const gxt_daemon *d, const char *const *argv,
                           int n) {
  static const gx_rpc_handlers h = {on_recv, NULL, NULL, on_status, on_done};
  gxt_flood *f = calloc(1, sizeof *f);
  assert_non_null(f);
  assert_true(n > 0 && n <= FLOOD_MAX);
  f->n = n;
  pthread_mutex_init(&f->mu, NULL);
  assert_int_equal(gx_rpc_channel_new(d->target, NULL, NULL, &f->ch), GX_OK);
  Gexec__V1__Start st = GEXEC__V1__START__INIT;
  while (argv[st.n_argv]) st.n_argv++;
  st.argv = (char **)argv;
  st.stdin_mode = GEXEC__V1__STDIN_MODE__STDIN_NULL;
  Gexec__V1__RunRequest req = GEXEC__V1__RUN_REQUEST__INIT;
  req.event_case = GEXEC__V1__RUN_REQUEST__EVENT_START;
  req.start = &st;
  for (int i = 0; i < n; i++) {
    flood_call *fc = &f->calls[i];
    fc->f = f;
    assert_int_equal(gx_rpc_call_start(f->ch, "/gexec.v1.Exec/Run", WAIT_MS,
                                       0, &h, fc, &fc->call),
                     GX_OK);
    gx_rpc_call_send(fc->call, &req.base);
    gx_rpc_call_recv(fc->call);
  }
  long long until = gxt_now_ms() + WAIT_MS;
  while (atomic_load(&f->started) + atomic_load(&f->exhausted) +
             atomic_load(&f->other) < n &&
         gxt_now_ms() < until)
    sleep_ms(20);
  return f;
}

gxt_flood_counts gxt_flood_counts_of(gxt_flood *f) {
  gxt_flood_counts c = {atomic_load(&f->started), atomic_load(&f->exhausted),
                        atomic_load(&f->other), ""};
  pthread_mutex_lock(&f->mu);
  memcpy(c.first_refusal, f->first_refusal, sizeof c.first_refusal);
  pthread_mutex_unlock(&f->mu);
  return c;
}

void gxt_flood_end(gxt_flood *f) {
  for (int i = 0; i < f->n; i++)
    if (f->calls[i].got_started) gx_rpc_call_cancel(f->calls[i].call);
  long long until = gxt_now_ms() + WAIT_MS;
  while (atomic_load(&f->done) < f->n && gxt_now_ms() < until) sleep_ms(20);
  assert_int_equal(atomic_load(&f->done), f->n);
  gx_rpc_channel_free(f->ch);
  pthread_mutex_destroy(&f->mu);
  free(f);
}
