#include "server/env.h"

#include <stdlib.h>
#include <string.h>

static int requested(const gxd_env_var *vars, size_t n, const char *name) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(vars[i].name, name) == 0) return 1;
  return 0;
}

/* Appends "NAME=VALUE" at @p p; returns the byte after its NUL. */
static char *put_var(char *p, const gxd_env_var *v) {
  return stpcpy(stpcpy(stpcpy(p, v->name), "="), v->value) + 1;
}

char **gxd_env_build_with(const gxd_env_var *defs, size_t ndefs,
                          const gxd_env_var *vars, size_t n) {
  size_t count = n + ndefs, bytes = 0, k = 0;
  if (ndefs > GXD_ENV_DEFAULTS_MAX) return NULL;
  for (size_t i = 0; i < ndefs; i++)
    bytes += strlen(defs[i].name) + strlen(defs[i].value) + 2;
  for (size_t i = 0; i < n; i++)
    bytes += strlen(vars[i].name) + strlen(vars[i].value) + 2;
  /* pointer array and strings share one block */
  char **env = malloc((count + 1) * sizeof *env + bytes);
  if (!env) return NULL;
  char *p = (char *)(env + count + 1);
  for (size_t i = 0; i < ndefs; i++) {
    if (requested(vars, n, defs[i].name)) continue;
    env[k++] = p;
    p = put_var(p, &defs[i]);
  }
  for (size_t i = 0; i < n; i++) {
    env[k++] = p;
    p = put_var(p, &vars[i]);
  }
  env[k] = NULL;
  return env;
}

char **gxd_env_build(const char *home, const gxd_env_var *vars, size_t n) {
  const gxd_env_var defs[3] = {
      {"PATH", GXD_DEFAULT_PATH}, {"HOME", home}, {"LANG", "C.UTF-8"}};
  return gxd_env_build_with(defs, 3, vars, n);
}

const char *gxd_env_get(char *const *envp, const char *name) {
  size_t len = strlen(name);
  for (; *envp; envp++)
    if (strncmp(*envp, name, len) == 0 && (*envp)[len] == '=')
      return *envp + len + 1;
  return NULL;
}
