/* Who may reach gexecd and what is kept of it; see access.h. */
#include "server/access.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/gx_err.h"
#include "server/admit.h"
#include "server/log.h"

struct gxd_access {
  const gxd_config *cfg;
  const gxd_profiles *profiles;
  gxd_tls *tls;
  gxd_policy *policy;
  gxd_audit *audit;
  char policy_path[4096]; /* absolute: the daemon works in "/" */
  gxd_caller_cache users;  /* unix peers' names and groups */
};

/* @p name made absolute against our cwd now (before chdir "/"). */
static int absolute(const char *name, char *out, size_t len) {
  char cwd[4096];
  int n = name[0] == '/' || !getcwd(cwd, sizeof cwd)
              ? snprintf(out, len, "%s", name)
              : snprintf(out, len, "%s/%s", cwd, name);
  return n < 0 || (size_t)n >= len ? -1 : 0;
}

static int open_tls(gxd_access *a, char *why, size_t len) {
  const gxd_config *c = a->cfg;
  gxd_tls_files files = {c->tls_cert, c->tls_key, c->tls_client_ca,
                         c->tls_crl_dir};
  if (!c->tls_cert) return 0;
  return gxd_tls_open(&files, &a->tls, why, len);
}

/* --policy, else the built-in one (the daemon's own uid and root, over
 * the unix socket, may do anything; nobody else anything). */
static int open_policy(gxd_access *a, char *why, size_t len) {
  const char *file = a->cfg->policy_file;
  if (!file) {
    if (gxd_policy_default((uint32_t)geteuid(), &a->policy) == GX_OK) return 0;
    return snprintf(why, len, "out of memory"), -1;
  }
  if (absolute(file, a->policy_path, sizeof a->policy_path) != 0)
    return snprintf(why, len, "--policy: path too long"), -1;
  return gxd_policy_load(a->policy_path, a->profiles, &a->policy, why, len);
}

int gxd_access_open(uv_loop_t *loop, const gxd_config *cfg,
                    const gxd_profiles *profiles, gxd_access **out,
                    char *why, size_t why_len) {
  char path[4096];
  gxd_access *a = calloc(1, sizeof *a);
  if (!a) return snprintf(why, why_len, "out of memory"), -1;
  a->cfg = cfg;
  a->profiles = profiles;
  int rc = open_tls(a, why, why_len);
  if (rc == 0) rc = open_policy(a, why, why_len);
  if (rc == 0 && cfg->audit_log) {
    rc = absolute(cfg->audit_log, path, sizeof path) == 0
             ? gxd_audit_open(loop, path, cfg->audit_sync, &a->audit, why,
                              why_len)
             : (snprintf(why, why_len, "--audit-log: path too long"), -1);
  }
  if (rc != 0) {
    gxd_access_free(a);
    return -1;
  }
  *out = a;
  return 0;
}

gxd_tls *gxd_access_tls(const gxd_access *a) { return a->tls; }
gxd_policy *gxd_access_policy(const gxd_access *a) { return a->policy; }
gxd_audit *gxd_access_audit(const gxd_access *a) { return a->audit; }

/* ------------------------------------------------------------- reload */

static void log_reload(const char *what, const char *error) {
  json_object *f = json_object_new_object();
  json_object_object_add(f, "event", json_object_new_string("reload"));
  json_object_object_add(f, "what", json_object_new_string(what));
  json_object_object_add(f, "ok", json_object_new_boolean(!error));
  if (error) json_object_object_add(f, "error", json_object_new_string(error));
  gxd_log_event(error ? GXD_LOG_ERROR : GXD_LOG_INFO, f);
}

/* A new policy replaces the old one for runs decided from now on; runs
 * decided before hold their reference to the old one. */
static void reload_policy(gxd_access *a) {
  char why[600];
  gxd_policy *p;
  if (!a->cfg->policy_file) return;
  if (gxd_policy_load(a->policy_path, a->profiles, &p, why, sizeof why) != 0)
    return log_reload("policy", why);
  gxd_policy_unref(a->policy);
  a->policy = p;
  log_reload("policy", NULL);
}

void gxd_access_reload(gxd_access *a) {
  char why[600];
  if (a->tls)
    log_reload("tls", gxd_tls_reload(a->tls, why, sizeof why) == 0 ? NULL
                                                                  : why);
  reload_policy(a);
  gxd_caller_cache_clear(&a->users); /* groups may have changed too */
  if (a->audit)
    log_reload("audit",
               gxd_audit_reopen(a->audit, why, sizeof why) == 0 ? NULL : why);
}

/* ---------------------------------------------------------- admission */

/* Ends a call refused before any run existed with @p status: logged,
 * audited; a policy refusal carries its trailer. */
static void refuse(gxd_access *a, gx_rpc_call *call, const char *identity,
                   int status, const char *why) {
  uint64_t seq;
  json_object *f = json_object_new_object();
  json_object_object_add(f, "event", json_object_new_string("refused"));
  json_object_object_add(f, "peer",
                         json_object_new_string(gx_rpc_call_peer(call)));
  if (identity)
    json_object_object_add(f, "identity", json_object_new_string(identity));
  json_object_object_add(f, "reason", json_object_new_string(why));
  gxd_log_event(GXD_LOG_WARN, f);
  if (a->audit) {
    json_object *r = gxd_admit_refused_record(gx_rpc_call_peer(call),
                                              identity, status, why);
    int rc = gxd_audit_write(a->audit, r, &seq);
    if (rc > 0) gxd_audit_flush(a->audit);
    if (rc < 0)
      gxd_log(GXD_LOG_ERROR, "a refusal could not be audited: %s",
              strerror(-rc));
    json_object_put(r);
  }
  if (status == GX_STATUS_PERMISSION_DENIED)
    gx_rpc_call_set_trailer(call, "gexec-refused-by", "policy");
  gx_rpc_call_finish(call, status, why);
}

/* The revocation check of a TLS caller (other transports pass): 1 when
 * the call may go on, else 0 with the call ended by refuse(). */
static int admit_tls(gxd_access *a, gx_rpc_call *call) {
  gx_rpc_auth au = {.identity = NULL};
  char why[512];
  if (!a->tls) return 1;
  if (gx_rpc_call_auth(call, &au) != GX_OK) {
    snprintf(why, sizeof why, "the caller's credentials cannot be read");
    return refuse(a, call, NULL, GX_STATUS_UNAUTHENTICATED, why), 0;
  }
  if (strcmp(au.transport, "ssl") == 0 &&
      gxd_tls_check_peer(a->tls, au.pem_cert, au.pem_chain, why,
                         sizeof why) != 0)
    return refuse(a, call, au.identity, GX_STATUS_UNAUTHENTICATED, why), 0;
  return 1;
}

int gxd_access_admit_call(gxd_access *a, gx_rpc_call *call,
                          gxd_caller_info *out) {
  char why[400];
  if (!admit_tls(a, call)) return 0;
  gxd_caller_read(call, &a->users, out);
  /* a caller no rule matches may not even hold a stream open */
  if (!gxd_policy_match(a->policy, &out->peer)) {
    gxd_policy_unmatched(&out->peer, why, sizeof why);
    return refuse(a, call, out->name, GX_STATUS_PERMISSION_DENIED, why), 0;
  }
  return 1;
}

int gxd_access_admit_facts(gxd_access *a, gx_rpc_call *call,
                           gxd_caller_info *out, char *rule,
                           size_t rule_len) {
  char why[400];
  if (!gxd_access_admit_call(a, call, out)) return 0;
  const gxd_policy_rule *r = gxd_policy_match(a->policy, &out->peer);
  snprintf(rule, rule_len, "%s", gxd_policy_rule_name(r));
  if (gxd_policy_allows_facts(r)) return 1;
  snprintf(why, sizeof why, "policy rule '%s' does not allow reading facts",
           rule);
  gx_rpc_call_set_trailer(call, "gexec-policy-rule", rule);
  return refuse(a, call, out->name, GX_STATUS_PERMISSION_DENIED, why), 0;
}

int gxd_access_describe(gxd_access *a, gx_rpc_call *call) {
  char value[GX_RPC_TRAILER_VALUE_MAX + 1];
  if (!admit_tls(a, call)) return 0;
  gxd_caller_info *c = malloc(sizeof *c);
  if (!c) return 1; /* answered without trailers */
  gxd_caller_read(call, &a->users, c);
  gxd_caller_header_value(c->name, value, sizeof value);
  gx_rpc_call_set_trailer(call, "gexec-identity", value);
  const gxd_policy_rule *r = gxd_policy_match(a->policy, &c->peer);
  if (r) gx_rpc_call_set_trailer(call, "gexec-policy-rule",
                                 gxd_policy_rule_name(r));
  free(c);
  return 1;
}

void gxd_access_free(gxd_access *a) {
  if (!a) return;
  gxd_tls_free(a->tls);
  gxd_policy_unref(a->policy);
  gxd_audit_close(a->audit);
  free(a);
}
