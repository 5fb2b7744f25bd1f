/* One gRPC call over an already connected socket; see fd_call.h. */
#include "tests/lib/fd_call.h"

#include <stdio.h>
#include <string.h>

#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_posix.h>
#include <grpc/grpc_security.h>
#include <grpc/support/alloc.h>

/* Tags of the three kinds of batch. */
enum { TAG_SEND = 1, TAG_STATUS, TAG_RECV };

static void *tag(int t) { return (void *)(intptr_t)t; }

/* Waits for batch @p t without a limit of its own: the call's deadline
 * ends every batch in time, and no tag is left on the queue. */
static int wait_tag(grpc_completion_queue *cq, int t) {
  grpc_event ev = grpc_completion_queue_pluck(
      cq, tag(t), gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
  return ev.type == GRPC_OP_COMPLETE && ev.success;
}

/* Keeps the last received message (its first bytes) and counts it. */
static void keep(grpc_byte_buffer *bb, gxt_fd_result *out) {
  grpc_byte_buffer_reader r;
  grpc_slice s;
  size_t at = 0;
  out->nmsgs++;
  out->last_len = grpc_byte_buffer_length(bb);
  if (!grpc_byte_buffer_reader_init(&r, bb)) return;
  while (grpc_byte_buffer_reader_next(&r, &s)) {
    size_t n = GRPC_SLICE_LENGTH(s);
    if (n > sizeof out->last - at) n = sizeof out->last - at;
    memcpy(out->last + at, GRPC_SLICE_START_PTR(s), n);
    at += n;
    grpc_slice_unref(s);
  }
  grpc_byte_buffer_reader_destroy(&r);
}

/* Sends (initial metadata, the message if any, half-close). */
static int start_send(grpc_call *c, grpc_byte_buffer *msg,
                      grpc_metadata_array *md_in) {
  grpc_op ops[4];
  size_t n = 0;
  memset(ops, 0, sizeof ops);
  ops[n++].op = GRPC_OP_SEND_INITIAL_METADATA;
  if (msg) {
    ops[n].op = GRPC_OP_SEND_MESSAGE;
    ops[n++].data.send_message.send_message = msg;
  }
  ops[n++].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
  ops[n].op = GRPC_OP_RECV_INITIAL_METADATA;
  ops[n++].data.recv_initial_metadata.recv_initial_metadata = md_in;
  return grpc_call_start_batch(c, ops, n, tag(TAG_SEND), NULL) ==
         GRPC_CALL_OK;
}

/* Receives messages until there are no more. */
static void read_all(grpc_call *c, grpc_completion_queue *cq,
                     gxt_fd_result *out) {
  for (;;) {
    grpc_byte_buffer *bb = NULL;
    grpc_op op;
    memset(&op, 0, sizeof op);
    op.op = GRPC_OP_RECV_MESSAGE;
    op.data.recv_message.recv_message = &bb;
    if (grpc_call_start_batch(c, &op, 1, tag(TAG_RECV), NULL) !=
            GRPC_CALL_OK ||
        !wait_tag(cq, TAG_RECV) || !bb)
      return;
    keep(bb, out);
    grpc_byte_buffer_destroy(bb);
  }
}

/* Runs the call @p c to its status. */
static void converse(grpc_call *c, grpc_completion_queue *cq,
                     grpc_byte_buffer *msg, gxt_fd_result *out) {
  grpc_metadata_array md_in, md_trail;
  grpc_status_code st = GRPC_STATUS_UNKNOWN;
  grpc_slice details = grpc_empty_slice();
  grpc_op op;
  grpc_metadata_array_init(&md_in);
  grpc_metadata_array_init(&md_trail);
  memset(&op, 0, sizeof op);
  op.op = GRPC_OP_RECV_STATUS_ON_CLIENT;
  op.data.recv_status_on_client.trailing_metadata = &md_trail;
  op.data.recv_status_on_client.status = &st;
  op.data.recv_status_on_client.status_details = &details;
  int sent = start_send(c, msg, &md_in);
  if (grpc_call_start_batch(c, &op, 1, tag(TAG_STATUS), NULL) ==
      GRPC_CALL_OK) {
    read_all(c, cq, out);
    if (wait_tag(cq, TAG_STATUS)) {
      char *d = grpc_slice_to_c_string(details);
      out->status = (int)st;
      snprintf(out->details, sizeof out->details, "%s", d);
      gpr_free(d);
    }
  }
  if (sent) wait_tag(cq, TAG_SEND);
  grpc_slice_unref(details);
  grpc_metadata_array_destroy(&md_in);
  grpc_metadata_array_destroy(&md_trail);
}

int gxt_fd_call(int fd, const char *method, const void *req, size_t req_len,
                int timeout_ms, gxt_fd_result *out) {
  memset(out, 0, sizeof *out);
  out->status = -1;
  grpc_init();
  grpc_channel_credentials *cr = grpc_insecure_credentials_create();
  grpc_channel *ch = grpc_channel_create_from_fd("fd-peer", fd, cr, NULL);
  grpc_channel_credentials_release(cr);
  grpc_completion_queue *cq = grpc_completion_queue_create_for_pluck(NULL);
  gpr_timespec dl = gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                                 gpr_time_from_millis(timeout_ms,
                                                      GPR_TIMESPAN));
  grpc_slice m = grpc_slice_from_copied_string(method);
  grpc_call *c = grpc_channel_create_call(ch, NULL, GRPC_PROPAGATE_DEFAULTS,
                                          cq, m, NULL, dl, NULL);
  grpc_slice_unref(m);
  grpc_byte_buffer *msg = NULL;
  if (req) {
    grpc_slice s = grpc_slice_from_copied_buffer(req, req_len);
    msg = grpc_raw_byte_buffer_create(&s, 1);
    grpc_slice_unref(s);
  }
  if (c) converse(c, cq, msg, out);
  if (msg) grpc_byte_buffer_destroy(msg);
  if (c) grpc_call_unref(c);
  grpc_channel_destroy(ch);
  grpc_completion_queue_shutdown(cq);
  grpc_completion_queue_destroy(cq);
  grpc_shutdown();
  return out->status;
}
