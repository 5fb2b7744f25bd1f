/**
 * @file resolve.h
 * Finding the program of a run the way execvp(3) would. Used by
 * gexec-launch inside the run's sandbox, as the run's user, just before
 * the exec: the daemon itself never looks a client's path up.
 */
#ifndef GXD_RESOLVE_H
#define GXD_RESOLVE_H

#include <stddef.h>

/** PATH used when the environment has none (as glibc's execvp). */
#define GXD_RESOLVE_DEFAULT_PATH "/bin:/usr/bin"

/**
 * Finds the program @p name in @p path_env (a PATH value) unless @p name
 * contains '/'. Relative names and PATH elements (including empty ones,
 * meaning ".") are taken relative to @p cwd (NULL: the caller's own cwd),
 * so what is checked is what will be executed. Writes the file to
 * @p out. Returns 0, -ENOENT (nothing found), -EACCES (found, but not an
 * executable regular file) or -ENAMETOOLONG.
 */
int gxd_resolve(const char *name, const char *path_env, const char *cwd,
                char *out, size_t out_len);

#endif
