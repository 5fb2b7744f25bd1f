/* libgexec internals shared by the files of client/; not installed.
 *
 * Layout: engine.c (the process's one gx_rpc_client), opts.c (connection
 * options, caller structs by size), conn.c (connections and their
 * connect attempts), tls.c (TLS files, credentials and failure reasons),
 * tls_probe.c (a handshake of our own that explains a failed one),
 * ping.c, proc.c (a run: its call and callbacks), proc_io.c (the blocking
 * and non-blocking run API), evq.c (event queues), run.c (gexec_run),
 * facts.c (Facts/Get calls: a gexec_proc of kind GEXEC__PROC_FACTS),
 * pb_json.c (a message as JSON), errors.c.
 *
 * Locks, in the only order they nest: conn->mu, then proc->mu, then
 * evq->mu. Callbacks of the rpc layer run on the engine's thread and take
 * them in that order too. */
#ifndef GEXEC_INTERNAL_H
#define GEXEC_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <time.h>

#include "client/gexec.h"
#include "gexec/v1/exec.pb-c.h"
#include "lib/rpc.h"

/** Largest stdin chunk per message (the daemon accepts 4 MiB). */
#define GEXEC_STDIN_CHUNK (1024 * 1024)
#define GEXEC_MAX_PENDING_SIGNALS 16
/** Largest message accepted from a daemon: its output chunks are 1 MiB
 *  (GXD_CHUNK), plus the RunResponse framing. */
#define GEXEC_MAX_RECV (1024 * 1024 + 4096)
/** The connect timeout when the options leave it at 0. */
#define GEXEC_DEFAULT_CONNECT_MS 10000

/** Largest TLS file read (CA bundle, certificate, key). */
#define GEXEC__TLS_FILE_MAX (1024 * 1024)
/** How long gexec_connect's handshake of its own may take (tls_probe.c). */
#define GEXEC__TLS_PROBE_MS 2000

struct gexec_conn_opts {
  int64_t connect_timeout_ms;
  int wait_for_ready;
  int lazy;
  /* TLS (copies; NULL: unset): ca_file set means TLS for TCP targets */
  char *ca_file, *cert_file, *key_file, *server_name;
  /* keepalive, as gexec_conn_opts_set_keepalive took them */
  int keepalive_time_ms, keepalive_timeout_ms;
};

/* tls.c: a connection's TLS material (immutable once loaded). */
typedef struct gexec__tls gexec__tls;

/* Where a connection's current attempt stands. */
typedef enum {
  GEXEC__CONN_IDLE = 0,   /* no attempt pending: runs start at once if
                             the channel is ready, else begin one */
  GEXEC__CONN_WAITING = 1 /* a watch is pending; runs queue in `waiting` */
} gexec__conn_state;

struct gexec_conn {
  gx_rpc_channel *ch;
  gexec__tls *tls; /* NULL: plaintext */
  char target[256];
  int wait_for_ready;
  int64_t connect_ms;       /* the attempt's budget (> 0) */
  pthread_mutex_t mu;       /* guards what follows */
  gexec__conn_state state;
  int64_t attempt_end_us;   /* monotonic deadline of the attempt */
  gexec_proc *waiting;      /* runs waiting for the attempt (a list) */
};

/* Where a run stands. */
typedef enum {
  GEXEC__PROC_WAITING = 0, /* queued on its connection: no call yet */
  GEXEC__PROC_CALLING = 1, /* the call started; `started` not yet seen */
  GEXEC__PROC_RUNNING = 2, /* started */
  GEXEC__PROC_ENDED = 3,   /* the call's status came, or it never began */
} gexec__proc_state;

/* What a gexec_proc is the call of. */
typedef enum {
  GEXEC__PROC_RUN = 0,  /* Exec/Run: a command */
  GEXEC__PROC_FACTS = 1 /* Facts/Get: one request, one response (facts.c) */
} gexec__proc_kind;

/* All fields are guarded by mu, except the queue links (q_next, q_linked:
 * q->mu) and the waiting link (w_next: conn->mu). */
struct gexec_proc {
  gexec__proc_kind kind; /* set before the call exists, then constant */
  gexec_conn *conn;
  gx_rpc_call *call;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  gexec__proc_state state;
  int stdin_null;
  /* Start, packed before the call exists (a waiting run) */
  uint8_t *start_msg;
  size_t start_len;
  int64_t deadline_ms; /* the spec's gRPC deadline, for the call */
  /* receive side: one message waits for the reader, one is being read */
  Gexec__V1__RunResponse *pending, *current;
  int recv_posted, stream_ended;
  int started; /* `started` came (the state may have moved on since) */
  uint32_t pid;
  int exited_seen, exit_delivered;
  gexec_exit exit;
  int protocol_error;
  char protocol_msg[256];
  /* end */
  int status_received, status;
  char status_msg[512];
  char refused_by[32]; /* the "gexec-refused-by" trailer, or "" */
  int done, cancelled;
  int local_fail;           /* ended without a call: local_err says why */
  gexec_error local_err;
  /* send side */
  int send_busy;
  int sigq[GEXEC_MAX_PENDING_SIGNALS];
  int nsig;
  int stdin_closed, eof_pending;
  /* event queue */
  gexec_evq *q;
  void *user;
  int started_delivered, want_writable;
  gexec_error end_err;      /* the GEXEC_EV_ERROR event's error */
  gexec_proc *q_next;
  int q_linked;
  gexec_proc *w_next;
  /* GEXEC__PROC_FACTS: the response as JSON (malloc'd), once it came */
  char *facts_json;
  size_t facts_len;
  /* the daemon's certificate identity, read at the first message */
  int server_identity_read;
  char server_identity[256];
};

/* Sets @p err (may be NULL) and returns @p code. */
int gexec__fail(gexec_error *err, int code, int status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* clock.c: CLOCK_MONOTONIC now in µs; an absolute deadline @p ms from
 * now for pthread_cond_timedwait on a condition made by
 * gexec__cond_init (which waits on that clock). */
int64_t gexec__mono_us(void);
struct timespec gexec__deadline_in(int64_t ms);
void gexec__cond_init(pthread_cond_t *cv);

/* engine.c: the process's engine, shared by every connection. acquire
 * returns GX_OK with a reference taken (the first starts the engine);
 * release drops one (the last stops it). */
int gexec__engine_acquire(gx_rpc_client **out);
void gexec__engine_release(void);

/* opts.c: copies the caller's struct of @p size bytes (0 = @p base) into
 * @p full of @p full_size bytes, zeroing what the caller did not know.
 * GEXEC_EINVAL (nothing copied) if the caller's struct is larger and sets
 * a field this library does not know. */
int gexec__load(void *full, size_t full_size, const void *user,
                size_t size, size_t base);
/* The 0.2 layouts, what size 0 means: frozen at their last field, so
 * that appending fields never changes them. */
#define GEXEC__SPEC_BASE \
  (offsetof(gexec_spec, open_files) + sizeof(uint64_t))
/* The 0.3 layout of gexec_spec: through user. */
#define GEXEC__SPEC_V03 (offsetof(gexec_spec, user) + sizeof(const char *))
#define GEXEC__RUN_OPTS_BASE \
  (offsetof(gexec_run_opts, capture_max) + sizeof(size_t))

/* conn.c: hands a new run to its connection: starts its call now if the
 * channel is ready, else queues it for the connection attempt. Takes
 * conn->mu, then p->mu; call with neither held. */
void gexec__conn_submit(gexec_conn *conn, gexec_proc *p);
/* Removes a run still waiting on its connection (free). Returns 1 if it
 * was waiting. */
int gexec__conn_unlink(gexec_conn *conn, gexec_proc *p);
/* The reason of a connection failure of @p c in gRPC's status text
 * @p msg (in @p buf, or static), or NULL if it is not about connecting.
 * @p probe_ms: see gexec__tls_reason. */
const char *gexec__connect_reason(const gexec_conn *c, const char *msg,
                                  int probe_ms, char *buf, size_t len);

/* tls.c. gexec__tls_load reads and checks the files of @p o (ca_file
 * set): GEXEC_OK with *out the caller's, or GEXEC_EINVAL naming the file
 * and the problem, or GEXEC_ENOMEM. gexec__tls_free wipes the key. */
int gexec__tls_load(const gexec_conn_opts *o, gexec__tls **out,
                    gexec_error *err);
void gexec__tls_free(gexec__tls *t);
/* The rpc credentials of @p t (gx_rpc_creds_tls_client's results). */
int gexec__tls_creds(const gexec__tls *t, gx_rpc_creds **out);
/* Words for a connection failure gRPC described as @p msg, when it is
 * about TLS: on a TLS connection (@p t) to @p target, or on a plaintext
 * one (@p t NULL) to a server that wants TLS. With @p probe_ms > 0, a
 * failed verification is explained by a handshake of our own of at most
 * that long (blocking). Returns @p buf or a static string, or NULL when
 * @p msg is not about TLS. */
const char *gexec__tls_reason(const gexec__tls *t, const char *target,
                              const char *msg, int probe_ms, char *buf,
                              size_t len);

/* tls_probe.c: what a handshake of our own learnt about a server. */
enum {
  GEXEC__TLS_UNTRUSTED = 1,     /* no chain to a CA we trust */
  GEXEC__TLS_EXPIRED = 2,       /* the server's certificate expired */
  GEXEC__TLS_NOT_YET_VALID = 3, /* ... or is not valid yet */
  GEXEC__TLS_OTHER = 4          /* another verification error (why) */
};
typedef struct {
  int verify;       /* 0: verified against the CA; else GEXEC__TLS_* */
  char why[128];    /* OpenSSL's words for the verification result */
  char names[160];  /* its DNS and IP SANs, ", "-separated (bounded) */
  time_t not_before, not_after; /* its validity (0: unreadable) */
} gexec__tls_peer;
/* An OpenSSL ASN1_TIME as seconds since the epoch (0: unreadable). */
struct asn1_string_st;
time_t gexec__asn1_epoch(const struct asn1_string_st *t);
/* Handshakes with @p target ("host:port") trusting @p ca_pem, sending
 * @p server_name (NULL: the host) as SNI, within @p timeout_ms; fills
 * @p out. Returns 0, or -1 if no handshake completed. Blocking. */
int gexec__tls_probe(const char *target, const char *ca_pem,
                     const char *server_name, int timeout_ms,
                     gexec__tls_peer *out);

/* proc.c: under p->mu. */
/* Starts the call of a run (waiting -> calling); on failure ends it. */
void gexec__proc_call(gexec_proc *p);
/* Ends a run that never got a call, with @p code and the message. */
void gexec__proc_fail(gexec_proc *p, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Starts the next queued control send (signal, then EOF). */
void gexec__pump_sends(gexec_proc *p);
/* Sends one stdin chunk; the send must be idle. */
int gexec__send_stdin(gexec_proc *p, const void *data, size_t len);
/* Hands the pending message to the reader (p->current) and posts the next
 * receive. Returns the message or NULL. */
Gexec__V1__RunResponse *gexec__take_pending(gexec_proc *p);
/* Frees p->current. */
void gexec__release_current(gexec_proc *p);
/* The error the ended call reports, or GEXEC_OK when it ended with
 * `exited` and status OK. */
int gexec__end_result(gexec_proc *p, gexec_error *err);
/* Wakes whoever follows the run: its waiters and its queue. */
void gexec__proc_wake(gexec_proc *p);

/* facts.c, under p->mu: takes the FactsResponse of a facts call (on_recv
 * of proc.c); a second one, or one that does not parse (a string that is
 * not UTF-8 included), is a protocol error (returns -1). */
int gexec__facts_accept(gexec_proc *p, const uint8_t *data, size_t len);

/* pb_json.c: @p m as JSON text (malloc'd, NUL-terminated; its length in
 * *@p len when not NULL), or NULL out of memory or when a string of @p m
 * is not valid UTF-8 (protobuf-c does not check; proto3 parsers reject
 * such a message, and the JSON would not be valid either). */
char *gexec__pb_json(const ProtobufCMessage *m, size_t *len);

/* evq.c: under p->mu. Queues @p p on its queue if it has an event that
 * was not yet delivered and it is not queued already. */
void gexec__evq_notify(gexec_proc *p);
/* Under p->mu: takes @p p off its queue (free). */
void gexec__evq_forget(gexec_proc *p);

#endif
