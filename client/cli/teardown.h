/**
 * @file teardown.h
 * How gexec ends once its remote work is done: without closing.
 *
 * gexec_conn_close destroys the gRPC channel (its transport is closed
 * through gRPC's own threads) and joins libgexec's completion-queue
 * thread: 0.3 ms on an idle machine, 1-4 ms when others compete for the
 * CPU, out of a 5-7 ms `gexec run -n -- true`. A process about to exit
 * need not pay it: once every run has ended (or been cancelled) and all
 * output is written, gexec leaves the connection open and ends with
 * _exit(2), which runs neither atexit handlers nor C++ destructors while
 * gRPC's threads are still alive. The kernel closes the socket; the
 * daemon then ends anything still running on that connection, as for a
 * killed client.
 *
 * Sanitizer builds (ASan, TSan) tear everything down instead, so that
 * LeakSanitizer checks at exit that nothing leaked and TSan sees the
 * threads joined: the tests run both paths (default and sanitizer
 * configurations).
 */
#ifndef GXC_TEARDOWN_H
#define GXC_TEARDOWN_H

#include "client/gexec.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
/** 1: close connections and exit() normally (sanitizer builds). */
#define GXC_FULL_TEARDOWN 1
#else
#define GXC_FULL_TEARDOWN 0
#endif

/**
 * Releases @p conn (may be NULL) at the end of the process: closes it
 * when GXC_FULL_TEARDOWN, else leaves it to gxc_exit. Every gexec_proc on
 * it must have been freed.
 */
void gxc_conn_release(gexec_conn *conn);

/**
 * Flushes stdio and ends the process with @p status: exit() when
 * GXC_FULL_TEARDOWN, else _exit().
 */
__attribute__((noreturn)) void gxc_exit(int status);

#endif
