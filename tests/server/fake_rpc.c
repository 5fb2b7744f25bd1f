/* A fake server call; see fake_rpc.h. */
#include "tests/server/fake_rpc.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/gx_err.h"

gx_rpc_call *fake_call_new(void) {
  gx_rpc_call *c = calloc(1, sizeof *c);
  assert_non_null(c);
  return c;
}

void fake_call_free(gx_rpc_call *c) {
  for (size_t i = 0; i < c->nsent; i++)
    gexec__v1__run_response__free_unpacked(c->sent[i], NULL);
  free(c);
}

/* Records one serialized RunResponse. */
static void record(gx_rpc_call *c, const uint8_t *buf, size_t len) {
  assert_true(c->nsent < FAKE_RPC_MAX_SENT);
  Gexec__V1__RunResponse *r =
      gexec__v1__run_response__unpack(NULL, len, buf);
  assert_non_null(r);
  c->sent[c->nsent++] = r;
}

/* --------------------------------------------- what the session calls */

void gx_rpc_call_set_handlers(gx_rpc_call *call, const gx_rpc_handlers *h,
                              void *ud) {
  call->h = h;
  call->ud = ud;
}

int gx_rpc_call_recv(gx_rpc_call *call) {
  if (call->recv_posted) return GX_EBUSY;
  if (call->done) return GX_ERPC;
  call->recv_posted = 1;
  return GX_OK;
}

int gx_rpc_call_send(gx_rpc_call *call, const ProtobufCMessage *msg) {
  uint8_t buf[4096];
  size_t len = protobuf_c_message_get_packed_size(msg);
  if (call->send_busy) return GX_EBUSY;
  if (call->finished) return GX_ECLOSED;
  assert_true(len <= sizeof buf);
  protobuf_c_message_pack(msg, buf);
  record(call, buf, len);
  call->send_busy = 1;
  return GX_OK;
}

int gx_rpc_call_send_owned(gx_rpc_call *call, const void *head,
                           size_t head_len, void *data, size_t len) {
  int rc = call->send_busy ? GX_EBUSY : call->finished ? GX_ECLOSED : GX_OK;
  if (rc == GX_OK) {
    uint8_t *buf = malloc(head_len + len + 1);
    assert_non_null(buf);
    memcpy(buf, head, head_len);
    memcpy(buf + head_len, data, len);
    record(call, buf, head_len + len);
    free(buf);
    call->send_busy = 1;
  }
  free(data); /* always taken over */
  return rc;
}

int gx_rpc_call_finish(gx_rpc_call *call, int status, const char *msg) {
  if (call->finished) return GX_ECLOSED;
  call->finished = 1;
  call->status = status;
  snprintf(call->msg, sizeof call->msg, "%s", msg);
  return GX_OK;
}

int gx_rpc_call_finish_msg(gx_rpc_call *call, const ProtobufCMessage *last,
                           int status, const char *msg) {
  if (call->send_busy) return GX_EBUSY;
  if (call->finished) return GX_ECLOSED;
  int rc = gx_rpc_call_send(call, last);
  call->send_busy = 0; /* sent along with the status */
  call->last_with_status = 1;
  return rc == GX_OK ? gx_rpc_call_finish(call, status, msg) : rc;
}

const char *gx_rpc_call_peer(gx_rpc_call *call) {
  (void)call;
  return "unix:fake";
}

int gx_rpc_call_auth(gx_rpc_call *call, gx_rpc_auth *out) {
  static const char *const ids[] = {"fake-client"};
  memset(out, 0, sizeof *out);
  out->transport = call->authenticated ? "ssl" : "insecure";
  out->authenticated = call->authenticated;
  out->identities = call->authenticated ? ids : NULL;
  out->nidentities = call->authenticated ? 1 : 0;
  out->identity = call->authenticated ? ids[0] : NULL;
  out->common_name = out->identity;
  out->has_unix_cred = !call->authenticated;
  out->uid = out->gid = call->uid;
  out->pid = 4242;
  out->conn_id = 1;
  return GX_OK;
}

int gx_rpc_call_set_trailer(gx_rpc_call *call, const char *key,
                            const char *value) {
  size_t at = strlen(call->trailers);
  if (call->finished) return GX_ECLOSED;
  snprintf(call->trailers + at, sizeof call->trailers - at, "%s=%s;", key,
           value);
  return GX_OK;
}

/* --------------------------------------------- what the test drives */

void fake_call_deliver_bytes(gx_rpc_call *c, const void *data, size_t len) {
  assert_true(c->recv_posted);
  c->recv_posted = 0;
  c->h->on_recv(c->ud, data, len);
}

void fake_call_deliver(gx_rpc_call *c, const Gexec__V1__RunRequest *req) {
  uint8_t buf[8192];
  size_t len = gexec__v1__run_request__get_packed_size(req);
  assert_true(len <= sizeof buf);
  gexec__v1__run_request__pack(req, buf);
  fake_call_deliver_bytes(c, buf, len);
}

void fake_call_half_close(gx_rpc_call *c) {
  fake_call_deliver_bytes(c, NULL, 0);
}

void fake_call_sent(gx_rpc_call *c, int ok) {
  assert_true(c->send_busy);
  c->send_busy = 0;
  c->h->on_sent(c->ud, ok);
}

void fake_call_cancel(gx_rpc_call *c) {
  c->cancelled = 1;
  c->h->on_closed(c->ud, 1);
}

void fake_call_end(gx_rpc_call *c) {
  assert_true(c->finished); /* on_done waits for the status */
  if (c->recv_posted) fake_call_half_close(c);
  if (c->send_busy) fake_call_sent(c, !c->cancelled);
  if (!c->cancelled) c->h->on_closed(c->ud, 0);
  c->done = 1;
  c->h->on_done(c->ud);
}

int fake_call_kind(const gx_rpc_call *c, size_t i) {
  assert_true(i < c->nsent);
  return (int)c->sent[i]->event_case;
}
