/* The stream gate (gx_rpc_server_opts.admit_stream, see rpc.h): the
 * server's say on each new stream before gRPC queues its call.
 *
 * Why here: gRPC 1.51 does the reading and HTTP/2 parsing of a
 * connection on whichever thread polls, and while a client keeps the
 * socket full it parses without returning to the completion queue. Every
 * HEADERS frame becomes a call waiting in gRPC's pending-call queue
 * (about 13 KB each here) until the server requests it, one per posted
 * request, reset or not. HTTP/2 rapid reset (HEADERS + RST_STREAM, tens
 * of thousands per second per connection) thus grew gexecd to 5 GB
 * before the loop saw its first call (measured: 4 connections x 100,000
 * pairs). The only per-stream hook gRPC runs inside that read path, for
 * listeners of grpc_server_add_http2_port, is the server credentials'
 * auth metadata processor: it runs for every stream once its headers are
 * parsed, before the call is matched or queued, and a stream it fails
 * is destroyed at once (server.cc: FailCallCreation -> KillZombie),
 * never queued. So the gate is such a processor.
 *
 * Connections get a number, unique in the process and never reused: the
 * processor is handed the connection's own auth context (one per
 * transport, shared by its calls: server_auth_filter.cc), so the first
 * stream of a connection adds the property GATE_PROP with a new number
 * to it, under the gate's lock; later streams read it back. The
 * property is written once, before any call of that connection is
 * published, so readers on the loop (gx_rpc_call_auth) never race the
 * write.
 *
 * With max_calls, the gate also counts each connection's calls from
 * their admission until the rpc module is done with them
 * (rpc_gate_release, from the call's destruction), in a table of the
 * connections that have calls (an entry goes with its last call), and
 * refuses streams past the limit: what one connection holds in the
 * server stays bounded even while the loop drains its calls slowly
 * (gRPC's polling thread busy with a flood) or its client reads nothing
 * (the final statuses of its calls never leave).
 *
 * Not covered: connections handed to gRPC as descriptors
 * (grpc_server_add_channel_from_fd) have no server credentials, hence
 * no auth filter and no processor. */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <grpc/grpc_security.h>

#include "lib/gx_err.h"
#include "lib/rpc_internal.h"

/* The property that names a connection: decimal, 1 and up. */
#define GATE_PROP "gexec.conn_id"
#define GATE_BUCKETS 1024 /* of the table of connections with calls */
#define BUSY "too many calls in progress on this connection"

typedef struct conn_calls {
  struct conn_calls *next;
  uint64_t id;
  unsigned calls;
} conn_calls;

struct rpc_gate {
  rpc_admit_fn fn;
  void *ud;
  unsigned max_calls; /* 0: not counted */
  pthread_mutex_t mu; /* GATE_PROP's check-then-add; the table */
  conn_calls *table[GATE_BUCKETS];
  atomic_int refs;    /* the server's, and one per credentials object */
};

uint64_t rpc_gate_conn_id(const grpc_auth_context *ctx) {
  grpc_auth_property_iterator it =
      grpc_auth_context_find_properties_by_name(ctx, GATE_PROP);
  const grpc_auth_property *p = grpc_auth_property_iterator_next(&it);
  char buf[24];
  if (!p || p->value_length == 0 || p->value_length >= sizeof buf) return 0;
  memcpy(buf, p->value, p->value_length);
  buf[p->value_length] = '\0';
  char *end;
  uint64_t id = strtoull(buf, &end, 10);
  return *end ? 0 : id;
}

/* The number of @p ctx's connection, given on its first stream. */
static uint64_t conn_id_of(rpc_gate *g, grpc_auth_context *ctx) {
  pthread_mutex_lock(&g->mu);
  uint64_t id = rpc_gate_conn_id(ctx);
  if (!id) {
    char buf[24];
    id = rpc_next_conn_id();
    snprintf(buf, sizeof buf, "%" PRIu64, id);
    grpc_auth_context_add_cstring_property(ctx, GATE_PROP, buf);
  }
  pthread_mutex_unlock(&g->mu);
  return id;
}

uint64_t rpc_gate_call_conn(grpc_call *call) {
  grpc_auth_context *ctx = grpc_call_auth_context(call);
  uint64_t id = ctx ? rpc_gate_conn_id(ctx) : 0;
  grpc_auth_context_release(ctx);
  return id;
}

/* The table's slot for connection @p id (where it is, or would go). */
static conn_calls **slot_of(rpc_gate *g, uint64_t id) {
  conn_calls **p = &g->table[id % GATE_BUCKETS];
  while (*p && (*p)->id != id) p = &(*p)->next;
  return p;
}

/* Counts one more call of @p id; NULL, or BUSY (not counted). */
static const char *take_call(rpc_gate *g, uint64_t id) {
  const char *why = NULL;
  pthread_mutex_lock(&g->mu);
  conn_calls **p = slot_of(g, id);
  if (!*p && (*p = calloc(1, sizeof **p)) != NULL) (*p)->id = id;
  if (!*p || (*p)->calls >= g->max_calls)
    why = *p ? BUSY : "out of memory";
  else
    (*p)->calls++;
  pthread_mutex_unlock(&g->mu);
  return why;
}

void rpc_gate_release(rpc_gate *g, uint64_t id) {
  if (!g->max_calls || !id) return;
  pthread_mutex_lock(&g->mu);
  conn_calls **p = slot_of(g, id), *e = *p;
  if (e && --e->calls == 0) {
    *p = e->next;
    free(e);
  }
  pthread_mutex_unlock(&g->mu);
}

/* gRPC's thread, once per new stream: admit it or fail it now. The
 * owner's verdict comes first: it sees (and charges) every stream. */
static void process(void *state, grpc_auth_context *ctx,
                    const grpc_metadata *md, size_t num_md,
                    grpc_process_auth_metadata_done_cb cb, void *user_data) {
  rpc_gate *g = state;
  RPC_TAKEN(g); /* the gate as rpc_gate_attach handed it over */
  (void)md;
  (void)num_md;
  uint64_t id = conn_id_of(g, ctx);
  const char *why = g->fn(g->ud, id);
  if (!why && g->max_calls) why = take_call(g, id);
  cb(user_data, NULL, 0, NULL, 0,
     why ? GRPC_STATUS_RESOURCE_EXHAUSTED : GRPC_STATUS_OK, why);
}

int rpc_gate_new(rpc_admit_fn fn, void *ud, unsigned max_calls,
                 rpc_gate **out) {
  rpc_gate *g = calloc(1, sizeof *g);
  if (!g) return GX_ENOMEM;
  g->fn = fn;
  g->ud = ud;
  g->max_calls = max_calls;
  pthread_mutex_init(&g->mu, NULL);
  atomic_init(&g->refs, 1);
  *out = g;
  return GX_OK;
}

void rpc_gate_unref(void *gate) {
  rpc_gate *g = gate;
  if (!g || atomic_fetch_sub(&g->refs, 1) != 1) return;
  for (size_t i = 0; i < GATE_BUCKETS; i++) /* calls left at shutdown */
    while (g->table[i]) {
      conn_calls *e = g->table[i];
      g->table[i] = e->next;
      free(e);
    }
  pthread_mutex_destroy(&g->mu);
  free(g);
}

void rpc_gate_attach(rpc_gate *g, grpc_server_credentials *sc) {
  grpc_auth_metadata_processor p = {process, rpc_gate_unref, g};
  atomic_fetch_add(&g->refs, 1); /* released with the credentials */
  /* gRPC's threads call process: what this thread wrote (the gate, its
   * mutex, the owner's state) happens before, through gRPC, which TSan
   * does not see (rpc_internal.h) */
  RPC_HANDOFF(g);
  grpc_server_credentials_set_auth_metadata_processor(sc, p);
}
