/**
 * @file reaper.h
 * SIGCHLD handling for the daemon's loop. Children register their pid;
 * when one exits, its callback runs on the loop thread while the process
 * is still a zombie (not yet reaped), so its pid and process group id
 * cannot have been reused: the callback may kill the group, then reap.
 */
#ifndef GXD_REAPER_H
#define GXD_REAPER_H

#include <sys/types.h>
#include <uv.h>

/** Called when @p pid has exited and awaits reaping (waitid WNOWAIT). The
 *  callback must reap it (wait4) before returning. */
typedef void (*gxd_reaper_fn)(void *ud, pid_t pid);

/** Starts watching SIGCHLD on @p loop with a libuv signal handle.
 *  Returns 0 or a libuv error. gexecd does not: it blocks SIGCHLD in
 *  every thread and calls gxd_reaper_poll for each one its loop reads
 *  (server/signals.h). */
int gxd_reaper_init(uv_loop_t *loop);

/** Closes the signal watcher. */
void gxd_reaper_close(void);

/** Registers @p pid; at most one registration per pid. Returns 0 or -1. */
int gxd_reaper_add(pid_t pid, gxd_reaper_fn fn, void *ud);

/** Unregisters @p pid (no-op if absent). */
void gxd_reaper_remove(pid_t pid);

/** Checks for exited children now (also done on every SIGCHLD). */
void gxd_reaper_poll(void);

#endif
