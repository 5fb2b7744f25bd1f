/* Who is calling; see caller.h. */
#include "server/caller.h"

#include <arpa/inet.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/gx_err.h"

/* Copies @p src into @p dst (@p len bytes); returns dst, or NULL when
 * @p src is NULL or does not fit (an identity is never cut). */
static const char *keep(char *dst, size_t len, const char *src) {
  if (!src || !src[0]) return NULL; /* an empty name names nobody */
  size_t n = strlen(src);
  if (n >= len) return NULL;
  memcpy(dst, src, n + 1);
  return dst;
}

/* See caller.h. Whether a peer address (gRPC's form: "ipv4:127.0.0.1:5", IPv6 in
 * brackets, percent-encoded or not: "ipv6:%5B::1%5D:5") is a loopback
 * one: 127.0.0.0/8, ::1, or ::ffff:127.x.y.z. */
int gxd_caller_loopback(const char *a) {
  char host[64];
  size_t n = 0;
  int closed = 0;
  if (strncmp(a, "ipv4:", 5) == 0) return strncmp(a + 5, "127.", 4) == 0;
  if (strncmp(a, "ipv6:", 5) != 0) return 0;
  const char *p = a + 5;
  if (strncmp(p, "%5B", 3) == 0) p += 3;
  else if (*p == '[') p++;
  else return 0;
  for (; *p && !closed && n < sizeof host - 1; p++) {
    if (strncmp(p, "%5D", 3) == 0 || *p == ']') closed = 1;
    else host[n++] = *p;
  }
  if (!closed) return 0;
  host[n] = '\0';
  struct in6_addr in;
  if (inet_pton(AF_INET6, host, &in) != 1) return 0;
  return IN6_IS_ADDR_LOOPBACK(&in) ||
         (IN6_IS_ADDR_V4MAPPED(&in) && in.s6_addr[12] == 127);
}

/* The passwd name and groups of a unix peer's uid. */
static void unix_user(gxd_caller_info *c) {
  struct passwd pw, *res = NULL;
  char buf[4096];
  int n = GXD_CALLER_GROUPS_MAX;
  c->groups[0] = c->peer.gid;
  c->peer.ngroups = 1;
  if (getpwuid_r(c->peer.uid, &pw, buf, sizeof buf, &res) != 0 || !res ||
      !keep(c->user, sizeof c->user, pw.pw_name))
    return;
  c->peer.user = c->user;
  /* the user's groups as the system defines them, with the peer's own
   * primary gid first (what SO_PEERCRED reported) */
  gid_t g[GXD_CALLER_GROUPS_MAX];
  if (getgrouplist(pw.pw_name, (gid_t)c->peer.gid, g, &n) < 0)
    n = GXD_CALLER_GROUPS_MAX; /* more than we keep: the first ones */
  for (int i = 0; i < n && c->peer.ngroups < GXD_CALLER_GROUPS_MAX; i++)
    if (g[i] != (gid_t)c->peer.gid) c->groups[c->peer.ngroups++] = g[i];
}

/* The cached lookup of @p c's connection, if any. */
static int from_cache(const gxd_caller_cache *k, gxd_caller_info *c) {
  for (size_t i = 0; k && c->conn_id && i < GXD_CALLER_CACHE_SIZE; i++) {
    if (k->e[i].conn_id != c->conn_id) continue;
    memcpy(c->user, k->e[i].user, sizeof c->user);
    memcpy(c->groups, k->e[i].groups, k->e[i].ngroups * sizeof *c->groups);
    c->peer.ngroups = k->e[i].ngroups;
    c->peer.user = c->user[0] ? c->user : NULL;
    return 1;
  }
  return 0;
}

static void to_cache(gxd_caller_cache *k, const gxd_caller_info *c) {
  if (!k || !c->conn_id) return;
  size_t i = k->next++ % GXD_CALLER_CACHE_SIZE;
  k->e[i].conn_id = c->conn_id;
  memcpy(k->e[i].user, c->user, sizeof c->user);
  memcpy(k->e[i].groups, c->groups, c->peer.ngroups * sizeof *c->groups);
  k->e[i].ngroups = c->peer.ngroups;
}

void gxd_caller_cache_clear(gxd_caller_cache *cache) {
  memset(cache, 0, sizeof *cache);
}

static void read_unix(gxd_caller_info *c, gxd_caller_cache *k,
                      const gx_rpc_auth *a) {
  c->peer.kind = GXD_PEER_UNIX;
  c->peer.uid = a->uid;
  c->peer.gid = a->gid;
  c->peer.pid = a->pid;
  c->conn_id = a->conn_id;
  if (!from_cache(k, c)) {
    unix_user(c);
    to_cache(k, c);
  }
  if (c->user[0])
    snprintf(c->name, sizeof c->name, "uid=%u(%s)", a->uid, c->user);
  else
    snprintf(c->name, sizeof c->name, "uid=%u", a->uid);
}

/* A TLS peer's verified certificate. */
static int read_tls(gxd_caller_info *c, const gx_rpc_auth *a) {
  c->peer.kind = GXD_PEER_TLS;
  c->peer.spiffe = keep(c->spiffe, sizeof c->spiffe, a->spiffe_id);
  c->peer.dns = keep(c->dns, sizeof c->dns, a->dns);
  c->peer.cn = keep(c->cn, sizeof c->cn, a->common_name);
  const char *id = c->peer.spiffe  ? c->peer.spiffe
                   : c->peer.dns   ? c->peer.dns
                                   : c->peer.cn;
  if (!id) return -1; /* verified, but names nothing we can use */
  snprintf(c->name, sizeof c->name, "%s", id);
  return 0;
}

void gxd_caller_read(gx_rpc_call *call, gxd_caller_cache *cache,
                     gxd_caller_info *out) {
  gx_rpc_auth a;
  memset(out, 0, sizeof *out);
  snprintf(out->address, sizeof out->address, "%s", gx_rpc_call_peer(call));
  out->peer.groups = out->groups;
  if (gx_rpc_call_auth(call, &a) == GX_OK) {
    if (a.has_unix_cred) return read_unix(out, cache, &a);
    if (a.authenticated && read_tls(out, &a) == 0) return;
  }
  memset(&out->peer, 0, sizeof out->peer);
  out->peer.groups = out->groups;
  out->peer.kind = gxd_caller_loopback(out->address) ? GXD_PEER_ANON_LOOPBACK
                                                  : GXD_PEER_ANON;
  snprintf(out->name, sizeof out->name, "anonymous");
}

void gxd_caller_copy(gxd_caller_info *dst, const gxd_caller_info *src) {
  memcpy(dst, src, sizeof *dst);
  dst->peer.groups = dst->groups;
  dst->peer.user = src->peer.user ? dst->user : NULL;
  dst->peer.spiffe = src->peer.spiffe ? dst->spiffe : NULL;
  dst->peer.dns = src->peer.dns ? dst->dns : NULL;
  dst->peer.cn = src->peer.cn ? dst->cn : NULL;
}

void gxd_caller_header_value(const char *name, char *out, size_t len) {
  static const char hex[] = "0123456789ABCDEF";
  size_t at = 0;
  for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
    int plain = *p >= 0x20 && *p <= 0x7e && *p != '%';
    size_t need = plain ? 1 : 3;
    if (at + need >= len) break;
    if (plain) {
      out[at++] = (char)*p;
    } else {
      out[at++] = '%';
      out[at++] = hex[*p >> 4];
      out[at++] = hex[*p & 15];
    }
  }
  out[at] = '\0';
}
