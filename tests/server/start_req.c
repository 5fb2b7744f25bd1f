/* A Start message for unit tests; see start_req.h. */
#include "tests/server/start_req.h"

#include <string.h>

void gxt_req_init(gxt_req *r, const char *const *args) {
  Gexec__V1__Start init = GEXEC__V1__START__INIT;
  memset(r, 0, sizeof *r);
  r->s = init;
  r->s.argv = r->argv;
  r->s.env = r->env;
  for (size_t i = 0; args && args[i] && i < GXT_REQ_MAX; i++) {
    r->argv[i] = (char *)args[i];
    r->s.n_argv = i + 1;
  }
}

void gxt_req_env(gxt_req *r, const char *key, const char *value) {
  Gexec__V1__Start__EnvEntry init = GEXEC__V1__START__ENV_ENTRY__INIT;
  size_t i = r->s.n_env++;
  r->ent[i] = init;
  r->ent[i].key = (char *)key;
  r->ent[i].value = (char *)value;
  r->env[i] = &r->ent[i];
}
