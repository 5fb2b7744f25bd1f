/**
 * @file policy.h
 * The per-identity policy (`gexecd --policy FILE`): who may run what.
 * Pure apart from gxd_policy_load reading its file and the passwd/group
 * lookups made while loading; no globals, no loop, no clock.
 *
 * File format (JSON; every key is checked, unknown ones are refused;
 * README.md "Policy file" has the example with SPIFFE IDs):
 *
 *     {"rules": [
 *       {"name": "ops",
 *        "match": {"dns": "*.ops.example.org"},
 *        "allow": {"commands": ["*"], "profiles": ["host", "restricted"],
 *                  "run_as": ["root", "deploy"], "max_timeout": "1h",
 *                  "env": ["LANG", "TZ", "APP_*"]}},
 *       {"name": "monitoring",
 *        "match": {"cn": "prometheus"},
 *        "allow": {"commands": ["/usr/bin/uptime", "/usr/bin/df"],
 *                  "argv": [["/usr/bin/systemctl", "status", "*"]],
 *                  "profiles": ["restricted"], "run_as": ["nobody"],
 *                  "max_timeout": "10s",
 *                  "limits": {"memory": "1G", "pids": 256,
 *                             "cpu_time": "10m", "open_files": 1024}}},
 *       {"name": "local-devs",
 *        "match": {"group": "developers"},
 *        "allow": {"commands": ["*"], "profiles": ["restricted"],
 *                  "run_as": ["$caller"]}}]}
 *
 * Semantics. A caller's rule is the first rule whose `match` matches
 * it; there is no fall-through: a request that rule refuses is refused.
 * All keys of one `match` must match. Globs are fnmatch(3) with no flags
 * (no FNM_PATHNAME: `*` crosses `/`; a backslash escapes).
 *
 *  - rule: `name` (1..GXD_POLICY_NAME_MAX of [A-Za-z0-9._-], unique),
 *    `match`, `allow` (all three required), `comment` (a string,
 *    ignored).
 *  - match (at least one key; certificate keys, unix keys and
 *    anonymous_loopback are for different callers and cannot be mixed):
 *    `spiffe`, `dns`, `cn`: globs over a TLS peer's verified SPIFFE ID,
 *    first DNS SAN, subject CN (a peer without that field never
 *    matches); `uid` (a number), `user`, `group` (names, resolved to ids
 *    when the file is loaded; an unknown name is a load error): unix
 *    peers, a group matching the peer's primary or any supplementary
 *    group; `anonymous_loopback`: true (plaintext loopback TCP peers,
 *    which carry no identity).
 *  - allow: an absent key puts no restriction of the policy on what it
 *    governs (the daemon's own flags and defaults still apply), except
 *    `facts` (absent = false). An empty list allows nothing of its kind
 *    (`"env": []`: the client may set no variable). `"allow": {}` allows
 *    everything the daemon allows.
 *    `commands`: globs over the canonical absolute path of the program
 *    as the launcher resolves and opens it (inside the sandbox, as the
 *    run's user); `"*"` = any. An entry without `*?[\` is compared by
 *    file identity instead (device and inode: "/bin/df" is also
 *    "/usr/bin/df" on a merged-/usr host). The program runs under the
 *    name that allowed it (argv[0]: a file entry as written, a glob's
 *    canonical path; "*" keeps the client's), so a multi-call binary
 *    is only the program the entry names (resolve.h,
 *    gxd_program_open). `argv`: a list of patterns,
 *    each a list whose element 0 is matched as a `commands` entry and
 *    each further element against one argument, `"**"` as the last
 *    element matching any remaining arguments (["/bin/ls"] allows ls
 *    with no arguments only). When `commands` or `argv` is present the
 *    run must satisfy one of them. `profiles`: names from the profile
 *    table; the first is the caller's default. `run_as`: user names
 *    (checked when loaded) or "$caller" (a unix peer's own user; no
 *    other caller has one); the first that applies to the caller is the
 *    default. Without `run_as`, runs take the daemon's default ids and a
 *    request naming a user is refused (only the built-in rule lets a
 *    caller pick any user). `max_timeout`: a duration string (> 0): runs may not ask
 *    for more. `limits` {`memory` (a size string or bytes), `pids`,
 *    `open_files` (numbers), `cpu_time` (a duration string)}, each in
 *    Start.limits' range: caps on what a run asks, and the defaults of a
 *    run that asks none. `env`: names or globs of the variables the
 *    client may set; any other is refused, never dropped. When the rule
 *    constrains programs (`commands` or `argv`, not "*"), a missing
 *    `env` means no variable at all, and a glob never admits a variable
 *    that changes what an allowed program runs (LD_*, BASH_ENV, ENV,
 *    BASH_FUNC_*, PATH, IFS, PYTHON*, ...: policy_check.c risky_env):
 *    only its exact name does. `cwd`: globs
 *    over the run's cwd ("/" when none is asked), which must then be
 *    written canonically (no "//", ".", ".." or trailing "/"); symlinks
 *    in it are followed as the run's user, so `cwd` is not a boundary on
 *    what the run's user can reach. `facts`: a boolean (may read system
 *    facts).
 *
 * Errors (gxd_policy_load): unknown keys anywhere, wrong types, keys
 * written twice or with escapes, an empty or oversized rules list,
 * duplicate rule names, a rule without name, match or allow, a match
 * with no keys, unknown profiles, users and groups, bad durations and
 * sizes, out-of-range limits, bounds below exceeded: each names the
 * file, the rule (by name, else by index) and the key. A typo never
 * widens access: the whole file is refused.
 */
#ifndef GXD_POLICY_H
#define GXD_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "server/isolation/profile.h"
#include "server/launch_wire.h"
#include "server/profiles.h"

/** Largest policy file, in bytes. */
#define GXD_POLICY_FILE_MAX (1u << 20)
/** Most rules in a file. */
#define GXD_POLICY_MAX_RULES 256
/** Most entries in one list (commands, argv, profiles, run_as, env,
 *  cwd). */
#define GXD_POLICY_MAX_LIST 256
/** Most elements in one argv pattern (program included). */
#define GXD_POLICY_MAX_PATTERN 64
/** Longest string (glob, name) in the file, in bytes. */
#define GXD_POLICY_MAX_STRING 1024
/** Longest rule name. */
#define GXD_POLICY_NAME_MAX 64
/** Most programs one rule's commands and argv name together (the
 *  launcher's allow list bound). */
#define GXD_POLICY_MAX_PROGRAMS GXL_REQUEST_MAX_ALLOW

/** The name of the built-in rule of gxd_policy_default. */
#define GXD_POLICY_DEFAULT_RULE "default-local-admin"

/** How a caller reached the daemon. */
typedef enum {
  GXD_PEER_UNIX,           /**< the unix socket (SO_PEERCRED) */
  GXD_PEER_TLS,            /**< a TLS listener, verified client cert */
  GXD_PEER_ANON_LOOPBACK,  /**< plaintext TCP from a loopback address */
  GXD_PEER_ANON,           /**< anything else without an identity */
} gxd_peer_kind;

/** Who calls. Everything is borrowed from the caller of these
 *  functions and read only during the call. */
typedef struct {
  gxd_peer_kind kind;
  uint32_t uid, gid; /**< unix: SO_PEERCRED */
  int32_t pid;       /**< unix: SO_PEERCRED (not used by the policy) */
  const char *user;  /**< unix: the passwd name of uid, or NULL */
  const uint32_t *groups; /**< unix: primary and supplementary gids */
  size_t ngroups;
  const char *spiffe, *dns, *cn; /**< tls: from the verified certificate,
                                      NULL where absent */
} gxd_peer;

/** A loaded policy: immutable, reference counted (atomically: any thread
 *  may take or drop a reference). */
typedef struct gxd_policy gxd_policy;
/** One rule of a policy; valid while the policy is referenced. */
typedef struct gxd_policy_rule gxd_policy_rule;

/**
 * Parses the policy in @p len bytes of @p text (@p file names it in
 * messages); profile names are checked against @p table. On success
 * *@p out holds a new policy with one reference (the caller's) and 0 is
 * returned; else -1 with the reason in @p why and *@p out untouched.
 */
int gxd_policy_parse(const char *file, const char *text, size_t len,
                     const gxd_profiles *table, gxd_policy **out, char *why,
                     size_t why_len);

/** Reads @p path (at most GXD_POLICY_FILE_MAX bytes) and parses it as
 *  gxd_policy_parse. Returns 0 or -1 with a reason. */
int gxd_policy_load(const char *path, const gxd_profiles *table,
                    gxd_policy **out, char *why, size_t why_len);

/**
 * The policy used without --policy: one rule, GXD_POLICY_DEFAULT_RULE,
 * matching unix peers whose uid is @p daemon_uid or 0 and allowing
 * everything (facts too); every other caller matches nothing. Returns 0
 * with *@p out holding one reference, or GX_ENOMEM.
 */
int gxd_policy_default(uint32_t daemon_uid, gxd_policy **out);

/** Takes a reference to @p p. */
void gxd_policy_ref(gxd_policy *p);

/** Drops a reference to @p p (NULL is fine); the last one frees it,
 *  and with it every rule and string it handed out. */
void gxd_policy_unref(gxd_policy *p);

/** How many rules @p p has. */
size_t gxd_policy_count(const gxd_policy *p);

/** The first rule of @p p whose match matches @p peer, or NULL (the
 *  caller is refused: see gxd_policy_unmatched). */
const gxd_policy_rule *gxd_policy_match(const gxd_policy *p,
                                        const gxd_peer *peer);

/**
 * The refusal of a caller no rule matches: writes "no policy rule
 * matches this caller (unix uid 1001)" (or "tls spiffe
 * 'spiffe://...'", "anonymous loopback", ...) to @p why and returns
 * GX_STATUS_PERMISSION_DENIED.
 */
int gxd_policy_unmatched(const gxd_peer *peer, char *why, size_t why_len);

/** The rule's name (the policy's string). */
const char *gxd_policy_rule_name(const gxd_policy_rule *r);

/** Whether the rule allows reading system facts (allow.facts). */
int gxd_policy_allows_facts(const gxd_policy_rule *r);

/** What one run asks for (from its Start message); borrowed. NULL
 *  strings are taken as "". */
typedef struct {
  const char *profile;  /**< "" = none asked */
  const char *user;     /**< run-as asked; "" = none */
  uint64_t timeout_ms;  /**< 0 = none asked */
  gxi_limits limits;    /**< asked; 0 fields = none */
  char *const *argv;    /**< argv[0] as the client named the program */
  size_t argc;          /**< >= 1 */
  const char *const *env_names; /**< names the client sets */
  size_t nenv;
  const char *cwd;      /**< "" = "/" */
} gxd_policy_ask;

/**
 * What a rule grants one run. Ownership: @c rule and @c profile are the
 * policy's (valid while it is referenced); @c user and @c allow (array
 * and strings) are the grant's, released by gxd_policy_grant_free.
 */
typedef struct {
  const char *rule;    /**< the rule's name */
  /** The profile: the asked one (allowed), else the rule's first; NULL
   *  when the rule has no `profiles` key (the daemon decides). */
  const char *profile;
  /** Run-as: the asked one (allowed), else the rule's first that applies
   *  to the caller ("$caller" resolved to peer->user); NULL when the
   *  rule has no `run_as` key (the daemon's default). */
  char *user;
  /** The run's timeout may not exceed this, and a run that asks none
   *  gets at most this; 0 = no cap from the policy. */
  uint64_t max_timeout_ms;
  /** allow.limits: the run's limits may not exceed @c limit_caps; a
   *  limit the run does not ask for is @c limit_defaults' (today the
   *  same values). 0 fields = nothing from the policy. */
  gxi_limits limit_caps, limit_defaults;
  /** The program constraint for the launcher (gxl_request.allow): the
   *  `commands` entries and element 0 of each `argv` pattern whose
   *  arguments match the run's; allowc 0 = any program. */
  char **allow;
  size_t allowc;
} gxd_policy_grant;

/**
 * Checks the run @p ask of caller @p peer against @p rule (what
 * gxd_policy_match gave for @p peer). Returns GX_STATUS_OK with @p out
 * filled (release it with gxd_policy_grant_free), or
 * GX_STATUS_PERMISSION_DENIED with a one-line reason in @p why naming
 * what was refused, never the whole policy, and @p out owning nothing:
 *   policy rule 'monitoring' does not allow profile 'host' (allowed:
 *     restricted)
 *   policy rule 'R' allows no profile
 *   policy rule 'R' does not allow run-as user 'root'
 *   policy rule 'R' allows no run-as user for this caller
 *   policy rule 'R' allows no timeout above 10s
 *   policy rule 'R' does not allow memory limit 2G (cap 1G)   (also
 *     pids, cpu_time, open_files)
 *   policy rule 'R' does not allow env 'LD_PRELOAD'
 *   policy rule 'R' does not allow cwd '/root'
 *   policy rule 'R' does not allow cwd '/tmp/../root' (not canonical)
 *   policy rule 'R' does not allow the command '/bin/sh' with these
 *     arguments   (" with these arguments" only when the rule has argv)
 * Client strings in reasons are cut to 100 bytes, control bytes
 * replaced by '?'. GX_STATUS_RESOURCE_EXHAUSTED "out of memory" if a
 * copy fails.
 */
int gxd_policy_check_run(const gxd_policy_rule *rule, const gxd_peer *peer,
                         const gxd_policy_ask *ask, gxd_policy_grant *out,
                         char *why, size_t why_len);

/** Releases what @p g owns; safe on a zeroed grant and twice. */
void gxd_policy_grant_free(gxd_policy_grant *g);

#endif
