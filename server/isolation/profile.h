/**
 * @file profile.h
 * Isolation profiles: what a run is allowed to see and do.
 *
 *  - host:       no namespaces. Own session, cgroup limits when available,
 *                rlimits, whole-tree kill through the launcher (subreaper
 *                sweep / cgroup kill), clean env, closed fds.
 *  - baseline:   + own PID, IPC and UTS namespaces and a mount namespace
 *                with a fresh /proc. Host filesystem and network as is.
 *  - restricted: + user namespace (uid 1000 inside, an unprivileged uid
 *                outside), network namespace with loopback only, read-only
 *                root with a private tmpfs /tmp, writable cwd,
 *                no_new_privs, no capabilities, the seccomp filter.
 */
#ifndef GXI_PROFILE_H
#define GXI_PROFILE_H

/** Mechanisms a profile asks for. */
typedef struct {
  const char *name;
  int pid_ns, ipc_ns, uts_ns, mount_ns; /* mount_ns implies a fresh /proc */
  int user_ns, net_ns;
  int ro_root;      /**< read-only root, private /tmp, writable cwd */
  int no_new_privs;
  int drop_caps;
  int seccomp;
} gxi_profile;

/** Returns the built-in profile called @p name, or NULL. */
const gxi_profile *gxi_profile_find(const char *name);

/** Removes mechanism @p mech ("user", "net", "pid", "ipc", "uts", "mount",
 *  "seccomp") from @p p, with what depends on it. Returns 0, 1 for
 *  "cgroup" (not a profile field: the caller handles it), -1 if unknown. */
int gxi_profile_without(gxi_profile *p, const char *mech);

/** The uid and gid a restricted run has inside its user namespace. */
#define GXI_INNER_UID 1000
/** The host uid/gid that inner root and the inner user map to. */
#define GXI_OUTER_ROOT_UID 100000
#define GXI_OUTER_USER_UID 65534

#endif
