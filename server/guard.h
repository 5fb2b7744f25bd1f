/**
 * @file guard.h
 * Connection-level protection: the daemon's accounting per connection
 * and per identity, and its verdicts on new streams. Pure: no gRPC, no
 * event loop, no clock (times are passed in as monotonic nanoseconds),
 * no locking (a gxd_guard is used from one thread at a time; the daemon
 * serializes callers that run on gRPC's threads).
 *
 * What is accounted, each under a key chosen by the caller:
 *  - per connection (e.g. "conn:17", "ipv4:127.0.0.1:5555"):
 *    the rate of new streams, a token bucket of stream_burst tokens
 *    refilled at stream_rate per second (gxd_guard_stream), and the
 *    streams waiting for their start message (pending);
 *  - per identity (who the caller proved to be, or a name the daemon
 *    gives anonymous callers): its runs, against its share of the
 *    session slots;
 *  - in all: runs, against max_runs.
 *
 * A stream's life, as the daemon drives it: gxd_guard_stream when it
 * appears (rate), gxd_guard_open when it becomes a session waiting for
 * its start (pending +1), gxd_guard_start when its start message arrives
 * (pending -1, a run of its identity), gxd_guard_close when it ends
 * (whatever it was). Streams waiting for start never count against
 * max_runs nor against an identity's share: idle streams cannot lock
 * others out of the session slots, only fill their own connection's
 * max_conn_pending.
 *
 * Rate, and cutting: a new stream takes a token; once the bucket is
 * empty, streams are refused (GXD_GUARD_RATE) and still charged, down
 * to minus stream_debt tokens: the stream that reaches that floor is
 * GXD_GUARD_CUT and the connection is condemned, GXD_GUARD_CUT for
 * every later stream, for good (the daemon ends the connection and
 * logs it). With a burst of B, a debt of D and no refill: streams 1..B
 * pass, B+1..B+D-1 are refused, the (B+D)-th condemns. A client that
 * goes on opening streams while being refused (HTTP/2 rapid reset opens
 * and resets tens of thousands per second) gets there within a fraction
 * of a second; one that slows down to the rate when refused never does,
 * nor does one burst of B+D-1 (a client starting many runs at once is
 * refused some, not cut off).
 *
 * Memory is bounded: an entry exists only while it holds information
 * (a stream pending or running, a bucket not full, a condemned
 * connection seen in the last GXD_GUARD_CUT_LINGER_NS), at most
 * max_entries of them; keys longer than GXD_GUARD_KEY_MAX are refused.
 * Entries are freed when their counts drop to zero and their bucket is
 * full again (at close, on the next look, or by gxd_guard_sweep).
 */
#ifndef GXD_GUARD_H
#define GXD_GUARD_H

#include <stddef.h>
#include <stdint.h>

/** Longest key (connection or identity) accounted, in bytes. */
#define GXD_GUARD_KEY_MAX 1024

/** How long a condemned connection's entry outlives its last stream. */
#define GXD_GUARD_CUT_LINGER_NS (60ull * 1000000000ull)

/** Limits; 0 in a field means "no limit" except where noted. */
typedef struct {
  uint32_t max_runs;          /**< runs in all (--max-sessions) */
  uint32_t max_identity_runs; /**< runs one identity may hold */
  uint32_t max_conn_pending;  /**< streams waiting for start, per
                                   connection */
  uint32_t stream_burst;      /**< new streams a connection may open at
                                   once (bucket size); 0 = no rate limit */
  uint32_t stream_rate;       /**< tokens per second refilled; 0 with a
                                   burst = the burst for good */
  uint32_t stream_debt;       /**< streams refused past an empty bucket
                                   before the connection is condemned;
                                   0 = stream_burst */
  uint32_t max_entries;       /**< connections and identities tracked;
                                   0 = GXD_GUARD_ENTRIES_DEFAULT */
} gxd_guard_limits;

/** Default of max_entries. */
#define GXD_GUARD_ENTRIES_DEFAULT 65536u

/** A guard's verdict on a stream. Every value but GXD_GUARD_OK refuses. */
typedef enum {
  GXD_GUARD_OK = 0,
  GXD_GUARD_SESSIONS, /**< max_runs runs are running */
  GXD_GUARD_IDENTITY, /**< the identity holds max_identity_runs runs */
  GXD_GUARD_PENDING,  /**< the connection has max_conn_pending streams
                           waiting for their start */
  GXD_GUARD_RATE,     /**< the connection opens streams faster than
                           stream_rate (refused, connection kept) */
  GXD_GUARD_CUT,      /**< the connection went on far over the rate:
                           condemned, end it */
  GXD_GUARD_FULL,     /**< max_entries reached, or a key too long */
} gxd_guard_verdict;

typedef struct gxd_guard gxd_guard;

/** A stream's place in the accounting, kept by its session between
 *  gxd_guard_open and gxd_guard_close. Zero-initialized = holds nothing
 *  (gxd_guard_close on it does nothing). Fields are private. */
typedef struct {
  void *conn;     /* entry, while pending */
  void *identity; /* entry, from open to close */
  int state;      /* 0 nothing, 1 pending, 2 a run */
} gxd_guard_slot;

/** Creates a guard with limits @p l (copied). Returns 0 with *out owning
 *  it (free with gxd_guard_free), or -1 (out of memory; *out untouched). */
int gxd_guard_new(const gxd_guard_limits *l, gxd_guard **out);

/** Frees @p g and every entry (NULL is fine). Slots still open become
 *  invalid: close them first, or never use them again. */
void gxd_guard_free(gxd_guard *g);

/**
 * A new stream appeared on connection @p conn at @p now_ns (monotonic):
 * charges the connection's bucket. Returns GXD_GUARD_OK, GXD_GUARD_RATE
 * (refuse this stream), GXD_GUARD_CUT (refuse it and end the
 * connection; returned for every later stream too) or GXD_GUARD_FULL.
 * With stream_burst 0: always GXD_GUARD_OK, nothing stored.
 */
gxd_guard_verdict gxd_guard_stream(gxd_guard *g, const char *conn,
                                   uint64_t now_ns);

/** Whether connection @p conn was condemned (a GXD_GUARD_CUT). */
int gxd_guard_is_cut(const gxd_guard *g, const char *conn);

/** Attaches @p tag (copied; at most GXD_GUARD_KEY_MAX bytes) to the entry
 *  of connection @p conn if it has one and no tag yet (e.g. the address
 *  to cut it by). Returns 0 if the entry has a tag now, -1 if not. */
int gxd_guard_set_tag(gxd_guard *g, const char *conn, const char *tag);

/** Takes connection @p conn's tag: copies it to @p out (at most @p len
 *  bytes, NUL included) and leaves "" in its place, so that it is taken
 *  once (gxd_guard_set_tag does not replace ""). Returns 0, or -1 if the
 *  entry has no tag (@p out untouched). */
int gxd_guard_take_tag(gxd_guard *g, const char *conn, char *out, size_t len);

/**
 * A stream of connection @p conn, caller @p identity, becomes a session
 * waiting for its start (at @p now_ns: a full table is swept first). On
 * GXD_GUARD_OK it is counted as pending in @p slot (which must hold
 * nothing); otherwise (GXD_GUARD_PENDING, GXD_GUARD_FULL) nothing
 * changed and @p slot still holds nothing.
 */
gxd_guard_verdict gxd_guard_open(gxd_guard *g, const char *conn,
                                 const char *identity, uint64_t now_ns,
                                 gxd_guard_slot *slot);

/**
 * The start message of @p slot's stream arrived: it becomes a run of its
 * identity. Returns GXD_GUARD_OK (counted as a run), or
 * GXD_GUARD_SESSIONS / GXD_GUARD_IDENTITY (refused; the slot stays
 * pending until closed). A slot that is not pending: GXD_GUARD_OK,
 * nothing changes.
 */
gxd_guard_verdict gxd_guard_start(gxd_guard *g, gxd_guard_slot *slot);

/** The stream of @p slot ended: releases what it held and clears it. */
void gxd_guard_close(gxd_guard *g, gxd_guard_slot *slot);

/** Frees the entries that no longer hold information at @p now_ns. */
void gxd_guard_sweep(gxd_guard *g, uint64_t now_ns);

/** Entries held (connections and identities). */
size_t gxd_guard_entries(const gxd_guard *g);

/** Runs counted (gxd_guard_start minus their closes). */
size_t gxd_guard_runs(const gxd_guard *g);

/** A one-line reason for a refusal, for the client and the log. */
const char *gxd_guard_reason(gxd_guard_verdict v);

/** gxd_guard_reason with the limit that refused, for the client:
 *  "gexecd is at its session limit (20 runs); retry later". Writes at
 *  most @p len bytes (NUL included) to @p buf; returns @p buf. */
char *gxd_guard_describe(const gxd_guard *g, gxd_guard_verdict v, char *buf,
                         size_t len);

#endif
