/* Call plumbing shared by server and client: batches, message send and
 * receive, completion bookkeeping and the end of a call's life. */
#include <stdlib.h>
#include <string.h>

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/support/alloc.h>

#include "lib/gx_err.h"
#include "lib/rpc_internal.h"

rpc_start_batch_fn rpc_start_batch = grpc_call_start_batch;
atomic_int rpc_calls_alive;

static void init_tag(rpc_tag *t, rpc_op_kind k, gx_rpc_call *c) {
  t->kind = k;
  t->owner = c;
}

grpc_arg rpc_int_arg(const char *key, int value) {
  grpc_arg a;
  memset(&a, 0, sizeof a);
  a.type = GRPC_ARG_INTEGER;
  a.key = (char *)key;
  a.value.integer = value;
  return a;
}

gx_rpc_call *rpc_call_new(grpc_call *gc, int is_server) {
  gx_rpc_call *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->call = gc;
  c->is_server = is_server;
  atomic_init(&c->refs, 0);
  pthread_mutex_init(&c->mu, NULL);
  init_tag(&c->t_send, RPC_OP_SEND, c);
  init_tag(&c->t_recv, RPC_OP_RECV, c);
  init_tag(&c->t_close, RPC_OP_CLOSE, c);
  init_tag(&c->t_status, RPC_OP_STATUS, c);
  init_tag(&c->t_half, RPC_OP_HALF, c);
  c->status_slice = grpc_empty_slice();
  c->status_details = grpc_empty_slice();
  grpc_metadata_array_init(&c->md_initial);
  grpc_metadata_array_init(&c->md_trailing);
  atomic_fetch_add(&rpc_calls_alive, 1);
  return c;
}

int rpc_call_batch(gx_rpc_call *c, const grpc_op *ops, size_t n,
                   rpc_tag *tag) {
  grpc_call *gc = c->call; /* c may be gone once the batch started */
  atomic_fetch_add(&c->refs, 1);
  RPC_HANDOFF(tag);
  grpc_call_error e = rpc_start_batch(gc, ops, n, tag, NULL);
  if (e != GRPC_CALL_OK) {
    atomic_fetch_sub(&c->refs, 1);
    return GX_ERPC;
  }
  return GX_OK;
}

void gx_rpc_call_set_handlers(gx_rpc_call *c, const gx_rpc_handlers *h,
                              void *ud) {
  c->h = *h;
  c->ud = ud;
}

int gx_rpc_call_recv(gx_rpc_call *c) {
  if (c->recv_busy) return GX_EBUSY;
  grpc_op op = {0};
  op.op = GRPC_OP_RECV_MESSAGE;
  op.data.recv_message.recv_message = &c->recv_bb;
  c->recv_busy = 1;
  int rc = rpc_call_batch(c, &op, 1, &c->t_recv);
  if (rc != GX_OK) c->recv_busy = 0;
  return rc;
}

/* Sends the message made of @p n slices (references taken over). */
static int send_slices(gx_rpc_call *c, grpc_slice *s, size_t n) {
  pthread_mutex_lock(&c->mu);
  if (c->send_busy || c->half_sent || c->half_pending) {
    pthread_mutex_unlock(&c->mu);
    for (size_t i = 0; i < n; i++) grpc_slice_unref(s[i]);
    return GX_EBUSY;
  }
  c->send_bb = grpc_raw_byte_buffer_create(s, n);
  for (size_t i = 0; i < n; i++) grpc_slice_unref(s[i]);
  grpc_op op = {0};
  op.op = GRPC_OP_SEND_MESSAGE;
  op.data.send_message.send_message = c->send_bb;
  c->send_busy = 1;
  int rc = rpc_call_batch(c, &op, 1, &c->t_send);
  if (rc != GX_OK) {
    c->send_busy = 0;
    grpc_byte_buffer_destroy(c->send_bb);
    c->send_bb = NULL;
  }
  pthread_mutex_unlock(&c->mu);
  return rc;
}

int gx_rpc_call_send(gx_rpc_call *c, const ProtobufCMessage *msg) {
  size_t n = protobuf_c_message_get_packed_size(msg);
  grpc_slice s = grpc_slice_malloc(n);
  protobuf_c_message_pack(msg, GRPC_SLICE_START_PTR(s));
  return send_slices(c, &s, 1);
}

int gx_rpc_call_send_bytes(gx_rpc_call *c, const void *data, size_t len) {
  grpc_slice s = grpc_slice_from_copied_buffer(data, len);
  return send_slices(c, &s, 1);
}

int gx_rpc_call_send_owned(gx_rpc_call *c, const void *head, size_t head_len,
                           void *data, size_t len) {
  grpc_slice s[2] = {grpc_slice_from_copied_buffer(head, head_len),
                     grpc_slice_new(data, len, free)};
  return send_slices(c, s, 2);
}

/* Hands a received buffer to on_recv without copying when it is one
 * uncompressed slice (the common case). */
static void deliver_recv(gx_rpc_call *c) {
  grpc_byte_buffer *bb = c->recv_bb;
  c->recv_bb = NULL;
  if (!bb) {
    if (c->h.on_recv) c->h.on_recv(c->ud, NULL, 0);
    return;
  }
  grpc_slice s;
  if (bb->data.raw.compression == GRPC_COMPRESS_NONE &&
      bb->data.raw.slice_buffer.count == 1) {
    s = grpc_slice_ref(bb->data.raw.slice_buffer.slices[0]);
  } else {
    grpc_byte_buffer_reader r;
    if (!grpc_byte_buffer_reader_init(&r, bb)) {
      grpc_byte_buffer_destroy(bb);
      if (c->h.on_recv) c->h.on_recv(c->ud, NULL, 0);
      return;
    }
    s = grpc_byte_buffer_reader_readall(&r);
    grpc_byte_buffer_reader_destroy(&r);
  }
  grpc_byte_buffer_destroy(bb);
  if (c->h.on_recv)
    c->h.on_recv(c->ud, GRPC_SLICE_START_PTR(s), GRPC_SLICE_LENGTH(s));
  grpc_slice_unref(s);
}

static void deliver_status(gx_rpc_call *c) {
  char *msg = grpc_slice_to_c_string(c->status_details);
  if (c->h.on_status) c->h.on_status(c->ud, (int)c->status_code, msg);
  gpr_free(msg);
}

static void destroy(gx_rpc_call *c) {
  RPC_TAKEN(c); /* after gx_rpc_call_cancel's last look at c */
  void (*done)(void *) = c->h.on_done;
  void *ud = c->ud;
  grpc_call_unref(c->call);
  if (c->gate) rpc_gate_release(c->gate, c->gate_conn);
  grpc_slice_unref(c->status_slice);
  for (size_t i = 0; i < c->ntrailers; i++) {
    grpc_slice_unref(c->trailers[i].key);
    grpc_slice_unref(c->trailers[i].value);
  }
  grpc_slice_unref(c->status_details);
  if (c->error_string) gpr_free((void *)c->error_string);
  grpc_metadata_array_destroy(&c->md_initial);
  grpc_metadata_array_destroy(&c->md_trailing);
  if (c->peer) gpr_free(c->peer);
  rpc_auth_free(c->auth);
  pthread_mutex_destroy(&c->mu);
  free(c);
  atomic_fetch_sub(&rpc_calls_alive, 1);
  if (done) done(ud);
}

static void issue_half_close(gx_rpc_call *c) {
  grpc_op op = {0};
  op.op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
  c->half_pending = 0;
  c->half_sent = 1;
  if (rpc_call_batch(c, &op, 1, &c->t_half) != GX_OK)
    c->half_sent = 0; /* lost: a later gx_rpc_call_close_send retries */
}

/* One completion for @p c: callback first (so the owner learns of the end
 * before any later operation could be refused), then the reference. */
void rpc_call_complete(gx_rpc_call *c, rpc_tag *tag, int ok) {
  switch (tag->kind) {
    case RPC_OP_SEND:
      pthread_mutex_lock(&c->mu);
      grpc_byte_buffer_destroy(c->send_bb);
      c->send_bb = NULL;
      c->send_busy = 0;
      if (c->half_pending) issue_half_close(c);
      pthread_mutex_unlock(&c->mu);
      if (c->h.on_sent) c->h.on_sent(c->ud, ok);
      break;
    case RPC_OP_RECV:
      c->recv_busy = 0;
      if (!ok && c->recv_bb) {
        grpc_byte_buffer_destroy(c->recv_bb);
        c->recv_bb = NULL;
      }
      c->recv_failed =
          !c->recv_bb && (!ok || grpc_call_failed_before_recv_message(c->call));
      deliver_recv(c);
      break;
    case RPC_OP_CLOSE:
      c->close_done = 1;
      if (c->h.on_closed) c->h.on_closed(c->ud, c->cancelled);
      break;
    case RPC_OP_STATUS:
      c->status_done = 1;
      if (c->is_server && c->send_bb) { /* sent along with the status */
        grpc_byte_buffer_destroy(c->send_bb);
        c->send_bb = NULL;
        c->send_busy = 0;
      }
      if (!c->is_server) deliver_status(c);
      break;
    default:
      break;
  }
  int finished = c->status_done && (c->close_done || !c->is_server);
  if (atomic_fetch_sub(&c->refs, 1) == 1 && finished) destroy(c);
}

void rpc_call_abandon(gx_rpc_call *c) {
  memset(&c->h, 0, sizeof c->h);
  grpc_call_cancel(c->call, NULL);
  destroy(c);
}
