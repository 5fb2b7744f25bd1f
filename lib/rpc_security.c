/* Transport security of the rpc module: the gx_rpc_creds description and
 * the gRPC credentials made from it, and what a server call's peer proved
 * (gx_rpc_call_auth). See rpc.h.
 *
 * A gx_rpc_creds is a plain description (a kind, later the PEM data of
 * TLS): gRPC credentials are built from it at each listen or channel
 * creation and released once gRPC took its own reference. Adding TLS means
 * a kind, a constructor and one case in each *_creds_new below. */
#include <stdlib.h>
#include <string.h>

#include <grpc/grpc_security.h>

#include "lib/gx_err.h"
#include "lib/rpc_internal.h"

typedef enum {
  CREDS_INSECURE, /* both sides */
} creds_kind;

struct gx_rpc_creds {
  creds_kind kind;
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

void gx_rpc_creds_free(gx_rpc_creds *creds) { free(creds); }

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
  if (kind_of(creds) == CREDS_INSECURE)
    *out = grpc_insecure_server_credentials_create();
  return *out ? GX_OK : GX_ENOMEM;
}

int rpc_channel_creds_new(const gx_rpc_creds *creds,
                          grpc_channel_credentials **out) {
  *out = NULL;
  if (kind_of(creds) == CREDS_INSECURE)
    *out = grpc_insecure_credentials_create();
  return *out ? GX_OK : GX_ENOMEM;
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

/* Reads the auth context into one allocation: the struct, the identity
 * pointers, then the strings. */
static rpc_auth *read_auth(const grpc_auth_context *ctx) {
  grpc_auth_property_iterator tr = grpc_auth_context_find_properties_by_name(
      ctx, GRPC_TRANSPORT_SECURITY_TYPE_PROPERTY_NAME);
  const grpc_auth_property *tp = grpc_auth_property_iterator_next(&tr);
  const char *idp = grpc_auth_context_peer_identity_property_name(ctx);
  size_t nids;
  size_t size = sizeof(rpc_auth) +
                values_size(grpc_auth_context_peer_identity(ctx), &nids) +
                (tp ? tp->value_length : 0) + 1 + (idp ? strlen(idp) + 1 : 0);
  rpc_auth *a = calloc(1, size);
  if (!a) return NULL;
  const char **ids = (const char **)(a + 1);
  char *at = (char *)(ids + nids);
  a->pub.transport = tp ? copy_value(tp, &at) : copy_string("", &at);
  a->pub.authenticated = grpc_auth_context_peer_is_authenticated(ctx);
  a->pub.identity_property = idp ? copy_string(idp, &at) : NULL;
  a->pub.nidentities = nids;
  copy_identities(ctx, a, ids, &at);
  a->pub.conn_id = rpc_gate_conn_id(ctx);
  a->pub.gated = a->pub.conn_id != 0; /* only the gate names them */
  return a;
}

int gx_rpc_call_auth(gx_rpc_call *c, gx_rpc_auth *out) {
  if (!c->is_server) return GX_EINVAL;
  if (!c->auth) {
    grpc_auth_context *ctx = grpc_call_auth_context(c->call);
    if (!ctx) return GX_ERPC;
    c->auth = read_auth(ctx);
    grpc_auth_context_release(ctx);
    if (!c->auth) return GX_ENOMEM;
  }
  *out = c->auth->pub;
  return GX_OK;
}

void rpc_auth_free(rpc_auth *a) { free(a); }
