/**
 * @file launch_wire.h
 * The contract between gexecd and gexec-launch, in one place: what the
 * daemon hands the launcher, and the records the launcher sends back.
 *
 * The launcher runs as the daemon's user (root) in the host namespaces
 * before any sandbox exists, so nothing a client sent may reach its
 * environment, its argv parsing or its loader. The daemon therefore
 * starts it with a fixed environment and an argv of its own making
 * (profile, limits, fds), and hands the client's argv, env and cwd over
 * out of band, as a request in a sealed memfd: a length-checked binary
 * record that the launcher decodes into the command's execve arguments
 * and applies only in the command's own process. No field is interpreted
 * by the launcher beyond that.
 *
 * Request layout (all integers little-endian u32):
 *   "GXLRQ3\n\0" magic (8 bytes) | argc | envc | allowc | strings_len |
 *   has_ids (0 or 1) | uid | gid | ngroups | groups[0] ... groups[ngroups-1] |
 *   strings: cwd NUL argv[0] NUL ... argv[argc-1] NUL env[0] NUL ...
 *            allow[0] NUL ...
 * strings_len counts every byte of the strings, which must hold exactly
 * 1 + argc + envc + allowc NUL-terminated strings and nothing after them.
 * With has_ids 0, uid, gid and ngroups are 0 (the profile's own ids);
 * with 1, ngroups is at most GXL_REQUEST_MAX_GROUPS and no id is
 * 0xFFFFFFFF (which set*id(2) read as "unchanged"). Version 2 (without
 * the ids) is refused, as is anything not exactly this.
 *
 * The ids are the run's user (Start.user, resolved by the daemon): in
 * host and baseline the command's process takes them (setgroups, setgid,
 * setuid, in that order, all checked, after the sandbox is built and
 * before its cwd and program are looked up); a failure is the exec
 * record what=user. In restricted (GXI_MECH_USER) the command keeps
 * GXI_INNER_UID inside and the launcher maps it to uid and gid on the
 * host instead of GXI_OUTER_USER_UID (groups are not used).
 *
 * The allow list is the program constraint of the run's plan: when it is
 * not empty, the program the command's process found (PATH lookup as the
 * run's user, inside the sandbox) must be allowed by one entry, and that
 * very open file is executed; else the command fails with what=denied
 * errno=EPERM. An entry is "*" (any program), a glob (it has one of
 * `*?[\`) over the program's canonical absolute path, or an absolute
 * path naming a file, compared by device and inode (resolve.h,
 * gxd_program_open). The command then runs with argv[0] replaced by
 * the name that allowed it (the file entry as written, or the canonical
 * path a glob matched; "*" keeps the client's): argv[0] only finds the
 * program. Each is non-empty, starts with '/' or one of
 * `*?[`, and is at most GXL_ALLOW_ENTRY_MAX bytes.
 *
 * Records (launcher -> daemon, text lines on the report pipe, in order):
 *   "gexec-exec v1 ok pid=N"                    the command was exec'd; N
 *                                               is its pid (in the reader's
 *                                               PID namespace: the launcher
 *                                               translates init's)
 *   "gexec-exec v1 fail what=cwd|program|denied|user errno=N" it could
 *                                               not be
 *   "gexec-error v1 <reason>"                   the sandbox could not be
 *                                                built (launcher failure)
 *   "gexec-report v1 exit=N signal=N core=0|1 oom=0|1 user_us=N sys_us=N
 *    maxrss_kb=N"                               how the command ended
 * A run's stream is: at most one exec record, then one report or error.
 */
#ifndef GXL_LAUNCH_WIRE_H
#define GXL_LAUNCH_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "server/isolation/cgroup.h"
#include "server/isolation/profile.h"

/** Largest encoded request accepted (argv + env + cwd + header). */
#define GXL_REQUEST_MAX (4u << 20)
/** Most argv elements / env entries a request may carry. */
#define GXL_REQUEST_MAX_ARGS 65536
#define GXL_REQUEST_MAX_ENV 65536
/** Most programs an allow list may name. */
#define GXL_REQUEST_MAX_ALLOW 256
/** Longest allow-list entry, in bytes (a path or glob: PATH_MAX - 1). */
#define GXL_ALLOW_ENTRY_MAX 4095
/** Most groups a request's ids may carry. */
#define GXL_REQUEST_MAX_GROUPS 256

/** The ids a command takes: a user's, resolved by the daemon. */
typedef struct {
  uint32_t uid;
  uint32_t gid;     /**< the primary group */
  uint32_t ngroups; /**< 0..GXL_REQUEST_MAX_GROUPS */
  uint32_t groups[GXL_REQUEST_MAX_GROUPS]; /**< the supplementary list */
} gxl_ids;

/** How one run is to be built: values of the daemon's making only (the
 *  run plan's), never a client's bytes. */
typedef struct {
  uint64_t run_id;    /**< the daemon's id for the run (> 0) */
  gxi_builtin profile; /**< the built-in the mechanisms come from */
  uint32_t mechs;     /**< gxi_mech bits in force (the host's tier) */
  gxi_limits limits;  /**< in force; memory and pids need a cgroup */
  char cgroup[GXI_CGROUP_NAME_MAX + 1]; /**< the run's leaf, or "" */
} gxl_run;

/** What the command runs with. Borrowed strings; arrays have argc/envc
 *  elements and, when decoded, a NULL after the last. */
typedef struct {
  const char *cwd;   /**< absolute directory to start in */
  char *const *argv; /**< argv[0] is the program as the client named it
                          (under an allow list the command runs under
                          the allowing entry's name instead) */
  size_t argc;
  char *const *envp; /**< "NAME=VALUE" entries: the command's whole env */
  size_t envc;
  char *const *allow; /**< files (absolute paths) or globs over the
                           program's canonical path, one of which must
                           allow it; allowc 0 = any program */
  size_t allowc;
  int has_ids;  /**< nonzero: the run is a user's (@c ids); 0: the
                     profile's own ids (root in host and baseline,
                     GXI_INNER_UID as GXI_OUTER_USER_UID in restricted) */
  gxl_ids ids;
} gxl_request;

/**
 * Encodes @p r. On success *out is a malloc'd buffer of *len bytes owned
 * by the caller. Returns 0, -E2BIG if it would exceed GXL_REQUEST_MAX or
 * the element counts, -EINVAL if cwd is NULL or the ids are not valid
 * (as the decoder would refuse them), or -ENOMEM.
 */
int gxl_request_encode(const gxl_request *r, uint8_t **out, size_t *len);

/**
 * Decodes @p len bytes at @p buf, checking every length, count and id.
 * On success fills @p r (NULL-terminated argv and envp) with pointers into
 * one allocation stored in *mem, which the caller frees, and returns 0.
 * On failure returns -EINVAL (malformed; reason in @p why) or -ENOMEM;
 * *mem is then NULL.
 */
int gxl_request_decode(const uint8_t *buf, size_t len, gxl_request *r,
                       void **mem, char *why, size_t why_len);

/** Reads a request from descriptor @p fd (a memfd, from offset 0, at
 *  most GXL_REQUEST_MAX bytes) and decodes it as gxl_request_decode. */
int gxl_request_read_fd(int fd, gxl_request *r, void **mem, char *why,
                        size_t why_len);

/** Why the command could not be exec'd. */
typedef enum {
  GXL_FAIL_CWD = 1,     /**< the working directory */
  GXL_FAIL_PROGRAM = 2, /**< the program: lookup or execve */
  GXL_FAIL_DENIED = 3,  /**< the program is not in the request's allow
                             list (the plan's constraint); errno EPERM */
  GXL_FAIL_USER = 4,    /**< taking the request's ids (setgroups,
                             setgid, setuid) failed */
} gxl_fail_what;

/** How a run's command ended (the report record). */
typedef struct {
  int exit_code; /**< valid when signal == 0 */
  int signal;
  int core_dumped;
  int oom_killed;
  uint64_t user_us, sys_us, max_rss_kb;
} gxl_report;

/** Kinds of record. */
typedef enum {
  GXL_REC_EXEC_OK = 1,
  GXL_REC_EXEC_FAIL,
  GXL_REC_ERROR,
  GXL_REC_REPORT,
} gxl_rec_kind;

/** Longest record line, newline included. */
#define GXL_LINE_MAX 512

/** One parsed record. */
typedef struct {
  gxl_rec_kind kind;
  int pid;            /**< EXEC_OK: the command's pid (> 0) */
  gxl_fail_what what; /**< EXEC_FAIL */
  int err;            /**< EXEC_FAIL: errno of the failed step */
  char reason[400];   /**< ERROR: the launcher's reason */
  gxl_report report;  /**< REPORT */
} gxl_record;

/**
 * Formats @p rec as one line (with its newline) into @p buf. An ERROR
 * reason is cut to fit and has newlines replaced. Returns the length, or
 * -1 if @p len is too small (GXL_LINE_MAX always suffices).
 */
int gxl_record_format(const gxl_record *rec, char *buf, size_t len);

/** Incremental reader of a record stream; plain data, no allocation. */
typedef struct {
  char buf[2 * GXL_LINE_MAX];
  size_t len;
} gxl_reader;

/** Empties @p r. */
void gxl_reader_init(gxl_reader *r);

/** Room left in the reader's buffer: push at most this many bytes. */
size_t gxl_reader_room(const gxl_reader *r);

/** Appends @p len bytes (at most gxl_reader_room()). Returns 0, or -1 if
 *  they do not fit (the stream is then malformed). */
int gxl_reader_push(gxl_reader *r, const void *data, size_t len);

/**
 * Takes the next complete record. Returns 1 and fills @p rec, 0 if no
 * complete line is buffered, or -1 if the next line is not a valid
 * record (or a line longer than GXL_LINE_MAX is pending).
 */
int gxl_reader_next(gxl_reader *r, gxl_record *rec);

/* ------------------------------------------------------------------
 * The fork server (gexec-launch --serve): one long-lived, single-threaded
 * root process that forks a run's launcher per request, so no run pays
 * for an exec and a dynamic loader. Daemon and server talk over a
 * SOCK_SEQPACKET socket in fixed GXL_FS_MSG_LEN-byte messages (all
 * integers little-endian):
 *
 *   "GXFS1\n\0\0" magic (8) | type u32 | 0 u32 | run_id u64 | body | zeros
 *
 *   RUN     daemon -> server  body: profile u32 | mechs u32 | memory u64 |
 *                             pids u64 | cpu_time_ms u64 | open_files u64 |
 *                             cgroup (GXI_CGROUP_NAME_MAX + 1 bytes, NUL
 *                             padded). With it, in SCM_RIGHTS, exactly
 *                             GXL_FS_RUN_FDS descriptors: the run's stdin,
 *                             stdout, stderr, report pipe and request.
 *   KILL    daemon -> server  SIGKILL the run's launcher group, if it was
 *                             not reaped yet (no pid is ever reused under
 *                             the daemon's feet: only the parent kills)
 *   STARTED server -> daemon  body: pid i32 (the run's launcher)
 *   FAILED  server -> daemon  body: errno i32 (no process exists)
 *   EXITED  server -> daemon  body: pid i32 | wait status i32 | user_us
 *                             u64 | sys_us u64 | maxrss_kb u64 (the
 *                             launcher was reaped; its group was SIGKILLed
 *                             first)
 *
 * Every RUN is answered by STARTED or FAILED before the next message is
 * read; every STARTED is followed by one EXITED. Anything else (another
 * length, an unknown type, nonzero padding, a cgroup name that is not
 * NUL-terminated or has other characters than [A-Za-z0-9._/-], mechanism
 * bits outside GXI_MECH_ALL, a wrong descriptor count) is refused.
 * ------------------------------------------------------------------ */

/** Size of every fork-server message. */
#define GXL_FS_MSG_LEN 256
/** Descriptors that come with a RUN message. */
#define GXL_FS_RUN_FDS 5

/** Fork-server message types. */
typedef enum {
  GXL_FS_RUN = 1,
  GXL_FS_KILL,
  GXL_FS_STARTED,
  GXL_FS_FAILED,
  GXL_FS_EXITED,
} gxl_fs_type;

/** One fork-server message, decoded. Fields not of its type are 0. */
typedef struct {
  gxl_fs_type type;
  uint64_t run_id;  /**< > 0 */
  gxl_run run;      /**< RUN (run.run_id == run_id) */
  int pid;          /**< STARTED, EXITED: > 0 */
  int err;          /**< FAILED: a positive errno */
  int wait_status;  /**< EXITED */
  uint64_t user_us, sys_us, max_rss_kb; /**< EXITED */
} gxl_fs_msg;

/** Encodes @p m into @p buf. Returns 0, or -EINVAL if @p m is not valid
 *  (as gxl_fs_decode would refuse it). */
int gxl_fs_encode(const gxl_fs_msg *m, uint8_t buf[GXL_FS_MSG_LEN]);

/** Decodes @p len bytes at @p buf, checking every field. Returns 0, or
 *  -EINVAL with the reason in @p why. */
int gxl_fs_decode(const uint8_t *buf, size_t len, gxl_fs_msg *m, char *why,
                  size_t why_len);

/** Sends @p m on SOCK_SEQPACKET socket @p sock with @p nfds descriptors
 *  (0, or GXL_FS_RUN_FDS with a RUN; borrowed), with @p flags (e.g.
 *  MSG_DONTWAIT) besides MSG_NOSIGNAL. Returns 0, -EAGAIN, -EINVAL (not
 *  a valid message) or another -errno (-EPIPE: the peer is gone). */
int gxl_fs_send(int sock, const gxl_fs_msg *m, const int *fds, int nfds,
                int flags);

/**
 * Receives one message from @p sock without blocking. Returns 1 with @p m
 * and, for a RUN, its GXL_FS_RUN_FDS descriptors in @p fds (close-on-exec,
 * the caller's); 0 if none is waiting; -EPIPE when the peer is gone or
 * the socket failed; -EPROTO for a message that is malformed, cut off or
 * has the wrong number of descriptors (every descriptor that came is
 * closed; *@p raw_id is its run id field as sent, for a FAILED reply, or
 * 0). Reasons go to @p why. @p fds is all -1 unless 1 is returned for a
 * RUN.
 */
int gxl_fs_recv(int sock, gxl_fs_msg *m, int fds[GXL_FS_RUN_FDS],
                uint64_t *raw_id, char *why, size_t why_len);

#endif
