/* Completion-queue pump: the bridge between gRPC's queue and a libuv loop.
 *
 * gRPC does no I/O unless a thread sits in grpc_completion_queue_next, and
 * offers no fd to poll. So one thread blocks there. In loop mode it appends
 * each completion to a queue and wakes the loop with uv_async_send (which
 * coalesces: the loop drains the whole queue each time). In direct mode
 * (clients) it dispatches on its own thread.
 *
 * The queue is linked through the tags themselves (rpc_tag.next): it needs
 * no memory, so queueing cannot fail, and it holds at most one entry per
 * tag in flight. */
#include <stdlib.h>
#include <string.h>

#include "lib/gx_err.h"
#include "lib/rpc_internal.h"

rpc_thread_create_fn rpc_thread_create = pthread_create;

struct rpc_pump {
  grpc_completion_queue *cq;
  uv_loop_t *loop;
  uv_async_t async;
  pthread_t thread;
  rpc_dispatch_fn fn;
  void *ud;
  pthread_mutex_t mu;
  rpc_tag *head, *tail; /* completions for the loop, oldest first */
};

static void enqueue(rpc_pump *p, rpc_tag *tag, int ok) {
  pthread_mutex_lock(&p->mu);
  tag->next = NULL;
  tag->ok = ok;
  if (p->tail)
    p->tail->next = tag;
  else
    p->head = tag;
  p->tail = tag;
  pthread_mutex_unlock(&p->mu);
}

/* Loop thread: dispatches what is queued now; returns 1 if more was
 * queued meanwhile (by the pump thread, or by the callbacks). */
static int drain_once(rpc_pump *p) {
  pthread_mutex_lock(&p->mu);
  rpc_tag *t = p->head;
  p->head = p->tail = NULL;
  pthread_mutex_unlock(&p->mu);
  while (t) {
    rpc_tag *next = t->next; /* dispatching may queue t again */
    p->fn(p->ud, t, t->ok);
    t = next;
  }
  pthread_mutex_lock(&p->mu);
  int more = p->head != NULL;
  pthread_mutex_unlock(&p->mu);
  return more;
}

/* Loop thread: dispatches until nothing is queued. */
static void drain(rpc_pump *p) {
  while (drain_once(p)) {
  }
}

/* One batch per wake-up: what arrived while it was dispatched waits for
 * the next loop turn, so that a flood of completions (calls arriving
 * faster than the loop takes them) never keeps timers and other handles
 * of the loop from running. */
static void on_async(uv_async_t *a) {
  rpc_pump *p = a->data;
  if (drain_once(p)) uv_async_send(&p->async);
}

static void *pump_main(void *arg) {
  rpc_pump *p = arg;
  for (;;) {
    grpc_event ev = grpc_completion_queue_next(
        p->cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
    if (ev.type == GRPC_QUEUE_SHUTDOWN) break;
    if (ev.type != GRPC_OP_COMPLETE) continue;
    RPC_TAKEN(ev.tag);
    if (!p->loop) {
      p->fn(p->ud, ev.tag, ev.success);
      continue;
    }
    enqueue(p, ev.tag, ev.success);
    uv_async_send(&p->async);
  }
  return NULL;
}

static void free_pump(rpc_pump *p) {
  pthread_mutex_destroy(&p->mu);
  free(p);
}

/* libuv may use the async handle until this runs: only then is the
 * memory holding it released. */
static void on_async_closed(uv_handle_t *h) { free_pump(h->data); }

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
    if (uv_async_init(loop, &p->async, on_async) != 0) goto out_free;
    p->async.data = p;
  }
  if (rpc_thread_create(&p->thread, NULL, pump_main, p) != 0)
    goto out_close_async;
  *out = p;
  return GX_OK;
out_close_async:
  if (loop) {
    uv_close((uv_handle_t *)&p->async, on_async_closed); /* frees p */
    return GX_ESYS;
  }
out_free:
  free_pump(p);
  return GX_ESYS;
}

void rpc_pump_post(rpc_pump *p, rpc_tag *tag, int ok) {
  enqueue(p, tag, ok);
  uv_async_send(&p->async);
}

void rpc_pump_stop(rpc_pump *p) {
  grpc_completion_queue_shutdown(p->cq);
  pthread_join(p->thread, NULL);
  if (!p->loop) {
    free_pump(p);
    return;
  }
  drain(p);
  uv_close((uv_handle_t *)&p->async, on_async_closed);
}
