#include "server/env.h"

#include <stdlib.h>
#include <string.h>

static int requested(const gxd_env_var *vars, size_t n, const char *name) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(vars[i].name, name) == 0) return 1;
  return 0;
}

char **gxd_env_build(const char *home, const gxd_env_var *vars, size_t n) {
  const char *defs[3][2] = {
      {"PATH", GXD_DEFAULT_PATH}, {"HOME", home}, {"LANG", "C.UTF-8"}};
  size_t count = n, bytes = 0;
  for (int i = 0; i < 3; i++)
    bytes += strlen(defs[i][0]) + strlen(defs[i][1]) + 2;
  for (size_t i = 0; i < n; i++)
    bytes += strlen(vars[i].name) + strlen(vars[i].value) + 2;
  count += 3;
  /* pointer array and strings share one block */
  char **env = malloc((count + 1) * sizeof *env + bytes);
  if (!env) return NULL;
  char *p = (char *)(env + count + 1);
  size_t k = 0;
  for (int i = 0; i < 3; i++) {
    if (requested(vars, n, defs[i][0])) continue;
    env[k++] = p;
    p = stpcpy(stpcpy(stpcpy(p, defs[i][0]), "="), defs[i][1]) + 1;
  }
  for (size_t i = 0; i < n; i++) {
    env[k++] = p;
    p = stpcpy(stpcpy(stpcpy(p, vars[i].name), "="), vars[i].value) + 1;
  }
  env[k] = NULL;
  return env;
}

const char *gxd_env_get(char *const *envp, const char *name) {
  size_t len = strlen(name);
  for (; *envp; envp++)
    if (strncmp(*envp, name, len) == 0 && (*envp)[len] == '=')
      return *envp + len + 1;
  return NULL;
}
