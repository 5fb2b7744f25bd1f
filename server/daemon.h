/**
 * @file daemon.h
 * gexecd's top level: listeners, the call router (Run, Health/Check,
 * anything else UNIMPLEMENTED), the session limit, and draining on
 * SIGTERM/SIGINT.
 */
#ifndef GXD_DAEMON_H
#define GXD_DAEMON_H

#include "server/config.h"
#include "server/profiles.h"

/** Runs the daemon with the profile table @p profiles (borrowed; its
 *  names of @p cfg checked: gxd_profiles_check_flags) until it has
 *  drained. Returns the process exit code: 0 after a clean drain, 1 if
 *  it could not start (reason logged). */
int gxd_daemon_run(const gxd_config *cfg, const gxd_profiles *profiles);

#endif
