/* Connections: one channel each, with a socket of its own, on the
 * process's engine; and their connect attempts.
 *
 * A run on a connection that is not connected waits in the connection's
 * list while one watch on the channel follows the attempt; the watch's
 * callback (engine thread) then starts the waiting runs' calls at once
 * when the channel is ready, or when it failed (the calls are fail-fast,
 * so each ends with gRPC's reason: refused, no such socket, ...), or
 * fails them with "timed out" when the connect timeout passed first. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client/internal.h"
#include "lib/gx_addr.h"
#include "lib/gx_err.h"

static void resolve_target(const char *target, char *out, size_t len) {
  const char *env = getenv("GEXEC_TARGET");
  if (target && *target)
    snprintf(out, len, "%s", target);
  else if (env && *env)
    snprintf(out, len, "%s", env);
  else
    gx_addr_default(out, len);
}

/* gRPC's words for why a connection failed, and ours. */
static const struct {
  const char *grpc, *reason;
} reasons[] = {
    {"Connection refused", "connection refused"},
    {"No such file or directory", "no such socket"},
    {"No route to host", "host unreachable"},
    {"Host is unreachable", "host unreachable"},
    {"Network is unreachable", "network unreachable"},
    {"Permission denied", "permission denied"},
    {"Connection reset", "connection reset"},
    {"DNS resolution failed", "cannot resolve the host name"},
    {"Handshake failed", "TLS handshake failed"},
    {"Timeout occurred", "timed out"},
    {"Connection timed out", "timed out"},
};

/* unix: and unix-abstract: targets are local sockets; others are TCP. */
static int is_unix(const char *target) {
  return !strncmp(target, "unix:", 5) || !strncmp(target, "unix-abstract:", 14);
}

const char *gexec__connect_reason(const gexec_conn *c, const char *msg,
                                  int probe_ms, char *buf, size_t len) {
  const char *tls = is_unix(c->target) ? NULL
                                       : gexec__tls_reason(c->tls, c->target,
                                                           msg, probe_ms, buf,
                                                           len);
  if (tls) return tls;
  for (size_t i = 0; msg && i < sizeof reasons / sizeof *reasons; i++)
    if (strstr(msg, reasons[i].grpc)) return reasons[i].reason;
  /* Another failure to connect: gRPC's own words for it. */
  const char *all = msg ? strstr(msg, "failed to connect to all addresses")
                        : NULL;
  const char *last = all ? strstr(all, "last error: ") : NULL;
  if (last) return last + strlen("last error: ");
  return all ? "cannot connect" : NULL;
}

/* After a failed wait: asks once more, fail-fast, for gRPC's reason, and
 * explains a TLS failure with a handshake of our own. */
static void failure_reason(gexec_conn *c, char *why, size_t len) {
  gexec_error e = {0};
  char buf[sizeof e.message];
  int wfr = c->wait_for_ready;
  c->wait_for_ready = 0; /* c is not published yet: no other user */
  int rc = gexec_ping(c, 2000, NULL, &e);
  c->wait_for_ready = wfr;
  const char *r = rc == GEXEC_OK ? NULL
                                 : gexec__connect_reason(c, e.message,
                                                         GEXEC__TLS_PROBE_MS,
                                                         buf, sizeof buf);
  if (r) snprintf(why, len, "%s", r);
}

/* The transport security and keepalive of @p c's channel, from @p o. */
static int channel_setup(gexec_conn *c, const gexec_conn_opts *o,
                         gx_rpc_channel_opts *co, gx_rpc_creds **creds,
                         gexec_error *err) {
  int tcp = !is_unix(c->target);
  *creds = NULL;
  co->keepalive_time_ms = o ? o->keepalive_time_ms : 0;
  co->keepalive_timeout_ms = o ? o->keepalive_timeout_ms : 0;
  if (!tcp && co->keepalive_time_ms == 0) co->keepalive_time_ms = -1;
  if (!tcp || !o || !o->ca_file) return GEXEC_OK;
  int rc = gexec__tls_load(o, &c->tls, err);
  if (rc != GEXEC_OK) return rc;
  if (gexec__tls_creds(c->tls, creds) != GX_OK)
    return gexec__fail(err, GEXEC_ENOMEM, 0, "out of memory");
  return GEXEC_OK;
}

static int open_channel(gexec_conn *c, const gexec_conn_opts *o,
                        gexec_error *err) {
  gx_rpc_client *engine;
  gx_rpc_creds *creds;
  /* The daemon's messages are at most 1 MiB of output plus framing: a
   * hostile one cannot make a run hold more than two such messages. */
  gx_rpc_channel_opts co = {.own_connection = 1,
                            .max_recv_bytes = GEXEC_MAX_RECV};
  int rc = channel_setup(c, o, &co, &creds, err);
  if (rc != GEXEC_OK) goto out_creds;
  if (gexec__engine_acquire(&engine) != GX_OK) {
    rc = gexec__fail(err, GEXEC_ECONNECT, 0,
                     "cannot start the client engine (no thread)");
    goto out_creds;
  }
  co.client = engine;
  if (gx_rpc_channel_new(c->target, creds, &co, &c->ch) != GX_OK) {
    gexec__engine_release();
    rc = gexec__fail(err, GEXEC_ECONNECT, 0, "cannot create a channel");
  }
out_creds:
  gx_rpc_creds_free(creds); /* the channel made its own */
  return rc;
}

static int wait_connected(gexec_conn *c, gexec_error *err) {
  char why[sizeof err->message];
  int64_t t0 = gexec__mono_us();
  if (gx_rpc_channel_wait_connected(c->ch, c->connect_ms, !c->wait_for_ready,
                                    why, sizeof why) == GX_OK)
    return GEXEC_OK;
  if (gx_rpc_channel_state(c->ch, 0) == GX_CONN_FAILURE)
    failure_reason(c, why, sizeof why);
  else
    snprintf(why, sizeof why, "timed out after %lld ms",
             (long long)((gexec__mono_us() - t0) / 1000));
  return gexec__fail(err, GEXEC_ECONNECT, GEXEC_STATUS_UNAVAILABLE,
                     "cannot connect to %s: %s", c->target, why);
}

int gexec_connect(const char *target, const gexec_conn_opts *opts,
                  gexec_conn **out, gexec_error *err) {
  gexec_conn *c = calloc(1, sizeof *c);
  if (!c) return gexec__fail(err, GEXEC_ENOMEM, 0, "out of memory");
  resolve_target(target, c->target, sizeof c->target);
  int64_t t = opts ? opts->connect_timeout_ms : 0;
  c->wait_for_ready = opts ? opts->wait_for_ready : 0;
  c->connect_ms = t > 0 ? t : GEXEC_DEFAULT_CONNECT_MS;
  pthread_mutex_init(&c->mu, NULL);
  int rc = open_channel(c, opts, err);
  if (rc != GEXEC_OK) goto out_free;
  int lazy = t < 0 || (opts && opts->lazy);
  if (!lazy && (rc = wait_connected(c, err)) != GEXEC_OK) {
    gexec_conn_close(c);
    return rc;
  }
  *out = c;
  return GEXEC_OK;
out_free:
  gexec__tls_free(c->tls);
  pthread_mutex_destroy(&c->mu);
  free(c);
  return rc;
}

void gexec_conn_close(gexec_conn *c) {
  if (!c) return;
  gx_rpc_channel_free(c->ch); /* ends a pending watch without firing */
  gexec__engine_release();
  gexec__tls_free(c->tls);
  pthread_mutex_destroy(&c->mu);
  free(c);
}

/* ---------------------------------------------------- connect attempts */

static void on_watch(void *ud, gx_rpc_conn_state now, int timed_out);

/* Under c->mu: follows the channel until the attempt's end. */
static int arm_watch(gexec_conn *c, gx_rpc_conn_state last) {
  int64_t left_ms = (c->attempt_end_us - gexec__mono_us() + 999) / 1000;
  if (left_ms <= 0) return -1;
  return gx_rpc_channel_watch(c->ch, last, left_ms, on_watch, c) == GX_OK
             ? 0
             : -1;
}

/* Under c->mu (and each run's mu): ends the attempt for every waiting
 * run: @p go starts their calls, else they fail with "timed out". */
static void finish_attempt(gexec_conn *c, int go) {
  gexec_proc *p = c->waiting;
  c->waiting = NULL;
  c->state = GEXEC__CONN_IDLE;
  while (p) {
    gexec_proc *next = p->w_next;
    pthread_mutex_lock(&p->mu);
    p->w_next = NULL;
    if (go)
      gexec__proc_call(p);
    else
      gexec__proc_fail(p, GEXEC_ECONNECT, "cannot connect to %s: timed out "
                       "after %lld ms", c->target, (long long)c->connect_ms);
    pthread_mutex_unlock(&p->mu);
    p = next;
  }
}

/* Engine thread: the channel's state changed, or the attempt's time is
 * up. Ready: the calls start. Failed: they start too (fail-fast, so that
 * each reports gRPC's reason), unless waiting for ready, which keeps
 * following the channel until the time is up. */
static void on_watch(void *ud, gx_rpc_conn_state now, int timed_out) {
  gexec_conn *c = ud;
  pthread_mutex_lock(&c->mu);
  int over = timed_out || gexec__mono_us() >= c->attempt_end_us;
  if (now == GX_CONN_READY ||
      (now == GX_CONN_FAILURE && (!c->wait_for_ready || over)))
    finish_attempt(c, 1);
  else if (over)
    finish_attempt(c, 0);
  else if (now == GX_CONN_IDLE && /* it lost the connection: try again */
           (now = gx_rpc_channel_state(c->ch, 1)) == GX_CONN_READY)
    finish_attempt(c, 1);
  else if (arm_watch(c, now) != 0)
    finish_attempt(c, 0);
  pthread_mutex_unlock(&c->mu);
}

void gexec__conn_submit(gexec_conn *c, gexec_proc *p) {
  pthread_mutex_lock(&c->mu);
  gx_rpc_conn_state s = gx_rpc_channel_state(c->ch, 1);
  /* Ready, or failed already (gRPC keeps saying so until it is ready
   * again: a watch would wait out the whole timeout), and not waiting for
   * ready: the call starts now, fail-fast, and says why it failed. */
  if (c->state == GEXEC__CONN_IDLE &&
      (s == GX_CONN_READY || (s == GX_CONN_FAILURE && !c->wait_for_ready))) {
    pthread_mutex_lock(&p->mu);
    gexec__proc_call(p);
    pthread_mutex_unlock(&p->mu);
    pthread_mutex_unlock(&c->mu);
    return;
  }
  gexec_proc **tail = &c->waiting;
  while (*tail) tail = &(*tail)->w_next;
  *tail = p;
  if (c->state == GEXEC__CONN_IDLE) {
    c->state = GEXEC__CONN_WAITING;
    c->attempt_end_us = gexec__mono_us() + c->connect_ms * 1000;
    if (arm_watch(c, s) != 0) finish_attempt(c, 0);
  }
  pthread_mutex_unlock(&c->mu);
}

int gexec__conn_unlink(gexec_conn *c, gexec_proc *p) {
  int found = 0;
  pthread_mutex_lock(&c->mu);
  for (gexec_proc **it = &c->waiting; *it; it = &(*it)->w_next) {
    if (*it != p) continue;
    *it = p->w_next;
    p->w_next = NULL;
    found = 1;
    break;
  }
  pthread_mutex_unlock(&c->mu);
  return found;
}
