/**
 * @file caller.h
 * Who is calling: what a stream's transport proved about its peer, read
 * once when the stream opens, in the form the policy matches on
 * (gxd_peer) and the one name logs, audit records and `gexec ping` show.
 *
 *  - TLS peers with a verified certificate: the SPIFFE ID (URI SAN
 *    "spiffe://..."), else the first DNS SAN, else the subject CN.
 *  - Unix-socket peers: uid, gid and pid from SO_PEERCRED (the daemon
 *    accepts those connections itself), the uid's passwd name and its
 *    groups ("uid=1000(alice)").
 *  - Anyone else is "anonymous": plaintext TCP (from a loopback address,
 *    GXD_PEER_ANON_LOOPBACK, else GXD_PEER_ANON) or a transport that
 *    proved nothing.
 *
 * Everything is copied into the gxd_caller_info (bounded: longer values
 * are refused as no identity, never cut, since a cut name could match
 * another rule), so it outlives the call.
 */
#ifndef GXD_CALLER_H
#define GXD_CALLER_H

#include <stddef.h>
#include <stdint.h>

#include "lib/rpc.h"
#include "server/policy.h"

/** Most groups of a unix peer's user considered (primary included). */
#define GXD_CALLER_GROUPS_MAX 256

/** A caller, self-contained. @c peer points into the struct itself: do
 *  not copy it by value (gxd_caller_copy). */
typedef struct {
  gxd_peer peer;          /**< what the policy matches */
  char name[512];         /**< the identity as shown everywhere */
  char address[128];      /**< the transport's peer address (never proof) */
  uint64_t conn_id;       /**< unix: the connection's id; 0 otherwise */
  char user[64];          /**< unix: the uid's passwd name, or "" */
  uint32_t groups[GXD_CALLER_GROUPS_MAX];
  char spiffe[2048], dns[256], cn[256];
} gxd_caller_info;

/** Entries of a gxd_caller_cache. */
#define GXD_CALLER_CACHE_SIZE 64

/**
 * The passwd name and groups of unix connections' uids, by connection
 * (gx_rpc_auth.conn_id, never reused): a client opening many streams on
 * one connection costs one lookup, not one per stream. The caller's
 * memory; zero it to start, gxd_caller_cache_clear when the user and
 * group databases may have changed (SIGHUP). Round-robin replacement.
 */
typedef struct {
  struct {
    uint64_t conn_id; /* 0: empty */
    char user[64];
    uint32_t groups[GXD_CALLER_GROUPS_MAX];
    size_t ngroups;
  } e[GXD_CALLER_CACHE_SIZE];
  size_t next;
} gxd_caller_cache;

/**
 * Reads what @p call's transport proved into @p out. Never fails: a
 * call whose transport proved nothing is anonymous. Unix peers' passwd
 * and group lookups happen here (the loop thread; local files), once per
 * connection when @p cache is given (NULL: every time).
 */
void gxd_caller_read(gx_rpc_call *call, gxd_caller_cache *cache,
                     gxd_caller_info *out);

/** Forgets every cached lookup. */
void gxd_caller_cache_clear(gxd_caller_cache *cache);

/** Whether the transport address @p address (gRPC's form:
 *  "ipv4:127.0.0.1:5", "ipv6:[::1]:5" or percent-encoded
 *  "ipv6:%5B::1%5D:5") is a loopback one (127.0.0.0/8, ::1, or
 *  ::ffff:127.x.y.z): what makes a plaintext peer anonymous_loopback. */
int gxd_caller_loopback(const char *address);

/** Copies @p src to @p dst, fixing the internal pointers. */
void gxd_caller_copy(gxd_caller_info *dst, const gxd_caller_info *src);

/**
 * Escapes @p name for an HTTP/2 header value (printable ASCII): bytes
 * outside 0x20..0x7e and '%' become %XX. Cut to fit @p len (> 0).
 */
void gxd_caller_header_value(const char *name, char *out, size_t len);

#endif
