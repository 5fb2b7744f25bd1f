/**
 * @file spawn.h
 * Starting a run's process. The spawn spec is the seam isolation plugs
 * into: everything a launcher needs is in it, computed before the fork
 * (the daemon is multithreaded, so nothing unsafe runs after it).
 *
 * The process gets its own session and process group (setsid), default
 * signal dispositions, an empty signal mask, the given cwd, and no file
 * descriptor beyond 0, 1 and 2.
 */
#ifndef GXD_SPAWN_H
#define GXD_SPAWN_H

#include <stddef.h>
#include <sys/types.h>

/** Everything needed to start one run's main process. Borrowed. */
typedef struct {
  const char *path;     /**< resolved executable (gxd_spawn_resolve) */
  char *const *argv;    /**< NULL-terminated; argv[0] as the client gave */
  char *const *envp;    /**< NULL-terminated, see env.h */
  const char *cwd;      /**< existing directory */
  int stdin_fd;         /**< becomes fd 0; -1 = /dev/null */
  int stdout_fd;        /**< becomes fd 1; -1 = /dev/null */
  int stderr_fd;        /**< becomes fd 2; -1 = /dev/null */
  int report_fd;        /**< becomes fd 3 (the launcher's report); <= 0 = none */
} gxd_spawn_spec;

/**
 * Finds the program @p name like execvp would, in @p path_env (a PATH
 * value) unless @p name contains '/'. Relative names and PATH elements
 * (including empty ones, meaning ".") are taken relative to @p cwd, the
 * directory the run will start in (NULL: the caller's own cwd), so what
 * is checked is what will be executed. Writes the file to @p out.
 * Returns 0, -ENOENT (nothing found), -EACCES (found, not executable or a
 * directory) or -ENAMETOOLONG.
 */
int gxd_spawn_resolve(const char *name, const char *path_env,
                      const char *cwd, char *out, size_t out_len);

/**
 * Starts the process described by @p spec. On success stores its pid
 * (which is also its process group and session id) and returns 0; on
 * failure returns -errno from the failed step (e.g. -ENOEXEC, -EACCES,
 * -ENOENT for a vanished cwd) and no process exists.
 */
int gxd_spawn(const gxd_spawn_spec *spec, pid_t *pid);

#endif
