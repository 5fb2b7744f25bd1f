/**
 * @file as_user.h
 * Test support: a connection to a unix socket made by a process of
 * another identity. A child process takes the uid, gid and supplementary
 * groups given, connects, and hands the connected socket back to the test
 * process over a socket pair (SCM_RIGHTS): the kernel's SO_PEERCRED on
 * the server's side is then the child's, while the test itself speaks on
 * the socket (fd_call.h). The child only makes system calls between fork
 * and _exit, so it is safe from a process with threads (gRPC's).
 */
#ifndef GXT_AS_USER_H
#define GXT_AS_USER_H

#include <stddef.h>
#include <sys/types.h>

/** Our end of the socket pair is moved to a descriptor number at least
 *  this high, so that the lowest free numbers are the same after
 *  gxt_as_user_connect as before (a test may wait for the server to
 *  accept under a given number). */
#define GXT_AS_USER_FD_MIN 256

/** A connection under way. */
typedef struct {
  pid_t pid; /**< the child (it has exited or is about to) */
  int sp;    /**< our end of the socket pair */
} gxt_as_user;

/**
 * Forks a child that sets its supplementary groups to @p groups
 * (@p ngroups of them), its gid to @p gid and its uid to @p uid, then
 * connects to the unix socket @p path (relative paths are resolved from
 * the current directory, which the child needs search permission on) and
 * sends the socket or its errno back. The socket stays in flight until
 * gxt_as_user_take: this process gets no descriptor before then. Returns
 * 0, or -errno if the child could not be started.
 */
int gxt_as_user_connect(const char *path, uid_t uid, gid_t gid,
                        const gid_t *groups, size_t ngroups, gxt_as_user *a);

/** Receives what the child sent and reaps it: the connected socket
 *  (close-on-exec; the caller owns it), or -errno of the child's failure
 *  (e.g. -EACCES: no permission to connect). */
int gxt_as_user_take(gxt_as_user *a);

#endif
