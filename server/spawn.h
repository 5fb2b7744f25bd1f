/**
 * @file spawn.h
 * Starting a run's launcher. Everything it needs is in the spawn spec,
 * computed before the fork (the daemon is multithreaded, so nothing
 * unsafe runs after it).
 *
 * The process gets its own session and process group (setsid), default
 * signal dispositions, an empty signal mask, the given cwd, and no file
 * descriptor beyond 0, 1 and 2.
 */
#ifndef GXD_SPAWN_H
#define GXD_SPAWN_H

#include <spawn.h>
#include <stddef.h>
#include <sys/types.h>

/** Everything needed to start one run's main process (the launcher).
 *  Borrowed. Only daemon-chosen values belong here: see launch_wire.h. */
typedef struct {
  const char *path;     /**< absolute path of the executable */
  char *const *argv;    /**< NULL-terminated */
  char *const *envp;    /**< NULL-terminated */
  const char *cwd;      /**< existing directory */
  int stdin_fd;         /**< becomes fd 0; -1 = /dev/null */
  int stdout_fd;        /**< becomes fd 1; -1 = /dev/null */
  int stderr_fd;        /**< becomes fd 2; -1 = /dev/null */
  int report_fd;        /**< becomes fd 3 (the launcher's report); <= 0 = none */
  int request_fd;       /**< becomes fd 4 (the launch request); <= 0 = none;
                             needs report_fd */
} gxd_spawn_spec;

/**
 * Starts the process described by @p spec. On success stores its pid
 * (which is also its process group and session id) and returns 0; on
 * failure returns -errno from the failed step (e.g. -ENOEXEC, -EACCES,
 * -ENOENT for a vanished cwd) and no process exists.
 */
int gxd_spawn(const gxd_spawn_spec *spec, pid_t *pid);

/**
 * Initializes @p at for any process gexecd starts: every signal at its
 * default disposition and an empty signal mask (gexecd's threads block
 * the signals its loop reads: server/signals.h), plus @p flags (e.g.
 * POSIX_SPAWN_SETSID). Returns 0 or an errno; destroy with
 * posix_spawnattr_destroy.
 */
int gxd_spawn_attr_init(posix_spawnattr_t *at, short flags);

#endif
