/* Unary methods on the server: receive exactly one request and the
 * client's half-close, unpack it, hand it to the method's handler, which
 * ends the call with a reply or a status. Runs on the loop thread, as
 * every server callback; see gx_rpc_server_add_unary in rpc.h.
 *
 * A call's request is held (unpacked) from its message until the
 * half-close, while the second receive is posted: every path out of that
 * receive frees it. The handler is called at most once, and only with a
 * complete request; whatever else happens, the call is ended here. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/gx_err.h"
#include "lib/rpc_internal.h"

int rpc_unary_method_init(rpc_unary_method *m, const char *path,
                          const ProtobufCMessageDescriptor *req_type,
                          gx_rpc_unary_fn fn, void *ud) {
  const char *slash = strrchr(path, '/');
  char *name = strdup(slash ? slash + 1 : path);
  if (!name) return GX_ENOMEM;
  m->fn = fn;
  m->ud = ud;
  m->req_type = req_type;
  m->name = name;
  return GX_OK;
}

void rpc_unary_method_free(rpc_unary_method *m) {
  free(m->name);
  m->name = NULL;
}

static void drop_request(gx_rpc_call *c) {
  if (c->unary_req) protobuf_c_message_free_unpacked(c->unary_req, NULL);
  c->unary_req = NULL;
}

/* Ends the call with @p status and a formatted message. */
static void refuse(gx_rpc_call *c, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void refuse(gx_rpc_call *c, int status, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  drop_request(c);
  gx_rpc_call_finish(c, status, msg);
}

/* The first message: unpack it and wait for the half-close. */
static void take_request(gx_rpc_call *c, const uint8_t *data, size_t len) {
  const ProtobufCMessageDescriptor *t = c->unary->req_type;
  c->unary_req = protobuf_c_message_unpack(t, NULL, len, data);
  if (!c->unary_req) {
    refuse(c, GX_STATUS_INVALID_ARGUMENT, "not a valid %s", t->name);
    return;
  }
  if (gx_rpc_call_recv(c) != GX_OK)
    refuse(c, GX_STATUS_INTERNAL, "receive failed");
}

static void on_recv(void *ud, const uint8_t *data, size_t len) {
  gx_rpc_call *c = ud;
  const rpc_unary_method *m = c->unary;
  if (c->recv_failed) {
    refuse(c, GX_STATUS_CANCELLED, "cancelled");
  } else if (!c->unary_req && data) {
    take_request(c, data, len);
  } else if (!c->unary_req) {
    refuse(c, GX_STATUS_INVALID_ARGUMENT, "%s needs one %s", m->name,
           m->req_type->short_name);
  } else if (data) {
    refuse(c, GX_STATUS_INVALID_ARGUMENT, "%s takes one %s, not a stream",
           m->name, m->req_type->short_name);
  } else {
    ProtobufCMessage *req = c->unary_req;
    c->unary_req = NULL;
    m->fn(m->ud, c, req); /* may end the call: c is not touched after */
    protobuf_c_message_free_unpacked(req, NULL);
  }
}

void rpc_unary_start(gx_rpc_call *c, const rpc_unary_method *m) {
  static const gx_rpc_handlers h = {on_recv, NULL, NULL, NULL, NULL};
  c->unary = m;
  gx_rpc_call_set_handlers(c, &h, c);
  if (gx_rpc_call_recv(c) != GX_OK)
    refuse(c, GX_STATUS_INTERNAL, "receive failed");
}
