/* Internal to the child module (server/child.c): the seam below the
 * pipes, for the module's own unit tests (tests/server/child_io_test.c).
 *
 * gxd_child_start makes a run's stdio as pipes and hands them to
 * gxd__child_start_fds, which polls the daemon's ends as io channels
 * (child.h, "I/O channels"). A test passes other descriptors here: a
 * socketpair's end as both stdin and stdout is one channel that is
 * written and read, as a pty master will be. */
#ifndef GXD_CHILD_INTERNAL_H
#define GXD_CHILD_INTERNAL_H

#include "server/child.h"

/* A run's stdio as descriptors, by stream: 0 stdin, 1 stdout, 2 stderr.
 * daemon[] are the child module's ends (stdin is written, the outputs
 * read; -1: none). The same descriptor named for stdin and an output is
 * one channel; two outputs never share a daemon end (stderr into
 * stdout's pipe is daemon[2] = -1, launcher[2] = launcher[1]).
 * launcher[] go to gxd_launcher_spawn (-1: /dev/null) and may repeat. */
typedef struct {
  int daemon[3];
  int launcher[3];
} gxd__child_fds;

/* gxd_child_start with the stdio descriptors made by the caller. Every
 * descriptor in @p fds is taken, on failure too (each distinct one is
 * closed once); the daemon's ends are made non-blocking. Returns as
 * gxd_child_start. */
int gxd__child_start_fds(gxd_launcher *l, const gxl_run *run,
                         const gxl_request *req, const gxd__child_fds *fds,
                         const gxd_child_cbs *cbs, void *ud,
                         gxd_child **out);

#endif
