/* Server side of the rpc module: listeners, method registration, one
 * posted request per method (re-posted as each completes), status and
 * shutdown. Runs on the libuv loop thread; see rpc.h. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <grpc/grpc_security.h>
#include <grpc/support/alloc.h>

#include "lib/gx_err.h"
#include "lib/rpc_internal.h"

#define MAX_METHODS 8

rpc_request_registered_fn rpc_request_registered =
    grpc_server_request_registered_call;

/* One posted request: a registered method, or (method -1) any other. */
typedef struct {
  gx_rpc_server *srv;
  int method;
  void *handle; /* from grpc_server_register_method */
  rpc_unary_method unary; /* fn NULL: calls go to on_call */
  grpc_call *call;
  gpr_timespec deadline;
  grpc_metadata_array md;
  grpc_call_details details;
  rpc_tag tag;
} request_slot;

struct gx_rpc_server {
  uv_loop_t *loop;
  grpc_server *server;
  grpc_completion_queue *cq;
  rpc_pump *pump;
  rpc_conns *conns; /* unix listeners of ours, accepted connections */
  request_slot slots[MAX_METHODS + 1];
  int nmethods;
  int shutting_down;
  int refusing; /* start failed: calls that still arrive are cancelled */
  rpc_tag shutdown_tag;
  void (*shutdown_done)(void *);
  void *shutdown_ud;
  gx_rpc_on_call on_call;
  void *on_call_ud;
  rpc_gate *gate; /* NULL without admit_stream */
};

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int initialized;

static void do_global_init(void) {
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGCHLD);
  sigaddset(&block, SIGPIPE);
  sigaddset(&block, SIGINT);
  sigaddset(&block, SIGTERM);
  sigaddset(&block, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &block, &old);
  grpc_init();
  initialized = 1;
  pthread_sigmask(SIG_SETMASK, &old, NULL);
}

void gx_rpc_global_init(void) { pthread_once(&init_once, do_global_init); }

void gx_rpc_global_shutdown(void) {
  if (initialized) grpc_shutdown();
}

static int post_request(request_slot *s) {
  gx_rpc_server *srv = s->srv;
  grpc_call_error e;
  grpc_metadata_array_init(&s->md);
  RPC_HANDOFF(&s->tag);
  if (s->method >= 0) {
    e = rpc_request_registered(srv->server, s->handle, &s->call,
                               &s->deadline, &s->md, NULL, srv->cq, srv->cq,
                               &s->tag);
  } else {
    grpc_call_details_init(&s->details);
    e = grpc_server_request_call(srv->server, &s->call, &s->details, &s->md,
                                 srv->cq, srv->cq, &s->tag);
  }
  return e == GRPC_CALL_OK ? GX_OK : GX_ERPC;
}

static void refuse(gx_rpc_server *srv, grpc_call *gc) {
  uint64_t conn = srv->gate ? rpc_gate_call_conn(gc) : 0;
  grpc_call_cancel(gc, NULL);
  grpc_call_unref(gc);
  if (srv->gate) rpc_gate_release(srv->gate, conn);
}

/* Wraps an accepted grpc_call and starts {initial metadata, close}. */
static gx_rpc_call *accept_call(gx_rpc_server *srv, grpc_call *gc) {
  gx_rpc_call *c = rpc_call_new(gc, 1);
  if (!c) {
    refuse(srv, gc);
    return NULL;
  }
  if (srv->gate) {
    c->gate = srv->gate;
    c->gate_conn = rpc_gate_call_conn(gc);
  }
  c->pump = srv->pump;
  c->peer = grpc_call_get_peer(gc);
  c->conns = srv->conns;
  rpc_conns_identify(srv->conns, c);
  grpc_op ops[2];
  memset(ops, 0, sizeof ops);
  ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
  ops[1].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
  ops[1].data.recv_close_on_server.cancelled = &c->cancelled;
  if (rpc_call_batch(c, ops, 2, &c->t_close) != GX_OK) {
    rpc_call_abandon(c); /* cannot happen on a fresh call */
    return NULL;
  }
  return c;
}

static void on_request(request_slot *s, int ok) {
  gx_rpc_server *srv = s->srv;
  grpc_call *gc = s->call;
  s->call = NULL;
  grpc_metadata_array_destroy(&s->md);
  if (s->method < 0) grpc_call_details_destroy(&s->details);
  if (!srv->shutting_down && !srv->refusing) post_request(s);
  if (!ok || !gc) return;
  if (srv->refusing) {
    refuse(srv, gc);
    return;
  }
  gx_rpc_call *c = accept_call(srv, gc);
  if (!c) return;
  if (s->unary.fn)
    rpc_unary_start(c, &s->unary);
  else
    srv->on_call(srv->on_call_ud, c, s->method);
}

static void dispatch(void *ud, rpc_tag *tag, int ok) {
  gx_rpc_server *srv = ud;
  switch (tag->kind) {
    case RPC_OP_REQUEST:
      on_request(tag->owner, ok);
      break;
    case RPC_OP_SHUTDOWN:
      if (srv->shutdown_done) srv->shutdown_done(srv->shutdown_ud);
      break;
    default:
      rpc_call_complete(tag->owner, tag, ok);
      break;
  }
}

static int or_default(int v, int dflt) { return v > 0 ? v : dflt; }

int gx_rpc_server_new(uv_loop_t *loop, const gx_rpc_server_opts *opts,
                      gx_rpc_server **out) {
  gx_rpc_global_init();
  gx_rpc_server *srv = calloc(1, sizeof *srv);
  if (!srv) return GX_ENOMEM;
  if (rpc_conns_new(&srv->conns) != GX_OK) {
    free(srv);
    return GX_ENOMEM;
  }
  size_t max_recv = opts && opts->max_recv_bytes ? opts->max_recv_bytes
                                                  : 4u << 20;
  grpc_arg args[] = {
      /* keepalive (rpc.h): the server pings every connection, idle or
       * not, and lets clients ping every GX_RPC_CLIENT_PING_MIN_MS / 2
       * without a strike */
      rpc_int_arg(GRPC_ARG_KEEPALIVE_TIME_MS,
                  or_default(opts ? opts->keepalive_time_ms : 0,
                             GX_RPC_KEEPALIVE_TIME_MS)),
      rpc_int_arg(GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
                  or_default(opts ? opts->keepalive_timeout_ms : 0,
                             GX_RPC_KEEPALIVE_TIMEOUT_MS)),
      rpc_int_arg(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1),
      rpc_int_arg(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
                  GX_RPC_CLIENT_PING_MIN_MS / 2),
      rpc_int_arg(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 2),
      rpc_int_arg(GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH, (int)max_recv),
      rpc_int_arg(GRPC_ARG_MAX_CONCURRENT_STREAMS,
                  opts && opts->max_streams_per_conn
                      ? opts->max_streams_per_conn
                      : 0x7fffffff),
      /* what a stream may buffer before we ask for its next message:
       * the announced window stays at this lookahead instead of growing
       * with bandwidth-delay probes (measured: ~6 MiB per stream) */
      rpc_int_arg(GRPC_ARG_HTTP2_BDP_PROBE, 0),
      rpc_int_arg(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 64 * 1024)};
  grpc_channel_args ca = {sizeof args / sizeof *args, args};
  if (opts && opts->admit_stream &&
      rpc_gate_new(opts->admit_stream, opts->admit_ud,
                   opts->max_calls_per_conn, &srv->gate) != GX_OK) {
    rpc_conns_free(srv->conns);
    free(srv);
    return GX_ENOMEM;
  }
  srv->loop = loop;
  srv->server = grpc_server_create(&ca, NULL);
  srv->cq = grpc_completion_queue_create_for_next(NULL);
  grpc_server_register_completion_queue(srv->server, srv->cq, NULL);
  srv->shutdown_tag.kind = RPC_OP_SHUTDOWN;
  srv->shutdown_tag.owner = srv;
  *out = srv;
  return GX_OK;
}

int gx_rpc_server_add_method(gx_rpc_server *srv, const char *path) {
  if (srv->nmethods >= MAX_METHODS) return GX_E2BIG;
  void *h = grpc_server_register_method(srv->server, path, NULL,
                                        GRPC_SRM_PAYLOAD_NONE, 0);
  if (!h) return GX_ERPC;
  request_slot *s = &srv->slots[srv->nmethods];
  s->handle = h;
  s->method = srv->nmethods;
  return srv->nmethods++;
}

int gx_rpc_server_add_unary(gx_rpc_server *srv, const char *path,
                            const ProtobufCMessageDescriptor *req_type,
                            gx_rpc_unary_fn fn, void *ud) {
  rpc_unary_method m;
  if (rpc_unary_method_init(&m, path, req_type, fn, ud) != GX_OK)
    return GX_ENOMEM;
  int i = gx_rpc_server_add_method(srv, path);
  if (i < 0) {
    rpc_unary_method_free(&m);
    return i;
  }
  srv->slots[i].unary = m;
  return i;
}

/* gRPC takes its own reference to the credentials for the listener. */
int gx_rpc_server_listen(gx_rpc_server *srv, const char *addr,
                         const gx_rpc_creds *creds) {
  grpc_server_credentials *sc;
  int rc = rpc_server_creds_new(creds, &sc);
  if (rc != GX_OK) return rc;
  if (srv->gate) rpc_gate_attach(srv->gate, sc);
  int port = grpc_server_add_http2_port(srv->server, addr, sc);
  grpc_server_credentials_release(sc);
  if (port > 0 && strncmp(addr, "unix", 4) != 0)
    rpc_conns_add_tcp_port(srv->conns, port);
  return port > 0 ? port : GX_ERPC;
}

int gx_rpc_server_listen_unix(gx_rpc_server *srv, const char *path,
                              const gx_rpc_unix_opts *opts) {
  return rpc_conns_listen_unix(srv->conns, path, opts);
}

int gx_rpc_server_cut_peer(gx_rpc_server *srv, const char *peer) {
  return rpc_cut_tcp_peer(srv->conns, peer);
}

int gx_rpc_server_cut_flooders(gx_rpc_server *srv, int tcp) {
  return rpc_cut_flooders(srv->conns, tcp);
}

int gx_rpc_server_start(gx_rpc_server *srv, gx_rpc_on_call on_call,
                        void *ud) {
  srv->on_call = on_call;
  srv->on_call_ud = ud;
  grpc_server_start(srv->server);
  /* before the pump: on failure no request is posted, no call arrives */
  int rc = rpc_conns_start(srv->conns, srv->loop, srv->server);
  if (rc != GX_OK) return rc;
  rc = rpc_pump_start(srv->cq, srv->loop, dispatch, srv, &srv->pump);
  if (rc != GX_OK) return rc; /* nothing posted: no call can arrive */
  int n = srv->nmethods + 1;
  srv->slots[srv->nmethods].method = -1;
  for (int i = 0; i < n; i++) {
    request_slot *s = &srv->slots[i];
    s->srv = srv;
    s->tag.kind = RPC_OP_REQUEST;
    s->tag.owner = s;
    if (post_request(s) != GX_OK) goto out_refuse;
  }
  return GX_OK;
out_refuse:
  /* Requests posted so far cannot be taken back: the calls they bring
   * are cancelled instead of reaching @p on_call. */
  srv->refusing = 1;
  return GX_ERPC;
}

void gx_rpc_server_shutdown(gx_rpc_server *srv, void (*done)(void *),
                            void *ud) {
  if (srv->shutting_down) return;
  srv->shutting_down = 1;
  srv->shutdown_done = done;
  srv->shutdown_ud = ud;
  rpc_conns_stop(srv->conns); /* no connection is added after this */
  RPC_HANDOFF(&srv->shutdown_tag);
  grpc_server_shutdown_and_notify(srv->server, srv->cq, &srv->shutdown_tag);
  if (srv->pump) return; /* the tag reaches the loop through the pump */
  /* never started: no pump, so wait for the tag here */
  grpc_event ev;
  do {
    ev = grpc_completion_queue_next(srv->cq,
                                    gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
  } while (ev.type == GRPC_OP_COMPLETE && ev.tag != &srv->shutdown_tag);
  if (done) done(ud);
}

void gx_rpc_server_cancel_all(gx_rpc_server *srv) {
  grpc_server_cancel_all_calls(srv->server);
}

void gx_rpc_server_free(gx_rpc_server *srv) {
  if (!srv) return;
  grpc_server_destroy(srv->server);
  if (srv->pump) {
    rpc_pump_stop(srv->pump);
  } else {
    grpc_completion_queue_shutdown(srv->cq);
    while (grpc_completion_queue_next(srv->cq,
                                      gpr_inf_future(GPR_CLOCK_MONOTONIC),
                                      NULL).type != GRPC_QUEUE_SHUTDOWN) {
    }
  }
  grpc_completion_queue_destroy(srv->cq);
  for (int i = 0; i < srv->nmethods; i++)
    rpc_unary_method_free(&srv->slots[i].unary);
  rpc_gate_unref(srv->gate);
  rpc_conns_free(srv->conns);
  free(srv);
}

/* The status batch did not start, so the call cannot end normally: cancel
 * it (the client sees CANCELLED, and the close completes) and complete the
 * status tag through the pump. The call stays valid until that completion
 * is dispatched from the loop; on_closed and on_done fire from there,
 * never from inside gx_rpc_call_finish*. This works whether or not the
 * close is still in flight. */
static void end_unsent(gx_rpc_call *c) {
  if (c->send_bb) grpc_byte_buffer_destroy(c->send_bb);
  c->send_bb = NULL;
  c->send_busy = 0;
  grpc_call_cancel(c->call, NULL);
  atomic_fetch_add(&c->refs, 1); /* released by that completion */
  rpc_pump_post(c->pump, &c->t_status, 0);
}

/* Sends the status, after @p last when non-NULL, in one batch. */
static int send_status(gx_rpc_call *c, const ProtobufCMessage *last,
                       int status, const char *msg) {
  if (!c->is_server || c->finishing) return GX_ECLOSED;
  if (last && c->send_busy) return GX_EBUSY;
  c->finishing = 1;
  grpc_slice_unref(c->status_slice);
  c->status_slice = grpc_slice_from_copied_string(msg ? msg : "");
  grpc_op ops[2];
  size_t n = 0;
  memset(ops, 0, sizeof ops);
  if (last) {
    size_t len = protobuf_c_message_get_packed_size(last);
    grpc_slice s = grpc_slice_malloc(len);
    protobuf_c_message_pack(last, GRPC_SLICE_START_PTR(s));
    c->send_bb = grpc_raw_byte_buffer_create(&s, 1);
    grpc_slice_unref(s);
    c->send_busy = 1;
    ops[n].op = GRPC_OP_SEND_MESSAGE;
    ops[n++].data.send_message.send_message = c->send_bb;
  }
  ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
  ops[n].data.send_status_from_server.trailing_metadata_count = c->ntrailers;
  ops[n].data.send_status_from_server.trailing_metadata = c->trailers;
  ops[n].data.send_status_from_server.status = (grpc_status_code)status;
  ops[n++].data.send_status_from_server.status_details = &c->status_slice;
  int rc = rpc_call_batch(c, ops, n, &c->t_status);
  if (rc != GX_OK) end_unsent(c);
  return rc;
}

int gx_rpc_call_finish(gx_rpc_call *c, int status, const char *msg) {
  return send_status(c, NULL, status, msg);
}

int gx_rpc_call_finish_msg(gx_rpc_call *c, const ProtobufCMessage *last,
                           int status, const char *msg) {
  return send_status(c, last, status, msg);
}

/* A metadata key gRPC accepts and we mean: lowercase letters, digits,
 * '-', '_', '.'; not reserved (":..." or "grpc-..."); not binary. */
static int key_ok(const char *key) {
  size_t n = strlen(key);
  if (n == 0 || n > 64 || strncmp(key, "grpc-", 5) == 0 ||
      (n > 4 && strcmp(key + n - 4, "-bin") == 0))
    return 0;
  return strspn(key, "abcdefghijklmnopqrstuvwxyz0123456789-_.") == n;
}

/* A value: printable ASCII, as HTTP/2 header values must be. */
static int value_ok(const char *v) {
  size_t n = strnlen(v, GX_RPC_TRAILER_VALUE_MAX + 1);
  if (n > GX_RPC_TRAILER_VALUE_MAX) return 0;
  for (size_t i = 0; i < n; i++)
    if (v[i] < 0x20 || v[i] > 0x7e) return 0;
  return 1;
}

int gx_rpc_call_set_trailer(gx_rpc_call *c, const char *key,
                            const char *value) {
  if (!c->is_server || c->finishing) return GX_ECLOSED;
  if (!key_ok(key) || !value_ok(value)) return GX_EINVAL;
  if (c->ntrailers == GX_RPC_TRAILERS_MAX) return GX_E2BIG;
  grpc_metadata *m = &c->trailers[c->ntrailers++];
  memset(m, 0, sizeof *m);
  m->key = grpc_slice_from_copied_string(key);
  m->value = grpc_slice_from_copied_string(value);
  return GX_OK;
}

const char *gx_rpc_call_peer(gx_rpc_call *c) {
  return c->peer ? c->peer : "unknown";
}
