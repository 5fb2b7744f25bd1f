/**
 * @file validate.h
 * Checks a run request before anything is started. Each check returns a
 * gRPC status (GX_STATUS_OK or GX_STATUS_INVALID_ARGUMENT) and, on
 * failure, a reason a person can act on.
 */
#ifndef GXD_VALIDATE_H
#define GXD_VALIDATE_H

#include <stddef.h>
#include <stdint.h>

#include "gexec/v1/exec.pb-c.h"

/*
 * The client's PATH (an env entry named PATH) is searched element by
 * element when argv[0] has no '/', with a stat per element: unbounded, a
 * PATH of a million ':' stalled the daemon. These bound that search.
 */
/** Longest PATH value accepted, in bytes (PATH_MAX-sized). */
#define GXD_MAX_PATH_BYTES 4096
/** Most ':'-separated elements in a PATH value. */
#define GXD_MAX_PATH_ENTRIES 128

/*
 * Accepted ranges of Start.limits; 0 always means "the profile's default"
 * and is outside these ranges. gexecd's --max-memory, --max-pids,
 * --max-cpu-time and --max-open-files are held to the same ranges.
 */
/** Smallest memory limit (8 MiB): a cgroup memory limit below a few MiB
 * is reached while the run's init execs the command (page tables, the
 * loader, libc), so the command could not even start. */
#define GXD_LIMIT_MEMORY_MIN (8ull << 20)
/** Largest memory limit (1 PiB, 2^50): more than any host has; values
 * like 2^64-1 are meaningless and make the cgroup write fail. */
#define GXD_LIMIT_MEMORY_MAX (1ull << 50)
/** Smallest pids limit: the run's init (pid 1 of its namespace) and the
 * command it forks are both in the run's cgroup, so with 1 the command
 * cannot be started. */
#define GXD_LIMIT_PIDS_MIN 2ull
/** Largest pids limit: the kernel's PID_MAX_LIMIT on 64-bit (2^22); no
 * more tasks can exist, and larger values make the cgroup write fail. */
#define GXD_LIMIT_PIDS_MAX 4194304ull
/** Smallest CPU time limit, ms (RLIMIT_CPU counts whole seconds, and the
 * launcher rounds up, so 1 ms means 1 s of CPU). */
#define GXD_LIMIT_CPU_TIME_MIN_MS 1ull
/** Largest CPU time limit: 365 days in ms; beyond it the value means
 * nothing, and near 2^64 the conversion to seconds overflows. */
#define GXD_LIMIT_CPU_TIME_MAX_MS 31536000000ull
/** Smallest open-files limit: the dynamic loader and libc open a few
 * descriptors beyond 0-2 (the loader cache, each library), and the
 * launcher may hold an exec-status descriptor until the command execs. */
#define GXD_LIMIT_OPEN_FILES_MIN 16ull
/** Default largest open-files limit: the kernel's default fs.nr_open,
 * above which setrlimit(RLIMIT_NOFILE) fails. gxd_limits.max_open_files
 * holds the value in force (lowered where fs.nr_open is lower). */
#define GXD_LIMIT_OPEN_FILES_MAX 1048576ull

/** Bounds applied to a Start message. */
typedef struct {
  size_t max_argc;          /**< argv elements */
  size_t max_envc;          /**< env entries */
  size_t max_arg_bytes;     /**< argv + env bytes together (ARG_MAX-safe) */
  uint64_t max_timeout_ms;  /**< the daemon's maximum run time */
  uint32_t max_grace_ms;    /**< the largest kill_grace_ms accepted */
  uint64_t max_open_files;  /**< the largest limits.open_files accepted */
} gxd_limits;

/** Default bounds: 4096 args, 1024 env entries, 1 MiB, 24 h, 60 s,
 * GXD_LIMIT_OPEN_FILES_MAX open files. */
extern const gxd_limits gxd_default_limits;

/**
 * Scans the serialized RunRequest @p buf for NUL bytes inside the string
 * fields of `start` (argv, env names and values, cwd, profile, user).
 * protobuf-c turns strings into C strings, which would silently cut them
 * at a NUL (a user "alice\0x" would become "alice"), so this runs on the
 * wire bytes. Returns the offending field's name, or NULL.
 */
const char *gxd_wire_find_nul(const uint8_t *buf, size_t len);

/**
 * Validates @p s against @p lim. Returns GX_STATUS_OK, or
 * GX_STATUS_INVALID_ARGUMENT with the reason in @p why (at most
 * @p why_len bytes) for the first problem found, in this order: argv
 * empty; too many argv elements or env entries; a string that is not
 * valid UTF-8 (argv, env names and values, cwd, profile, user: "argv[2] is not
 * valid UTF-8 (byte offset 5)"); an env name empty or with '='; a PATH
 * over GXD_MAX_PATH_ENTRIES elements or GXD_MAX_PATH_BYTES bytes; argv
 * and env over max_arg_bytes; cwd relative or too long; timeout_ms or
 * kill_grace_ms over their maxima; a limit outside its range ("limits.pids
 * 1 is outside 2..4194304 (0 means the profile's default)"); bad modes;
 * a user that is not a valid name (gxd_validate_user_name; empty means
 * none).
 */
int gxd_validate_start(const Gexec__V1__Start *s, const gxd_limits *lim,
                       char *why, size_t why_len);

/**
 * Returns the offset of the first byte of the first sequence in the
 * NUL-terminated @p s that is not valid UTF-8, or -1 when all of it is
 * valid. Strict (RFC 3629): overlong forms, surrogates (U+D800..DFFF),
 * code points above U+10FFFF, stray continuation bytes and truncated
 * sequences are all invalid.
 */
long gxd_utf8_invalid_at(const char *s);

/** Longest user name accepted in Start.user, in bytes (useradd's limit
 *  on Linux, and utmp's). */
#define GXD_USER_NAME_MAX 32

/**
 * Checks a user name (Start.user) before it reaches the user database:
 * 1 to GXD_USER_NAME_MAX bytes of [A-Za-z0-9_.-], not starting with '-'
 * (an option to a tool, a negative number to a parser) and not all
 * digits (a name, never a uid: "1000" could be read as either). Returns
 * GX_STATUS_OK, or GX_STATUS_INVALID_ARGUMENT with the reason in @p why.
 */
int gxd_validate_user_name(const char *name, char *why, size_t why_len);

/** Validates a signal number (1..64); returns a gx_status. */
int gxd_validate_signal(int32_t number, char *why, size_t why_len);

#endif
