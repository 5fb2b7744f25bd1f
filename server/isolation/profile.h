/**
 * @file profile.h
 * Isolation profiles: what a run is allowed to see and do.
 *
 *  - host:       no namespaces. Own session, cgroup limits when available,
 *                rlimits, whole-tree kill through the launcher (subreaper
 *                sweep / cgroup kill), clean env, closed fds.
 *  - baseline:   + own PID, IPC and UTS namespaces and a mount namespace
 *                with a fresh /proc; root with a container runtime's
 *                default capabilities only (GXI_BASELINE_CAPS). Host
 *                filesystem and network as is.
 *  - restricted: + user namespace (uid 1000 inside, an unprivileged uid
 *                outside), network namespace with loopback only, read-only
 *                root with a private tmpfs /tmp, writable cwd,
 *                no_new_privs, no capabilities, the seccomp filter.
 */
#ifndef GXI_PROFILE_H
#define GXI_PROFILE_H

/** Mechanisms a profile asks for. A profile's full tier is all of its
 *  namespaces, seccomp when set, and cgroup limits when needs_cgroup; a
 *  host missing one serves the profile only if the operator allowed it
 *  reduced (gexecd --allow-reduced). */
typedef struct {
  const char *name;
  int pid_ns, ipc_ns, uts_ns, mount_ns; /* mount_ns implies a fresh /proc */
  int user_ns, net_ns;
  int ro_root;      /**< read-only root, private /tmp, writable cwd */
  int no_new_privs;
  int drop_caps;    /**< uid GXI_INNER_UID, no capabilities at all */
  int root_caps;    /**< stays root, with only GXI_BASELINE_CAPS */
  int seccomp;
  int needs_cgroup; /**< default memory and pids limits are part of it */
} gxi_profile;

/** Capabilities a baseline run keeps: a container runtime's default set
 *  less MKNOD (no device cgroup guards the host's devices here).
 *  Everything else, CAP_SYS_ADMIN, SYS_PTRACE, SYS_MODULE, SYS_BOOT,
 *  DAC_READ_SEARCH, NET_ADMIN, BPF, ... is dropped from the bounding
 *  set: the run cannot unmount its /proc, trace, call init_module or
 *  reboot. It is still root on the host's filesystem (DAC_OVERRIDE):
 *  not a boundary against its caller (see README). */
#define GXI_BASELINE_CAPS                                                \
  ((1ull << 0) /* CHOWN */ | (1ull << 1) /* DAC_OVERRIDE */ |            \
   (1ull << 3) /* FOWNER */ | (1ull << 4) /* FSETID */ |                 \
   (1ull << 5) /* KILL */ | (1ull << 6) /* SETGID */ |                   \
   (1ull << 7) /* SETUID */ | (1ull << 8) /* SETPCAP */ |                \
   (1ull << 10) /* NET_BIND_SERVICE */ | (1ull << 13) /* NET_RAW */ |    \
   (1ull << 18) /* SYS_CHROOT */ | (1ull << 29) /* AUDIT_WRITE */ |      \
   (1ull << 31) /* SETFCAP */)

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
