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
 *    carry the status code and the daemon's reason. As in libuv, a
 *    function that returns an error has no other effect: no event is
 *    queued for it, and nothing is left to free.
 *  - Ownership: objects returned through an out-pointer belong to the
 *    caller and are released by the matching free/close function. Input
 *    strings and buffers are only borrowed for the duration of the call.
 *
 * One engine per process
 *  - Every connection of a process shares one engine: one gRPC completion
 *    queue and one thread of the library's, started with the first
 *    connection and stopped when the last one closes. gRPC adds its own
 *    executor and timer threads (a few; they grow slightly with load).
 *    The number of threads therefore does not grow with the number of
 *    connections or runs: 1,000 connections with a run each stay within
 *    16 threads in all (tested). Each connection has a socket of its own,
 *    also when several go to the same daemon.
 *  - The engine's thread runs no code of the caller's: it only moves
 *    messages and wakes waiters. The library installs no signal handler.
 *
 * Two ways to follow runs
 *  - Blocking, one run at a time per thread: gexec_run (subprocess.run)
 *    and gexec_proc_start / gexec_proc_read / gexec_proc_wait (Popen).
 *  - Event-driven, any number of runs from one thread: an event queue
 *    (gexec_evq) receives the events of every run started on it with
 *    gexec_proc_start_async: started, output chunks, exit, error, and
 *    "stdin writable". gexec_evq_next waits for the next event of any of
 *    them; gexec_evq_fd is a file descriptor that is readable while an
 *    event is waiting, for a caller's own poll/epoll/libuv loop. There is
 *    no callback mode, on purpose: a callback would run the caller's code
 *    on the one thread that moves every connection's bytes (one slow
 *    callback would stall every host), and a callback that frees or
 *    restarts runs re-enters the library. Pulling events keeps the
 *    caller's code on the caller's thread, and gives backpressure for
 *    free: a run's output is not read from the network faster than its
 *    events are taken (one message waits per run, a bounded amount).
 *
 * Threads
 *  - A gexec_conn may be shared by any number of threads and carries any
 *    number of concurrent runs. One gexec_proc may be used by two threads
 *    at once: one calling gexec_proc_read / gexec_proc_wait, others
 *    calling gexec_proc_write, gexec_proc_try_write,
 *    gexec_proc_close_stdin, gexec_proc_signal and gexec_proc_cancel.
 *    gexec_proc_free must not race with any other call on the same proc,
 *    nor, for a run started on an event queue, with gexec_evq_next on
 *    that queue.
 *  - gexec_evq_next is called by one thread at a time per queue.
 *
 * ABI
 *  - Connection options are an opaque object with setters
 *    (gexec_conn_opts_*): new options arrive as new setters, and a
 *    program built against an older gexec.h keeps working.
 *  - Structs the caller allocates and the library reads (gexec_spec,
 *    gexec_run_opts) start with a size field: set it with
 *    GEXEC_SPEC_INIT / GEXEC_RUN_OPTS_INIT (or to sizeof the struct).
 *    Fields are only ever appended, and the library reads a field only if
 *    the caller's size covers it; 0 means the layout of libgexec 0.2.
 *  - Structs the library fills in caller memory (gexec_exit,
 *    gexec_isolation, gexec_result, gexec_event) are frozen: later
 *    information comes through new accessor functions or the events of
 *    the queue (gexec_run_event), which the library owns and may extend.
 *
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
#define GEXEC_VERSION "0.4.0"

/** Result codes. */
enum {
  GEXEC_OK = 0,
  GEXEC_EINVAL = -1,    /**< a malformed argument (see error message) */
  GEXEC_ENOMEM = -2,    /**< out of memory */
  GEXEC_ECONNECT = -3,  /**< the daemon could not be reached */
  GEXEC_ESTATUS = -4,   /**< the call ended with a non-OK gRPC status */
  GEXEC_ECLOSED = -5,   /**< the run already ended / stdin already closed */
  GEXEC_ETIMEDOUT = -6, /**< a local wait (timeout_ms) ran out */
  GEXEC_EAGAIN = -7,    /**< not now: an event will say when */
  /** The daemon refused the caller on purpose: its policy (status
   *  PERMISSION_DENIED; the message names the rule and what it refused).
   *  Told apart from a program that exists but may not be executed
   *  (GEXEC_ESTATUS with PERMISSION_DENIED) by the daemon's trailing
   *  metadata "gexec-refused-by". Since 0.3. */
  GEXEC_EREFUSED = -8,
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

/** Connection options: an opaque object (see ABI above). */
typedef struct gexec_conn_opts gexec_conn_opts;

/** Makes options holding the defaults. On success *out is the caller's,
 *  released with gexec_conn_opts_free; else GEXEC_ENOMEM. */
int gexec_conn_opts_new(gexec_conn_opts **out);

/** Frees options (NULL is fine). Connections made with them keep their
 *  own copy. */
void gexec_conn_opts_free(gexec_conn_opts *o);

/** How long a connection attempt may take before it fails with
 *  GEXEC_ECONNECT "timed out": gexec_connect's wait, and the wait of a
 *  run started on a connection that is not connected. 0 = 10 s (the
 *  default); < 0 = gexec_connect does not wait at all (it connects
 *  lazily, with the runs) and runs wait 10 s. This is separate from the
 *  run's own timeout (gexec_spec.timeout_ms), which the daemon enforces. */
int gexec_conn_opts_set_connect_timeout(gexec_conn_opts *o, int64_t ms);

/** Nonzero: gexec_connect returns at once and the connection is made
 *  with the first run (which waits for it up to the connect timeout): a
 *  program starting runs on many hosts does not wait for each in turn.
 *  Setting the connect timeout < 0 also means lazy, with 10 s. */
int gexec_conn_opts_set_lazy(gexec_conn_opts *o, int on);

/** Nonzero: keep retrying an unreachable daemon (refused, no such socket)
 *  until the connect timeout, instead of failing at the first refusal. */
int gexec_conn_opts_set_wait_for_ready(gexec_conn_opts *o, int on);

/**
 * TLS for TCP targets ("host:port"): the daemon must present a
 * certificate issued by a CA in @p ca_file and naming the target's host
 * (or the name of gexec_conn_opts_set_tls_server_name); with @p cert_file
 * and @p key_file, both or neither, the connection presents that client
 * certificate (mTLS: a daemon with --tls-client-ca requires one). A NULL
 * @p ca_file means plaintext (then @p cert_file and @p key_file must be
 * NULL too): the default.
 *
 * The paths are copied. The files are read by each gexec_connect, so a
 * renewed certificate is used by the next connection: PEM, at most
 * 1 MiB each, the CA file one or more certificates, the certificate file
 * the client's certificate (and any intermediates), the key file its
 * unencrypted private key, which must match it. A file that cannot be
 * used fails gexec_connect with GEXEC_EINVAL and a message naming the
 * file and why ("CA file /etc/gexec/ca.pem: No such file or directory",
 * "... : no PEM certificate in it", "key file K: does not match the
 * certificate in C", "key file K: encrypted (a passphrase-protected key
 * is not supported)").
 *
 * unix: targets never use TLS (a local socket is protected by its file
 * permissions, and the daemon identifies local peers by their uid): for
 * them these settings are ignored and the files are not read, so one set
 * of options serves local and remote daemons alike.
 *
 * Returns GEXEC_OK, GEXEC_EINVAL (a certificate without a key or a key
 * without one, a certificate without a CA, an empty path or one longer
 * than 4096 bytes; nothing changed) or GEXEC_ENOMEM.
 */
int gexec_conn_opts_set_tls(gexec_conn_opts *o, const char *ca_file,
                            const char *cert_file, const char *key_file);

/**
 * The name the daemon's certificate must carry when it is not the
 * target's host: connecting by address to a daemon whose certificate
 * names its DNS name, or through a tunnel. Also sent as the TLS server
 * name (SNI). NULL: the target's host (the default). Copied. Returns
 * GEXEC_OK, GEXEC_EINVAL (empty, or longer than 253 bytes) or
 * GEXEC_ENOMEM.
 */
int gexec_conn_opts_set_tls_server_name(gexec_conn_opts *o,
                                        const char *name);

/** Default keepalive interval and timeout of TCP connections (ms). */
#define GEXEC_KEEPALIVE_TIME_MS 60000
#define GEXEC_KEEPALIVE_TIMEOUT_MS 20000
/** The shortest keepalive interval accepted (ms): a gexecd closes a
 *  connection that pings more often (GOAWAY "too_many_pings"). */
#define GEXEC_KEEPALIVE_MIN_MS 10000

/**
 * Keepalive: while runs are in flight, a connection that carried no
 * traffic for @p time_ms pings the daemon, and if no answer comes within
 * @p timeout_ms it is closed: its runs fail with GEXEC_ESTATUS
 * (UNAVAILABLE). A daemon that vanished without closing (host down, link
 * cut) is noticed within time + timeout instead of never. @p time_ms:
 * 0 = GEXEC_KEEPALIVE_TIME_MS for TCP targets and none for unix: ones
 * (the default); < 0 = none; else at least GEXEC_KEEPALIVE_MIN_MS.
 * @p timeout_ms: 0 = GEXEC_KEEPALIVE_TIMEOUT_MS, else at least 1000.
 * Returns GEXEC_OK or GEXEC_EINVAL (out of range; nothing changed).
 */
int gexec_conn_opts_set_keepalive(gexec_conn_opts *o, int64_t time_ms,
                                  int64_t timeout_ms);

/**
 * Opens a connection to @p target: "unix:/path", "host:port", or NULL for
 * $GEXEC_TARGET, else the default socket (see gexecd --help), with
 * @p opts (NULL: the defaults; borrowed). Waits until connected, unless
 * the connect timeout is < 0. Returns GEXEC_ECONNECT if the daemon cannot
 * be reached, with the reason in @p err ("connection refused", "no such
 * socket", "unreachable", "timed out after N ms", ...).
 *
 * TLS failures are GEXEC_ECONNECT too, with what the client can know:
 * "the server's certificate failed verification: ..." and why (not
 * issued by a CA in the CA file, expired on DATE, not valid before DATE,
 * names other hosts than the target's), "the server does not speak TLS",
 * and for a handshake the server closed, "the server refused our
 * certificate (...)". To say why a certificate failed verification,
 * gexec_connect makes one TLS handshake of its own after gRPC's failed
 * (at most 2 s more); a run on a lazy connection reports the failure
 * without that detail. A TLS file that cannot be used is GEXEC_EINVAL
 * (see gexec_conn_opts_set_tls).
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

/** What gexec_ping_ex learned. The library fills it; set @c size with
 *  GEXEC_PING_INFO_INIT. Since 0.3. */
typedef struct {
  size_t size;      /**< sizeof(gexec_ping_info) as the caller knows it */
  int64_t rtt_us;   /**< the round trip */
  /** Who the daemon thinks we are, as its logs and audit records name
   *  us: a SPIFFE ID, DNS name or certificate CN over mTLS, "uid=U(name)"
   *  over its unix socket, "anonymous" over plaintext TCP; "" from a
   *  daemon older than 0.3. Non-ASCII bytes come %XX-escaped. */
  char identity[256];
  /** The daemon's policy rule our runs fall under; "" if none does (the
   *  daemon would refuse them). */
  char rule[128];
} gexec_ping_info;

/** Initializer for gexec_ping_info. */
#define GEXEC_PING_INFO_INIT {.size = sizeof(gexec_ping_info)}

/**
 * gexec_ping, also asking who the daemon thinks we are. @p out->size
 * must be at least this version's sizeof(gexec_ping_info)
 * (GEXEC_PING_INFO_INIT), else GEXEC_EINVAL. Returns as gexec_ping; the
 * identity and rule are filled whenever the daemon answered.
 */
int gexec_ping_ex(gexec_conn *conn, int64_t timeout_ms, gexec_ping_info *out,
                  gexec_error *err);

/** Where an output stream goes. */
typedef enum {
  GEXEC_OUT_PIPE = 0,    /**< streamed back to the client */
  GEXEC_OUT_DISCARD = 1, /**< /dev/null on the remote side */
  GEXEC_OUT_MERGE = 2,   /**< stderr only: into stdout's pipe, order kept */
} gexec_out_mode;

/** What to run. Start from GEXEC_SPEC_INIT, then set what you need. */
typedef struct {
  /** sizeof(gexec_spec) as the caller knows it (GEXEC_SPEC_INIT sets
   *  it); 0 = the 0.2 layout (every field below). */
  size_t size;
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
  /* ---- the 0.2 layout ends here (size 0); added in 0.3: ---- */
  /** The user to run as, by name (Start.user); NULL or "" = the
   *  daemon's default. In host and baseline the run gets the user's uid,
   *  groups and passwd HOME, USER, LOGNAME, SHELL; in restricted its
   *  namespace's uid 1000 is the user on the daemon's host. The daemon
   *  refuses an unknown user (GEXEC_ESTATUS, INVALID_ARGUMENT "unknown
   *  user 'x'") and one its policy does not allow (PERMISSION_DENIED). */
  const char *user;
} gexec_spec;

/** Initializer of a gexec_spec: `gexec_spec s = GEXEC_SPEC_INIT;`.
 *  Frozen layouts (what a size means): 0 or 112 bytes on LP64 = 0.2
 *  (through open_files); 120 = 0.3 (through user). */
#define GEXEC_SPEC_INIT {.size = sizeof(gexec_spec)}

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
   *  it. The layout of gexec_exit is frozen from 0.2 on (see ABI). */
  uint64_t run_id;
} gexec_exit;

/* ------------------------------------------------------ blocking run */

/** Options of gexec_run. Start from GEXEC_RUN_OPTS_INIT. */
typedef struct {
  /** sizeof(gexec_run_opts) as the caller knows it; 0 = the 0.2 layout. */
  size_t size;
  const void *stdin_data; /**< sent to the run, then EOF; may be NULL */
  size_t stdin_len;
  size_t capture_max;     /**< per-stream client-side cap; 0 = none */
} gexec_run_opts;

/** Initializer of a gexec_run_opts. */
#define GEXEC_RUN_OPTS_INIT {.size = sizeof(gexec_run_opts)}

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
  GEXEC_EV_STARTED = 4,  /**< queue only: the daemon started the run */
  GEXEC_EV_ERROR = 5,    /**< queue only: the run failed; see error */
  GEXEC_EV_WRITABLE = 6, /**< queue only: stdin takes more bytes now */
  GEXEC_EV_FACTS = 7,    /**< queue only: a facts call's JSON (data, len) */
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

/** The identity the daemon's verified TLS certificate proves (its SPIFFE
 *  ID, else its first DNS name, else its subject CN), known once the
 *  first message came (from GEXEC_EV_STARTED or GEXEC_EV_FACTS, and
 *  gexec_proc_start's return); "" over plaintext, unix sockets and before
 *  that. Owned by the handle: valid until gexec_proc_free. Since 0.4. */
const char *gexec_proc_server_identity(const gexec_proc *p);

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
 * Sends @p len bytes to the run's stdin, in messages of up to 1 MiB.
 * Blocks while the previous chunk is still in flight (flow control), so a
 * run that does not read its stdin eventually blocks the writer. Returns
 * GEXEC_ECLOSED after gexec_proc_close_stdin or once the run ended; the
 * chunks before the one that failed may have been sent (the run ended,
 * so this rarely matters).
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

/**
 * Writes what it can without waiting: sends up to 1 MiB of @p data as one
 * message and stores how many bytes it took in @p taken (all of them up
 * to 1 MiB; the library copies them). While the previous message is
 * still in flight, or the run is not started yet, takes nothing and
 * returns GEXEC_EAGAIN; on a queue, a GEXEC_EV_WRITABLE event then says
 * when to try again. GEXEC_ECLOSED as for gexec_proc_write.
 */
int gexec_proc_try_write(gexec_proc *p, const void *data, size_t len,
                         size_t *taken, gexec_error *err);

/* ------------------------------------------------------ event queue */

typedef struct gexec_evq gexec_evq;

/** One event of a queue. Owned by the queue (fields may be appended in
 *  later versions): valid until the next gexec_evq_next on the queue or
 *  the gexec_proc_free of its run, whichever comes first. */
typedef struct {
  gexec_event_type type;
  gexec_proc *proc;       /**< the run it is about */
  void *user_data;        /**< given to gexec_proc_start_async */
  const uint8_t *data;    /**< GEXEC_EV_STDOUT / _STDERR / _FACTS */
  size_t len;
  const gexec_exit *exit;   /**< GEXEC_EV_EXIT: how the run ended */
  const gexec_error *error; /**< GEXEC_EV_ERROR: why it failed */
} gexec_run_event;

/** Makes an event queue. On success *out is the caller's, released with
 *  gexec_evq_free; else GEXEC_ENOMEM or GEXEC_ECONNECT (no eventfd). */
int gexec_evq_new(gexec_evq **out, gexec_error *err);

/** Frees a queue. Every run started on it must have been freed. */
void gexec_evq_free(gexec_evq *q);

/** A file descriptor (owned by the queue) that polls readable while an
 *  event waits in the queue (also one of the run whose event is in hand),
 *  for the caller's own event loop. Do not read or close it. Taking every
 *  waiting event per wake-up (gexec_evq_next(q, &ev, 0) until
 *  GEXEC_ETIMEDOUT) saves poll calls; taking one per wake-up works too. */
int gexec_evq_fd(const gexec_evq *q);

/**
 * Takes the next event of any run on @p q, waiting up to @p timeout_ms
 * (0: do not wait; < 0: forever); GEXEC_ETIMEDOUT when none came. Runs
 * take turns: a run with more events goes behind the others. The events
 * of one run come in order: GEXEC_EV_STARTED, its output chunks (stdout
 * and stderr, each in order), then exactly one of GEXEC_EV_EXIT (the
 * command ran; see exit) or GEXEC_EV_ERROR (it did not, or the call
 * failed: refused, could not connect, lost connection, cancelled; see
 * error, with the same codes as gexec_proc_start). GEXEC_EV_WRITABLE may
 * come in between, after a gexec_proc_try_write said GEXEC_EAGAIN. After
 * the last event the run has no more: free it.
 */
int gexec_evq_next(gexec_evq *q, const gexec_run_event **ev,
                   int64_t timeout_ms, gexec_error *err);

/**
 * Starts a run whose events go to @p q, without waiting for anything:
 * not for the connection (a run on a connection that is not connected
 * waits for it up to the connect timeout, then fails with
 * GEXEC_ECONNECT), nor for the daemon. Returns GEXEC_OK with *out the
 * caller's (free it with gexec_proc_free once its last event came, or
 * earlier to cancel it), or an error for a malformed @p spec
 * (GEXEC_EINVAL) or GEXEC_ENOMEM, in which case no event comes.
 * gexec_proc_read and gexec_proc_wait refuse such a run (GEXEC_EINVAL);
 * the other gexec_proc_* functions work as for any run.
 */
int gexec_proc_start_async(gexec_conn *conn, const gexec_spec *spec,
                           gexec_evq *q, void *user_data, gexec_proc **out,
                           gexec_error *err);

/* ------------------------------------------------------------ facts */

/** Options of a facts call: start from GEXEC_FACTS_REQ_INIT. */
typedef struct {
  /** sizeof(gexec_facts_req) as the caller knows it. */
  size_t size;
  /** The groups of facts wanted, NULL-terminated ("system", "os",
   *  "kernel", "uptime", "load", "cpu", "memory", "filesystems",
   *  "interfaces", "daemon"); NULL = all. Borrowed during the call that
   *  takes it. An unknown name: the daemon refuses (GEXEC_ESTATUS,
   *  INVALID_ARGUMENT "unknown facts group 'x'; known: ..."). */
  const char *const *groups;
  /** Nonzero: filesystems also lists pseudo filesystems (proc, tmpfs...). */
  int include_pseudo_filesystems;
  /** The call's deadline; 0 = 10 s. */
  int64_t timeout_ms;
} gexec_facts_req;

/** Initializer of a gexec_facts_req. */
#define GEXEC_FACTS_REQ_INIT {.size = sizeof(gexec_facts_req)}

/**
 * Blocking: asks the daemon for its facts (gexec.v1.Facts/Get; no
 * command runs). On GEXEC_OK *json_out is a malloc'd NUL-terminated JSON
 * object (the caller frees it with free()): the proto's JSON mapping
 * with the proto field names ("os": {"version_id": ...}, "memory":
 * {"total_bytes": ...}), 64-bit integers as JSON numbers, and, as that
 * mapping does, fields at their default value (0, "", false, empty
 * lists, groups not asked for) left out. Refusals as for runs:
 * GEXEC_EREFUSED when the daemon's policy refused (the
 * gexec-refused-by trailer), GEXEC_ESTATUS otherwise (status in
 * err->status), GEXEC_ECONNECT, GEXEC_EINVAL for a bad @p req. On
 * error *json_out is NULL.
 */
int gexec_facts_get(gexec_conn *conn, const gexec_facts_req *req,
                    char **json_out, gexec_error *err);

/**
 * Event-driven: starts a facts call whose result arrives on @p q as one
 * GEXEC_EV_FACTS event (data/len: the JSON text of gexec_facts_get,
 * NUL-terminated, owned by the queue until the next gexec_evq_next or
 * the handle's free) or one GEXEC_EV_ERROR; that is its last event. The
 * handle is a gexec_proc: free it with gexec_proc_free after its last
 * event, or earlier to cancel the call; gexec_proc_read, _wait, _write,
 * _try_write, _close_stdin and _signal on it return GEXEC_EINVAL. Works
 * on lazy connections like gexec_proc_start_async (the connect timeout
 * applies). Returns GEXEC_OK with *out the caller's, or GEXEC_EINVAL /
 * GEXEC_ENOMEM, in which case no event comes.
 */
int gexec_facts_start_async(gexec_conn *conn, const gexec_facts_req *req,
                            gexec_evq *q, void *user_data, gexec_proc **out,
                            gexec_error *err);

/** Returns a static name for a GEXEC_E* code. */
const char *gexec_strerror(int code);

/** Returns the canonical name of a gRPC status ("NOT_FOUND"). */
const char *gexec_status_name(int status);

#ifdef __cplusplus
}
#endif

#endif
