/* Connection-level protection wired to the rpc layer; see protect.h. */
#include "server/protect.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "lib/gx_err.h"
#include "server/log.h"

/* "conn:" or "peer:" and the rest, or an identity: bounded by the guard. */
typedef char key_buf[GXD_GUARD_KEY_MAX + 1];

static uint64_t now_ns(void) { return uv_hrtime(); }

/* The identity share --max-sessions-per-identity gives (or the total). */
static size_t identity_runs(const gxd_config *cfg) {
  return cfg->max_sessions_per_identity ? cfg->max_sessions_per_identity
                                        : cfg->max_sessions;
}

/* --max-pending-starts, or the identity's share. */
static size_t pending_starts(const gxd_config *cfg) {
  return cfg->max_pending_starts ? cfg->max_pending_starts
                                 : identity_runs(cfg);
}

static void on_sweep(uv_timer_t *t) {
  gxd_protect *p = t->data;
  uint64_t now = now_ns();
  gxd_guard_sweep(p->sessions, now);
  if (!p->rate) return;
  pthread_mutex_lock(&p->mu);
  gxd_guard_sweep(p->rate, now);
  pthread_mutex_unlock(&p->mu);
}

static void on_cut_async(uv_async_t *a);
static void on_watch(uv_timer_t *t);

int gxd_protect_init(gxd_protect *p, uv_loop_t *loop, const gxd_config *cfg) {
  gxd_guard_limits rl = {.stream_burst = cfg->stream_burst,
                         .stream_rate = cfg->stream_rate,
                         .stream_debt =
                             cfg->stream_burst * GXD_PROTECT_DEBT_BURSTS};
  gxd_guard_limits sl = {
      .max_runs = (uint32_t)cfg->max_sessions,
      .max_identity_runs = (uint32_t)identity_runs(cfg),
      .max_conn_pending = (uint32_t)pending_starts(cfg)};
  memset(p, 0, sizeof *p);
  pthread_mutex_init(&p->mu, NULL);
  if (gxd_guard_new(&sl, &p->sessions) != 0 ||
      (cfg->stream_burst && gxd_guard_new(&rl, &p->rate) != 0)) {
    gxd_log(GXD_LOG_ERROR, "out of memory for connection accounting");
    gxd_protect_free(p);
    return -1;
  }
  uv_timer_init(loop, &p->sweep);
  p->sweep.data = p;
  uv_timer_start(&p->sweep, on_sweep, GXD_PROTECT_SWEEP_MS,
                 GXD_PROTECT_SWEEP_MS);
  uv_unref((uv_handle_t *)&p->sweep); /* never keeps the loop alive */
  uv_async_init(loop, &p->cut_async, on_cut_async);
  p->cut_async.data = p;
  uv_unref((uv_handle_t *)&p->cut_async);
  uv_timer_init(loop, &p->sniff);
  p->sniff.data = p;
  uv_unref((uv_handle_t *)&p->sniff);
  uv_timer_init(loop, &p->watch);
  p->watch.data = p;
  if (cfg->stream_burst)
    uv_timer_start(&p->watch, on_watch, GXD_PROTECT_WATCH_MS,
                   GXD_PROTECT_WATCH_MS);
  uv_unref((uv_handle_t *)&p->watch);
  return 0;
}

void gxd_protect_set_server(gxd_protect *p, gx_rpc_server *srv) {
  p->srv = srv;
}

unsigned gxd_protect_max_calls(const gxd_config *cfg) {
  /* each of a connection's streams is either waiting for its start or
   * a run: together at most the larger of the two limits */
  size_t runs = identity_runs(cfg), pending = pending_starts(cfg);
  size_t n = (runs > pending ? runs : pending) + GXD_PROTECT_CALLS_SLACK;
  return n > 0x7fffffffu ? 0x7fffffffu : (unsigned)n;
}

void gxd_protect_free(gxd_protect *p) {
  gxd_guard_free(p->rate);
  gxd_guard_free(p->sessions);
  p->rate = p->sessions = NULL;
  pthread_mutex_destroy(&p->mu);
}

/* The log line of a condemned connection; @p closed: its socket was
 * shut down. */
static void log_cut(const char *conn, const char *peer, int closed) {
  json_object *f = json_object_new_object();
  json_object_object_add(f, "event", json_object_new_string("connection_cut"));
  json_object_object_add(f, "conn", json_object_new_string(conn));
  if (peer) json_object_object_add(f, "peer", json_object_new_string(peer));
  json_object_object_add(f, "closed", json_object_new_boolean(closed));
  json_object_object_add(f, "reason",
                         json_object_new_string(gxd_guard_reason(GXD_GUARD_CUT)));
  gxd_log_event(GXD_LOG_WARN, f);
}

/* Cuts @p peer's connection if it is a TCP peer; returns 1 if closed. */
static int cut_peer(gxd_protect *p, const char *peer) {
  return p->srv && peer && gx_rpc_server_cut_peer(p->srv, peer) == GX_OK;
}

/* Cuts the connections that flood now, found by their input (with
 * @p tcp, those of the TCP listeners too); logs them. Loop thread. */
static void sniff(gxd_protect *p, int tcp) {
  int n = p->srv ? gx_rpc_server_cut_flooders(p->srv, tcp) : 0;
  if (n <= 0) return;
  json_object *f = json_object_new_object();
  json_object_object_add(f, "event", json_object_new_string("connection_cut"));
  json_object_object_add(f, "connections", json_object_new_int(n));
  json_object_object_add(f, "closed", json_object_new_boolean(1));
  json_object_object_add(f, "reason",
                         json_object_new_string("its unread input is HTTP/2 "
                                                "rapid reset (HEADERS and "
                                                "RST_STREAM only)"));
  gxd_log_event(GXD_LOG_WARN, f);
}

static void on_sniff(uv_timer_t *t) {
  gxd_protect *p = t->data;
  sniff(p, 1);
  if (uv_now(t->loop) >= p->sniff_until) uv_timer_stop(t);
}

/* The connections of our own unix listeners pass no stream gate (gRPC
 * gives a connection handed over as a descriptor no server credentials):
 * their input is looked at all the time. */
static void on_watch(uv_timer_t *t) { sniff(t->data, 0); }

/* Loop: streams were refused for their rate since the last wake-up:
 * looks for flooding connections now and for a while. Then cuts the
 * connections condemned meanwhile whose TCP peer address is known; the
 * others are cut by their input, or by their next call that reaches the
 * loop. */
static void on_cut_async(uv_async_t *a) {
  gxd_protect *p = a->data;
  char queue[GXD_PROTECT_CUT_QUEUE][32], peer[GXD_GUARD_KEY_MAX + 1];
  pthread_mutex_lock(&p->mu);
  int n = p->ncut, refused = p->refused;
  memcpy(queue, p->cut_queue, sizeof queue);
  p->ncut = p->refused = 0;
  pthread_mutex_unlock(&p->mu);
  if (refused) {
    sniff(p, 1);
    p->sniff_until = uv_now(a->loop) + GXD_PROTECT_SNIFF_FOR_MS;
    if (!uv_is_active((uv_handle_t *)&p->sniff))
      uv_timer_start(&p->sniff, on_sniff, GXD_PROTECT_SNIFF_MS,
                     GXD_PROTECT_SNIFF_MS);
  }
  for (int i = 0; i < n; i++) {
    pthread_mutex_lock(&p->mu);
    int had = gxd_guard_take_tag(p->rate, queue[i], peer, sizeof peer) == 0;
    pthread_mutex_unlock(&p->mu);
    if (!had || peer[0])
      log_cut(queue[i], had ? peer : NULL, had && cut_peer(p, peer));
  }
}

/* Charges a new stream of @p conn to the rate guard. A refusal wakes the
 * loop to look for flooders (once per loop turn); with @p queue_cut (no
 * call at hand: the gate), the first time the connection is condemned
 * it is queued for the loop to cut. Sets @p newly_cut when this stream
 * condemned the connection. Any thread. */
static gxd_guard_verdict charge(gxd_protect *p, const char *conn,
                                int queue_cut, int *newly_cut) {
  pthread_mutex_lock(&p->mu);
  int was_cut = gxd_guard_is_cut(p->rate, conn);
  gxd_guard_verdict v = gxd_guard_stream(p->rate, conn, now_ns());
  *newly_cut = v == GXD_GUARD_CUT && !was_cut;
  int wake = v != GXD_GUARD_OK && v != GXD_GUARD_FULL && !p->refused;
  if (wake) p->refused = 1;
  if (queue_cut && v == GXD_GUARD_CUT && !was_cut &&
      p->ncut < GXD_PROTECT_CUT_QUEUE) {
    snprintf(p->cut_queue[p->ncut++], sizeof p->cut_queue[0], "%s", conn);
    wake = 1;
  }
  pthread_mutex_unlock(&p->mu);
  if (wake) uv_async_send(&p->cut_async);
  return v;
}

const char *gxd_protect_admit_stream(void *ud, uint64_t conn_id) {
  gxd_protect *p = ud;
  char conn[32];
  if (!p->rate) return NULL;
  snprintf(conn, sizeof conn, "conn:%" PRIu64, conn_id);
  int newly_cut;
  gxd_guard_verdict v = charge(p, conn, 1, &newly_cut);
  return v == GXD_GUARD_OK ? NULL : gxd_guard_reason(v);
}

/* The keys of @p call's connection and identity. */
static void keys_of(gx_rpc_call *call, const gx_rpc_auth *a, key_buf conn,
                    key_buf id) {
  if (a->conn_id)
    snprintf(conn, sizeof(key_buf), "conn:%" PRIu64, a->conn_id);
  else
    snprintf(conn, sizeof(key_buf), "peer:%s", gx_rpc_call_peer(call));
  if (a->authenticated && a->nidentities > 0)
    snprintf(id, sizeof(key_buf), "id:%s", a->identities[0]);
  else if (a->has_unix_cred)
    snprintf(id, sizeof(key_buf), "uid:%" PRIu32, a->uid);
  else
    snprintf(id, sizeof(key_buf), "anonymous");
}

static int tcp_peer(const char *peer) {
  return strncmp(peer, "ipv4:", 5) == 0 || strncmp(peer, "ipv6:", 5) == 0;
}

/* The rate verdict on @p call's stream: charged now unless the gate did.
 * Remembers the connection's peer (its TCP address to cut it by, or the
 * unix peer) as its tag; the first call of a condemned connection that
 * reaches the loop takes the tag and has the connection cut now: by its
 * address (TCP, when the gate's queue did not do it first), or through
 * the call (the daemon's own unix listeners: their connections pass no
 * gate, so this is where a flood that the input sniffer missed ends). */
static gxd_guard_verdict rate_of(gxd_protect *p, gx_rpc_call *call,
                                 const gx_rpc_auth *a, const char *conn) {
  const char *peer = gx_rpc_call_peer(call);
  char cut[GXD_GUARD_KEY_MAX + 1] = "";
  int newly_cut = 0;
  if (!p->rate) return GXD_GUARD_OK;
  gxd_guard_verdict v =
      a->gated ? GXD_GUARD_OK : charge(p, conn, 0, &newly_cut);
  pthread_mutex_lock(&p->mu);
  if (a->gated && gxd_guard_is_cut(p->rate, conn)) v = GXD_GUARD_CUT;
  if (tcp_peer(peer) || a->has_unix_cred)
    gxd_guard_set_tag(p->rate, conn, peer);
  if (v == GXD_GUARD_CUT) gxd_guard_take_tag(p->rate, conn, cut, sizeof cut);
  pthread_mutex_unlock(&p->mu);
  if (cut[0])
    log_cut(conn, cut,
            tcp_peer(cut) ? cut_peer(p, cut)
                          : gx_rpc_call_cut_connection(call) == GX_OK);
  else if (newly_cut) /* no peer to cut it by: refused, not closed */
    log_cut(conn, NULL, 0);
  return v;
}

/* The auth of @p call (or none) and its keys. */
static void call_keys(gx_rpc_call *call, gx_rpc_auth *a, key_buf conn,
                      key_buf id) {
  static const gx_rpc_auth none = {.transport = ""};
  if (gx_rpc_call_auth(call, a) != GX_OK) *a = none;
  keys_of(call, a, conn, id);
}

int gxd_protect_admit_unary(gxd_protect *p, gx_rpc_call *call, char *why,
                            size_t why_len) {
  gx_rpc_auth a;
  key_buf conn, id;
  call_keys(call, &a, conn, id);
  gxd_guard_verdict v = rate_of(p, call, &a, conn);
  if (v == GXD_GUARD_OK) return GX_STATUS_OK;
  gxd_guard_describe(p->rate, v, why, why_len);
  return GX_STATUS_RESOURCE_EXHAUSTED;
}

int gxd_protect_admit_call(gxd_protect *p, gx_rpc_call *call,
                           gxd_guard_slot *slot, char *why, size_t why_len) {
  gx_rpc_auth a;
  key_buf conn, id;
  memset(slot, 0, sizeof *slot);
  call_keys(call, &a, conn, id);
  gxd_guard_verdict v = rate_of(p, call, &a, conn);
  if (v == GXD_GUARD_OK)
    v = gxd_guard_open(p->sessions, conn, id, now_ns(), slot);
  if (v == GXD_GUARD_OK) return GX_STATUS_OK;
  gxd_guard_describe(v == GXD_GUARD_RATE || v == GXD_GUARD_CUT ? p->rate
                                                               : p->sessions,
                     v, why, why_len);
  return GX_STATUS_RESOURCE_EXHAUSTED;
}

void gxd_protect_release(gxd_protect *p, gxd_guard_slot *slot) {
  gxd_guard_close(p->sessions, slot);
}
