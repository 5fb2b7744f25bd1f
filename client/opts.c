/* Connection options (an opaque object) and the caller structs that carry
 * their size (gexec_spec, gexec_run_opts). See "ABI" in gexec.h. */
#include <stdlib.h>
#include <string.h>

#include "client/internal.h"

int gexec_conn_opts_new(gexec_conn_opts **out) {
  gexec_conn_opts *o = calloc(1, sizeof *o);
  if (!o) return GEXEC_ENOMEM;
  *out = o;
  return GEXEC_OK;
}

void gexec_conn_opts_free(gexec_conn_opts *o) { free(o); }

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
