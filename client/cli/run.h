/**
 * @file run.h
 * `gexec run`: starts the program on the daemon, forwards our stdin and
 * our signals to it, and writes its output to our stdout and stderr as it
 * arrives (or captures it for --json).
 */
#ifndef GXC_RUN_H
#define GXC_RUN_H

#include "client/cli/args.h"
#include "client/gexec.h"

/**
 * Runs @p a->prog on @p target (NULL: the library's default), shown to
 * people as @p shown, connecting with @p opts (borrowed; TLS), and
 * returns gexec's exit status (exitcode.h).
 * Prints reasons for failures on stderr.
 *
 * Must be called from the main thread while it is the only thread: it
 * blocks SIGINT, SIGTERM and SIGHUP there, so that every thread created
 * afterwards (the library's included) inherits the mask and a thread of
 * its own receives them with sigwait. SIGPIPE must already be ignored.
 */
int gxc_run(const gxc_args *a, const char *target, const char *shown,
            const gexec_conn_opts *opts);

/** Fills @p s from the run options of @p a (borrowing its strings). */
void gxc_build_spec(const gxc_args *a, gexec_spec *s);

#endif
