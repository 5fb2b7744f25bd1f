/**
 * @file exitcode.h
 * gexec's process exit status: how a remote run's end, or a failure to
 * run it, becomes the number a shell sees. Pure functions.
 *
 * | situation                                      | status   |
 * | ---------------------------------------------- | -------- |
 * | the program exited with N                      | N        |
 * | the program was killed by signal N             | 128 + N  |
 * | the daemon stopped it at its timeout           | 124      |
 * | found but not executable (PERMISSION_DENIED)   | 126      |
 * | not found (NOT_FOUND)                          | 127      |
 * | our stdout/stderr is a closed pipe             | 141      |
 * | usage error                                    | 2        |
 * | connect, transport, protocol, any other status | 255      |
 */
#ifndef GXC_EXITCODE_H
#define GXC_EXITCODE_H

#include "client/gexec.h"

/** Fixed exit statuses of gexec. */
enum {
  GXC_EXIT_USAGE = 2,        /**< bad command line */
  GXC_EXIT_TIMEOUT = 124,    /**< like coreutils timeout(1) */
  GXC_EXIT_NOEXEC = 126,     /**< like shells: found, cannot execute */
  GXC_EXIT_NOTFOUND = 127,   /**< like shells: command not found */
  GXC_EXIT_SIGNAL_BASE = 128,/**< plus the signal number */
  GXC_EXIT_EPIPE = 141,      /**< 128 + SIGPIPE, as a shell reports it */
  GXC_EXIT_ERROR = 255,      /**< like ssh: anything on our side */
};

/**
 * Maps a run's end to an exit status: 124 if it timed out (whatever
 * signal stopped it), else 128 + signal if killed, else the exit code.
 * Values that do not fit (a signal above 127, a code outside 0..255)
 * give 255, never a false success.
 */
int gxc_exit_from_exit(const gexec_exit *e);

/**
 * Maps a failed library call (@p rc != GEXEC_OK, details in @p err, which
 * may be NULL) to an exit status: 127 for status NOT_FOUND, 126 for
 * PERMISSION_DENIED, 255 for everything else.
 */
int gxc_exit_from_error(int rc, const gexec_error *err);

/**
 * Returns the gRPC status that describes a failed call: the daemon's
 * status for GEXEC_ESTATUS, else the closest one for a local failure
 * (ECONNECT: UNAVAILABLE, EINVAL: INVALID_ARGUMENT, ENOMEM:
 * RESOURCE_EXHAUSTED, ETIMEDOUT: DEADLINE_EXCEEDED, others: INTERNAL).
 */
int gxc_status_of(int rc, const gexec_error *err);

#endif
