/* Completion-queue pump: the bridge between gRPC's queue and a libuv loop.
 *
 * gRPC does no I/O unless a thread sits in grpc_completion_queue_next, and
 * offers no fd to poll. So one thread blocks there. In loop mode it appends
 * each completion to a mutex-protected array and wakes the loop with
 * uv_async_send (which coalesces: the loop drains the whole array each
 * time). In direct mode (clients) it dispatches on its own thread. */
#include <stdlib.h>
#include <string.h>

#include "lib/gx_err.h"
#include "lib/rpc_internal.h"

rpc_thread_create_fn rpc_thread_create = pthread_create;

typedef struct {
  rpc_tag *tag;
  int ok;
} pending_ev;

struct rpc_pump {
  grpc_completion_queue *cq;
  uv_loop_t *loop;
  uv_async_t async;
  pthread_t thread;
  rpc_dispatch_fn fn;
  void *ud;
  pthread_mutex_t mu;
  pending_ev *evs; /* bounded by the ops in flight: each op yields one */
  size_t n, cap;
};

static int push_event(rpc_pump *p, rpc_tag *tag, int ok) {
  pthread_mutex_lock(&p->mu);
  if (p->n == p->cap) {
    size_t cap = p->cap ? p->cap * 2 : 64;
    pending_ev *evs = realloc(p->evs, cap * sizeof *evs);
    if (!evs) {
      pthread_mutex_unlock(&p->mu);
      return -1;
    }
    p->evs = evs;
    p->cap = cap;
  }
  p->evs[p->n++] = (pending_ev){tag, ok};
  pthread_mutex_unlock(&p->mu);
  return 0;
}

/* Loop thread: take everything queued so far and dispatch it. */
static void drain(rpc_pump *p) {
  for (;;) {
    pthread_mutex_lock(&p->mu);
    pending_ev *evs = p->evs;
    size_t n = p->n;
    p->evs = NULL;
    p->n = p->cap = 0;
    pthread_mutex_unlock(&p->mu);
    if (n == 0) break;
    for (size_t i = 0; i < n; i++) p->fn(p->ud, evs[i].tag, evs[i].ok);
    free(evs);
  }
}

static void on_async(uv_async_t *a) { drain(a->data); }

static void *pump_main(void *arg) {
  rpc_pump *p = arg;
  for (;;) {
    grpc_event ev = grpc_completion_queue_next(
        p->cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
    if (ev.type == GRPC_QUEUE_SHUTDOWN) break;
    if (ev.type != GRPC_OP_COMPLETE) continue;
    if (!p->loop) {
      p->fn(p->ud, ev.tag, ev.success);
      continue;
    }
    while (push_event(p, ev.tag, ev.success) != 0) /* out of memory */
      gpr_sleep_until(gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                                   gpr_time_from_millis(1, GPR_TIMESPAN)));
    uv_async_send(&p->async);
  }
  return NULL;
}

int rpc_pump_start(grpc_completion_queue *cq, uv_loop_t *loop,
                   rpc_dispatch_fn fn, void *ud, rpc_pump **out) {
  rpc_pump *p = calloc(1, sizeof *p);
  if (!p) return GX_ENOMEM;
  p->cq = cq;
  p->loop = loop;
  p->fn = fn;
  p->ud = ud;
  pthread_mutex_init(&p->mu, NULL);
  if (loop) {
    if (uv_async_init(loop, &p->async, on_async) != 0) goto fail_mutex;
    p->async.data = p;
  }
  if (rpc_thread_create(&p->thread, NULL, pump_main, p) != 0) goto fail_async;
  *out = p;
  return GX_OK;
fail_async:
  if (loop) uv_close((uv_handle_t *)&p->async, NULL);
fail_mutex:
  pthread_mutex_destroy(&p->mu);
  free(p);
  return GX_ESYS;
}

static void free_pump(uv_handle_t *h) { free(h->data); }

void rpc_pump_stop(rpc_pump *p) {
  grpc_completion_queue_shutdown(p->cq);
  pthread_join(p->thread, NULL);
  if (p->loop) drain(p);
  pthread_mutex_destroy(&p->mu);
  if (!p->loop) {
    free(p);
    return;
  }
  uv_close((uv_handle_t *)&p->async, free_pump);
}
