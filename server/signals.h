/**
 * @file signals.h
 * The daemon's signals (SIGTERM, SIGINT, SIGHUP, SIGCHLD), read on its
 * loop from a signalfd instead of by a handler.
 *
 * Why: gexecd has many threads (gRPC's, libuv's pool, facts probes). A
 * process-directed signal goes to any thread that does not block it,
 * and its handler runs there. Under ThreadSanitizer a handler is run at
 * once only when the thread is in a call TSan knows blocks; otherwise it
 * waits for that thread's next intercepted call. gRPC's idle threads
 * wait in futexes TSan does not see, sometimes for good: CI saw a
 * SIGTERM never acted on (no drain after 60 s, the loop idle). With
 * these signals blocked in every thread, the kernel keeps them pending
 * for the process, no handler runs anywhere, and the loop reads them.
 *
 * Children must not inherit the mask: every exec path resets it
 * (spawn.c and tiers.c's probes: POSIX_SPAWN_SETSIGMASK; the fork
 * server's children, its spare and the per-run launcher: sigprocmask
 * before exec).
 *
 * The signals are acted on only while the loop runs: one that comes
 * during start-up (a few seconds at most: the isolation probes, the
 * instance sweep) is acted on once gexecd is ready.
 */
#ifndef GXD_SIGNALS_H
#define GXD_SIGNALS_H

#include <uv.h>

/** Blocks SIGTERM, SIGINT, SIGHUP and SIGCHLD in the calling thread.
 *  Call first thing in main, before any thread exists: threads created
 *  later inherit the mask. Returns 0, or -1 with errno. */
int gxd_signals_block(void);

/** Called on the loop for each of the blocked signals received. */
typedef void (*gxd_signals_fn)(void *ud, int sig);

/** A watcher of the blocked signals on a loop. */
typedef struct {
  uv_poll_t poll;
  int fd; /**< the signalfd; -1 when closed */
  gxd_signals_fn fn;
  void *ud;
} gxd_signals;

/** Starts reading the blocked signals on @p loop; @p fn gets each one.
 *  Returns 0, or a negative libuv error (nothing to close then). */
int gxd_signals_start(gxd_signals *w, uv_loop_t *loop, gxd_signals_fn fn,
                      void *ud);

/** Stops the watcher and closes its handle (the loop finishes closing
 *  it); signals received afterwards stay pending. */
void gxd_signals_close(gxd_signals *w);

#endif
