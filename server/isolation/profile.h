/**
 * @file profile.h
 * The profile table's vocabulary: isolation mechanisms as bits, the
 * three built-in profiles, and a profile as a set of mechanisms plus its
 * default limits. The daemon (its profile table, the tier probe, the run
 * plan), the launcher and the fork server all speak these bits; names
 * exist only at the edges (flags, files, logs, the wire).
 *
 *  - host:       no mechanisms. Own process group, cgroup tracking when
 *                available, rlimits, whole-tree kill through the launcher
 *                (subreaper sweep / cgroup kill), clean env, closed fds.
 *  - baseline:   PID, IPC, UTS and mount namespaces (a fresh /proc); root
 *                with a container runtime's default capabilities only
 *                (GXI_MECH_CAPS, GXI_BASELINE_CAPS). Host filesystem and
 *                network as is.
 *  - restricted: + user namespace (uid 1000 inside, an unprivileged uid
 *                outside), network namespace with loopback only, read-only
 *                root with a private tmpfs /tmp, writable cwd,
 *                no_new_privs, no capabilities, the seccomp filter, and
 *                cgroup memory and pids limits by default.
 */
#ifndef GXI_PROFILE_H
#define GXI_PROFILE_H

#include <stddef.h>
#include <stdint.h>

/** One isolation mechanism. A profile is a bitwise OR of these. */
typedef enum {
  GXI_MECH_PID = 1u << 0,     /**< PID namespace (the run's init) */
  GXI_MECH_IPC = 1u << 1,     /**< IPC namespace */
  GXI_MECH_UTS = 1u << 2,     /**< UTS namespace */
  GXI_MECH_MOUNT = 1u << 3,   /**< mount namespace, fresh /proc */
  GXI_MECH_USER = 1u << 4,    /**< user namespace; the command runs as
                                   GXI_INNER_UID with no capabilities */
  GXI_MECH_NET = 1u << 5,     /**< network namespace, loopback only */
  GXI_MECH_SECCOMP = 1u << 6, /**< the seccomp filter (seccomp.h) */
  GXI_MECH_CGROUP = 1u << 7,  /**< cgroup limits are part of the profile's
                                   full tier (its default limits) */
  GXI_MECH_RO_ROOT = 1u << 8, /**< read-only root, private /tmp and
                                   /dev/shm, writable cwd (needs MOUNT) */
  GXI_MECH_NNP = 1u << 9,     /**< no_new_privs */
  GXI_MECH_CAPS = 1u << 10,   /**< root keeps only GXI_BASELINE_CAPS (when
                                   USER is off); read-only kernel tunables
                                   (needs MOUNT for those) */
} gxi_mech;

/** Every mechanism bit. */
#define GXI_MECH_ALL ((1u << 11) - 1)
/** The namespace bits. */
#define GXI_MECH_NAMESPACES                                              \
  (GXI_MECH_PID | GXI_MECH_IPC | GXI_MECH_UTS | GXI_MECH_MOUNT |         \
   GXI_MECH_USER | GXI_MECH_NET)

/** The built-in profiles; other profiles start from one of these. */
typedef enum {
  GXI_PROFILE_HOST,
  GXI_PROFILE_BASELINE,
  GXI_PROFILE_RESTRICTED,
  GXI_PROFILE_BUILTINS /**< how many */
} gxi_builtin;

/** Longest profile name. */
#define GXI_PROFILE_NAME_MAX 32

/** Per-run resource limits (0 = none). */
typedef struct {
  uint64_t memory_bytes; /**< cgroup memory limit */
  uint64_t pids;         /**< cgroup pids limit */
  uint64_t cpu_time_ms;  /**< RLIMIT_CPU */
  uint64_t open_files;   /**< RLIMIT_NOFILE */
} gxi_limits;

/** One profile: a built-in, or one an operator defined from one. */
typedef struct {
  char name[GXI_PROFILE_NAME_MAX + 1];
  gxi_builtin base;    /**< the built-in it starts from (itself, for one) */
  uint32_t mechs;      /**< gxi_mech bits */
  gxi_limits defaults; /**< limits a run gets when it asks for none */
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

/** The built-in profile @p id (never NULL for a valid id). */
const gxi_profile *gxi_profile_builtin(gxi_builtin id);

/** The built-in profile called @p name, or -1. */
int gxi_profile_builtin_find(const char *name);

/** The name of mechanism @p m (one bit): "pid", "ipc", "uts", "mount",
 *  "user", "net", "seccomp", "cgroup", "ro-root", "nnp", "caps". */
const char *gxi_mech_name(gxi_mech m);

/** The mechanism called @p name (as gxi_mech_name), or 0. */
uint32_t gxi_mech_find(const char *name);

/**
 * @p mechs without @p remove and what cannot stand without it: no mount
 * namespace means no read-only root. Removing USER keeps CAPS, so a
 * restricted run without its user namespace is root with baseline's
 * capabilities, never full root.
 */
uint32_t gxi_mech_without(uint32_t mechs, uint32_t remove);

/** Writes the names of the namespace bits of @p mechs joined by '+'
 *  ("pid+ipc+uts+mount"), or "none". Returns @p buf. */
char *gxi_mech_namespaces(uint32_t mechs, char *buf, size_t len);

/** Whether the command runs as root with GXI_BASELINE_CAPS only. */
static inline int gxi_mech_root_caps(uint32_t m) {
  return (m & GXI_MECH_CAPS) && !(m & GXI_MECH_USER);
}

/** The uid and gid a restricted run has inside its user namespace. */
#define GXI_INNER_UID 1000
/** The host uid/gid that inner root and the inner user map to. */
#define GXI_OUTER_ROOT_UID 100000
#define GXI_OUTER_USER_UID 65534

#endif
