/**
 * @file facts.h
 * gexec.v1.Facts/Get: system information read by the daemon, no command
 * run (facts.proto). The readers are in facts_read.h.
 *
 * A call: its connection's stream rate (gxd_facts.admit_rate: calls
 * on the daemon's unix listeners pass no gate; RESOURCE_EXHAUSTED past
 * it, neither logged nor audited, as for runs), then revocation and
 * identity as every call, then the policy rule
 * must allow facts (gxd_access_admit_facts: PERMISSION_DENIED with the
 * run refusals' trailers otherwise); the groups are checked
 * (INVALID_ARGUMENT "unknown facts group 'x'; known: ..."); then the
 * facts are read on libuv's thread pool (uv_queue_work), never on the
 * loop: statvfs on a hung network filesystem and the FQDN's name lookup
 * may block. At most GXD_FACTS_INFLIGHT calls read at once (more:
 * RESOURCE_EXHAUSTED), and a call whose reading takes longer than
 * GXD_FACTS_TIMEOUT_MS is answered DEADLINE_EXCEEDED (its worker's result
 * is dropped when it returns; the slot stays taken until then). Nothing
 * is cached. One log line per call (event "facts": identity, rule,
 * groups, status).
 */
#ifndef GXD_FACTS_H
#define GXD_FACTS_H

#include <stddef.h>
#include <uv.h>

#include "gexec/v1/facts.pb-c.h"
#include "lib/rpc.h"
#include "server/access.h"
#include "server/profiles.h"

/** Most facts calls reading at once (each holds a thread-pool thread). */
#define GXD_FACTS_INFLIGHT 2
/** Longest a call may take to read its facts. */
#define GXD_FACTS_TIMEOUT_MS 5000

/** The groups of FactsRequest.groups, as bits. */
enum {
  GXD_FACTS_SYSTEM = 1u << 0,
  GXD_FACTS_OS = 1u << 1,
  GXD_FACTS_KERNEL = 1u << 2,
  GXD_FACTS_UPTIME = 1u << 3,
  GXD_FACTS_LOAD = 1u << 4,
  GXD_FACTS_CPU = 1u << 5,
  GXD_FACTS_MEMORY = 1u << 6,
  GXD_FACTS_FILESYSTEMS = 1u << 7,
  GXD_FACTS_INTERFACES = 1u << 8,
  GXD_FACTS_DAEMON = 1u << 9,
  GXD_FACTS_ALL = (1u << 10) - 1
};

/** One profile as the "daemon" group reports it. */
typedef struct {
  char name[64];
  char tier[256]; /**< the tier's description */
  int full, served;
} gxd_facts_profile;

/** Where facts come from. Read-only once the server runs (the workers
 *  read it without a lock). */
typedef struct {
  const char *root;      /**< "" = the live system; tests: a fixture */
  int live;              /**< statvfs, getifaddrs, the FQDN lookup */
  const char *version;   /**< gexecd's */
  gxd_facts_profile profiles[GXD_PROFILES_MAX];
  size_t nprofiles;
} gxd_facts_src;

/**
 * Turns the group names @p names (@p n of them; none = all) into bits in
 * *@p out. Returns 0, or -1 with "unknown facts group 'NAME'; known:
 * system, os, kernel, uptime, load, cpu, memory, filesystems,
 * interfaces, daemon" in @p why.
 */
int gxd_facts_groups(char *const *names, size_t n, unsigned *out, char *why,
                     size_t why_len);

/** The names of the bits of @p groups, comma-separated, into @p buf. */
void gxd_facts_group_names(unsigned groups, char *buf, size_t len);

/**
 * Reads the facts of @p groups from @p src (blocking: a worker thread).
 * Returns 0 with *@p out the caller's (free it with
 * gexec__v1__facts_response__free_unpacked(*out, NULL)), or -1 out of
 * memory. A fact that cannot be read is left at its zero value.
 */
int gxd_facts_collect(const gxd_facts_src *src, unsigned groups, int pseudo,
                      Gexec__V1__FactsResponse **out);

/** What the Facts/Get handler needs; the daemon's, outliving the server. */
typedef struct {
  uv_loop_t *loop;
  gxd_access **access; /**< the daemon's (set before the server starts) */
  /** The stream rate, as for runs (the daemon's gxd_protect_admit_unary):
   *  GX_STATUS_OK, or a status with the reason in @p why. NULL = none. */
  int (*admit_rate)(void *ud, gx_rpc_call *call, char *why, size_t len);
  void *rate_ud;
  gxd_facts_src src;
  int inflight;        /**< loop thread only */
  struct gxd_facts_job *jobs; /**< calls being read (facts.c) */
} gxd_facts;

/** Drain: answers every call still being read UNAVAILABLE now (their
 *  workers' results are dropped when they return). */
void gxd_facts_drain(gxd_facts *f);

/** Registers /gexec.v1.Facts/Get on @p srv (before start). Returns the
 *  method's index >= 0, or a gx_err < 0. */
int gxd_facts_add(gx_rpc_server *srv, gxd_facts *f);

#endif
