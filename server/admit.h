/**
 * @file admit.h
 * Deciding a run: who calls (caller.h), what their policy rule allows
 * (policy.h), as which user (users.h), into which plan (plan.h), and the
 * audit records of that decision and of the run's end (audit.h).
 *
 * Order, each step refusing with its own status and reason:
 *  1. the caller's rule: the first whose match matches, else
 *     PERMISSION_DENIED "no policy rule matches this caller (...)";
 *  2. the rule checks the request (profile, run-as, timeout, limits,
 *     env names, cwd, program and arguments): PERMISSION_DENIED naming
 *     what was refused;
 *  3. the run-as user (Start.user, else the rule's default) is
 *     resolved: INVALID_ARGUMENT "unknown user 'x'", ...;
 *  4. the plan (plan.h) under the daemon's configuration and the grant.
 * Refusals of steps 1 and 2 (and the launcher's refusal of the program,
 * gxd_admit_denied_program) are the policy's: the call carries trailing
 * metadata "gexec-refused-by: policy" and "gexec-policy-rule: R", so
 * clients tell them from a program that exists but cannot be executed.
 *
 * Everything runs on the loop thread; no I/O except the user lookup.
 */
#ifndef GXD_ADMIT_H
#define GXD_ADMIT_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "gexec/v1/exec.pb-c.h"
#include "lib/rpc.h"
#include "server/caller.h"
#include "server/plan.h"
#include "server/policy.h"
#include "server/users.h"

/** What was decided about one run. Owns a reference to the policy it
 *  was decided under (the plan and grant point into it, so a reload
 *  never pulls strings from under a live run), the grant and the user.
 *  Zero it before use; release with gxd_admission_release. */
typedef struct {
  gxd_policy *policy;          /**< referenced, or NULL */
  const gxd_policy_rule *rule; /**< the caller's rule, or NULL */
  gxd_policy_grant grant;
  gxd_user *user;              /**< the run's user, or NULL */
  int by_policy;               /**< the refusal was the policy's */
} gxd_admission;

/** What admission reads; borrowed, owned by the daemon. */
typedef struct {
  const gxd_plan_config *plan;
  gxd_policy *policy; /**< the policy in force (never NULL in gexecd) */
} gxd_admit_ctx;

/**
 * Decides the validated Start @p st of @p caller (run @p run_id, cgroup
 * leaf @p cgroup). Returns GX_STATUS_OK with @p plan filled (release it
 * with gxd_plan_free) or a refusal status with @p why; either way @p a
 * holds what must later be released (gxd_admission_release), and
 * a->by_policy says whose refusal it was.
 */
int gxd_admit_run(const gxd_admit_ctx *ctx, const gxd_caller_info *caller,
                  const Gexec__V1__Start *st, uint64_t run_id,
                  const char *cgroup, gxd_admission *a, gxd_plan *plan,
                  char *why, size_t why_len);

/** The launcher refused the program (what=denied): the policy's
 *  refusal, worded "policy rule 'R' does not allow the command 'X'".
 *  Returns PERMISSION_DENIED. */
int gxd_admit_denied_program(const gxd_admission *a, const char *program,
                             char *why, size_t why_len);

/** Adds the trailers of a policy refusal (@p a->by_policy) to @p call,
 *  before it is finished; nothing otherwise. */
void gxd_admit_trailers(const gxd_admission *a, gx_rpc_call *call);

/** Releases what @p a holds; safe twice and on a zeroed one. */
void gxd_admission_release(gxd_admission *a);

/**
 * The audit record of a decision ("event": "decision"): run id,
 * identity, peer, argv, env names (never values), cwd, profile and tier,
 * user, rule, "decision" "allowed" or "denied" with the status and
 * reason. @p plan is NULL when refused (the profile and user asked are
 * recorded then). Returns a new object (the caller puts it).
 */
json_object *gxd_admit_decision_record(const gxd_admission *a,
                                       const gxd_caller_info *caller,
                                       const Gexec__V1__Start *st,
                                       const gxd_plan *plan, uint64_t run_id,
                                       int status, const char *why);

/** How a run ended, for its audit record. */
typedef struct {
  int status;           /**< the call's final gx_status */
  const char *error;    /**< its message when not OK */
  int ended;            /**< the process ended (the fields below hold) */
  int exit_code, signal, timed_out, oom_killed;
  uint64_t bytes_in, bytes_out, wall_us, user_us, system_us;
} gxd_admit_end;

/** The audit record of a run's end ("event": "end"). */
json_object *gxd_admit_end_record(const gxd_caller_info *caller,
                                  uint64_t run_id, const gxd_admit_end *e);

/** The audit record of a caller refused before any run existed (a
 *  revoked certificate): "event": "refused". */
json_object *gxd_admit_refused_record(const char *peer, const char *identity,
                                      int status, const char *why);

#endif
