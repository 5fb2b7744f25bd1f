/**
 * @file access.h
 * Who may reach gexecd and what is kept of it: the TLS material
 * (--tls-*, tls.h), the policy (--policy, else the built-in one:
 * policy.h) and the audit log (--audit-log, audit.h), loaded together
 * at start-up and re-read together on SIGHUP, and the admission of each
 * new call (and of each Health/Check): the revocation check of a TLS
 * client, then who the caller is (caller.h).
 *
 * Reload: each part is re-read on its own; a part that fails keeps its
 * old state in force and logs why (event "reload": what, ok, error).
 * Runs already decided keep the policy they were decided under (they
 * hold a reference); the next runs see the new one.
 *
 * Loop thread only.
 */
#ifndef GXD_ACCESS_H
#define GXD_ACCESS_H

#include <stddef.h>
#include <uv.h>

#include "lib/rpc.h"
#include "server/audit.h"
#include "server/caller.h"
#include "server/config.h"
#include "server/policy.h"
#include "server/profiles.h"
#include "server/tls.h"

typedef struct gxd_access gxd_access;

/**
 * Loads the TLS files, the policy and opens the audit log named by
 * @p cfg (before the daemon moves to "/": relative names are the
 * operator's). @p cfg and @p profiles are borrowed for the life of the
 * result. Returns 0 with *out, or -1 with the reason in @p why.
 */
int gxd_access_open(uv_loop_t *loop, const gxd_config *cfg,
                    const gxd_profiles *profiles, gxd_access **out,
                    char *why, size_t why_len);

/** The TLS material, or NULL when no --tls-cert was given. */
gxd_tls *gxd_access_tls(const gxd_access *a);

/** The policy in force (never NULL). Borrowed: take a reference to keep
 *  it across a reload. */
gxd_policy *gxd_access_policy(const gxd_access *a);

/** The audit log, or NULL without --audit-log. */
gxd_audit *gxd_access_audit(const gxd_access *a);

/** SIGHUP: re-reads TLS files, the policy, and reopens the audit log
 *  (after a rotation). Logs each outcome. */
void gxd_access_reload(gxd_access *a);

/**
 * Admits a new call: a TLS client whose certificate (or chain) is
 * revoked is ended here (UNAUTHENTICATED, logged and audited: handshake
 * refusals never reach the daemon, this one does), and so is a caller no
 * policy rule matches (PERMISSION_DENIED with the policy's trailer: it
 * may not hold a stream, hence a session slot, waiting for its start);
 * otherwise @p out is filled with who calls. Returns 1 (go on) or 0
 * (ended).
 */
int gxd_access_admit_call(gxd_access *a, gx_rpc_call *call,
                          gxd_caller_info *out);

/**
 * For Health/Check: the same revocation check as gxd_access_admit_call
 * first (a refused caller's call is ended there, UNAUTHENTICATED, logged
 * and audited, and told nothing: returns 0); then adds "gexec-identity"
 * (the caller's name, header-escaped) and "gexec-policy-rule" (its rule,
 * when one matches) to @p call's trailers, how `gexec ping` learns who
 * the daemon thinks it is, and returns 1 (answer the call).
 */
int gxd_access_describe(gxd_access *a, gx_rpc_call *call);

/**
 * For Facts/Get: gxd_access_admit_call (revocation, then a rule must
 * match), then the rule must allow facts (allow.facts): otherwise the
 * call is ended with PERMISSION_DENIED "policy rule 'NAME' does not allow
 * reading facts", the trailers gexec-refused-by: policy and
 * gexec-policy-rule: NAME, logged and audited as any refusal; returns 0.
 * Returns 1 with @p out filled and the rule's name in @p rule (cut to
 * fit @p rule_len) when the caller may read facts.
 */
int gxd_access_admit_facts(gxd_access *a, gx_rpc_call *call,
                           gxd_caller_info *out, char *rule,
                           size_t rule_len);

/** Frees everything; the audit log finishes a sync in flight on the
 *  loop (run it once more). NULL is fine. */
void gxd_access_free(gxd_access *a);

#endif
