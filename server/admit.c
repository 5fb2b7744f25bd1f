/* Deciding a run; see admit.h. */
#include "server/admit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/gx_err.h"
#include "server/audit.h"

/* ---------------------------------------------------------------- steps */

/* The caller's rule and what it grants this request (steps 1 and 2). */
static int check_policy(const gxd_admit_ctx *ctx,
                        const gxd_caller_info *caller,
                        const Gexec__V1__Start *st, gxd_admission *a,
                        char *why, size_t len) {
  const char *names[st->n_env ? st->n_env : 1];
  for (size_t i = 0; i < st->n_env; i++) names[i] = st->env[i]->key;
  a->policy = ctx->policy;
  gxd_policy_ref(a->policy);
  a->rule = gxd_policy_match(a->policy, &caller->peer);
  a->by_policy = 1;
  if (!a->rule) return gxd_policy_unmatched(&caller->peer, why, len);
  const Gexec__V1__Limits *l = st->limits;
  gxd_policy_ask ask = {
      .profile = st->profile ? st->profile : "",
      .user = st->user ? st->user : "",
      .timeout_ms = st->timeout_ms,
      .argv = st->argv,
      .argc = st->n_argv,
      .env_names = names,
      .nenv = st->n_env,
      .cwd = st->cwd ? st->cwd : ""};
  if (l)
    ask.limits = (gxi_limits){l->memory_bytes, l->pids, l->cpu_time_ms,
                              l->open_files};
  int status = gxd_policy_check_run(a->rule, &caller->peer, &ask, &a->grant,
                                    why, len);
  a->by_policy = status == GX_STATUS_PERMISSION_DENIED;
  return status;
}

/* The run's user: the one asked (the rule allowed it), else the rule's
 * default, else none (the profile's own ids). A unix caller's own name
 * ("$caller") must come back as the caller's own uid: two user databases
 * (NSS sources) disagreeing on a name must not hand the caller another
 * account. */
static int resolve_user(const gxd_caller_info *caller,
                        const Gexec__V1__Start *st, gxd_admission *a,
                        char *why, size_t len) {
  const char *name = st->user && st->user[0] ? st->user : a->grant.user;
  if (!name) return GX_STATUS_OK;
  if (!(a->user = malloc(sizeof *a->user)))
    return snprintf(why, len, "out of memory"),
           GX_STATUS_RESOURCE_EXHAUSTED;
  int rc = gxd_user_lookup(name, a->user, why, len);
  if (rc == 0 && caller->peer.kind == GXD_PEER_UNIX && caller->peer.user &&
      strcmp(name, caller->peer.user) == 0 && a->user->uid != caller->peer.uid) {
    snprintf(why, len, "user '%s' is uid %u here, not the caller's uid %u",
             name, a->user->uid, caller->peer.uid);
    free(a->user);
    a->user = NULL;
    return GX_STATUS_FAILED_PRECONDITION;
  }
  if (rc != 0) {
    free(a->user);
    a->user = NULL;
  }
  return rc == 0                          ? GX_STATUS_OK
         : rc == -ENOENT || rc == -EINVAL ? GX_STATUS_INVALID_ARGUMENT
         : rc == -ENOMEM                  ? GX_STATUS_RESOURCE_EXHAUSTED
         : rc == -EIO                     ? GX_STATUS_UNAVAILABLE
                                          : GX_STATUS_FAILED_PRECONDITION;
}

int gxd_admit_run(const gxd_admit_ctx *ctx, const gxd_caller_info *caller,
                  const Gexec__V1__Start *st, uint64_t run_id,
                  const char *cgroup, gxd_admission *a, gxd_plan *plan,
                  char *why, size_t why_len) {
  int status = check_policy(ctx, caller, st, a, why, why_len);
  if (status == GX_STATUS_OK)
    status = resolve_user(caller, st, a, why, why_len);
  if (status != GX_STATUS_OK) return status;
  gxd_plan_request pr = {
      .start = st,
      .caller = {.peer = caller->address,
                 .authenticated = caller->peer.kind == GXD_PEER_TLS,
                 .identity = caller->name},
      .run_id = run_id,
      .cgroup = cgroup,
      .user = a->user,
      .grant = &a->grant};
  return gxd_plan_build(ctx->plan, &pr, plan, why, why_len);
}

int gxd_admit_denied_program(const gxd_admission *a, const char *program,
                             char *why, size_t why_len) {
  snprintf(why, why_len, "policy rule '%s' does not allow the command "
           "'%.200s'", a->rule ? gxd_policy_rule_name(a->rule) : "?",
           program);
  return GX_STATUS_PERMISSION_DENIED;
}

void gxd_admit_trailers(const gxd_admission *a, gx_rpc_call *call) {
  if (!a->by_policy) return;
  gx_rpc_call_set_trailer(call, "gexec-refused-by", "policy");
  if (a->rule)
    gx_rpc_call_set_trailer(call, "gexec-policy-rule",
                            gxd_policy_rule_name(a->rule));
}

void gxd_admission_release(gxd_admission *a) {
  gxd_policy_grant_free(&a->grant);
  free(a->user);
  a->user = NULL;
  gxd_policy_unref(a->policy);
  a->policy = NULL;
  a->rule = NULL;
}

/* -------------------------------------------------------------- records */

/* The first GXD_AUDIT_LIST_MAX strings of @p v within *@p left bytes
 * (what is kept is taken off it); *@p cut set if any string or the list
 * was cut. */
static json_object *string_list(char *const *v, size_t n, size_t *left,
                                int *cut) {
  json_object *arr = json_object_new_array();
  for (size_t i = 0; i < n && i < GXD_AUDIT_LIST_MAX; i++) {
    json_object *s = gxd_audit_string_n(v[i], *left, cut);
    *left -= (size_t)json_object_get_string_len(s);
    json_object_array_add(arr, s);
  }
  if (n > GXD_AUDIT_LIST_MAX) *cut = 1;
  return arr;
}

/* Adds the caller's fields: identity, how it called, its address. */
static void add_caller(json_object *r, const gxd_caller_info *c) {
  static const char *const kinds[] = {"unix", "tls", "anonymous_loopback",
                                      "anonymous"};
  gxd_audit_add_string(r, "identity", c->name);
  json_object_object_add(r, "transport",
                         json_object_new_string(kinds[c->peer.kind]));
  gxd_audit_add_string(r, "peer", c->address);
  if (c->peer.kind == GXD_PEER_UNIX) {
    json_object_object_add(r, "uid", json_object_new_int64(c->peer.uid));
    json_object_object_add(r, "gid", json_object_new_int64(c->peer.gid));
    json_object_object_add(r, "pid", json_object_new_int64(c->peer.pid));
  }
}

static void add_request(json_object *r, const Gexec__V1__Start *st) {
  char *names[GXD_AUDIT_LIST_MAX];
  size_t n = 0, left = GXD_AUDIT_ARGV_BUDGET, bytes = 0;
  int cut = 0;
  for (; n < st->n_env && n < GXD_AUDIT_LIST_MAX; n++)
    names[n] = st->env[n]->key;
  for (size_t i = 0; i < st->n_argv; i++) bytes += strlen(st->argv[i]) + 1;
  json_object_object_add(r, "argc", json_object_new_int64((int64_t)st->n_argv));
  json_object_object_add(r, "argv_bytes", json_object_new_int64((int64_t)bytes));
  /* env names first: few and short, and what a denial is often about */
  json_object *env = string_list(names, n, &left, &cut);
  json_object_object_add(r, "argv",
                         string_list(st->argv, st->n_argv, &left, &cut));
  json_object_object_add(r, "env", env);
  if (cut || st->n_env > GXD_AUDIT_LIST_MAX)
    json_object_object_add(r, "truncated", json_object_new_boolean(1));
  gxd_audit_add_string(r, "cwd", st->cwd && st->cwd[0] ? st->cwd : "/");
}

json_object *gxd_admit_decision_record(const gxd_admission *a,
                                       const gxd_caller_info *caller,
                                       const Gexec__V1__Start *st,
                                       const gxd_plan *plan, uint64_t run_id,
                                       int status, const char *why) {
  json_object *r = json_object_new_object();
  json_object_object_add(r, "event", json_object_new_string("decision"));
  json_object_object_add(r, "run", json_object_new_int64((int64_t)run_id));
  add_caller(r, caller);
  if (st) add_request(r, st);
  if (plan) {
    json_object_object_add(r, "profile",
                           json_object_new_string(plan->profile->name));
    if (plan->tier)
      json_object_object_add(r, "tier",
                             json_object_new_string(plan->tier->desc));
  } else if (st && st->profile && st->profile[0]) {
    gxd_audit_add_string(r, "profile", st->profile);
  }
  const char *user = a->user ? a->user->name
                     : st && st->user && st->user[0] ? st->user
                                                     : NULL;
  if (user) gxd_audit_add_string(r, "user", user);
  if (a->rule)
    json_object_object_add(r, "rule", json_object_new_string(
                                          gxd_policy_rule_name(a->rule)));
  json_object_object_add(r, "decision", json_object_new_string(
                                            status == GX_STATUS_OK ? "allowed"
                                                                   : "denied"));
  if (status != GX_STATUS_OK) {
    json_object_object_add(r, "status",
                           json_object_new_string(gx_status_name(status)));
    gxd_audit_add_string(r, "reason", why);
  }
  return r;
}

json_object *gxd_admit_end_record(const gxd_caller_info *caller,
                                  uint64_t run_id, const gxd_admit_end *e) {
  json_object *r = json_object_new_object();
  json_object_object_add(r, "event", json_object_new_string("end"));
  json_object_object_add(r, "run", json_object_new_int64((int64_t)run_id));
  gxd_audit_add_string(r, "identity", caller->name);
  json_object_object_add(r, "status",
                         json_object_new_string(gx_status_name(e->status)));
  if (e->status != GX_STATUS_OK && e->error)
    gxd_audit_add_string(r, "error", e->error);
  if (e->ended) {
    if (e->signal)
      json_object_object_add(r, "signal", json_object_new_int(e->signal));
    else
      json_object_object_add(r, "exit_code", json_object_new_int(e->exit_code));
    json_object_object_add(r, "timed_out",
                           json_object_new_boolean(e->timed_out));
    json_object_object_add(r, "oom_killed",
                           json_object_new_boolean(e->oom_killed));
    json_object_object_add(r, "user_time_us",
                           json_object_new_int64((int64_t)e->user_us));
    json_object_object_add(r, "system_time_us",
                           json_object_new_int64((int64_t)e->system_us));
  }
  json_object_object_add(r, "bytes_in",
                         json_object_new_int64((int64_t)e->bytes_in));
  json_object_object_add(r, "bytes_out",
                         json_object_new_int64((int64_t)e->bytes_out));
  json_object_object_add(r, "wall_time_us",
                         json_object_new_int64((int64_t)e->wall_us));
  return r;
}

json_object *gxd_admit_refused_record(const char *peer, const char *identity,
                                      int status, const char *why) {
  json_object *r = json_object_new_object();
  json_object_object_add(r, "event", json_object_new_string("refused"));
  gxd_audit_add_string(r, "identity", identity ? identity : "");
  gxd_audit_add_string(r, "peer", peer);
  json_object_object_add(r, "decision", json_object_new_string("denied"));
  json_object_object_add(r, "status",
                         json_object_new_string(gx_status_name(status)));
  gxd_audit_add_string(r, "reason", why);
  return r;
}
