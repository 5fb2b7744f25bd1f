/**
 * @file env.h
 * Builds a run's environment: a small fixed default (PATH, HOME, LANG;
 * for a run as a named user also USER, LOGNAME, SHELL) plus the
 * variables the client asked for; never the daemon's own.
 */
#ifndef GXD_ENV_H
#define GXD_ENV_H

#include <stddef.h>

/** The default PATH of every run. */
#define GXD_DEFAULT_PATH \
  "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/** One requested variable. */
typedef struct {
  const char *name;
  const char *value;
} gxd_env_var;

/**
 * Builds a NULL-terminated "NAME=VALUE" array: PATH, HOME=@p home, LANG,
 * then @p vars (a requested name replaces a default of the same name).
 * The result is one allocation: release it with free(). Names must already
 * be validated. Returns NULL when out of memory.
 */
char **gxd_env_build(const char *home, const gxd_env_var *vars, size_t n);

/** Most defaults gxd_env_build_with takes. */
#define GXD_ENV_DEFAULTS_MAX 8

/**
 * As gxd_env_build, with the defaults @p defs (@p ndefs, at most
 * GXD_ENV_DEFAULTS_MAX, names distinct) in place of PATH, HOME and LANG:
 * each comes first, in order, unless @p vars names it too.
 */
char **gxd_env_build_with(const gxd_env_var *defs, size_t ndefs,
                          const gxd_env_var *vars, size_t n);

/** Returns the value of @p name in @p envp, or NULL. */
const char *gxd_env_get(char *const *envp, const char *name);

#endif
