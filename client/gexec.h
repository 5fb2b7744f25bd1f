/**
 * @file gexec.h
 * libgexec: run commands on a gexecd over gRPC, like Python's
 * subprocess.run (gexec_run) and Popen (gexec_proc_*), with the process on
 * another machine and the daemon owning its timeout and cleanup.
 *
 * Conventions
 *  - Every function returning int returns GEXEC_OK (0) or a negative
 *    GEXEC_E* code. Functions taking a gexec_error* fill it on failure
 *    (it may be NULL). When the daemon refused or ended a run with a gRPC
 *    status, the code is GEXEC_ESTATUS and error->status / error->message
 *    carry the status code and the daemon's reason.
 *  - Ownership: objects returned through an out-pointer belong to the
 *    caller and are released by the matching free/close function. Input
 *    strings and buffers are only borrowed for the duration of the call.
 *  - Threads: a gexec_conn may be shared by any number of threads and
 *    carries any number of concurrent runs. One gexec_proc may be used by
 *    two threads at once: one calling gexec_proc_read / gexec_proc_wait,
 *    others calling gexec_proc_write, gexec_proc_close_stdin,
 *    gexec_proc_signal and gexec_proc_cancel. gexec_proc_free must not
 *    race with any other call on the same proc.
 *  - The library starts one internal thread per connection and installs
 *    no signal handlers.
 *  - Throughput: output and stdin travel in messages of up to 1 MiB. With
 *    glibc's defaults each such block is a fresh mmap (page faults on
 *    every message); programs that stream a lot should raise
 *    M_MMAP_THRESHOLD / M_TRIM_THRESHOLD with mallopt(3), as gexec(1)
 *    does. The library leaves process-wide settings alone.
 */
#ifndef GEXEC_H
#define GEXEC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Library version. */
#define GEXEC_VERSION "0.1.0"

/** Result codes. */
enum {
  GEXEC_OK = 0,
  GEXEC_EINVAL = -1,    /**< a malformed argument (see error message) */
  GEXEC_ENOMEM = -2,    /**< out of memory */
  GEXEC_ECONNECT = -3,  /**< the daemon could not be reached */
  GEXEC_ESTATUS = -4,   /**< the call ended with a non-OK gRPC status */
  GEXEC_ECLOSED = -5,   /**< the run already ended / stdin already closed */
  GEXEC_ETIMEDOUT = -6, /**< a local wait (timeout_ms) ran out */
};

/** gRPC status codes that matter to callers (full list: the gRPC spec). */
enum {
  GEXEC_STATUS_OK = 0,
  GEXEC_STATUS_CANCELLED = 1,
  GEXEC_STATUS_INVALID_ARGUMENT = 3,
  GEXEC_STATUS_DEADLINE_EXCEEDED = 4,
  GEXEC_STATUS_NOT_FOUND = 5,
  GEXEC_STATUS_PERMISSION_DENIED = 7,
  GEXEC_STATUS_RESOURCE_EXHAUSTED = 8,
  GEXEC_STATUS_FAILED_PRECONDITION = 9,
  GEXEC_STATUS_UNIMPLEMENTED = 12,
  GEXEC_STATUS_INTERNAL = 13,
  GEXEC_STATUS_UNAVAILABLE = 14,
};

/** Details of a failure. */
typedef struct {
  int code;          /**< GEXEC_E* */
  int status;        /**< gRPC status when code == GEXEC_ESTATUS, else 0 */
  char message[512]; /**< a reason a person can act on */
} gexec_error;

typedef struct gexec_conn gexec_conn;
typedef struct gexec_proc gexec_proc;

/** Connection options. Zero-initialize, then set what you need. */
typedef struct {
  /** How long gexec_connect waits for the daemon: 0 = 10 s; < 0 = do not
   *  wait (connect lazily on the first call). */
  int64_t connect_timeout_ms;
  /** Nonzero: gexec_connect keeps retrying an unreachable daemon until
   *  connect_timeout_ms, and calls wait for it (until their deadline),
   *  instead of failing fast (refused / no such socket). */
  int wait_for_ready;
} gexec_conn_opts;

/**
 * Opens a connection to @p target: "unix:/path", "host:port", or NULL for
 * $GEXEC_TARGET, else the default socket (see gexecd --help). Returns
 * GEXEC_ECONNECT if the daemon cannot be reached within the timeout.
 */
int gexec_connect(const char *target, const gexec_conn_opts *opts,
                  gexec_conn **out, gexec_error *err);

/** Closes a connection. Every gexec_proc on it must have been freed. */
void gexec_conn_close(gexec_conn *conn);

/**
 * Asks the daemon's grpc.health.v1 service whether it serves; stores the
 * round-trip time in @p rtt_us. Returns GEXEC_OK only when SERVING;
 * NOT_SERVING (draining) is GEXEC_ESTATUS with status UNAVAILABLE.
 */
int gexec_ping(gexec_conn *conn, int64_t timeout_ms, int64_t *rtt_us,
               gexec_error *err);

/** Where an output stream goes. */
typedef enum {
  GEXEC_OUT_PIPE = 0,    /**< streamed back to the client */
  GEXEC_OUT_DISCARD = 1, /**< /dev/null on the remote side */
  GEXEC_OUT_MERGE = 2,   /**< stderr only: into stdout's pipe, order kept */
} gexec_out_mode;

/** What to run. Zero-initialize, then set what you need. */
typedef struct {
  const char *const *argv; /**< NULL-terminated, non-empty */
  const char *const *env;  /**< NULL-terminated "NAME=VALUE", or NULL */
  const char *cwd;         /**< absolute path; NULL = "/" */
  uint64_t timeout_ms;     /**< 0 = the daemon's maximum */
  uint32_t kill_grace_ms;  /**< SIGTERM -> SIGKILL gap; 0 = daemon's */
  int stdin_null;          /**< nonzero: the run's stdin is /dev/null */
  gexec_out_mode stdout_mode;
  gexec_out_mode stderr_mode;
  uint64_t max_output_bytes; /**< daemon-side cap on stdout+stderr */
  /** gRPC deadline for the whole call, 0 = none. The daemon enforces
   *  timeout_ms itself; this only bounds the client's wait. */
  int64_t deadline_ms;
  /** Isolation profile ("host", "baseline", "restricted"); NULL = the
   *  daemon's default. */
  const char *profile;
  /** Resource limits; 0 = the profile's default (the daemon caps each). */
  uint64_t memory_bytes, pids, cpu_time_ms, open_files;
} gexec_spec;

/** The isolation in force for a run (the `started.isolation` message). */
typedef struct {
  char profile[32];      /**< "" if the daemon reported none */
  char namespaces[64];   /**< comma-separated, e.g. "pid,ipc,uts,mount" */
  char cgroup[8];        /**< "v2", "v1" or "" */
  int seccomp;
  uint32_t uid;          /**< uid of the command inside its namespace */
  int read_only_root;
  int no_new_privs;
  char description[256]; /**< the daemon's summary of the tier */
} gexec_isolation;

/** How a run ended (the `exited` message). */
typedef struct {
  uint32_t pid;          /**< from `started` */
  int exit_code;         /**< valid when signal == 0 */
  int signal;            /**< terminating signal, or 0 */
  int core_dumped;
  int timed_out;         /**< the daemon stopped it at timeout_ms */
  int output_truncated;  /**< max_output_bytes was reached */
  int oom_killed;        /**< the memory limit's OOM killer ended it */
  gexec_isolation isolation; /**< what was in force */
  uint64_t user_time_us, system_time_us, max_rss_kb, wall_time_us;
  /** The daemon's id for the run (from `started`; 0 from a daemon that
   *  predates run ids): the "run" field of the daemon's log lines about
   *  it. Appended last (the structs carry no version or size field), so
   *  every earlier field keeps its offset; a program built against an
   *  older gexec.h must still be rebuilt, as gexec_exit grew. */
  uint64_t run_id;
} gexec_exit;

/* ------------------------------------------------------ blocking run */

/** Options of gexec_run. Zero-initialize. */
typedef struct {
  const void *stdin_data; /**< sent to the run, then EOF; may be NULL */
  size_t stdin_len;
  size_t capture_max;     /**< per-stream client-side cap; 0 = none */
} gexec_run_opts;

/** Result of gexec_run; release with gexec_result_free. */
typedef struct {
  gexec_exit exit;
  char *out;         /**< captured stdout (NUL-terminated), owned */
  size_t out_len;
  char *err;         /**< captured stderr (NUL-terminated), owned */
  size_t err_len;
  int out_truncated; /**< capture_max cut stdout */
  int err_truncated; /**< capture_max cut stderr */
} gexec_result;

/**
 * Runs a command to completion, feeding it @p opts->stdin_data and
 * capturing its output, like subprocess.run(capture_output=True). Returns
 * GEXEC_OK whenever the command ran (whatever its exit code: see
 * res->exit); GEXEC_ESTATUS when the daemon refused it (e.g. NOT_FOUND).
 * On success @p res must be released with gexec_result_free.
 */
int gexec_run(gexec_conn *conn, const gexec_spec *spec,
              const gexec_run_opts *opts, gexec_result *res,
              gexec_error *err);

/** Frees the buffers of a result (safe on a zeroed result). */
void gexec_result_free(gexec_result *res);

/* ------------------------------------------------- streaming handle */

/** Kinds of event gexec_proc_read returns. */
typedef enum {
  GEXEC_EV_STDOUT = 1, /**< a chunk of stdout */
  GEXEC_EV_STDERR = 2, /**< a chunk of stderr */
  GEXEC_EV_EXIT = 3,   /**< the run ended; see exit */
} gexec_event_type;

/** One event. @c data stays valid until the next read or free. */
typedef struct {
  gexec_event_type type;
  const uint8_t *data;
  size_t len;
  gexec_exit exit; /**< GEXEC_EV_EXIT only */
} gexec_event;

/**
 * Starts a run and waits for the daemon's `started` (or its refusal).
 * On success *out must be released with gexec_proc_free.
 */
int gexec_proc_start(gexec_conn *conn, const gexec_spec *spec,
                     gexec_proc **out, gexec_error *err);

/** The run's pid on the daemon's host. */
uint32_t gexec_proc_pid(const gexec_proc *p);

/** The daemon's id for the run (from `started`; 0 from an older
 *  daemon). */
uint64_t gexec_proc_run_id(const gexec_proc *p);

/** The isolation in force for the run (from `started`); valid from
 *  gexec_proc_start until gexec_proc_free. */
const gexec_isolation *gexec_proc_isolation(const gexec_proc *p);

/**
 * Waits up to @p timeout_ms (< 0: forever) for the next event. Output is
 * delivered in order, all of it before GEXEC_EV_EXIT; after the exit
 * event, returns GEXEC_ECLOSED. Not reading makes the remote process
 * block on its output (backpressure), never the daemon's memory grow.
 */
int gexec_proc_read(gexec_proc *p, gexec_event *ev, int64_t timeout_ms,
                    gexec_error *err);

/**
 * Sends @p len bytes to the run's stdin. Blocks while the previous chunk
 * is still in flight (flow control), so a run that does not read its
 * stdin eventually blocks the writer. Returns GEXEC_ECLOSED after
 * gexec_proc_close_stdin or once the run ended.
 */
int gexec_proc_write(gexec_proc *p, const void *data, size_t len,
                     gexec_error *err);

/** Closes the run's stdin (after what was written). */
int gexec_proc_close_stdin(gexec_proc *p, gexec_error *err);

/** Delivers signal @p signo (1..64) to the run's processes. Signals are
 *  sent ahead of stdin bytes still waiting to go out. */
int gexec_proc_signal(gexec_proc *p, int signo, gexec_error *err);

/** Discards remaining output and waits for the end; fills @p exit. */
int gexec_proc_wait(gexec_proc *p, gexec_exit *exit, gexec_error *err);

/** Cancels the call: the daemon kills the whole run. Non-blocking. */
void gexec_proc_cancel(gexec_proc *p);

/** Releases the handle, cancelling the run first if it has not ended. */
void gexec_proc_free(gexec_proc *p);

/** Returns a static name for a GEXEC_E* code. */
const char *gexec_strerror(int code);

/** Returns the canonical name of a gRPC status ("NOT_FOUND"). */
const char *gexec_status_name(int status);

#ifdef __cplusplus
}
#endif

#endif
