/**
 * @file forkserver.h
 * gexec-launch --serve: the fork server. gexecd starts it once; it
 * stays single-threaded and forks one launcher per run (the code of
 * launch_run.h, without an exec or a dynamic loader), replies with the
 * launcher's pid, reaps it and reports its end (protocol: the fork-server
 * section of launch_wire.h).
 *
 * It receives no client bytes but the descriptors of a run (the request
 * memfd is read by the forked launcher, as in the standalone case).
 * When gexecd dies (the control socket reaches EOF, or our parent-death
 * signal arrives and our parent changed), it exits at once: every run's
 * launcher then gets its own parent-death signal and kills its run
 * (namespace, cgroup, descendants) before it goes.
 */
#ifndef GXL_FORKSERVER_H
#define GXL_FORKSERVER_H

#include <sys/types.h>

/** Serves runs on @p ctl_fd (a SOCK_SEQPACKET socket) for @p parent
 *  (exits if that is not, or stops being, our parent). Returns the
 *  process's exit status when the daemon is gone. */
int gxl_serve(int ctl_fd, pid_t parent);

#endif
