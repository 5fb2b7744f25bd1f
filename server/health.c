#include "server/health.h"

#include <stdlib.h>
#include <string.h>

#include "grpc/health/v1/health.pb-c.h"
#include "lib/gx_err.h"
#include "server/wire_check.h"

typedef struct {
  gx_rpc_call *call;
  const int *draining;
  int replied;
} health_call;

static void on_recv(void *ud, const uint8_t *data, size_t len) {
  health_call *h = ud;
  if (!data) {
    gx_rpc_call_finish(h->call, GX_STATUS_INVALID_ARGUMENT,
                       "Check needs one HealthCheckRequest");
    return;
  }
  Grpc__Health__V1__HealthCheckRequest *req =
      grpc__health__v1__health_check_request__unpack(NULL, len, data);
  if (!req) {
    gx_rpc_call_finish(h->call, GX_STATUS_INVALID_ARGUMENT,
                       "not a valid grpc.health.v1.HealthCheckRequest");
    return;
  }
  char why[512];
  const char *svc = req->service ? req->service : "";
  if (gxd_wire_check_unknown(&req->base, why, sizeof why) != GX_STATUS_OK) {
    gx_rpc_call_finish(h->call, GX_STATUS_INVALID_ARGUMENT, why);
  } else if (*svc && strcmp(svc, "gexec.v1.Exec") != 0) {
    gx_rpc_call_finish(h->call, GX_STATUS_NOT_FOUND,
                       "unknown service; this server has \"\" and "
                       "\"gexec.v1.Exec\"");
  } else {
    Grpc__Health__V1__HealthCheckResponse r =
        GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;
    r.status = *h->draining
                   ? GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING
                   : GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
    if (gx_rpc_call_send(h->call, &r.base) == GX_OK) h->replied = 1;
    else gx_rpc_call_finish(h->call, GX_STATUS_INTERNAL, "send failed");
  }
  grpc__health__v1__health_check_request__free_unpacked(req, NULL);
}

static void on_sent(void *ud, int ok) {
  health_call *h = ud;
  (void)ok;
  gx_rpc_call_finish(h->call, GX_STATUS_OK, "");
}

static void on_closed(void *ud, int cancelled) {
  health_call *h = ud;
  if (cancelled && !h->replied)
    gx_rpc_call_finish(h->call, GX_STATUS_CANCELLED, "cancelled");
}

static void on_done(void *ud) { free(ud); }

void gxd_health_check(gx_rpc_call *call, const int *draining) {
  static const gx_rpc_handlers hs = {on_recv, on_sent, on_closed, NULL,
                                     on_done};
  health_call *h = calloc(1, sizeof *h);
  if (!h) {
    gx_rpc_call_finish(call, GX_STATUS_RESOURCE_EXHAUSTED, "out of memory");
    return;
  }
  h->call = call;
  h->draining = draining;
  gx_rpc_call_set_handlers(call, &hs, h);
  if (gx_rpc_call_recv(call) != GX_OK)
    gx_rpc_call_finish(call, GX_STATUS_INTERNAL, "receive failed");
}
