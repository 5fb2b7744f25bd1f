/**
 * @file protect.h
 * The daemon's connection-level protection: server/guard.h's accounting
 * wired to the rpc layer.
 *
 * The rpc layer's gate also bounds the calls each connection has in the
 * server at once (gxd_protect_max_calls): what a connection costs stays
 * bounded however slowly the loop drains its calls.
 *
 * Two guards, one per thread model:
 *  - the stream-rate guard (--stream-rate): charged for every new stream
 *    by the rpc layer's stream gate (gxd_protect_admit_stream, on gRPC's
 *    threads, before gRPC queues the call: a refused stream costs no
 *    memory), or at the call's arrival on the loop for calls that did
 *    not pass the gate; under a mutex;
 *  - the session guard (--max-pending-starts, --max-sessions,
 *    --max-sessions-per-identity): streams waiting for their start and
 *    runs, per connection and per identity; loop thread only, its slots
 *    held by the sessions (session.h).
 * Cutting connections off. As soon as the gate refuses streams for
 * their rate, the loop looks at the unread input of every connection
 * (gx_rpc_server_cut_flooders) and cuts those that are a rapid reset
 * (HEADERS and RST_STREAM only, no DATA), for a few seconds after the
 * last refusal: logged as {"event":"connection_cut","connections":N}.
 * That finds plaintext floods long before they are condemned. The
 * connections of the daemon's own unix listeners pass no gate (gRPC
 * takes them as descriptors, without credentials): theirs is looked at
 * every GXD_PROTECT_WATCH_MS, and their calls are charged to the rate
 * guard when they reach the loop; one condemned that way is cut through
 * its next call (gx_rpc_call_cut_connection: a flood paced so that its
 * socket never holds a backlog for the sniffer). A connection
 * condemned for its rate (TLS, or a flood without resets) has every
 * later stream refused, and is cut as soon as the loop knows its TCP
 * peer address (gx_rpc_server_cut_peer: recorded from its first call
 * that reached on_call, or taken from the next one): logged as
 * {"event":"connection_cut","conn":...,"peer":...,"closed":true|false}.
 *
 * Keys: a connection is "conn:N" (gx_rpc_auth.conn_id) or, without a
 * number, "peer:" and gRPC's peer address; an identity is "id:" and the
 * first identity the transport proved (mTLS), "uid:N" for a unix peer
 * whose credentials the transport read, else "anonymous".
 */
#ifndef GXD_PROTECT_H
#define GXD_PROTECT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "lib/rpc.h"
#include "server/config.h"
#include "server/guard.h"

/** Refused streams tolerated past an empty bucket, in bursts: a
 *  connection is cut after this many times --stream-rate's BURST more. */
#define GXD_PROTECT_DEBT_BURSTS 5

/** Calls a connection may have in the server at once, beyond its runs
 *  and streams waiting for start (unary health checks, refusals being
 *  sent). */
#define GXD_PROTECT_CALLS_SLACK 64

/** After streams were refused for their rate, the connections' input is
 *  looked at (gx_rpc_server_cut_flooders) at once, then every
 *  GXD_PROTECT_SNIFF_MS for GXD_PROTECT_SNIFF_FOR_MS after the last
 *  refusal. */
#define GXD_PROTECT_SNIFF_MS 50
#define GXD_PROTECT_SNIFF_FOR_MS 3000

/** How often the connections of the daemon's own unix listeners (which
 *  pass no stream gate: gRPC takes them as descriptors) have their input
 *  looked at for a rapid reset (ms; not with --stream-rate off). */
#define GXD_PROTECT_WATCH_MS 50

/** How often both guards forget what they no longer need (ms). */
#define GXD_PROTECT_SWEEP_MS 5000

/** Condemned connections waiting for the loop to cut them, at most. */
#define GXD_PROTECT_CUT_QUEUE 32

/** Owned by the daemon; lives as long as its gx_rpc_server. */
typedef struct {
  pthread_mutex_t mu;  /**< guards rate and the cut queue */
  gxd_guard *rate;     /**< NULL with --stream-rate off */
  gxd_guard *sessions; /**< loop thread only */
  gx_rpc_server *srv;  /**< to cut connections with; NULL: none yet */
  uv_timer_t sweep;
  uv_async_t cut_async; /**< wakes the loop to cut what was condemned */
  uv_timer_t sniff;     /**< looks for flooding connections again */
  uv_timer_t watch;     /**< looks at the own unix listeners' ones */
  uint64_t sniff_until; /**< ... until then (uv_now) */
  char cut_queue[GXD_PROTECT_CUT_QUEUE][32];
  int ncut;
  int refused; /**< streams were refused for their rate since the loop
                    last looked */
} gxd_protect;

/** Sets up @p p from @p cfg on @p loop. Returns 0, or -1 (out of memory,
 *  logged; nothing to free). */
int gxd_protect_init(gxd_protect *p, uv_loop_t *loop, const gxd_config *cfg);

/** The server to cut condemned connections of (borrowed; before start). */
void gxd_protect_set_server(gxd_protect *p, gx_rpc_server *srv);

/** The rpc layer's max_calls_per_conn for @p cfg: what one connection
 *  can use (each of its streams is a run of its identity's share, or
 *  waits for its start: the larger of the two limits) and
 *  GXD_PROTECT_CALLS_SLACK. */
unsigned gxd_protect_max_calls(const gxd_config *cfg);

/** Frees the guards. The loop must have closed the sweep timer and the
 *  async handle (the daemon closes every handle before this). */
void gxd_protect_free(gxd_protect *p);

/** The rpc layer's admit_stream (gx_rpc_server_opts), @p ud being the
 *  gxd_protect: charges the stream to connection @p conn_id. Any thread. */
const char *gxd_protect_admit_stream(void *ud, uint64_t conn_id);

/**
 * Loop thread: decides on a new Run @p call: its connection's rate (if
 * the gate did not), whether the connection was cut, and its streams
 * waiting for start (session slots are taken at start: session.c).
 * Returns GX_STATUS_OK with @p slot holding its place (hand it to
 * gxd_session_start, which releases it), or the status to refuse it with
 * (RESOURCE_EXHAUSTED) and the reason in @p why; the slot then holds
 * nothing.
 */
int gxd_protect_admit_call(gxd_protect *p, gx_rpc_call *call,
                           gxd_guard_slot *slot, char *why, size_t why_len);

/**
 * Loop thread: the rate part of gxd_protect_admit_call for a unary call
 * that takes no session slot (Facts/Get): its connection's stream rate
 * if the gate did not charge it (the daemon's own unix listeners), and
 * whether the connection was cut. GX_STATUS_OK, or RESOURCE_EXHAUSTED
 * with the reason in @p why.
 */
int gxd_protect_admit_unary(gxd_protect *p, gx_rpc_call *call, char *why,
                            size_t why_len);

/** Loop thread: gives back @p slot of a call admitted by
 *  gxd_protect_admit_call that will have no session after all. */
void gxd_protect_release(gxd_protect *p, gxd_guard_slot *slot);

#endif
