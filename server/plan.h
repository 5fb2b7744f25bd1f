/**
 * @file plan.h
 * A run's plan: everything the daemon decides about one run, from the
 * validated Start message, the daemon's configuration and the caller.
 * One pure function (no I/O, no globals, no loop, no clock): the same
 * inputs give the same plan or the same refusal, byte for byte.
 *
 * The plan says which profile (an entry of the profile table) the run
 * gets and whether the host serves it, the limits in force (the
 * request's, else the profile's default, capped), the command's
 * environment, program, argv and cwd, the user and uid it runs as, what the
 * launcher is handed (gxl_run, gxl_request), timeout, kill grace,
 * output cap, stdio modes, the program constraint (an allow list: empty
 * today, the seam the per-identity policy fills), and the `Isolation`
 * message the run's `started` reports.
 *
 * The session (session.h) keeps only the protocol: Start -> validate ->
 * gxd_plan_build -> gxd_child_start -> started, output, exited.
 */
#ifndef GXD_PLAN_H
#define GXD_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "gexec/v1/exec.pb-c.h"
#include "server/child.h"
#include "server/isolation/cgroup.h"
#include "server/launch_wire.h"
#include "server/policy.h"
#include "server/profiles.h"
#include "server/tiers.h"
#include "server/users.h"

/** Who asks for a run. Strings are borrowed. The per-identity policy
 *  will decide on these; today they are carried into the plan and the
 *  run's log line, and decide nothing. */
typedef struct {
  const char *peer;     /**< the transport address (never authenticated) */
  int authenticated;    /**< nonzero when @c identity was proven (mTLS) */
  const char *identity; /**< the proven identity's name, or "" */
} gxd_caller;

/** The daemon's side of every plan: borrowed by each build, owned by the
 *  daemon, and unchanged while runs exist. */
typedef struct {
  const gxd_profiles *profiles; /**< the profile table */
  /** The table probed (entry for entry), or NULL: then nothing is
   *  checked against the host, a run gets its profile's mechanisms and
   *  `started` carries no isolation. */
  const gxd_tiers *tiers;
  /** Where cgroups are: the controllers limits need (has_memory,
   *  has_pids) and whether tracking is v2 (has_kill). NULL = none. */
  const gxi_cgroup_caps *caps;
  size_t default_profile;                 /**< index into the table */
  unsigned char allow_reduced[GXD_PROFILES_MAX]; /**< per entry: served
                                                      below its full tier */
  /** caps, per limit: 0 = the profile's own default is the cap (none
   *  if it has none), GXD_CAP_NONE = no cap, else the cap */
  gxi_limits max_limits;
  /** per entry: clients may ask for it (--allow-profiles) */
  unsigned char allowed[GXD_PROFILES_MAX];
  const char *home;                       /**< HOME given to runs */
  uint32_t default_grace_ms;              /**< when kill_grace_ms is 0 */
  uint64_t max_timeout_ms;                /**< when timeout_ms is 0 */
} gxd_plan_config;

/** What one run asks for. */
typedef struct {
  const Gexec__V1__Start *start; /**< validated (gxd_validate_start) */
  gxd_caller caller;
  uint64_t run_id;    /**< the daemon's id for the run (> 0) */
  const char *cgroup; /**< the run's cgroup leaf, or "" for none */
  /** The user the run executes as, resolved before the plan is made
   *  (gxd_user_lookup; borrowed), or NULL: the profile's own ids, as in
   *  gexec 0.2 (root in host and baseline, GXI_INNER_UID mapped to a host
   *  nobody in restricted). Required when Start.user is set (the same
   *  name); may be set without it (a default user the daemon chose). */
  const gxd_user *user;
  /** What the caller's policy rule granted the run (gxd_policy_check_run
   *  accepted it; borrowed), or NULL (no policy input): the profile when
   *  the request names none (and then --allow-profiles does not apply:
   *  the rule chose), default limits and caps, the timeout cap, and the
   *  program constraint (the plan's allow list points into it). */
  const gxd_policy_grant *grant;
} gxd_plan_request;

/** The `Isolation` message of a run's `started`, field for field.
 *  Strings are static or borrowed from the configuration. */
typedef struct {
  int present;              /**< 0: `started` carries no isolation */
  const char *profile;      /**< the entry's name */
  const char *namespaces[6]; /**< "pid", "ipc", "uts", "mount", "user",
                                  "net": those in force, in this order */
  size_t n_namespaces;
  const char *cgroup;       /**< "v2", "v1" or "" */
  int seccomp;
  uint32_t uid;             /**< the command's uid inside its namespace */
  int read_only_root;
  int no_new_privs;
  const char *description;  /**< the tier's */
} gxd_plan_isolation;

/**
 * One run's plan. Ownership: @c env (the command's whole environment,
 * and with it request.envp) is the plan's, one allocation released by
 * gxd_plan_free. Everything else is borrowed: from the Start message
 * (argv, cwd, env values copied into env), from the configuration
 * (profile, tier, names) and the request's user, so the plan is valid
 * while they are.
 *
 * A run as a user (gxd_plan_request.user): request.ids carry its uid,
 * primary gid and groups to the launcher, which gives them to the
 * command in host and baseline, and in restricted maps the namespace's
 * GXI_INNER_UID (and gid) to the user's uid and primary gid on the host
 * (groups unused there; never the host's root: refused). The
 * environment's defaults are PATH, HOME (the user's), LANG, USER,
 * LOGNAME (its name) and SHELL (its shell); as for every default, a
 * variable the client sets replaces it (whether it may is the policy's
 * to say, as for any variable).
 */
typedef struct {
  size_t profile_index;       /**< into the profile table */
  const gxi_profile *profile; /**< the table's entry */
  const gxd_tier *tier;       /**< its tier, or NULL (unprobed) */
  int reduced;                /**< served below its full tier (allowed) */
  gxi_limits limits;          /**< in force */
  char **env;                 /**< owned: "NAME=VALUE"..., NULL-terminated */
  size_t envc;
  char *const *argv;          /**< the program and its arguments */
  size_t argc;
  const char *program;        /**< argv[0]: the program as the client named
                                   it (looked up in the run's PATH) */
  const char *cwd;            /**< Start.cwd, or "/" */
  const gxd_user *user;       /**< the run's user (request's), or NULL */
  uint32_t uid;               /**< the command's uid inside its namespace:
                                   GXI_INNER_UID with a user namespace,
                                   else the user's, else 0 */
  char *const *allow;         /**< the program constraint (the grant's:
                                   files or globs, see resolve.h); empty =
                                   any program */
  size_t allowc;
  gxl_run run;                /**< for the launcher */
  gxl_request request;        /**< for the launcher: points into this plan
                                   and the Start message */
  gxd_child_stdio stdio;      /**< where the run's stdio goes */
  uint64_t timeout_ms;        /**< the run is stopped after this */
  uint32_t grace_ms;          /**< SIGTERM -> SIGKILL when stopped */
  uint64_t max_output;        /**< bytes sent back at most; 0 = no cap */
  gxd_plan_isolation isolation; /**< for `started` */
  gxd_caller caller;          /**< who asked (carried for the log) */
} gxd_plan;

/**
 * Plans the run @p req asks for under @p cfg. On success fills @p out
 * (release it with gxd_plan_free) and returns GX_STATUS_OK. On refusal
 * returns the status with the reason in @p why (@p out then owns
 * nothing):
 *  - INVALID_ARGUMENT "unknown profile 'x' (host, baseline, restricted)"
 *    (the table's names);
 *  - INTERNAL "user 'x' was not resolved" (Start.user set, no
 *    gxd_plan_request.user of that name: the caller's mistake);
 *  - FAILED_PRECONDITION "profile P cannot run on this host (TIER)",
 *    "profile P is not available in full on this host (missing: M);
 *    gexecd serves it reduced only when started with --allow-reduced P",
 *    "memory and pids limits need cgroups, which this host does not
 *    provide (tier: TIER)"; with a user namespace (restricted), a user
 *    whose uid or gid is 0 ("user 'root' cannot run in profile P: its
 *    uid or gid is 0, and P never runs as the host's root (use host or
 *    baseline)") or 100000 ("... which P's user namespace maps its root
 *    to");
 *  - RESOURCE_EXHAUSTED "out of memory" (the environment).
 */
int gxd_plan_build(const gxd_plan_config *cfg, const gxd_plan_request *req,
                   gxd_plan *out, char *why, size_t why_len);

/**
 * Why the planned command could not be exec'd (the launcher's
 * GXL_REC_EXEC_FAIL record @p rec), as a status and a reason in @p why:
 * NOT_FOUND, PERMISSION_DENIED, FAILED_PRECONDITION (cwd),
 * INVALID_ARGUMENT (E2BIG, ENAMETOOLONG), RESOURCE_EXHAUSTED or INTERNAL;
 * for the run's user (what=user) "cannot run as user 'x' (uid N): E",
 * RESOURCE_EXHAUSTED for EAGAIN, else INTERNAL.
 */
int gxd_plan_exec_fail(const gxd_plan *p, const gxl_record *rec, char *why,
                       size_t why_len);

/** Releases what @p p owns (its env; request.envp with it). Safe to
 *  call twice and on a zeroed plan. The borrowed fields stay valid, so
 *  a session may release the env as soon as the launcher has it. */
void gxd_plan_free(gxd_plan *p);

#endif
