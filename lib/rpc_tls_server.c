/* TLS for servers (see rpc.h, "TLS servers"): the gx_rpc_tls_source and
 * the gRPC server credentials made from it.
 *
 * gRPC 1.51 reloads a TLS listener's certificates only through the
 * certificate-config fetcher of grpc_ssl_server_credentials_create_with_
 * options: each listener's security connector calls the fetcher once when
 * it is made and then before every handshake, keeps its handshaker
 * factory on RELOAD_UNCHANGED (or FAIL), and builds a new one from the
 * returned config on RELOAD_NEW. So each listener needs to know which set
 * it was last given: one fetcher per listener, holding the generation it
 * saw. The fetcher API has no destroy hook, so the source owns its
 * fetchers and frees them with itself (after the servers are gone). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <grpc/grpc_security.h>

#include "lib/gx_err.h"
#include "lib/rpc_internal.h"

/* One listener's view of the source. */
typedef struct tls_fetcher {
  gx_rpc_tls_source *src;
  uint64_t seen; /* the generation its handshakes use; 0: none yet */
  struct tls_fetcher *next;
} tls_fetcher;

struct gx_rpc_tls_source {
  pthread_mutex_t mu; /* guards everything below */
  int mtls;
  uint64_t generation; /* sets installed; 0 = none */
  char *cert, *key, *client_ca;
  tls_fetcher *fetchers;
};

int gx_rpc_tls_source_new(int mtls, gx_rpc_tls_source **out) {
  gx_rpc_tls_source *s = calloc(1, sizeof *s);
  if (!s) return GX_ENOMEM;
  if (pthread_mutex_init(&s->mu, NULL) != 0) {
    free(s);
    return GX_ESYS;
  }
  s->mtls = mtls != 0;
  *out = s;
  return GX_OK;
}

static int empty(const char *pem) { return !pem || !pem[0]; }

int gx_rpc_tls_source_set(gx_rpc_tls_source *s, const char *cert_chain_pem,
                          const char *key_pem, const char *client_ca_pem) {
  if (empty(cert_chain_pem) || empty(key_pem) ||
      (s->mtls ? empty(client_ca_pem) : client_ca_pem != NULL))
    return GX_EINVAL;
  char *cert = strdup(cert_chain_pem);
  char *key = strdup(key_pem);
  char *ca = client_ca_pem ? strdup(client_ca_pem) : NULL;
  if (!cert || !key || (client_ca_pem && !ca)) {
    free(cert);
    free(key);
    free(ca);
    return GX_ENOMEM;
  }
  pthread_mutex_lock(&s->mu);
  char *old[3] = {s->cert, s->key, s->client_ca};
  s->cert = cert;
  s->key = key;
  s->client_ca = ca;
  s->generation++;
  pthread_mutex_unlock(&s->mu);
  for (int i = 0; i < 3; i++) free(old[i]);
  return GX_OK;
}

uint64_t gx_rpc_tls_source_generation(gx_rpc_tls_source *s) {
  pthread_mutex_lock(&s->mu);
  uint64_t g = s->generation;
  pthread_mutex_unlock(&s->mu);
  return g;
}

void gx_rpc_tls_source_free(gx_rpc_tls_source *s) {
  if (!s) return;
  tls_fetcher *f = s->fetchers;
  while (f) {
    tls_fetcher *next = f->next;
    free(f);
    f = next;
  }
  free(s->cert);
  free(s->key);
  free(s->client_ca);
  pthread_mutex_destroy(&s->mu);
  free(s);
}

/* gRPC's thread, before each handshake of one listener: a new config
 * when the source changed since this listener's last one. gRPC copies
 * the strings (and owns the config we return). */
static grpc_ssl_certificate_config_reload_status fetch(
    void *ud, grpc_ssl_server_certificate_config **config) {
  tls_fetcher *f = ud;
  gx_rpc_tls_source *s = f->src;
  grpc_ssl_certificate_config_reload_status st =
      GRPC_SSL_CERTIFICATE_CONFIG_RELOAD_UNCHANGED;
  pthread_mutex_lock(&s->mu);
  if (f->seen != s->generation) {
    grpc_ssl_pem_key_cert_pair pair = {s->key, s->cert};
    /* gRPC 1.51 asserts (aborts) when a fetched config has no root
     * certificates, even when it asks clients for no certificate: without
     * mTLS, the server's own chain stands in, never used to verify. */
    *config = grpc_ssl_server_certificate_config_create(
        s->mtls ? s->client_ca : s->cert, &pair, 1);
    st = *config ? GRPC_SSL_CERTIFICATE_CONFIG_RELOAD_NEW
                 : GRPC_SSL_CERTIFICATE_CONFIG_RELOAD_FAIL;
    /* also after a failure: gRPC keeps the previous set, and asking
     * again at every handshake would fail the same way */
    f->seen = s->generation;
  }
  pthread_mutex_unlock(&s->mu);
  return st;
}

/* A fetcher for one more listener, owned by the source; NULL if the
 * source holds no set yet (GX_EINVAL) or on ENOMEM. */
static int add_fetcher(gx_rpc_tls_source *s, tls_fetcher **out) {
  tls_fetcher *f = calloc(1, sizeof *f);
  if (!f) return GX_ENOMEM;
  f->src = s;
  pthread_mutex_lock(&s->mu);
  int have = s->generation != 0;
  if (have) {
    f->next = s->fetchers;
    s->fetchers = f;
  }
  pthread_mutex_unlock(&s->mu);
  if (!have) {
    free(f);
    return GX_EINVAL;
  }
  *out = f;
  return GX_OK;
}

int rpc_tls_server_creds_new(gx_rpc_tls_source *s,
                             grpc_server_credentials **out) {
  tls_fetcher *f;
  int rc = add_fetcher(s, &f);
  if (rc != GX_OK) return rc;
  grpc_ssl_server_credentials_options *o =
      grpc_ssl_server_credentials_create_options_using_config_fetcher(
          s->mtls ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
                  : GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE,
          fetch, f);
  *out = o ? grpc_ssl_server_credentials_create_with_options(o) : NULL;
  return *out ? GX_OK : GX_ENOMEM; /* f stays listed until the source goes */
}
