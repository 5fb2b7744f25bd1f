/* The policy's life and which rule a caller gets; see policy.h. */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/gx_err.h"
#include "server/policy_internal.h"

gxd_policy *gxd_pol_alloc(size_t n) {
  gxd_policy *p = calloc(1, sizeof *p + n * sizeof p->rule[0]);
  if (!p) return NULL;
  atomic_init(&p->refs, 1);
  p->n = n;
  return p;
}

static void list_free(gxd_pol_list *l) {
  for (size_t i = 0; i < l->n; i++) free(l->v[i]);
  free(l->v);
  l->v = NULL;
  l->n = 0;
}

void gxd_pol_rule_free(gxd_policy_rule *r) {
  free(r->name);
  free(r->spiffe);
  free(r->dns);
  free(r->cn);
  list_free(&r->commands);
  for (size_t i = 0; i < r->nargv; i++) list_free(&r->argv[i]);
  free(r->argv);
  list_free(&r->profiles);
  list_free(&r->run_as);
  list_free(&r->env);
  list_free(&r->cwd);
}

void gxd_policy_ref(gxd_policy *p) {
  atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
}

void gxd_policy_unref(gxd_policy *p) {
  if (!p || atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) != 1)
    return;
  for (size_t i = 0; i < p->n; i++) gxd_pol_rule_free(&p->rule[i]);
  free(p);
}

size_t gxd_policy_count(const gxd_policy *p) {
  return p->n;
}

int gxd_policy_default(uint32_t daemon_uid, gxd_policy **out) {
  static const char name[] = GXD_POLICY_DEFAULT_RULE;
  gxd_policy *p = gxd_pol_alloc(1);
  char *copy = malloc(sizeof name);
  if (!p || !copy) {
    free(p);
    free(copy);
    return GX_ENOMEM;
  }
  gxd_policy_rule *r = &p->rule[0];
  memcpy(copy, name, sizeof name);
  r->name = copy;
  r->match = GXD_POL_M_UID;
  r->uids[0] = daemon_uid;
  r->uids[1] = 0;
  r->nuids = 2;
  r->facts = 1;
  r->any_user = 1;
  *out = p;
  return GX_OK;
}

/* ------------------------------------------------------------ matching */

/* A certificate key: the glob @p g over @p have (NULL never matches). */
static int glob_field(const char *g, const char *have) {
  return have && fnmatch(g, have, 0) == 0;
}

static int in_groups(const gxd_peer *peer, uint32_t gid) {
  if (peer->gid == gid) return 1;
  for (size_t i = 0; i < peer->ngroups; i++)
    if (peer->groups[i] == gid) return 1;
  return 0;
}

static int unix_matches(const gxd_policy_rule *r, const gxd_peer *peer) {
  int uid_ok = 0;
  for (size_t i = 0; i < r->nuids; i++) uid_ok |= r->uids[i] == peer->uid;
  if ((r->match & GXD_POL_M_UID) && !uid_ok) return 0;
  if ((r->match & GXD_POL_M_USER) && r->user_uid != peer->uid) return 0;
  if ((r->match & GXD_POL_M_GROUP) && !in_groups(peer, r->gid)) return 0;
  return 1;
}

static int tls_matches(const gxd_policy_rule *r, const gxd_peer *peer) {
  if ((r->match & GXD_POL_M_SPIFFE) && !glob_field(r->spiffe, peer->spiffe))
    return 0;
  if ((r->match & GXD_POL_M_DNS) && !glob_field(r->dns, peer->dns)) return 0;
  if ((r->match & GXD_POL_M_CN) && !glob_field(r->cn, peer->cn)) return 0;
  return 1;
}

/* Whether every key of @p r's match matches @p peer. A rule's keys are
 * of one kind of caller (checked when loaded). */
static int rule_matches(const gxd_policy_rule *r, const gxd_peer *peer) {
  if (r->match & GXD_POL_M_TLS)
    return peer->kind == GXD_PEER_TLS && tls_matches(r, peer);
  if (r->match & GXD_POL_M_UNIX)
    return peer->kind == GXD_PEER_UNIX && unix_matches(r, peer);
  if (r->match & GXD_POL_M_ANON_LOOPBACK)
    return peer->kind == GXD_PEER_ANON_LOOPBACK;
  return 0; /* no keys: never (a load error anyway) */
}

const gxd_policy_rule *gxd_policy_match(const gxd_policy *p,
                                        const gxd_peer *peer) {
  for (size_t i = 0; i < p->n; i++)
    if (rule_matches(&p->rule[i], peer)) return &p->rule[i];
  return NULL;
}

int gxd_policy_unmatched(const gxd_peer *peer, char *why, size_t why_len) {
  static const char head[] = "no policy rule matches this caller";
  const char *id = peer->spiffe ? peer->spiffe
                   : peer->dns  ? peer->dns
                                : peer->cn;
  const char *field = peer->spiffe ? "spiffe" : peer->dns ? "dns" : "cn";
  if (peer->kind == GXD_PEER_UNIX)
    snprintf(why, why_len, "%s (unix uid %u)", head, (unsigned)peer->uid);
  else if (peer->kind == GXD_PEER_TLS && id)
    snprintf(why, why_len, "%s (tls %s '%.200s')", head, field, id);
  else if (peer->kind == GXD_PEER_TLS)
    snprintf(why, why_len, "%s (tls, no identity)", head);
  else if (peer->kind == GXD_PEER_ANON_LOOPBACK)
    snprintf(why, why_len, "%s (anonymous loopback)", head);
  else
    snprintf(why, why_len, "%s (anonymous)", head);
  return GX_STATUS_PERMISSION_DENIED;
}

const char *gxd_policy_rule_name(const gxd_policy_rule *r) {
  return r->name;
}

int gxd_policy_allows_facts(const gxd_policy_rule *r) {
  return r->facts;
}
