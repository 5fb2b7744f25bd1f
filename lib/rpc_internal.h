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

/* The connections a server accepted itself (rpc_conn.c), its unix
 * listeners (rpc_unix.c) and its TCP ports (for rpc_cut.c). Loop thread
 * only. */
typedef struct rpc_conns rpc_conns;

/* Who a server call's peer is, from the record of the connection it came
 * on (rpc_conn.c). conn_id 0: unknown (no credentials). */
typedef struct {
  int fd;           /* the connection's socket, as gRPC named it ("fd:N") */
  uint64_t conn_id; /* unique per accepted connection, never reused */
  uint32_t uid, gid;
  int32_t pid;
} rpc_peer_cred;

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
  /* trailing metadata sent with the status (gx_rpc_call_set_trailer):
   * keys and values are slices of ours until the call is destroyed */
  grpc_metadata trailers[GX_RPC_TRAILERS_MAX];
  size_t ntrailers;
  rpc_auth *auth; /* NULL until gx_rpc_call_auth first asks */
  rpc_conns *conns; /* the server's; outlives the call */
  rpc_peer_cred cred; /* set when the call is accepted (rpc_conn.c) */
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

/* Shuts down this process's sockets on @p cs's TCP ports whose peer is
 * @p peer (gRPC's "ipv4:..."/"ipv6:..." form) (rpc_cut.c): GX_OK,
 * GX_ECLOSED (none), GX_EINVAL (not a TCP peer) or GX_ESYS. */
int rpc_cut_tcp_peer(const rpc_conns *cs, const char *peer);

/* rpc_sniff.c: whether the @p n bytes at @p buf, a connection's unread
 * input, are an HTTP/2 rapid reset (HEADERS and RST_STREAM frames only,
 * no DATA); whether socket @p fd's unread input is one now (peeked;
 * @p buf holds RPC_SNIFF_PEEK bytes); and shutting down the sockets of
 * @p cs's connections whose input is one: those accepted on its unix
 * listeners, and with @p tcp those on its TCP ports (returns how many,
 * or GX_ESYS). */
#define RPC_SNIFF_PEEK (64 * 1024)
int rpc_rapid_reset_evidence(const uint8_t *buf, size_t n);
int rpc_sniff_flooding(int fd, uint8_t *buf);
int rpc_cut_flooders(rpc_conns *cs, int tcp);


/* Server credentials of a TLS source (rpc_tls_server.c): GX_OK, GX_EINVAL
 * (the source holds no set yet) or GX_ENOMEM. */
int rpc_tls_server_creds_new(gx_rpc_tls_source *src,
                             grpc_server_credentials **out);
/* The name a TLS channel's server certificate must carry instead of the
 * target's host (GRPC_SSL_TARGET_NAME_OVERRIDE_ARG), owned by @p creds;
 * NULL: the host, or no TLS. */
const char *rpc_creds_server_name(const gx_rpc_creds *creds);
/* Frees what gx_rpc_call_auth cached for a call (NULL is fine). */
void rpc_auth_free(rpc_auth *a);

/* A server's own connections (rpc_conn.c), all on the loop thread.
 * rpc_conns_new: GX_OK or GX_ENOMEM. rpc_conns_free also stops what
 * rpc_conns_stop did not. */
int rpc_conns_new(rpc_conns **out);
void rpc_conns_free(rpc_conns *cs);
/* gx_rpc_server_listen_unix's work (its results). */
int rpc_conns_listen_unix(rpc_conns *cs, const char *path,
                          const gx_rpc_unix_opts *opts);
/* Starts accepting on every unix listener, after grpc_server_start:
 * GX_OK, or GX_ESYS/GX_ENOMEM (rpc_conns_stop still cleans up). */
int rpc_conns_start(rpc_conns *cs, uv_loop_t *loop, grpc_server *server);
/* Stops accepting, closes the listening sockets and removes their paths
 * (memory of started listeners goes in libuv close callbacks: run the
 * loop). Idempotent. */
void rpc_conns_stop(rpc_conns *cs);
/* Remembers a TCP port the server listens on (gx_rpc_server_listen). */
void rpc_conns_add_tcp_port(rpc_conns *cs, int port);
/* The TCP ports of gx_rpc_server_listen's listeners, *n of them. */
const int *rpc_conns_tcp_ports(const rpc_conns *cs, int *n);
/* Records accepted connection @p fd (its socket's identity and peer
 * credentials) under a new conn_id, replacing whatever record the number
 * had: GX_OK, GX_ENOMEM, or GX_ESYS (the socket cannot be read). */
int rpc_conns_record(rpc_conns *cs, int fd);
/* Sets @p c's cred (and its peer string) from the record of the
 * connection its "fd:N" peer names, if that record is certainly the
 * call's connection; else leaves them (no credentials). */
void rpc_conns_identify(rpc_conns *cs, gx_rpc_call *c);
/* Copies @p c's peer credentials (none: has_unix_cred 0) into @p out. */
void rpc_conns_fill_auth(const gx_rpc_call *c, gx_rpc_auth *out);
/* Whether @p cred still names the recorded, open connection. */
int rpc_conns_current(const rpc_conns *cs, const rpc_peer_cred *cred);
/* A new connection number, unique in the process (also the gate's). */
uint64_t rpc_next_conn_id(void);
/* Calls @p fn(@p ud, fd) for each connection accepted on the unix
 * listeners whose socket is still open; stops at the first nonzero
 * result and returns it, else 0. */
int rpc_conns_each(const rpc_conns *cs, int (*fn)(void *ud, int fd),
                   void *ud);

/* One unix listener (rpc_unix.c), kept by rpc_conns: what rpc_conns_*
 * do for each. rpc_unix_stop also frees it (at once if it never
 * started, else from its handles' close callbacks). */
typedef struct rpc_unix_listener rpc_unix_listener;
int rpc_unix_listen(rpc_conns *cs, const char *path,
                    const gx_rpc_unix_opts *opts, rpc_unix_listener **out);
int rpc_unix_start(rpc_unix_listener *l, uv_loop_t *loop,
                   grpc_server *server);
void rpc_unix_stop(rpc_unix_listener *l);

/* Counters for the module's tests: connections accepted, and accept
 * attempts that failed (EAGAIN excluded), over the process's life. */
extern atomic_uint_fast64_t rpc_unix_accepted;
extern atomic_uint_fast64_t rpc_unix_accept_failures;

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
