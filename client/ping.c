/* The health ping (grpc.health.v1.Health/Check). */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "client/internal.h"
#include "grpc/health/v1/health.pb-c.h"
#include "lib/gx_err.h"


typedef struct {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  gx_rpc_call *call;
  int serving, got_reply, done, status;
  char msg[256];
  char identity[256], rule[128]; /* the daemon's trailers */
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
  gx_rpc_call_trailer(s->call, "gexec-identity", s->identity,
                      sizeof s->identity);
  gx_rpc_call_trailer(s->call, "gexec-policy-rule", s->rule, sizeof s->rule);
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

/* One health check; the caller's @p s is filled. */
static int ping_once(gexec_conn *c, int64_t timeout_ms, ping_state *s,
                     int64_t *rtt_us, gexec_error *err) {
  static const gx_rpc_handlers h = {ping_recv, NULL, NULL, ping_status,
                                    ping_done};
  Grpc__Health__V1__HealthCheckRequest req =
      GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
  int64_t t0 = gexec__mono_us();
  pthread_mutex_lock(&s->mu);
  if (gx_rpc_call_start(c->ch, "/grpc.health.v1.Health/Check",
                        timeout_ms > 0 ? timeout_ms : 10000,
                        c->wait_for_ready, &h, s, &s->call) != 0) {
    pthread_mutex_unlock(&s->mu);
    return gexec__fail(err, GEXEC_ECONNECT, 0, "cannot start a call");
  }
  req.service = "";
  gx_rpc_call_send(s->call, &req.base);
  gx_rpc_call_close_send(s->call);
  gx_rpc_call_recv(s->call);
  while (!s->done) pthread_cond_wait(&s->cv, &s->mu);
  pthread_mutex_unlock(&s->mu);
  if (rtt_us) *rtt_us = gexec__mono_us() - t0;
  return ping_result(s, c, err);
}

int gexec_ping(gexec_conn *c, int64_t timeout_ms, int64_t *rtt_us,
               gexec_error *err) {
  ping_state s = {.mu = PTHREAD_MUTEX_INITIALIZER,
                  .cv = PTHREAD_COND_INITIALIZER};
  return ping_once(c, timeout_ms, &s, rtt_us, err);
}

int gexec_ping_ex(gexec_conn *c, int64_t timeout_ms, gexec_ping_info *out,
                  gexec_error *err) {
  ping_state s = {.mu = PTHREAD_MUTEX_INITIALIZER,
                  .cv = PTHREAD_COND_INITIALIZER};
  gexec_ping_info info = GEXEC_PING_INFO_INIT;
  if (!out || out->size < sizeof info) /* 0.3's is the first layout */
    return gexec__fail(err, GEXEC_EINVAL, 0,
                       "gexec_ping_ex: set out->size (GEXEC_PING_INFO_INIT)");
  int rc = ping_once(c, timeout_ms, &s, &info.rtt_us, err);
  snprintf(info.identity, sizeof info.identity, "%s", s.identity);
  snprintf(info.rule, sizeof info.rule, "%s", s.rule);
  /* a later, larger layout keeps its tail (fields we do not know) */
  memcpy((char *)out + sizeof info.size, (char *)&info + sizeof info.size,
         sizeof info - sizeof info.size);
  return rc;
}
