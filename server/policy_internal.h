/**
 * @file policy_internal.h
 * The policy's data, shared by its files (policy_load.c builds it,
 * policy_match.c and policy_check.c read it). Not for other modules.
 */
#ifndef GXD_POLICY_INTERNAL_H
#define GXD_POLICY_INTERNAL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "server/policy.h"

/** A list of strings, all owned by the policy. */
typedef struct {
  char **v;
  size_t n;
} gxd_pol_list;

/** Match keys present in a rule (bits). */
enum {
  GXD_POL_M_SPIFFE = 1u << 0,
  GXD_POL_M_DNS = 1u << 1,
  GXD_POL_M_CN = 1u << 2,
  GXD_POL_M_UID = 1u << 3,
  GXD_POL_M_USER = 1u << 4,
  GXD_POL_M_GROUP = 1u << 5,
  GXD_POL_M_ANON_LOOPBACK = 1u << 6,
};
/** The keys of certificate peers, and of unix peers. */
#define GXD_POL_M_TLS (GXD_POL_M_SPIFFE | GXD_POL_M_DNS | GXD_POL_M_CN)
#define GXD_POL_M_UNIX (GXD_POL_M_UID | GXD_POL_M_USER | GXD_POL_M_GROUP)

/** Allow keys present in a rule (bits). */
enum {
  GXD_POL_A_COMMANDS = 1u << 0,
  GXD_POL_A_ARGV = 1u << 1,
  GXD_POL_A_PROFILES = 1u << 2,
  GXD_POL_A_RUN_AS = 1u << 3,
  GXD_POL_A_MAX_TIMEOUT = 1u << 4,
  GXD_POL_A_LIMITS = 1u << 5,
  GXD_POL_A_ENV = 1u << 6,
  GXD_POL_A_CWD = 1u << 7,
  GXD_POL_A_FACTS = 1u << 8,
};

/** The run-as entry meaning the unix peer's own user. */
#define GXD_POL_CALLER "$caller"

struct gxd_policy_rule {
  char *name;
  unsigned match;         /**< GXD_POL_M_* keys present */
  char *spiffe, *dns, *cn; /**< globs */
  uint32_t uids[2];       /**< "uid" (1; 2 for the default rule) */
  size_t nuids;
  uint32_t user_uid;      /**< "user", resolved */
  uint32_t gid;           /**< "group", resolved */
  unsigned allow;         /**< GXD_POL_A_* keys present */
  gxd_pol_list commands;
  gxd_pol_list *argv;     /**< patterns */
  size_t nargv;
  gxd_pol_list profiles, run_as, env, cwd;
  uint64_t max_timeout_ms;
  gxi_limits limits;      /**< 0 fields: not given */
  int facts;
  int any_user;           /**< the built-in rule: any run-as user asked */
};

struct gxd_policy {
  atomic_size_t refs;
  size_t n;
  gxd_policy_rule rule[]; /**< n rules, in file order */
};

/** A new policy with room for @p n zeroed rules and one reference, or
 *  NULL. */
gxd_policy *gxd_pol_alloc(size_t n);

/** Frees what @p r owns (not @p r itself). */
void gxd_pol_rule_free(gxd_policy_rule *r);

#endif
