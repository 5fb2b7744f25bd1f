/* Internal to the launcher module (server/launcher.c): the seam for its
 * unit test (tests/server/launcher_test.c), which plays the fork server
 * itself on the other end of a socket pair.
 *
 * gxd__launcher_new_attached makes a fork-server launcher whose server is
 * already connected on @p ctl (a SOCK_SEQPACKET socket, taken) instead of
 * starting gexec-launch --serve; @p pid is the server's pid (0: none to
 * reap or kill). Should that server go, the next run starts a real one at
 * @p path. Returns as gxd_launcher_new. */
#ifndef GXD_LAUNCHER_INTERNAL_H
#define GXD_LAUNCHER_INTERNAL_H

#include "server/launcher.h"

int gxd__launcher_new_attached(uv_loop_t *loop, const char *path, int ctl,
                               pid_t pid, gxd_launcher **out);

/* How long a spawn waits for the server's answer, in ms. */
#define GXD__LAUNCHER_REPLY_WAIT_MS 1000

#endif
