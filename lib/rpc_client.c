/* Client side of the rpc module: engines (a completion queue and its
 * thread), channels on them with connectivity watches, calls with
 * deadlines and wait-for-ready, half-close and cancel. Callbacks run on
 * the engine's thread; see rpc.h. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <grpc/grpc_security.h>
#include <grpc/support/alloc.h>
#include <grpc/support/log.h>

#include "lib/gx_err.h"
#include "lib/rpc_internal.h"

struct gx_rpc_client {
  grpc_completion_queue *cq;
  rpc_pump *pump;
};

/* The channel's watch: at most one pending. Its tag lives in the channel,
 * so the channel is freed only after the watch's completion was taken off
 * the queue (watch_pending 0); `closing` keeps the user's callback from
 * firing once gx_rpc_channel_free started. */
struct gx_rpc_channel {
  grpc_channel *channel;
  gx_rpc_client *client;
  int own_client; /* made with the channel (opts->client was NULL) */
  pthread_mutex_t mu;
  pthread_cond_t cv;
  rpc_tag t_watch;
  int watch_pending, firing, closing;
  gx_rpc_watch_fn watch_fn;
  void *watch_ud;
};

static gx_rpc_conn_state map_state(grpc_connectivity_state s) {
  switch (s) {
    case GRPC_CHANNEL_IDLE: return GX_CONN_IDLE;
    case GRPC_CHANNEL_CONNECTING: return GX_CONN_CONNECTING;
    case GRPC_CHANNEL_READY: return GX_CONN_READY;
    case GRPC_CHANNEL_TRANSIENT_FAILURE: return GX_CONN_FAILURE;
    case GRPC_CHANNEL_SHUTDOWN: return GX_CONN_SHUTDOWN;
  }
  return GX_CONN_FAILURE;
}

static grpc_connectivity_state unmap_state(gx_rpc_conn_state s) {
  switch (s) {
    case GX_CONN_IDLE: return GRPC_CHANNEL_IDLE;
    case GX_CONN_CONNECTING: return GRPC_CHANNEL_CONNECTING;
    case GX_CONN_READY: return GRPC_CHANNEL_READY;
    case GX_CONN_FAILURE: return GRPC_CHANNEL_TRANSIENT_FAILURE;
    case GX_CONN_SHUTDOWN: return GRPC_CHANNEL_SHUTDOWN;
  }
  return GRPC_CHANNEL_TRANSIENT_FAILURE;
}

/* Engine thread: the watch completed (ok 0: its deadline passed). The
 * callback may arm the next watch; `firing` keeps free from destroying
 * the channel under it. The last touch of ch is the unlock that follows
 * the broadcast: free may destroy ch from then on. */
static void watch_complete(gx_rpc_channel *ch, int ok) {
  pthread_mutex_lock(&ch->mu);
  int closing = ch->closing;
  gx_rpc_watch_fn fn = ch->watch_fn;
  void *ud = ch->watch_ud;
  ch->watch_pending = 0;
  if (closing) {
    pthread_cond_broadcast(&ch->cv);
    pthread_mutex_unlock(&ch->mu);
    return;
  }
  ch->firing = 1;
  pthread_mutex_unlock(&ch->mu);
  if (fn)
    fn(ud, map_state(grpc_channel_check_connectivity_state(ch->channel, 0)),
       !ok);
  pthread_mutex_lock(&ch->mu);
  ch->firing = 0;
  pthread_cond_broadcast(&ch->cv);
  pthread_mutex_unlock(&ch->mu);
}

static void dispatch(void *ud, rpc_tag *tag, int ok) {
  (void)ud;
  if (tag->kind == RPC_OP_WATCH)
    watch_complete(tag->owner, ok);
  else
    rpc_call_complete(tag->owner, tag, ok);
}

static void drop_log(gpr_log_func_args *args) { (void)args; }

void gx_rpc_log_quiet(void) {
  const char *v = getenv("GRPC_VERBOSITY"), *t = getenv("GRPC_TRACE");
  if ((v && *v) || (t && *t)) return;
  gpr_set_log_function(drop_log);
}

int gx_rpc_client_new(gx_rpc_client **out) {
  gx_rpc_global_init();
  gx_rpc_client *cl = calloc(1, sizeof *cl);
  if (!cl) return GX_ENOMEM;
  cl->cq = grpc_completion_queue_create_for_next(NULL);
  int rc = rpc_pump_start(cl->cq, NULL, dispatch, cl, &cl->pump);
  if (rc != GX_OK) {
    grpc_completion_queue_shutdown(cl->cq);
    grpc_completion_queue_destroy(cl->cq);
    free(cl);
    return rc;
  }
  *out = cl;
  return GX_OK;
}

void gx_rpc_client_free(gx_rpc_client *cl) {
  if (!cl) return;
  rpc_pump_stop(cl->pump);
  grpc_completion_queue_destroy(cl->cq);
  free(cl);
}

/* Keepalive (rpc.h) into @p args; returns how many were set (0: off). */
static size_t keepalive_args(const gx_rpc_channel_opts *opts,
                             grpc_arg *args) {
  int time_ms = opts ? opts->keepalive_time_ms : 0;
  int timeout_ms = opts ? opts->keepalive_timeout_ms : 0;
  if (time_ms == 0) time_ms = GX_RPC_CLIENT_KEEPALIVE_TIME_MS;
  if (timeout_ms <= 0) timeout_ms = GX_RPC_CLIENT_KEEPALIVE_TIMEOUT_MS;
  if (time_ms < 0) return 0;
  args[0] = rpc_int_arg(GRPC_ARG_KEEPALIVE_TIME_MS, time_ms);
  args[1] = rpc_int_arg(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, timeout_ms);
  /* gRPC stops pinging after 2 pings without data by default: a run
   * that is silent for minutes would no longer be watched. */
  args[2] = rpc_int_arg(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  return 3;
}

static grpc_channel *create_channel(const char *target,
                                    grpc_channel_credentials *cc,
                                    const gx_rpc_creds *creds,
                                    const gx_rpc_channel_opts *opts) {
  size_t max_recv = opts && opts->max_recv_bytes ? opts->max_recv_bytes
                                                  : 8u << 20;
  grpc_arg args[10] = {
      rpc_int_arg(GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH, (int)max_recv),
      /* A run is not idempotent: never let gRPC replay one. */
      rpc_int_arg(GRPC_ARG_ENABLE_RETRIES, 0),
      /* Reconnect quickly to a daemon that is just starting, and within
       * 10 s (not gRPC's 120 s) to one that was down for a while. */
      rpc_int_arg(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100),
      rpc_int_arg(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 10000),
  };
  size_t n = 4;
  if (opts && opts->own_connection)
    args[n++] = rpc_int_arg(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  n += keepalive_args(opts, args + n);
  const char *name = rpc_creds_server_name(creds);
  if (name) {
    args[n].type = GRPC_ARG_STRING;
    args[n].key = GRPC_SSL_TARGET_NAME_OVERRIDE_ARG;
    args[n++].value.string = (char *)name; /* gRPC copies it */
  }
  grpc_channel_args ca = {n, args};
  return grpc_channel_create(target, cc, &ca);
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
    rc = GX_ENOMEM;
    goto out_release;
  }
  ch->client = opts ? opts->client : NULL;
  if (!ch->client) {
    rc = gx_rpc_client_new(&ch->client);
    if (rc != GX_OK) goto out_free;
    ch->own_client = 1;
  }
  pthread_mutex_init(&ch->mu, NULL);
  pthread_cond_init(&ch->cv, NULL);
  ch->t_watch.kind = RPC_OP_WATCH;
  ch->t_watch.owner = ch;
  ch->channel = create_channel(target, cc, creds, opts);
  *out = ch;
  goto out_release;
out_free:
  free(ch);
out_release:
  grpc_channel_credentials_release(cc); /* the channel holds its own */
  return rc;
}

gx_rpc_conn_state gx_rpc_channel_state(gx_rpc_channel *ch, int try_connect) {
  return map_state(
      grpc_channel_check_connectivity_state(ch->channel, try_connect));
}

static gpr_timespec deadline_in(int64_t ms) {
  return gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                      gpr_time_from_millis(ms, GPR_TIMESPAN));
}

int gx_rpc_channel_watch(gx_rpc_channel *ch, gx_rpc_conn_state last,
                         int64_t timeout_ms, gx_rpc_watch_fn fn, void *ud) {
  if (timeout_ms <= 0) return GX_EINVAL;
  pthread_mutex_lock(&ch->mu);
  if (ch->watch_pending || ch->closing) {
    pthread_mutex_unlock(&ch->mu);
    return GX_EBUSY;
  }
  ch->watch_pending = 1;
  ch->watch_fn = fn;
  ch->watch_ud = ud;
  pthread_mutex_unlock(&ch->mu);
  RPC_HANDOFF(&ch->t_watch);
  grpc_channel_watch_connectivity_state(ch->channel, unmap_state(last),
                                        deadline_in(timeout_ms),
                                        ch->client->cq, &ch->t_watch);
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
  gpr_timespec deadline = deadline_in(timeout_ms);
  grpc_connectivity_state s =
      grpc_channel_check_connectivity_state(ch->channel, 1);
  grpc_connectivity_state worst = s;
  /* A private pluck-free queue keeps these waits off the engine's queue. */
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
  pthread_mutex_lock(&ch->mu);
  ch->closing = 1;
  while (ch->firing) pthread_cond_wait(&ch->cv, &ch->mu);
  pthread_mutex_unlock(&ch->mu);
  grpc_channel_destroy(ch->channel); /* a pending watch completes now */
  pthread_mutex_lock(&ch->mu);
  while (ch->watch_pending) pthread_cond_wait(&ch->cv, &ch->mu);
  pthread_mutex_unlock(&ch->mu);
  if (ch->own_client) gx_rpc_client_free(ch->client);
  pthread_mutex_destroy(&ch->mu);
  pthread_cond_destroy(&ch->cv);
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
                                           GRPC_PROPAGATE_DEFAULTS,
                                           ch->client->cq,
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

int gx_rpc_call_trailer(gx_rpc_call *c, const char *key, char *buf,
                        size_t len) {
  size_t klen = strlen(key);
  buf[0] = '\0';
  for (size_t i = 0; i < c->md_trailing.count; i++) {
    const grpc_metadata *m = &c->md_trailing.metadata[i];
    if (GRPC_SLICE_LENGTH(m->key) != klen ||
        memcmp(GRPC_SLICE_START_PTR(m->key), key, klen) != 0)
      continue;
    size_t n = GRPC_SLICE_LENGTH(m->value);
    if (n >= len) n = len - 1;
    memcpy(buf, GRPC_SLICE_START_PTR(m->value), n);
    buf[n] = '\0';
    return 1;
  }
  return 0;
}
