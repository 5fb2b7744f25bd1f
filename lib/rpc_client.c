/* Client side of the rpc module: a channel with its own completion-queue
 * thread, calls with deadlines and wait-for-ready, half-close and cancel.
 * Callbacks run on the channel's thread; see rpc.h. */
#include <stdlib.h>
#include <string.h>

#include <grpc/grpc_security.h>
#include <grpc/support/alloc.h>

#include "lib/gx_err.h"
#include "lib/rpc_internal.h"

struct gx_rpc_channel {
  grpc_channel *channel;
  grpc_completion_queue *cq;
  rpc_pump *pump;
};

static void dispatch(void *ud, rpc_tag *tag, int ok) {
  (void)ud;
  rpc_call_complete(tag->owner, tag, ok);
}

int gx_rpc_channel_new(const char *target, const gx_rpc_creds *creds,
                       const gx_rpc_channel_opts *opts,
                       gx_rpc_channel **out) {
  gx_rpc_global_init();
  grpc_channel_credentials *cc;
  int rc = rpc_channel_creds_new(creds, &cc);
  if (rc != GX_OK) return rc;
  gx_rpc_channel *ch = calloc(1, sizeof *ch);
  if (!ch) {
    grpc_channel_credentials_release(cc);
    return GX_ENOMEM;
  }
  size_t max_recv = opts && opts->max_recv_bytes ? opts->max_recv_bytes
                                                  : 8u << 20;
  grpc_arg args[] = {
      rpc_int_arg(GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH, (int)max_recv),
      /* A run is not idempotent: never let gRPC replay one. */
      rpc_int_arg(GRPC_ARG_ENABLE_RETRIES, 0),
      /* Reconnect quickly to a daemon that is just starting. */
      rpc_int_arg(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100),
  };
  grpc_channel_args ca = {3, args};
  ch->channel = grpc_channel_create(target, cc, &ca);
  grpc_channel_credentials_release(cc); /* the channel holds its own */
  ch->cq = grpc_completion_queue_create_for_next(NULL);
  rc = rpc_pump_start(ch->cq, NULL, dispatch, ch, &ch->pump);
  if (rc != GX_OK) {
    grpc_completion_queue_shutdown(ch->cq);
    grpc_completion_queue_destroy(ch->cq);
    grpc_channel_destroy(ch->channel);
    free(ch);
    return rc;
  }
  *out = ch;
  return GX_OK;
}

static const char *state_name(grpc_connectivity_state s) {
  switch (s) {
    case GRPC_CHANNEL_IDLE: return "idle";
    case GRPC_CHANNEL_CONNECTING: return "connecting";
    case GRPC_CHANNEL_READY: return "ready";
    case GRPC_CHANNEL_TRANSIENT_FAILURE: return "connection refused or unreachable";
    case GRPC_CHANNEL_SHUTDOWN: return "shut down";
  }
  return "unknown";
}

int gx_rpc_channel_wait_connected(gx_rpc_channel *ch, int64_t timeout_ms,
                                  int fail_fast, char *why, size_t why_len) {
  gpr_timespec deadline = gpr_time_add(
      gpr_now(GPR_CLOCK_MONOTONIC),
      gpr_time_from_millis(timeout_ms, GPR_TIMESPAN));
  grpc_connectivity_state s =
      grpc_channel_check_connectivity_state(ch->channel, 1);
  grpc_connectivity_state worst = s;
  /* A private pluck-free queue keeps these waits off the pump's queue. */
  grpc_completion_queue *cq = grpc_completion_queue_create_for_next(NULL);
  int rc = GX_ETIMEDOUT;
  while (s != GRPC_CHANNEL_READY) {
    grpc_channel_watch_connectivity_state(ch->channel, s, deadline, cq, NULL);
    grpc_event ev = grpc_completion_queue_next(
        cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
    if (ev.type != GRPC_OP_COMPLETE || !ev.success) break;
    s = grpc_channel_check_connectivity_state(ch->channel, 1);
    if (s == GRPC_CHANNEL_TRANSIENT_FAILURE) {
      worst = s;
      if (fail_fast) break;
    }
  }
  if (s == GRPC_CHANNEL_READY) rc = GX_OK;
  grpc_completion_queue_shutdown(cq);
  while (grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_MONOTONIC),
                                    NULL).type != GRPC_QUEUE_SHUTDOWN) {
  }
  grpc_completion_queue_destroy(cq);
  if (why && why_len) snprintf(why, why_len, "%s", state_name(worst));
  return rc;
}

void gx_rpc_channel_free(gx_rpc_channel *ch) {
  if (!ch) return;
  grpc_channel_destroy(ch->channel);
  rpc_pump_stop(ch->pump);
  grpc_completion_queue_destroy(ch->cq);
  free(ch);
}

/* Initial metadata both ways and the status, in one batch: it either
 * starts whole or not at all, so a failed start leaves nothing in flight
 * (and nothing that could fire a callback later). */
static int start_ops(gx_rpc_call *c, int wait_for_ready) {
  grpc_op ops[3];
  memset(ops, 0, sizeof ops);
  ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
  ops[0].flags = wait_for_ready ? GRPC_INITIAL_METADATA_WAIT_FOR_READY : 0;
  ops[1].op = GRPC_OP_RECV_INITIAL_METADATA;
  ops[1].data.recv_initial_metadata.recv_initial_metadata = &c->md_initial;
  ops[2].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
  ops[2].data.recv_status_on_client.trailing_metadata = &c->md_trailing;
  ops[2].data.recv_status_on_client.status = &c->status_code;
  ops[2].data.recv_status_on_client.status_details = &c->status_details;
  ops[2].data.recv_status_on_client.error_string = &c->error_string;
  return rpc_call_batch(c, ops, 3, &c->t_status);
}

int gx_rpc_call_start(gx_rpc_channel *ch, const char *method,
                      int64_t timeout_ms, int wait_for_ready,
                      const gx_rpc_handlers *h, void *ud, gx_rpc_call **out) {
  gpr_timespec deadline =
      timeout_ms > 0
          ? gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                         gpr_time_from_millis(timeout_ms, GPR_TIMESPAN))
          : gpr_inf_future(GPR_CLOCK_MONOTONIC);
  grpc_slice m = grpc_slice_from_static_string(method);
  grpc_call *gc = grpc_channel_create_call(ch->channel, NULL,
                                           GRPC_PROPAGATE_DEFAULTS, ch->cq,
                                           m, NULL, deadline, NULL);
  if (!gc) return GX_ERPC;
  gx_rpc_call *c = rpc_call_new(gc, 0);
  if (!c) {
    grpc_call_unref(gc);
    return GX_ENOMEM;
  }
  gx_rpc_call_set_handlers(c, h, ud);
  /* Published before the batch: callbacks may fire at once. */
  *out = c;
  if (start_ops(c, wait_for_ready) != GX_OK) {
    *out = NULL;
    rpc_call_abandon(c); /* nothing started: freed here, no callback */
    return GX_ERPC;
  }
  return GX_OK;
}

/* The half-close batch starts outside c->mu: its completion takes no lock,
 * and may be the call's last, destroying the mutex with the call. */
int gx_rpc_call_close_send(gx_rpc_call *c) {
  int now = 0;
  pthread_mutex_lock(&c->mu);
  if (c->half_sent || c->half_pending) goto out_unlock;
  if (c->send_busy) {
    c->half_pending = 1; /* issued when the send completes */
    goto out_unlock;
  }
  c->half_sent = 1; /* from here a send is refused: we own the half-close */
  now = 1;
out_unlock:
  pthread_mutex_unlock(&c->mu);
  if (!now) return GX_OK;
  grpc_op op = {0};
  op.op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
  int rc = rpc_call_batch(c, &op, 1, &c->t_half);
  if (rc != GX_OK) { /* not sent, and nothing in flight: a retry may */
    pthread_mutex_lock(&c->mu);
    c->half_sent = 0;
    pthread_mutex_unlock(&c->mu);
  }
  return rc;
}

void gx_rpc_call_cancel(gx_rpc_call *c) {
  grpc_call *gc = c->call;
  RPC_HANDOFF(c); /* the completions this causes may destroy c */
  grpc_call_cancel(gc, NULL);
}
