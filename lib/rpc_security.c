/* Transport security of the rpc module: the gx_rpc_creds description and
 * the gRPC credentials made from it, and what a server call's peer proved
 * (gx_rpc_call_auth). See rpc.h.
 *
 * A gx_rpc_creds is a plain description (a kind and what that kind needs:
 * for TLS servers, the gx_rpc_tls_source of rpc_tls_server.c; for TLS
 * channels, copies of the PEM data): gRPC credentials are built from it
 * at each listen or channel creation and released once gRPC took its own
 * reference. A new kind is a constructor and one case in each
 * *_creds_new below. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <grpc/grpc_security.h>

#include "lib/gx_err.h"
#include "lib/rpc_internal.h"

typedef enum {
  CREDS_INSECURE,   /* both sides */
  CREDS_TLS_SERVER, /* servers: rpc_tls_server.c */
  CREDS_TLS_CLIENT, /* channels: the fields of tls_client */
} creds_kind;

/* What a TLS channel verifies the server with and presents: copies of the
 * caller's strings (cert and key both NULL without a client
 * certificate; server_name NULL: the target's host). */
typedef struct {
  char *ca_pem, *cert_pem, *key_pem, *server_name;
} tls_client;

struct gx_rpc_creds {
  creds_kind kind;
  gx_rpc_tls_source *tls_src; /* CREDS_TLS_SERVER: borrowed */
  tls_client client; /* CREDS_TLS_CLIENT */
};

struct rpc_auth {
  gx_rpc_auth pub; /* points into the rest of this allocation */
};

int gx_rpc_creds_insecure(gx_rpc_creds **out) {
  gx_rpc_creds *c = calloc(1, sizeof *c);
  if (!c) return GX_ENOMEM;
  c->kind = CREDS_INSECURE;
  *out = c;
  return GX_OK;
}

int gx_rpc_creds_tls_server(gx_rpc_tls_source *src, gx_rpc_creds **out) {
  gx_rpc_creds *c = calloc(1, sizeof *c);
  if (!c) return GX_ENOMEM;
  c->kind = CREDS_TLS_SERVER;
  c->tls_src = src;
  *out = c;
  return GX_OK;
}

/* Frees a copy of PEM data, wiping it first (a private key). */
static void free_secret(char *s) {
  if (!s) return;
  explicit_bzero(s, strlen(s));
  free(s);
}

void gx_rpc_creds_free(gx_rpc_creds *creds) {
  if (!creds) return;
  if (creds->kind == CREDS_TLS_CLIENT) {
    free(creds->client.ca_pem);
    free(creds->client.cert_pem);
    free_secret(creds->client.key_pem);
    free(creds->client.server_name);
  }
  free(creds);
}

/* A copy of @p s into *@p dst (NULL stays NULL). Returns 0 or -1. */
static int copy_opt(const char *s, char **dst) {
  *dst = s ? strdup(s) : NULL;
  return s && !*dst ? -1 : 0;
}

static int nonempty(const char *s) { return s && *s; }

int gx_rpc_creds_tls_client(const char *ca_pem, const char *cert_pem,
                            const char *key_pem, const char *server_name,
                            gx_rpc_creds **out) {
  if (!nonempty(ca_pem) || !cert_pem != !key_pem ||
      (cert_pem && (!*cert_pem || !*key_pem)) ||
      (server_name && !*server_name))
    return GX_EINVAL;
  gx_rpc_creds *c = calloc(1, sizeof *c);
  if (!c) return GX_ENOMEM;
  c->kind = CREDS_TLS_CLIENT;
  if (copy_opt(ca_pem, &c->client.ca_pem) ||
      copy_opt(cert_pem, &c->client.cert_pem) ||
      copy_opt(key_pem, &c->client.key_pem) ||
      copy_opt(server_name, &c->client.server_name)) {
    gx_rpc_creds_free(c);
    return GX_ENOMEM;
  }
  *out = c;
  return GX_OK;
}

/* The kind @p creds describe: NULL is plaintext. */
static creds_kind kind_of(const gx_rpc_creds *creds) {
  return creds ? creds->kind : CREDS_INSECURE;
}

/* The two sides get their own function (and, with TLS, their own cases:
 * a server key pair and client CA here, a root CA, key pair and name
 * override for channels): gRPC's two credential types do not mix. */
int rpc_server_creds_new(const gx_rpc_creds *creds,
                         grpc_server_credentials **out) {
  *out = NULL;
  if (kind_of(creds) == CREDS_TLS_SERVER)
    return rpc_tls_server_creds_new(creds->tls_src, out);
  if (kind_of(creds) == CREDS_TLS_CLIENT) return GX_EINVAL;
  if (kind_of(creds) == CREDS_INSECURE)
    *out = grpc_insecure_server_credentials_create();
  return *out ? GX_OK : GX_ENOMEM;
}

/* gRPC's TLS channel credentials: the server must present a certificate
 * chaining to ca_pem; with cert_pem and key_pem, ours is presented when
 * the server asks (mTLS). gRPC parses the PEM data when a channel
 * connects, not here. */
static int tls_channel_creds(const gx_rpc_creds *creds,
                             grpc_channel_credentials **out) {
  grpc_ssl_pem_key_cert_pair pair = {creds->client.key_pem,
                                     creds->client.cert_pem};
  *out = grpc_ssl_credentials_create(creds->client.ca_pem,
                                     pair.cert_chain ? &pair : NULL, NULL,
                                     NULL);
  return *out ? GX_OK : GX_ENOMEM;
}

int rpc_channel_creds_new(const gx_rpc_creds *creds,
                          grpc_channel_credentials **out) {
  *out = NULL;
  if (kind_of(creds) == CREDS_TLS_SERVER) return GX_EINVAL;
  if (kind_of(creds) == CREDS_TLS_CLIENT) return tls_channel_creds(creds, out);
  if (kind_of(creds) == CREDS_INSECURE)
    *out = grpc_insecure_credentials_create();
  return *out ? GX_OK : GX_ENOMEM;
}

const char *rpc_creds_server_name(const gx_rpc_creds *creds) {
  return kind_of(creds) == CREDS_TLS_CLIENT ? creds->client.server_name
                                            : NULL;
}

/* ------------------------------------------------------------ peer auth */

/* Bytes needed for the values of @p it: a pointer and a NUL-terminated
 * copy each. Counts them in *n. */
static size_t values_size(grpc_auth_property_iterator it, size_t *n) {
  size_t size = 0;
  const grpc_auth_property *p;
  *n = 0;
  while ((p = grpc_auth_property_iterator_next(&it)) != NULL) {
    size += sizeof(char *) + p->value_length + 1;
    (*n)++;
  }
  return size;
}

/* Copies a property value (not NUL-terminated by contract) to *at. */
static const char *copy_value(const grpc_auth_property *p, char **at) {
  char *s = *at;
  memcpy(s, p->value, p->value_length);
  s[p->value_length] = '\0';
  *at += p->value_length + 1;
  return s;
}

static const char *copy_string(const char *src, char **at) {
  size_t len = strlen(src);
  char *s = *at;
  memcpy(s, src, len + 1);
  *at += len + 1;
  return s;
}

/* Fills the identity array at @p ids and the strings at *at. */
static void copy_identities(const grpc_auth_context *ctx, rpc_auth *a,
                            const char **ids, char **at) {
  grpc_auth_property_iterator it = grpc_auth_context_peer_identity(ctx);
  const grpc_auth_property *p;
  size_t i = 0;
  while ((p = grpc_auth_property_iterator_next(&it)) != NULL &&
         i < a->pub.nidentities)
    ids[i++] = copy_value(p, at);
  a->pub.nidentities = i;
  a->pub.identities = i ? ids : NULL;
}

/* The certificate fields of a TLS peer, borrowed from its auth context
 * (each NULL when absent). */
typedef struct {
  const grpc_auth_property *spiffe, *dns, *cn, *pem, *chain;
} tls_props;

static const grpc_auth_property *first_prop(const grpc_auth_context *ctx,
                                            const char *name) {
  grpc_auth_property_iterator it =
      grpc_auth_context_find_properties_by_name(ctx, name);
  return grpc_auth_property_iterator_next(&it);
}

static int is_spiffe(const grpc_auth_property *p) {
  return p->value_length > 9 && strncasecmp(p->value, "spiffe://", 9) == 0;
}

/* gRPC names a SPIFFE ID only when the certificate has exactly one URI
 * SAN; else the one URI SAN that is a SPIFFE ID (none if several are). */
static const grpc_auth_property *spiffe_of(const grpc_auth_context *ctx) {
  const grpc_auth_property *p =
      first_prop(ctx, GRPC_PEER_SPIFFE_ID_PROPERTY_NAME), *found = NULL;
  if (p) return p;
  grpc_auth_property_iterator it =
      grpc_auth_context_find_properties_by_name(ctx, GRPC_PEER_URI_PROPERTY_NAME);
  while ((p = grpc_auth_property_iterator_next(&it)) != NULL) {
    if (!is_spiffe(p)) continue;
    if (found) return NULL;
    found = p;
  }
  return found;
}

/* Only a verified certificate's fields count (with mTLS, every TLS peer
 * that got this far has one). */
static tls_props tls_props_of(const grpc_auth_context *ctx) {
  tls_props t = {NULL, NULL, NULL, NULL, NULL};
  if (!grpc_auth_context_peer_is_authenticated(ctx)) return t;
  t.spiffe = spiffe_of(ctx);
  t.dns = first_prop(ctx, GRPC_PEER_DNS_PROPERTY_NAME);
  t.cn = first_prop(ctx, GRPC_X509_CN_PROPERTY_NAME);
  t.pem = first_prop(ctx, GRPC_X509_PEM_CERT_PROPERTY_NAME);
  t.chain = first_prop(ctx, GRPC_X509_PEM_CERT_CHAIN_PROPERTY_NAME);
  return t;
}

static size_t prop_size(const grpc_auth_property *p) {
  return p ? p->value_length + 1 : 0;
}

/* A value with a NUL inside ("ops.example.org\0.evil") would read as a
 * shorter name: such a field counts as absent. */
static int clean(const grpc_auth_property *p) {
  return p && memchr(p->value, '\0', p->value_length) == NULL;
}

/* Copies the TLS fields and picks the identity among them: the first
 * present of SPIFFE ID, DNS SAN, CN, and none if that one is unclean. */
static void copy_tls(const tls_props *t, rpc_auth *a, char **at) {
  const grpc_auth_property *id = t->spiffe ? t->spiffe
                                 : t->dns  ? t->dns
                                           : t->cn;
  a->pub.spiffe_id = clean(t->spiffe) ? copy_value(t->spiffe, at) : NULL;
  a->pub.dns = clean(t->dns) ? copy_value(t->dns, at) : NULL;
  a->pub.common_name = clean(t->cn) ? copy_value(t->cn, at) : NULL;
  a->pub.pem_cert = clean(t->pem) ? copy_value(t->pem, at) : NULL;
  a->pub.pem_chain = clean(t->chain) && t->chain->value_length > 0
                         ? copy_value(t->chain, at)
                         : NULL;
  a->pub.identity = !clean(id)          ? NULL
                    : id == t->spiffe   ? a->pub.spiffe_id
                    : id == t->dns      ? a->pub.dns
                                        : a->pub.common_name;
}

/* Reads the auth context into one allocation: the struct, the identity
 * pointers, then the strings. */
static rpc_auth *read_auth(const grpc_auth_context *ctx) {
  grpc_auth_property_iterator tr = grpc_auth_context_find_properties_by_name(
      ctx, GRPC_TRANSPORT_SECURITY_TYPE_PROPERTY_NAME);
  const grpc_auth_property *tp = grpc_auth_property_iterator_next(&tr);
  const char *idp = grpc_auth_context_peer_identity_property_name(ctx);
  tls_props t = tls_props_of(ctx);
  size_t nids;
  size_t size = sizeof(rpc_auth) +
                values_size(grpc_auth_context_peer_identity(ctx), &nids) +
                (tp ? tp->value_length : 0) + 1 + (idp ? strlen(idp) + 1 : 0) +
                prop_size(t.spiffe) + prop_size(t.dns) + prop_size(t.cn) +
                prop_size(t.pem) + prop_size(t.chain);
  rpc_auth *a = calloc(1, size);
  if (!a) return NULL;
  const char **ids = (const char **)(a + 1);
  char *at = (char *)(ids + nids);
  a->pub.transport = tp ? copy_value(tp, &at) : copy_string("", &at);
  a->pub.authenticated = grpc_auth_context_peer_is_authenticated(ctx);
  a->pub.identity_property = idp ? copy_string(idp, &at) : NULL;
  a->pub.nidentities = nids;
  copy_identities(ctx, a, ids, &at);
  copy_tls(&t, a, &at);
  a->pub.conn_id = rpc_gate_conn_id(ctx);
  a->pub.gated = a->pub.conn_id != 0; /* only the gate names them */
  return a;
}

/* What a connection of our own unix listeners proved: gRPC runs no
 * handshake on a descriptor it is handed, so it has no auth context; the
 * transport is plaintext, and the peer's credentials come from the
 * kernel (rpc_conns_fill_auth). */
static rpc_auth *plaintext_auth(void) {
  char *at;
  rpc_auth *a = calloc(1, sizeof *a + sizeof "insecure");
  if (!a) return NULL;
  at = (char *)(a + 1);
  a->pub.transport = copy_string("insecure", &at);
  return a;
}

int gx_rpc_call_auth(gx_rpc_call *c, gx_rpc_auth *out) {
  if (!c->is_server) return GX_EINVAL;
  if (!c->auth) {
    grpc_auth_context *ctx = grpc_call_auth_context(c->call);
    if (!ctx && !c->cred.conn_id) return GX_ERPC;
    c->auth = ctx ? read_auth(ctx) : plaintext_auth();
    if (ctx) grpc_auth_context_release(ctx);
    if (!c->auth) return GX_ENOMEM;
  }
  *out = c->auth->pub;
  rpc_conns_fill_auth(c, out);
  return GX_OK;
}

int gx_rpc_call_peer_identity(gx_rpc_call *c, char *buf, size_t len) {
  if (c->is_server || len == 0) return GX_EINVAL;
  grpc_auth_context *ctx = grpc_call_auth_context(c->call);
  if (!ctx) return GX_ERPC;
  tls_props t = tls_props_of(ctx);
  const grpc_auth_property *id = t.spiffe ? t.spiffe : t.dns ? t.dns : t.cn;
  int rc = GX_ERPC;
  if (clean(id) && id->value_length < len) {
    memcpy(buf, id->value, id->value_length);
    buf[id->value_length] = '\0';
    rc = GX_OK;
  }
  grpc_auth_context_release(ctx);
  return rc;
}

void rpc_auth_free(rpc_auth *a) { free(a); }
