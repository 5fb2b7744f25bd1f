/* The CLI's TLS settings: see tls.h. */
#include "client/cli/tls.h"

#include <stdio.h>

/* The flag's value if given, else the environment's if set. */
static const char *pick(const char *flag, const char *env,
                        const char *flag_name, const char *env_name,
                        const char **from) {
  if (flag) return *from = flag_name, flag;
  if (env && *env) return *from = env_name, env;
  return *from = NULL, NULL;
}

int gxc_tls_pick(const gxc_args *a, const char *env_ca, const char *env_cert,
                 const char *env_key, gxc_tls *out, char *why, size_t len) {
  out->ca = pick(a->ca, env_ca, "--ca", "GEXEC_CA", &out->ca_from);
  out->cert = pick(a->cert, env_cert, "--cert", "GEXEC_CERT",
                   &out->cert_from);
  out->key = pick(a->key, env_key, "--key", "GEXEC_KEY", &out->key_from);
  out->server_name = a->tls_server_name;
  if (out->cert && !out->key)
    snprintf(why, len, "%s needs a private key: --key FILE or GEXEC_KEY",
             out->cert_from);
  else if (out->key && !out->cert)
    snprintf(why, len, "%s needs a certificate: --cert FILE or GEXEC_CERT",
             out->key_from);
  else if (out->cert && !out->ca)
    snprintf(why, len, "%s needs the daemon's CA: --ca FILE or GEXEC_CA",
             out->cert_from);
  else if (out->server_name && !out->ca)
    snprintf(why, len, "--tls-server-name needs the daemon's CA: --ca FILE "
             "or GEXEC_CA");
  else
    return 0;
  return -1;
}

int gxc_tls_conn_opts(const gxc_tls *t, gexec_conn_opts **out) {
  gexec_conn_opts *o;
  int rc = gexec_conn_opts_new(&o);
  if (rc != GEXEC_OK) return rc;
  rc = gexec_conn_opts_set_tls(o, t->ca, t->cert, t->key);
  if (rc == GEXEC_OK && t->server_name)
    rc = gexec_conn_opts_set_tls_server_name(o, t->server_name);
  if (rc != GEXEC_OK) {
    gexec_conn_opts_free(o);
    return rc;
  }
  *out = o;
  return GEXEC_OK;
}
