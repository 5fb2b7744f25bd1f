/* Internal to the rpc module (lib/rpc_*.c): types shared by its files.
 *
 * Error rule (as libuv's, see rpc.h): a function that returns an error
 * fires no callback and frees nothing the caller still holds. Where a
 * failure must still end a server call, the end is delivered later from
 * the loop (rpc_pump_post), never from inside the failing function. */
#ifndef GX_RPC_INTERNAL_H
#define GX_RPC_INTERNAL_H

#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <pthread.h>
#include <stdatomic.h>

#include "lib/rpc.h"

/* Happens-before through gRPC, told to ThreadSanitizer. What a thread
 * wrote before handing a tag to gRPC (starting a batch, posting a request)
 * is visible to the thread that takes the tag off the completion queue;
 * what it did before cancelling a call is visible to whichever thread then
 * destroys the call. gRPC guarantees both, but its own synchronization is
 * in Debian's uninstrumented libgrpc, which TSan cannot see (tests/tsan.supp
 * ignores that library's interceptors). So: a release on the tag (or call)
 * at each hand-off, an acquire where it is taken. Nothing without
 * -fsanitize=thread. */
#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
#define RPC_HANDOFF(addr) __tsan_release(addr)
#define RPC_TAKEN(addr) __tsan_acquire(addr)
#else
#define RPC_HANDOFF(addr) ((void)(addr))
#define RPC_TAKEN(addr) ((void)(addr))
#endif

/* What a completion-queue tag refers to. */
typedef enum {
  RPC_OP_SEND,     /* SEND_MESSAGE (server and client) */
  RPC_OP_RECV,     /* RECV_MESSAGE */
  RPC_OP_CLOSE,    /* server: RECV_CLOSE_ON_SERVER (+ initial metadata) */
  RPC_OP_STATUS,   /* server: SEND_STATUS; client: initial metadata both
                      ways and RECV_STATUS_ON_CLIENT, in one batch */
  RPC_OP_HALF,     /* client: SEND_CLOSE_FROM_CLIENT */
  RPC_OP_REQUEST,  /* server: a requested call arrived */
  RPC_OP_SHUTDOWN, /* server: shutdown confirmed */
  RPC_OP_WATCH,    /* client: a channel's connectivity watch fired */
} rpc_op_kind;

typedef struct rpc_tag {
  rpc_op_kind kind;
  void *owner; /* gx_rpc_call, request slot or server */
  /* The pump's queue of completions for the loop (rpc_pump.c): a tag is
   * queued at most once at a time, since its next batch starts only
   * after this completion was dispatched. Guarded by the pump's mutex. */
  struct rpc_tag *next;
  int ok;
} rpc_tag;

/* A completion-queue pump: a thread blocking in grpc_completion_queue_next.
 * With a loop, completions are queued and handed to the loop thread;
 * without, they are dispatched on the pump thread itself. */
typedef struct rpc_pump rpc_pump;
typedef void (*rpc_dispatch_fn)(void *ud, rpc_tag *tag, int ok);

/* A unary method (rpc_unary.c), kept by the server's request slot. */
typedef struct {
  gx_rpc_unary_fn fn;
  void *ud;
  const ProtobufCMessageDescriptor *req_type;
  char *name; /* the method's last path component, for error texts */
} rpc_unary_method;

/* The stream gate of a server (rpc_gate.c, declared below). */
typedef struct rpc_gate rpc_gate;

/* What gx_rpc_call_auth reports, read once per call (rpc_security.c):
 * one allocation holding the struct, the identity array and the strings. */
typedef struct rpc_auth rpc_auth;

struct gx_rpc_call {
  grpc_call *call;
  int is_server;
  rpc_pump *pump; /* server: delivers its completions to the loop */
  gx_rpc_handlers h;
  void *ud;
  atomic_int refs; /* batches in flight */
  pthread_mutex_t mu; /* guards the busy/half flags (client threads) */
  /* server: both must be set to be finished; client: status_done only */
  int close_done;
  int status_done;
  int finishing; /* server: finish was called */
  int send_busy;
  int recv_busy;
  int half_pending; /* client: half-close waits for the send in flight */
  int half_sent;
  int cancelled;
  /* the last receive yielded no message because the call failed (not
   * because the peer half-closed) */
  int recv_failed;
  grpc_byte_buffer *recv_bb;
  grpc_byte_buffer *send_bb;
  rpc_tag t_send, t_recv, t_close, t_status, t_half;
  /* server */
  char *peer;
  grpc_slice status_slice;
  rpc_auth *auth; /* NULL until gx_rpc_call_auth first asks */
  rpc_gate *gate;      /* released at destroy: the gate admitted it */
  uint64_t gate_conn;  /* ... on this connection */
  /* server, unary methods (rpc_unary.c) */
  const rpc_unary_method *unary;
  ProtobufCMessage *unary_req; /* held until the client half-closes */
  /* client */
  grpc_metadata_array md_initial;
  grpc_metadata_array md_trailing;
  grpc_status_code status_code;
  grpc_slice status_details;
  const char *error_string;
};

/* Starts a pump on @p cq; with @p loop, its memory is released only in
 * its async handle's close callback, also when the start fails (run the
 * loop to complete it). Returns GX_OK, GX_ENOMEM or GX_ESYS. */
int rpc_pump_start(grpc_completion_queue *cq, uv_loop_t *loop,
                   rpc_dispatch_fn fn, void *ud, rpc_pump **out);
/* Loop pumps only: queues a completion of @p tag, as if from the queue;
 * it is dispatched from the loop later. Cannot fail. */
void rpc_pump_post(rpc_pump *p, rpc_tag *tag, int ok);
/* Shuts the queue down, joins the thread, delivers what was queued. */
void rpc_pump_stop(rpc_pump *p);

/* Fault-injection seams. The module reaches these gRPC and pthread entry
 * points only through the pointers below, which default to the real
 * functions (grpc_call_start_batch, grpc_server_request_registered_call,
 * pthread_create). Only the module's unit tests (tests/lib/rpc_fixture.c
 * and the tests using it) change them, to make failure paths reachable on
 * demand, and never while another thread may be calling through the same
 * pointer. */
typedef grpc_call_error (*rpc_start_batch_fn)(grpc_call *call,
                                              const grpc_op *ops, size_t n,
                                              void *tag, void *reserved);
typedef grpc_call_error (*rpc_request_registered_fn)(
    grpc_server *server, void *method, grpc_call **call,
    gpr_timespec *deadline, grpc_metadata_array *md,
    grpc_byte_buffer **payload, grpc_completion_queue *call_cq,
    grpc_completion_queue *notify_cq, void *tag);
typedef int (*rpc_thread_create_fn)(pthread_t *thread,
                                    const pthread_attr_t *attr,
                                    void *(*fn)(void *), void *arg);
extern rpc_start_batch_fn rpc_start_batch;
extern rpc_request_registered_fn rpc_request_registered;
extern rpc_thread_create_fn rpc_thread_create;

/* Credentials (rpc_security.c). Each returns GX_OK and a new gRPC
 * credentials object (the caller releases it), or GX_EINVAL when @p creds
 * are for the other side, or GX_ENOMEM. NULL @p creds: plaintext. */
int rpc_server_creds_new(const gx_rpc_creds *creds,
                         grpc_server_credentials **out);
int rpc_channel_creds_new(const gx_rpc_creds *creds,
                          grpc_channel_credentials **out);
/* The stream gate (rpc_gate.c): gx_rpc_server_opts.admit_stream run by
 * an auth metadata processor on gRPC's threads. rpc_gate_new makes one
 * (one reference, the server's); rpc_gate_attach installs it on server
 * credentials, which take a reference of their own (released by gRPC
 * when they are destroyed); rpc_gate_unref drops one (NULL is fine).
 * rpc_gate_conn_id: the number the gate gave @p ctx's connection, 0 if
 * none. */
typedef const char *(*rpc_admit_fn)(void *ud, uint64_t conn_id);
int rpc_gate_new(rpc_admit_fn fn, void *ud, unsigned max_calls,
                 rpc_gate **out);
void rpc_gate_attach(rpc_gate *g, grpc_server_credentials *sc);
void rpc_gate_unref(void *gate);
uint64_t rpc_gate_conn_id(const grpc_auth_context *ctx);
/* The number of @p call's connection (0 if the gate gave it none). */
uint64_t rpc_gate_call_conn(grpc_call *call);
/* A call the gate admitted on connection @p conn_id is gone (0: none). */
void rpc_gate_release(rpc_gate *g, uint64_t conn_id);

/* Shuts down this process's TCP sockets whose peer is @p peer (gRPC's
 * "ipv4:..."/"ipv6:..." form) and whose local port is one of @p ports
 * (rpc_cut_peer.c): GX_OK, GX_ECLOSED (none), GX_EINVAL (not a TCP peer,
 * or no ports) or GX_ESYS. */
int rpc_cut_tcp_peer(const int *ports, int nports, const char *peer);

/* A server's listeners, to find the connections accepted on them. */
typedef struct {
  const char *const *paths; /* unix socket paths */
  int npaths;
  const int *ports; /* TCP ports */
  int nports;
} rpc_listeners;

/* rpc_sniff.c: whether the @p n bytes at @p buf, a connection's unread
 * input, are an HTTP/2 rapid reset (HEADERS and RST_STREAM frames only,
 * no DATA); and shutting down this process's connections accepted on
 * @p l whose unread input is one (returns how many, or GX_ESYS). */
int rpc_rapid_reset_evidence(const uint8_t *buf, size_t n);
int rpc_cut_flooders(const rpc_listeners *l);

/* Frees what gx_rpc_call_auth cached for a call (NULL is fine). */
void rpc_auth_free(rpc_auth *a);

/* Unary methods (rpc_unary.c). rpc_unary_method_init copies @p path's
 * last component; rpc_unary_method_free releases it. rpc_unary_start
 * takes over a freshly accepted server call of method @p m. */
int rpc_unary_method_init(rpc_unary_method *m, const char *path,
                          const ProtobufCMessageDescriptor *req_type,
                          gx_rpc_unary_fn fn, void *ud);
void rpc_unary_method_free(rpc_unary_method *m);
void rpc_unary_start(gx_rpc_call *c, const rpc_unary_method *m);

/* Calls alive in this process (created, not yet destroyed); tests use it
 * to see that every call was released. */
extern atomic_int rpc_calls_alive;

/* An integer channel argument. */
grpc_arg rpc_int_arg(const char *key, int value);

/* Call plumbing shared by server and client (rpc_call.c). */
gx_rpc_call *rpc_call_new(grpc_call *c, int is_server);
int rpc_call_batch(gx_rpc_call *c, const grpc_op *ops, size_t n,
                   rpc_tag *tag);
void rpc_call_complete(gx_rpc_call *c, rpc_tag *tag, int ok);
/* Frees a call none of whose batches started (its setup failed),
 * cancelling it for the peer. No callback fires. */
void rpc_call_abandon(gx_rpc_call *c);

#endif
