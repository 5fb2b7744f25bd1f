/**
 * @file rpc.h
 * The one module that talks to the gRPC C core (which has no stable API).
 *
 * Everything else in gexec sees calls as streams of serialized messages:
 * post one receive, start one send, finish with a status. Two event models:
 *
 *  - Server: gx_rpc_server is bound to a libuv loop. A dedicated thread
 *    blocks in the completion queue and hands each completion to the loop
 *    thread (uv_async); every callback runs on the loop thread, and every
 *    gx_rpc_* server function must be called from it.
 *  - Client: a gx_rpc_client engine (one completion queue, one thread)
 *    serves any number of channels; callbacks run on its thread, without
 *    any lock of ours held. Client call
 *    functions may be called from any thread, but the caller must serialize
 *    calls on one gx_rpc_call and must not start operations after
 *    on_status fired.
 *
 * Per call at most one send and one receive are in flight (gRPC's rule);
 * starting a second returns GX_EBUSY. A send completing is the flow-control
 * signal: the bytes have been accepted by HTTP/2.
 *
 * Ownership: a gx_rpc_call belongs to the rpc module. The user's @c ud
 * must stay valid until on_done fires; after on_done the call pointer is
 * invalid. Received bytes are valid only during on_recv.
 *
 * Transport security is a gx_rpc_creds value given per listener and per
 * channel (plaintext or TLS); a server call reports what its peer
 * proved through gx_rpc_call_auth.
 *
 * Errors, as in libuv: a function that returns an error never also fires
 * its callback (nor any other callback of the call), and never frees the
 * call: the pointer stays valid until on_done, which fires exactly once,
 * later. Every callback of a server call fires from its loop, never from
 * inside a gx_rpc_* call made by the user.
 */
#ifndef GX_RPC_H
#define GX_RPC_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct gx_rpc_server gx_rpc_server;
typedef struct gx_rpc_channel gx_rpc_channel;
typedef struct gx_rpc_call gx_rpc_call;
typedef struct gx_rpc_creds gx_rpc_creds;

/** Callbacks of one call. Any may be NULL. */
typedef struct {
  /** A message arrived (@p data, @p len), or none will (@p data NULL:
   *  the peer half-closed or the call failed). Bytes are borrowed. */
  void (*on_recv)(void *ud, const uint8_t *data, size_t len);
  /** The send started by gx_rpc_call_send* completed; @p ok 0 = failed. */
  void (*on_sent)(void *ud, int ok);
  /** Server: the stream is closed both ways; @p cancelled is nonzero if
   *  the client cancelled, disconnected or its deadline passed. */
  void (*on_closed)(void *ud, int cancelled);
  /** Client: the final status. @p msg is borrowed for the callback. */
  void (*on_status)(void *ud, int code, const char *msg);
  /** Every operation finished; the call is gone. Last callback. */
  void (*on_done)(void *ud);
} gx_rpc_handlers;

/* ----------------------------------------------------------- credentials */

/*
 * A gx_rpc_creds describes the transport security of one listener
 * (gx_rpc_server_listen) or one channel (gx_rpc_channel_new). It is a
 * description, not a connection state: the rpc module builds gRPC's own
 * credentials from it when it is used, so one gx_rpc_creds may serve
 * several listeners or channels, and the caller may free it as soon as
 * the function it was given to returned.
 *
 * Constructors allocate; gx_rpc_creds_free releases. A NULL gx_rpc_creds
 * wherever one is accepted means plaintext, as gx_rpc_creds_insecure.
 *
 * Kinds: plaintext (both sides), TLS for servers (gx_rpc_creds_tls_server,
 * below) and TLS for clients (gx_rpc_creds_tls_client): a credentials value
 * made for one side is refused by the other side's function (GX_EINVAL),
 * and callers that take a gx_rpc_creds need no change.
 */

/** Plaintext: no encryption, no peer authentication; usable by servers
 *  and clients. On success *out owns a new value (free it with
 *  gx_rpc_creds_free); on error (GX_ENOMEM) *out is untouched. */
int gx_rpc_creds_insecure(gx_rpc_creds **out);

/** Frees @p creds (NULL is fine). Listeners and channels made with it
 *  are unaffected. */
void gx_rpc_creds_free(gx_rpc_creds *creds);

/*
 * TLS servers. A gx_rpc_tls_source holds what a TLS listener presents and
 * verifies with: the server's certificate chain and private key and, for
 * mTLS, the CA bundle client certificates must chain to. Listeners made
 * from it (gx_rpc_creds_tls_server) ask it for these at every handshake
 * (gRPC's certificate-config fetcher): after gx_rpc_tls_source_set, the
 * next handshake on every such listener uses the new set, while
 * connections already established keep theirs (and their calls go on).
 *
 * Client authentication is fixed when the source is made: with @c mtls,
 * every client must present a certificate that chains to the client CA
 * (GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY; the
 * handshake fails otherwise, before any call exists); without, TLS
 * encrypts and authenticates the server only, and no client certificate
 * is asked for. The handshake builds the client's path to a client CA
 * from the certificates the client sends (its own, then intermediates),
 * so a client CA file holding only a root accepts clients of its
 * intermediates when they send them; gRPC also accepts a client CA that
 * is itself an intermediate (partial chains). Revocation (CRLs) is not
 * checked by the handshake: check gx_rpc_auth.pem_cert and .pem_chain
 * per call (server/tls.h does).
 *
 * Threads: gRPC's threads read the source under its mutex; set may be
 * called from any thread. Lifetime: the source must outlive every server
 * that listens with credentials made from it (free it after
 * gx_rpc_server_free), since gRPC keeps calling it until then.
 */
typedef struct gx_rpc_tls_source gx_rpc_tls_source;

/** Makes an empty source (nothing to present until the first set), with
 *  client certificates required and verified when @p mtls is nonzero.
 *  Returns GX_OK with *out owning it, or GX_ENOMEM / GX_ESYS with *out
 *  untouched. */
int gx_rpc_tls_source_new(int mtls, gx_rpc_tls_source **out);

/** Replaces the whole set: @p cert_chain_pem (the server's certificate,
 *  then any intermediates), @p key_pem (its unencrypted private key) and
 *  @p client_ca_pem (required with mtls, must be NULL without). Strings
 *  are copied. The PEMs are not parsed here: a set gRPC cannot use makes
 *  new handshakes keep the previous one (check them first, as
 *  server/tls.c does). Returns GX_OK, GX_EINVAL (a NULL or empty PEM, or
 *  a client CA that does not match the source's mtls) or GX_ENOMEM; on
 *  error the previous set stays in force. */
int gx_rpc_tls_source_set(gx_rpc_tls_source *src, const char *cert_chain_pem,
                          const char *key_pem, const char *client_ca_pem);

/** How many sets were installed so far (0 before the first). */
uint64_t gx_rpc_tls_source_generation(gx_rpc_tls_source *src);

/** Frees @p src (NULL is fine) and its copies of the PEMs. Only after
 *  every server listening with it was freed. */
void gx_rpc_tls_source_free(gx_rpc_tls_source *src);

/** Server credentials: TLS with what @p src holds at each handshake.
 *  @p src is borrowed, also by every listener made with the result (see
 *  gx_rpc_tls_source's lifetime). Listening with it fails (GX_EINVAL)
 *  while @p src holds no set. Returns GX_OK with *out owning a new value,
 *  or GX_ENOMEM with *out untouched. */
int gx_rpc_creds_tls_server(gx_rpc_tls_source *src, gx_rpc_creds **out);
/**
 * TLS for channels. The server must present a certificate that chains to
 * a CA of @p ca_pem (PEM, one or more certificates; required) and names
 * the host the channel connects to, or @p server_name when not NULL (a
 * DNS name or IP address; gRPC's GRPC_SSL_TARGET_NAME_OVERRIDE_ARG, also
 * sent as SNI). With @p cert_pem (the client's certificate chain) and
 * @p key_pem (its unencrypted private key), both or neither, the channel
 * presents that certificate when the server asks for one (mTLS).
 *
 * Strings are copied (the copy of the key is wiped when freed). The PEM
 * data is not parsed here, nor when a channel is made: gRPC parses it
 * when the channel connects, and a connection with data it cannot use
 * fails (check the PEM first, as libgexec does). Returns GX_OK with *out
 * owning a new value, GX_EINVAL (no CA, a certificate without a key or a
 * key without one, an empty string) or GX_ENOMEM, with *out untouched.
 * Servers refuse it (gx_rpc_server_listen: GX_EINVAL).
 */
int gx_rpc_creds_tls_client(const char *ca_pem, const char *cert_pem,
                            const char *key_pem, const char *server_name,
                            gx_rpc_creds **out);

/* ---------------------------------------------------------------- server */

/** Server keepalive defaults (ms): a ping after this long without
 *  traffic on a connection, and how long its answer may take before the
 *  connection (and every call on it) is closed. A client that vanished
 *  without closing (half-open TCP, a cut link) has its calls cancelled
 *  within time + timeout (+ TCP's own retransmission limits once the
 *  ping is queued): 40 s by default. */
#define GX_RPC_KEEPALIVE_TIME_MS 30000
#define GX_RPC_KEEPALIVE_TIMEOUT_MS 10000
/** The shortest client keepalive interval the server is guaranteed to
 *  accept (ms): a client pinging every GX_RPC_CLIENT_PING_MIN_MS or less
 *  often never gets GOAWAY "too_many_pings", with or without calls in
 *  flight. The server counts a strike only for a ping that comes less
 *  than half of it (5 s) after the previous one without data in between,
 *  and closes the connection at the third strike (gRPC's
 *  GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS = 5000,
 *  GRPC_ARG_HTTP2_MAX_PING_STRIKES = 2,
 *  GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS = 1). */
#define GX_RPC_CLIENT_PING_MIN_MS 10000

/** Server options; zero values select the defaults noted. */
typedef struct {
  size_t max_recv_bytes; /**< largest accepted message; 0 = 4 MiB */
  /** HTTP/2 streams one connection may have open; more wait at the
   *  client. Bounds per-connection memory. 0 = gRPC's default. */
  int max_streams_per_conn;
  /** Keepalive ping interval and answer timeout (ms); 0 =
   *  GX_RPC_KEEPALIVE_TIME_MS / GX_RPC_KEEPALIVE_TIMEOUT_MS. Pings go to
   *  idle connections too. */
  int keepalive_time_ms;
  int keepalive_timeout_ms;
  /**
   * The stream gate; NULL admits every stream. Called for each new
   * stream (any method) on a listener of gx_rpc_server_listen, on one of
   * gRPC's threads, NOT the loop, as soon as its headers are parsed and
   * before gRPC queues its call: return NULL to admit it, or a reason
   * (static storage) to refuse it, which costs no more than its parsing:
   * the client gets RESOURCE_EXHAUSTED with that reason and the call never
   * reaches on_call (nor gRPC's queue of calls waiting for the server).
   * @p conn_id names the stream's connection: unique in this process,
   * never reused, the same for all its streams (and reported to on_call
   * in gx_rpc_auth.conn_id). It must be quick and thread-safe: it runs
   * inside gRPC's read loop, possibly at the same time for several
   * connections. Not called for connections the rpc module did not get
   * from a gx_rpc_server_listen listener.
   */
  const char *(*admit_stream)(void *ud, uint64_t conn_id);
  void *admit_ud; /**< for admit_stream; must outlive the server */
  /** With admit_stream: calls one connection may have in the server at
   *  once, from their admission until the rpc module is done with them
   *  (waiting in gRPC's queue, with on_call's owner, or being finished);
   *  further streams are refused as admit_stream refuses them (after it
   *  saw them). Bounds what one connection costs, however slowly the
   *  loop drains its calls. 0 = no limit. */
  unsigned max_calls_per_conn;
} gx_rpc_server_opts;

/** Called on the loop thread for each new call. @p method is the index
 *  returned by gx_rpc_server_add_method, or -1 for an unknown method (the
 *  handler should finish it with UNIMPLEMENTED). Calls of methods added
 *  with gx_rpc_server_add_unary never come here. */
typedef void (*gx_rpc_on_call)(void *ud, gx_rpc_call *call, int method);

/** Initializes gRPC (once per process) with SIGCHLD, SIGPIPE, SIGINT,
 *  SIGTERM and SIGHUP blocked in its threads. Idempotent. */
void gx_rpc_global_init(void);

/** Releases what gx_rpc_global_init took (nothing if it never ran).
 *  Call once, at exit. */
void gx_rpc_global_shutdown(void);

/** Creates a server on @p loop. On success *out owns it; free with
 *  gx_rpc_server_free after shutdown completed. */
int gx_rpc_server_new(uv_loop_t *loop, const gx_rpc_server_opts *opts,
                      gx_rpc_server **out);

/** Registers "/pkg.Service/Method" before start; returns its index >= 0,
 *  or GX_E2BIG (too many methods: 8 in all) or GX_ERPC. */
int gx_rpc_server_add_method(gx_rpc_server *srv, const char *path);

/**
 * Handles one request of a unary method, on the loop thread. @p req is the
 * request, unpacked with the descriptor given to gx_rpc_server_add_unary;
 * it is borrowed: valid during this callback only.
 *
 * The handler must end @p call exactly once, with gx_rpc_call_finish_msg
 * (the reply and a status, usually GX_STATUS_OK) or gx_rpc_call_finish (a
 * status alone), during this callback or later from the loop thread. Until
 * it does, the call stays valid, even if the client goes away meanwhile
 * (the answer is then dropped). It may read gx_rpc_call_peer and
 * gx_rpc_call_auth; it must not set handlers, receive or send on @p call.
 */
typedef void (*gx_rpc_unary_fn)(void *ud, gx_rpc_call *call,
                                const ProtobufCMessage *req);

/**
 * Registers the unary method @p path ("/pkg.Service/Method") before start,
 * served by @p fn with @p ud, instead of handing its calls to on_call.
 * For each call the rpc module receives exactly one request and the
 * client's half-close, then calls @p fn; it ends the call itself, and
 * @p fn is not called, when:
 *  - the client half-closes without a message: INVALID_ARGUMENT
 *    "<Method> needs one <Request>" (names from @p path and @p req_type);
 *  - the message does not unpack as @p req_type: INVALID_ARGUMENT
 *    "not a valid <pkg.Request>";
 *  - a second message arrives: INVALID_ARGUMENT
 *    "<Method> takes one <Request>, not a stream";
 *  - the call fails or is cancelled before the request is complete.
 * The request may be as large as the server's max_recv_bytes.
 * @p path is copied; @p req_type and @p ud must outlive the server.
 * Returns the method's index >= 0 (on_call never sees it), or an error of
 * gx_rpc_server_add_method's; on error @p fn never fires.
 */
int gx_rpc_server_add_unary(gx_rpc_server *srv, const char *path,
                            const ProtobufCMessageDescriptor *req_type,
                            gx_rpc_unary_fn fn, void *ud);

/** Listens on a gRPC address ("unix:/p", "127.0.0.1:0"), before start,
 *  with the transport security of @p creds (borrowed: only read during
 *  this call; NULL = plaintext). Each listener has its own: calls report
 *  the one they came through (gx_rpc_call_auth). Returns the bound TCP
 *  port (or 1 for unix sockets) > 0; on error GX_EINVAL (@p creds are for
 *  clients), GX_ENOMEM, or GX_ERPC (gRPC refused: address in use, no
 *  permission, bad address), never 0. */
int gx_rpc_server_listen(gx_rpc_server *srv, const char *addr,
                         const gx_rpc_creds *creds);

/** Options of a unix-socket listener whose connections the rpc module
 *  accepts itself (gx_rpc_server_listen_unix); zero values select the
 *  defaults noted. */
typedef struct {
  /** Permission bits of the socket file (only 0777 bits; the owner's
   *  read and write are required): who may connect is who may write it.
   *  0 = 0600, the daemon's user only. */
  unsigned mode;
  /** Nonzero: the socket file's group becomes @p gid (e.g. with mode
   *  0660, the members of that group may connect). */
  int set_gid;
  uint32_t gid;
  /** Fired on the loop thread when accepting a connection fails (EMFILE,
   *  ENFILE, ENOBUFS, ENOMEM or an unexpected errno, given in @p err):
   *  the listener then pauses (10 ms, doubling up to 1 s) before trying
   *  again, never spinning; pending clients wait in the backlog. Fires
   *  once per episode: again only after an accept succeeded. NULL: not
   *  reported. */
  void (*on_accept_error)(void *ud, int err);
  void *ud; /**< for on_accept_error */
} gx_rpc_unix_opts;

/**
 * Listens on the unix socket @p path (a file system path, no "unix:"
 * prefix), before start, accepting its connections itself instead of
 * through gRPC: the socket is created with the permission bits and group
 * of @p opts (NULL: mode 0600, the process's group) before anyone can
 * connect, and every connection's SO_PEERCRED (the connecting process's
 * pid, uid and gid, from the kernel) is recorded, so that each call made
 * on it reports them (gx_rpc_call_auth, gx_rpc_call_peer) and its
 * connection can be cut (gx_rpc_call_cut_connection). Connections are
 * plaintext (gRPC takes only insecure credentials for them). Accepting
 * starts with gx_rpc_server_start; gx_rpc_server_shutdown closes the
 * socket and removes @p path if it is still ours.
 *
 * An existing file at @p path is not replaced (GX_ESYS, errno
 * EADDRINUSE): remove a stale socket first. Returns GX_OK, GX_EINVAL
 * (empty or too long a path, a mode outside 0777 or without 0600),
 * GX_E2BIG (16 such listeners already), GX_ENOMEM or GX_ESYS (errno
 * says why: socket, bind, chown or listen failed); on error nothing is
 * left behind.
 */
int gx_rpc_server_listen_unix(gx_rpc_server *srv, const char *path,
                              const gx_rpc_unix_opts *opts);

/** Starts serving; @p on_call receives each new call. On error
 *  (GX_ESYS, GX_ENOMEM, GX_ERPC) @p on_call never fires: calls that still
 *  arrive are cancelled. Then shut down and free the server as usual, and
 *  run the loop once more: memory of ours attached to it is released only
 *  in libuv close callbacks. */
int gx_rpc_server_start(gx_rpc_server *srv, gx_rpc_on_call on_call,
                        void *ud);

/** Stops accepting (listeners close, GOAWAY). Running calls continue.
 *  @p done fires on the loop once gRPC confirmed the shutdown. */
void gx_rpc_server_shutdown(gx_rpc_server *srv, void (*done)(void *),
                            void *ud);

/** Cancels every call still running (they see on_closed(cancelled)). */
void gx_rpc_server_cancel_all(gx_rpc_server *srv);

/** Destroys a server whose shutdown completed and whose calls are done. */
void gx_rpc_server_free(gx_rpc_server *srv);

/** Server: ends the call with @p status and @p msg (copied). Call once:
 *  later calls return GX_ECLOSED. If gRPC refuses the status (GX_ERPC),
 *  the call is cancelled instead (the client sees CANCELLED) and its end,
 *  on_closed then on_done, is reported later from the loop. */
int gx_rpc_call_finish(gx_rpc_call *call, int status, const char *msg);

/** Server: sends @p last and the status in one batch (one hand-off less
 *  than a send followed by a finish). The send must be idle, else
 *  GX_EBUSY and nothing happened (finish with gx_rpc_call_finish). Other
 *  errors are gx_rpc_call_finish's. */
int gx_rpc_call_finish_msg(gx_rpc_call *call, const ProtobufCMessage *last,
                           int status, const char *msg);

/** Most trailers one call may carry (gx_rpc_call_set_trailer). */
#define GX_RPC_TRAILERS_MAX 4
/** Longest trailer value, in bytes. */
#define GX_RPC_TRAILER_VALUE_MAX 256

/** Server: adds trailing metadata @p key: @p value (both copied) to the
 *  status the call will end with, for clients to tell kinds of failure
 *  apart by machine ("gexec-refused-by: policy"). Before finishing only.
 *  @p key: 1..64 of [a-z0-9-_.], not "grpc-..." nor "...-bin";
 *  @p value: printable ASCII, at most GX_RPC_TRAILER_VALUE_MAX bytes.
 *  Returns GX_OK, GX_EINVAL (bad key or value), GX_E2BIG (more than
 *  GX_RPC_TRAILERS_MAX) or GX_ECLOSED (a client call, or finished). */
int gx_rpc_call_set_trailer(gx_rpc_call *call, const char *key,
                            const char *value);

/** Client: copies the value of the server's trailing metadata @p key
 *  (the first, if repeated) into @p buf (NUL-terminated, cut to fit
 *  @p len > 0). Valid from on_status until on_done. Returns 1 if the
 *  trailer was sent, 0 if not (buf is then ""). */
int gx_rpc_call_trailer(gx_rpc_call *call, const char *key, char *buf,
                        size_t len);

/** Server: the peer's address ("ipv4:127.0.0.1:5555"; "unix:" for a
 *  listener of gx_rpc_server_listen), never authenticated; the string is
 *  owned by the call. For a call on a gx_rpc_server_listen_unix listener
 *  it is the peer process as the kernel reported it when it connected:
 *  "unix:pid=P,uid=U,gid=G" (the numbers of gx_rpc_call_auth). */
const char *gx_rpc_call_peer(gx_rpc_call *call);

/**
 * Server: ends the whole connection @p call came on, to stop an abusive
 * client (e.g. one opening and resetting streams without end: HTTP/2
 * rapid reset). The socket is shut down (shutdown(2), both ways; gRPC
 * still owns and closes it): gRPC sees the connection end and fails every
 * call on it, this one included (on_closed(cancelled), then on_done, from
 * the loop later); its client sees UNAVAILABLE. Other connections are not
 * affected. Works for calls on gx_rpc_server_listen_unix listeners (the
 * socket recorded at accept) and on TCP listeners of gx_rpc_server_listen
 * (found among this process's sockets as the one whose peer address is
 * the call's and whose local port is one this server listens on), with
 * or without TLS. Loop thread only, while the call is valid. Returns
 * GX_OK, GX_EINVAL (a client call, or a peer that cannot be told apart:
 * "unix:" of gx_rpc_server_listen's unix listeners), GX_ECLOSED (no
 * such connection any more) or GX_ESYS (TCP: /proc/self/fd unreadable).
 * A call that came on TCP reports a conn_id only when the server has an
 * admit_stream: without, account per connection by its peer string,
 * which no other open connection shares.
 */
int gx_rpc_call_cut_connection(gx_rpc_call *call);

/**
 * Server: gx_rpc_call_cut_connection for a TCP connection of which no
 * call is at hand: the connection(s) of this server's TCP listeners
 * whose peer is @p peer (a gx_rpc_call_peer string of an earlier call of
 * that connection). Loop thread. Returns GX_OK, GX_ECLOSED (no such
 * connection now), GX_EINVAL (not a TCP peer) or GX_ESYS.
 */
int gx_rpc_server_cut_peer(gx_rpc_server *srv, const char *peer);

/**
 * Server: ends the connections of this server that are flooding it with
 * an HTTP/2 rapid reset now, found by their input rather than by a call:
 * those whose unread input, peeked at without taking it, is HEADERS and
 * RST_STREAM frames only, at least 16 resets and no DATA (a client
 * starting runs sends DATA with each). Plaintext only: TLS input never
 * matches. Looks at the connections of the gx_rpc_server_listen_unix
 * listeners (cheap: their sockets are known), and with @p tcp also at
 * those of the TCP listeners (found among the process's descriptors).
 * Their sockets are shut down as by gx_rpc_call_cut_connection. Loop
 * thread. Returns how many were cut (0: none floods now), GX_ENOMEM or
 * GX_ESYS.
 */
int gx_rpc_server_cut_flooders(gx_rpc_server *srv, int tcp);

/** What the transport proved about a server call's peer. Filled by
 *  gx_rpc_call_auth; see there for the lifetime of its strings. */
typedef struct {
  /** The transport's security type: "insecure" for plaintext, "ssl" for
   *  TLS; "" if gRPC names none. Never NULL. */
  const char *transport;
  /** Nonzero if the peer proved an identity (e.g. a verified client
   *  certificate). Always 0 over plaintext. */
  int authenticated;
  /** Which property the identities are ("x509_subject_alternative_name",
   *  "x509_common_name"), or NULL if the peer has none. */
  const char *identity_property;
  /** The peer's identity values, @p nidentities of them (0 and NULL if
   *  none). As many as the peer presented: bounded by the size of what
   *  gRPC accepted in the handshake (its certificate). */
  const char *const *identities;
  size_t nidentities;
  /** TLS peers with a verified certificate (all NULL otherwise, and each
   *  NULL when the certificate has none): its SPIFFE ID (gRPC's
   *  peer_spiffe_id, else its one URI SAN starting "spiffe://"; NULL when
   *  several do), its first DNS SAN, its subject CN, and the certificate
   *  itself in PEM (for revocation checks). */
  const char *spiffe_id;
  const char *dns;
  const char *common_name;
  const char *pem_cert;
  /** TLS peers with a verified certificate: the other certificates the
   *  peer sent with it (its intermediate CAs, possibly its root), PEM,
   *  in the order sent, without pem_cert (gRPC's x509_pem_cert_chain,
   *  OpenSSL's server-side peer chain). NULL when the peer sent none,
   *  and also on a resumed TLS session, which does not carry them.
   *  Untrusted as such: the handshake verified pem_cert against the
   *  server's client CAs, using these only to find a path; a revocation
   *  check needs them to reach a root (server/tls.h). */
  const char *pem_chain;
  /** Who the peer is, by the contract of gexec's issue 9: the SPIFFE ID
   *  if present, else the first DNS SAN, else the subject CN; NULL if
   *  the peer proved none of them. */
  const char *identity;
  /** Nonzero if uid, gid and pid below are the peer process's, from the
   *  kernel (SO_PEERCRED, read when it connected: its effective uid and
   *  gid then, and its pid as this process's pid namespace sees it). Set
   *  for calls on gx_rpc_server_listen_unix listeners only (gRPC's own
   *  listeners do not expose a call's socket); 0 there too if the
   *  connection could not be matched with certainty (never a guess). */
  int has_unix_cred;
  uint32_t uid, gid;
  int32_t pid;
  /** The connection the call came on, for accounting per connection: a
   *  number unique in this process, never reused, the same for every
   *  call of one connection. Set for calls on gx_rpc_server_listen_unix
   *  listeners (with has_unix_cred) and on listeners of
   *  gx_rpc_server_listen when the server has an admit_stream (the
   *  number it saw); else 0. */
  uint64_t conn_id;
  /** Nonzero if the call passed the server's admit_stream. */
  int gated;
} gx_rpc_auth;

/** Server: fills @p out with what the transport proved about the call's
 *  peer. Loop thread only. The strings and the identities array belong to
 *  the call (read once, on the first query) and stay valid until on_done,
 *  or for a unary method's call until its handler ended it (the call
 *  pointer is not to be used after that either); the struct is the
 *  caller's. Returns GX_OK, or GX_EINVAL (a client call), GX_ENOMEM or
 *  GX_ERPC (gRPC gave no auth context); on error @p out is untouched. */
int gx_rpc_call_auth(gx_rpc_call *call, gx_rpc_auth *out);

/** Client: the identity the server's verified certificate proves, by the
 *  rule of gx_rpc_auth.identity (SPIFFE ID, else first DNS SAN, else
 *  CN), copied into @p buf. Any thread, once the call has its transport
 *  (e.g. after the first message arrived). Returns GX_OK, GX_EINVAL (a
 *  server call), or GX_ERPC (plaintext, no verified certificate, no such
 *  name, or it does not fit in @p len with its NUL). */
int gx_rpc_call_peer_identity(gx_rpc_call *call, char *buf, size_t len);

/* ---------------------------------------------------------------- client */

/*
 * A gx_rpc_client is a client engine: one completion queue and one thread
 * blocking in it, serving every channel made on it and every call on
 * those channels. A process talking to many daemons makes one and hands
 * it to each channel (gx_rpc_channel_opts.client), so that its thread
 * count does not grow with the number of connections; a channel made
 * without one gets a private engine (a queue and a thread of its own).
 * Callbacks of calls and watches run on the engine's thread.
 */
typedef struct gx_rpc_client gx_rpc_client;

/** Drops gRPC's own log lines, unless GRPC_VERBOSITY or GRPC_TRACE is
 *  set in the environment (to debug). gRPC prints some failures on
 *  stderr itself (each failed TLS handshake, for one), which a program
 *  that reports them in its own words (the gexec CLI: one line per
 *  failure) does not want. Process-wide; libraries should leave it to
 *  the program. */
void gx_rpc_log_quiet(void);

/** Starts an engine: a completion queue and its thread. Returns GX_OK
 *  with *out owning it, or GX_ENOMEM / GX_ESYS (no thread) with *out
 *  untouched. */
int gx_rpc_client_new(gx_rpc_client **out);

/** Stops and frees an engine. Every channel made on it must have been
 *  freed. Not from the engine's own thread (a callback). */
void gx_rpc_client_free(gx_rpc_client *cl);

/** Channel options; zero values select the defaults noted. */
typedef struct {
  size_t max_recv_bytes; /**< largest accepted message; 0 = 8 MiB */
  /** The engine serving the channel (borrowed: it must outlive the
   *  channel); NULL = a private one, made and freed with the channel. */
  gx_rpc_client *client;
  /** Nonzero: the channel opens a connection of its own even when
   *  another channel of this process has one to the same target (gRPC
   *  otherwise shares one socket between them). */
  int own_connection;
  /** Keepalive while calls are in flight: after keepalive_time_ms
   *  (0 = GX_RPC_CLIENT_KEEPALIVE_TIME_MS; < 0 = never) without traffic
   *  the channel pings the server, and a ping unanswered within
   *  keepalive_timeout_ms (<= 0: GX_RPC_CLIENT_KEEPALIVE_TIMEOUT_MS)
   *  closes the connection: its calls end with UNAVAILABLE. A server that
   *  vanished (half-open TCP, a cut link, a frozen host) is noticed within
   *  time + timeout. Pings continue for as long as calls last, also when
   *  no data flows: the server must accept a ping every keepalive_time_ms
   *  (gexecd accepts one every GX_RPC_CLIENT_PING_MIN_MS or more; faster
   *  pings get the connection closed with GOAWAY "too_many_pings"). */
  int keepalive_time_ms;
  int keepalive_timeout_ms;
} gx_rpc_channel_opts;

/** Client keepalive defaults (ms): a ping after 60 s without traffic
 *  during a call, closing the connection when its answer takes over
 *  20 s. 60 s is six times what gexecd accepts, so a client never trips
 *  its too_many_pings guard. */
#define GX_RPC_CLIENT_KEEPALIVE_TIME_MS 60000
#define GX_RPC_CLIENT_KEEPALIVE_TIMEOUT_MS 20000
/* GX_RPC_CLIENT_PING_MIN_MS (with the server options): the shortest
 * client keepalive interval gexecd accepts. */

/** A channel's connectivity, as gRPC reports it. */
typedef enum {
  GX_CONN_IDLE = 0,       /**< not connected, not trying */
  GX_CONN_CONNECTING = 1, /**< an attempt is under way */
  GX_CONN_READY = 2,      /**< connected */
  GX_CONN_FAILURE = 3,    /**< the last attempt failed; retrying later */
  GX_CONN_SHUTDOWN = 4,   /**< the channel is being destroyed */
} gx_rpc_conn_state;

/** Fired once per gx_rpc_channel_watch on the engine's thread: with the
 *  new state when it changed (@p timed_out 0), or with the current one
 *  when the watch's time ran out (@p timed_out 1). */
typedef void (*gx_rpc_watch_fn)(void *ud, gx_rpc_conn_state now,
                                int timed_out);

/** Opens a channel to @p target ("unix:/p", "host:port") with the
 *  transport security of @p creds (borrowed: only read during this call;
 *  NULL = plaintext) and starts its completion-queue thread. Does not
 *  connect yet. Credentials are a parameter of their own, not a field of
 *  @p opts: opts are tuning whose zero value is a fine default, while
 *  security is a choice every caller states (and a reviewer can grep),
 *  and the server names it per listener the same way. Returns GX_OK with
 *  *out owning the channel, or GX_EINVAL (@p creds are for servers),
 *  GX_ENOMEM, GX_ERPC or GX_ESYS with *out untouched. */
int gx_rpc_channel_new(const char *target, const gx_rpc_creds *creds,
                       const gx_rpc_channel_opts *opts,
                       gx_rpc_channel **out);

/** Waits up to @p timeout_ms for the channel to be connected. With
 *  @p fail_fast, gives up at the first failed attempt (refused, no such
 *  socket). Returns GX_OK, or GX_ETIMEDOUT with the reason in @p why. */
int gx_rpc_channel_wait_connected(gx_rpc_channel *ch, int64_t timeout_ms,
                                  int fail_fast, char *why, size_t why_len);

/** Destroys the channel. Every call on it must have reached on_done. A
 *  watch still pending ends without firing. Not from the engine's thread
 *  (a callback): it waits for that thread to let go of the watch. */
void gx_rpc_channel_free(gx_rpc_channel *ch);

/** The channel's connectivity now; with @p try_connect, an idle channel
 *  starts connecting. Any thread. */
gx_rpc_conn_state gx_rpc_channel_state(gx_rpc_channel *ch, int try_connect);

/** Watches the channel: @p fn fires once, on the engine's thread, when
 *  its state is no longer @p last, or after @p timeout_ms (> 0). One
 *  watch at a time per channel: GX_EBUSY while one is pending. On error
 *  (GX_EBUSY, GX_EINVAL for timeout_ms <= 0) @p fn never fires. */
int gx_rpc_channel_watch(gx_rpc_channel *ch, gx_rpc_conn_state last,
                         int64_t timeout_ms, gx_rpc_watch_fn fn, void *ud);

/** Starts a call to @p method ("/pkg.Service/Method"). @p timeout_ms <= 0
 *  means no deadline. @p wait_for_ready waits for a server that is not up
 *  yet instead of failing fast. Callbacks run on the channel's thread.
 *  On error *out is NULL and no callback ever fires. */
int gx_rpc_call_start(gx_rpc_channel *ch, const char *method,
                      int64_t timeout_ms, int wait_for_ready,
                      const gx_rpc_handlers *h, void *ud, gx_rpc_call **out);

/** Client: half-closes the sending side (after any send in flight). On
 *  error nothing was sent, and the call may try again. */
int gx_rpc_call_close_send(gx_rpc_call *call);

/** Cancels the call; the peer sees CANCELLED. Safe to call repeatedly. */
void gx_rpc_call_cancel(gx_rpc_call *call);

/* ------------------------------------------------------------ both sides */

/** Sets the callbacks (server calls start with none). */
void gx_rpc_call_set_handlers(gx_rpc_call *call, const gx_rpc_handlers *h,
                              void *ud);

/** Posts one receive; on_recv fires when it completes (never, if this
 *  returns an error: GX_EBUSY, GX_ERPC). */
int gx_rpc_call_recv(gx_rpc_call *call);

/** Serializes @p msg and sends it; on_sent fires when it completes
 *  (never, if this returns an error: GX_EBUSY, GX_ERPC). */
int gx_rpc_call_send(gx_rpc_call *call, const ProtobufCMessage *msg);

/**
 * Sends one message made of @p head (copied: a few bytes of framing)
 * followed by @p len bytes at @p data, without copying them: @p data must
 * come from malloc() and is always taken over (freed by the rpc layer,
 * at once on error, else when gRPC is done with it, on any thread).
 * on_sent fires as for gx_rpc_call_send.
 */
int gx_rpc_call_send_owned(gx_rpc_call *call, const void *head,
                           size_t head_len, void *data, size_t len);

/** Sends @p len raw bytes as one message (any bytes: used by tests). */
int gx_rpc_call_send_bytes(gx_rpc_call *call, const void *data, size_t len);

#endif
