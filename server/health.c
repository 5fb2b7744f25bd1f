#include "server/health.h"

#include <string.h>

#include "grpc/health/v1/health.pb-c.h"
#include "lib/gx_err.h"
#include "server/wire_check.h"

static void check(void *ud, gx_rpc_call *call, const ProtobufCMessage *msg) {
  const gxd_health *h = ud;
  const int *draining = h->draining;
  const Grpc__Health__V1__HealthCheckRequest *req =
      (const Grpc__Health__V1__HealthCheckRequest *)msg;
  const char *svc = req->service ? req->service : "";
  char why[512];
  if (gxd_wire_check_unknown(msg, why, sizeof why) != GX_STATUS_OK) {
    gx_rpc_call_finish(call, GX_STATUS_INVALID_ARGUMENT, why);
  } else if (*svc && strcmp(svc, "gexec.v1.Exec") != 0 &&
             strcmp(svc, "gexec.v1.Facts") != 0) {
    gx_rpc_call_finish(call, GX_STATUS_NOT_FOUND,
                       "unknown service; this server has \"\", "
                       "\"gexec.v1.Exec\" and \"gexec.v1.Facts\"");
  } else {
    Grpc__Health__V1__HealthCheckResponse r =
        GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;
    r.status = *draining
                   ? GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING
                   : GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
    if (h->describe && !h->describe(h->ud, call)) return; /* ended */
    gx_rpc_call_finish_msg(call, &r.base, GX_STATUS_OK, "");
  }
}

int gxd_health_add(gx_rpc_server *srv, const gxd_health *h) {
  return gx_rpc_server_add_unary(
      srv, "/grpc.health.v1.Health/Check",
      &grpc__health__v1__health_check_request__descriptor, check, (void *)h);
}
