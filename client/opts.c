/* Connection options (an opaque object) and the caller structs that carry
 * their size (gexec_spec, gexec_run_opts). See "ABI" in gexec.h. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client/internal.h"

int gexec_conn_opts_new(gexec_conn_opts **out) {
  gexec_conn_opts *o = calloc(1, sizeof *o);
  if (!o) return GEXEC_ENOMEM;
  *out = o;
  return GEXEC_OK;
}

void gexec_conn_opts_free(gexec_conn_opts *o) {
  if (!o) return;
  free(o->ca_file);
  free(o->cert_file);
  free(o->key_file);
  free(o->server_name);
  free(o);
}

int gexec_conn_opts_set_connect_timeout(gexec_conn_opts *o, int64_t ms) {
  if (!o) return GEXEC_EINVAL;
  o->connect_timeout_ms = ms;
  return GEXEC_OK;
}

int gexec_conn_opts_set_lazy(gexec_conn_opts *o, int on) {
  if (!o) return GEXEC_EINVAL;
  o->lazy = on != 0;
  return GEXEC_OK;
}

int gexec_conn_opts_set_wait_for_ready(gexec_conn_opts *o, int on) {
  if (!o) return GEXEC_EINVAL;
  o->wait_for_ready = on != 0;
  return GEXEC_OK;
}

/* Longest path accepted (PATH_MAX). */
#define PATH_MAX_LEN 4096

/* A path argument: NULL, or non-empty and at most PATH_MAX_LEN bytes. */
static int path_ok(const char *p) {
  return !p || (*p && strnlen(p, PATH_MAX_LEN + 1) <= PATH_MAX_LEN);
}

/* Replaces *@p dst with a copy of @p src (NULL: none). */
static int replace(char **dst, const char *src) {
  char *d = src ? strdup(src) : NULL;
  if (src && !d) return GEXEC_ENOMEM;
  free(*dst);
  *dst = d;
  return GEXEC_OK;
}

int gexec_conn_opts_set_tls(gexec_conn_opts *o, const char *ca_file,
                            const char *cert_file, const char *key_file) {
  if (!o || !path_ok(ca_file) || !path_ok(cert_file) || !path_ok(key_file) ||
      !cert_file != !key_file || (cert_file && !ca_file))
    return GEXEC_EINVAL;
  gexec_conn_opts copy = {0};
  if (replace(&copy.ca_file, ca_file) != GEXEC_OK ||
      replace(&copy.cert_file, cert_file) != GEXEC_OK ||
      replace(&copy.key_file, key_file) != GEXEC_OK) {
    free(copy.ca_file);
    free(copy.cert_file);
    return GEXEC_ENOMEM;
  }
  free(o->ca_file);
  free(o->cert_file);
  free(o->key_file);
  o->ca_file = copy.ca_file;
  o->cert_file = copy.cert_file;
  o->key_file = copy.key_file;
  return GEXEC_OK;
}

int gexec_conn_opts_set_tls_server_name(gexec_conn_opts *o,
                                        const char *name) {
  if (!o || (name && (!*name || strnlen(name, 254) > 253)))
    return GEXEC_EINVAL;
  return replace(&o->server_name, name);
}

int gexec_conn_opts_set_keepalive(gexec_conn_opts *o, int64_t time_ms,
                                  int64_t timeout_ms) {
  if (!o || (time_ms > 0 && time_ms < GEXEC_KEEPALIVE_MIN_MS) ||
      time_ms > INT32_MAX || (timeout_ms != 0 && timeout_ms < 1000) ||
      timeout_ms > INT32_MAX)
    return GEXEC_EINVAL;
  o->keepalive_time_ms = time_ms < 0 ? -1 : (int)time_ms;
  o->keepalive_timeout_ms = (int)timeout_ms;
  return GEXEC_OK;
}

int gexec__load(void *full, size_t full_size, const void *user,
                size_t size, size_t base) {
  size_t n = size ? size : base;
  /* A program built against a newer gexec.h: the fields we do not know
   * must be unset (zero), as clone3(2) and openat2(2) require, so that
   * nothing it asked for is silently ignored. */
  for (size_t i = full_size; i < n; i++)
    if (((const unsigned char *)user)[i] != 0) return GEXEC_EINVAL;
  if (n > full_size) n = full_size;
  memset(full, 0, full_size);
  memcpy(full, user, n);
  ((size_t *)full)[0] = full_size; /* every such struct starts with size */
  return GEXEC_OK;
}
