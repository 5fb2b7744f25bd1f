/* The health ping (grpc.health.v1.Health/Check). */
#include <pthread.h>
#include <stdio.h>
#include <time.h>

#include "client/internal.h"
#include "grpc/health/v1/health.pb-c.h"
#include "lib/gx_err.h"


typedef struct {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int serving, got_reply, done, status;
  char msg[256];
} ping_state;

static void ping_recv(void *ud, const uint8_t *data, size_t len) {
  ping_state *s = ud;
  if (!data) return;
  Grpc__Health__V1__HealthCheckResponse *r =
      grpc__health__v1__health_check_response__unpack(NULL, len, data);
  pthread_mutex_lock(&s->mu);
  s->got_reply = r != NULL;
  s->serving = r && r->status ==
      GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
  pthread_mutex_unlock(&s->mu);
  if (r) grpc__health__v1__health_check_response__free_unpacked(r, NULL);
}

static void ping_status(void *ud, int code, const char *msg) {
  ping_state *s = ud;
  pthread_mutex_lock(&s->mu);
  s->status = code;
  snprintf(s->msg, sizeof s->msg, "%s", msg);
  pthread_mutex_unlock(&s->mu);
}

static void ping_done(void *ud) {
  ping_state *s = ud;
  pthread_mutex_lock(&s->mu);
  s->done = 1;
  pthread_cond_broadcast(&s->cv);
  pthread_mutex_unlock(&s->mu);
}

static int ping_result(ping_state *s, gexec_conn *c, gexec_error *err) {
  if (s->status != GX_STATUS_OK)
    return gexec__fail(err, GEXEC_ESTATUS, s->status, "%s: %s", c->target,
                       s->msg[0] ? s->msg : gx_status_name(s->status));
  if (!s->got_reply)
    return gexec__fail(err, GEXEC_ESTATUS, GX_STATUS_INTERNAL,
                       "%s: no health reply", c->target);
  if (!s->serving)
    return gexec__fail(err, GEXEC_ESTATUS, GX_STATUS_UNAVAILABLE,
                       "%s: NOT_SERVING (draining)", c->target);
  return GEXEC_OK;
}

int gexec_ping(gexec_conn *c, int64_t timeout_ms, int64_t *rtt_us,
               gexec_error *err) {
  static const gx_rpc_handlers h = {ping_recv, NULL, NULL, ping_status,
                                    ping_done};
  ping_state s = {.mu = PTHREAD_MUTEX_INITIALIZER,
                  .cv = PTHREAD_COND_INITIALIZER};
  Grpc__Health__V1__HealthCheckRequest req =
      GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
  gx_rpc_call *call;
  int64_t t0 = gexec__mono_us();
  pthread_mutex_lock(&s.mu);
  if (gx_rpc_call_start(c->ch, "/grpc.health.v1.Health/Check",
                        timeout_ms > 0 ? timeout_ms : 10000,
                        c->wait_for_ready, &h, &s, &call) != 0) {
    pthread_mutex_unlock(&s.mu);
    return gexec__fail(err, GEXEC_ECONNECT, 0, "cannot start a call");
  }
  req.service = "";
  gx_rpc_call_send(call, &req.base);
  gx_rpc_call_close_send(call);
  gx_rpc_call_recv(call);
  while (!s.done) pthread_cond_wait(&s.cv, &s.mu);
  pthread_mutex_unlock(&s.mu);
  if (rtt_us) *rtt_us = gexec__mono_us() - t0;
  return ping_result(&s, c, err);
}
