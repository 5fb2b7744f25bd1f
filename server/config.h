/**
 * @file config.h
 * gexecd's command line: parsing, defaults, and --help text.
 */
#ifndef GXD_CONFIG_H
#define GXD_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "lib/gx_addr.h"
#include "server/isolation/profile.h"
#include "server/log.h"
#include "server/validate.h"

#define GXD_MAX_LISTEN 16
/** Most --allow-reduced flags. */
#define GXD_MAX_PROFILE_FLAGS 16

/** A --max-* cap given as 0: no cap at all. */
#define GXD_CAP_NONE UINT64_MAX

/** Mechanisms --disable-mechanism takes. */
#define GXD_DISABLE_MECHS                                                \
  (GXI_MECH_NAMESPACES | GXI_MECH_SECCOMP | GXI_MECH_CGROUP)

/** The daemon's settings. Strings point into argv or static storage. */
typedef struct {
  /** gRPC addresses as given, a TCP host without ":port" completed
   *  with GX_ADDR_DEFAULT_PORT (gx_addr_with_default_port) */
  char listen[GXD_MAX_LISTEN][GX_ADDR_TEXT_MAX];
  int nlisten;
  char default_listen[128];           /**< used when nlisten == 0 */
  const char *socket_group;           /**< --socket-group; NULL = none */
  uint32_t socket_gid;                /**< its gid, when socket_group */
  size_t max_sessions;                /**< concurrent runs */
  gxd_limits limits;                  /**< per-request bounds */
  uint32_t default_grace_ms;          /**< SIGTERM -> SIGKILL default */
  uint64_t start_timeout_ms;          /**< wait for a stream's start */
  /* connection-level protection (server/guard.h) */
  size_t max_sessions_per_identity;   /**< runs one identity may hold;
                                           0 = max_sessions */
  uint32_t max_pending_starts;        /**< streams waiting for start, per
                                           connection; 0 = the identity's
                                           share of runs */
  uint32_t stream_rate;               /**< new streams per second per
                                           connection; 0 = no limit */
  uint32_t stream_burst;              /**< ... and at once */
  const char *launcher;               /**< gexec-launch; NULL = beside us */
  const char *default_profile;        /**< "baseline" unless set; a name
                                           of the profile table, checked
                                           once it is loaded (profiles.h) */
  const char *require[4];             /**< --require-isolation */
  int nrequire;
  uint32_t disable;                   /**< --disable-mechanism: gxi_mech
                                           bits (GXD_DISABLE_MECHS) */
  const char *allow_reduced[GXD_MAX_PROFILE_FLAGS]; /**< --allow-reduced */
  int nallow_reduced;
  const char *profiles_file;          /**< --profiles; NULL = built-ins only */
  int default_profile_set;            /**< --default-profile was given */
  const char *allow_profiles;         /**< --allow-profiles: comma-separated
                                           names; NULL = derived (profiles.h,
                                           gxd_profiles_allowed) */
  const char *instance;               /**< --instance; NULL = derived */
  int launch_exec;                    /**< --launch-mode exec: no fork
                                           server */
  /** caps on a run's limits: 0 = not given (a profile's own default
   *  is then its cap), GXD_CAP_NONE = no cap (the flag's value 0), else
   *  in the range that Start.limits is held to (GXD_LIMIT_* in
   *  validate.h) */
  uint64_t max_memory, max_pids, max_cpu_time_ms, max_open_files;
  size_t max_message_bytes;           /**< largest accepted message */
  gxd_log_level log_level;
  /** TLS (server/tls.h): --tls-cert and --tls-key (both or neither),
   *  --tls-client-ca (mTLS; needs both), --tls-crl-dir (needs the client
   *  CA). NULL = not given. With a certificate, every TCP listener
   *  speaks TLS. */
  const char *tls_cert, *tls_key, *tls_client_ca, *tls_crl_dir;
  /** --policy FILE; NULL = none. Only stored here (the daemon loads
   *  it). A non-loopback TCP listener needs it and mTLS. */
  const char *policy_file;
  const char *audit_log;              /**< --audit-log; NULL = none */
  int audit_sync;                     /**< --audit-sync */
  /** --keepalive-time / --keepalive-timeout (lib/rpc.h keepalive) */
  uint32_t keepalive_time_ms, keepalive_timeout_ms;
} gxd_config;

/** gexecd's version ("0.4.0"). */
const char *gxd_config_version(void);

/** Result of gxd_config_parse besides errors. */
enum { GXD_CONFIG_RUN = 0, GXD_CONFIG_EXIT = 1 };

/**
 * Parses @p argv into @p cfg (defaults first). Durations and sizes are
 * read by lib/gx_units.h (DUR and SIZE in --help). Returns GXD_CONFIG_RUN,
 * GXD_CONFIG_EXIT after printing --help/--version to stdout, or -1 with
 * a reason in @p why. Once every flag is read it refuses combinations
 * that are unsafe or incomplete: a TLS flag without the ones it needs,
 * and a TCP listener on a non-loopback address without mTLS and a
 * --policy (the reason names the listener and what is missing).
 */
int gxd_config_parse(int argc, char **argv, gxd_config *cfg, char *why,
                     size_t why_len);

/**
 * Returns the largest open-files limit to accept: GXD_LIMIT_OPEN_FILES_MAX,
 * or the number in @p nr_open_path (normally /proc/sys/fs/nr_open, above
 * which setrlimit(RLIMIT_NOFILE) fails) when that is smaller. A file that
 * cannot be read or holds no number in GXD_LIMIT_OPEN_FILES_MIN..MAX
 * leaves the default. gxd_config_parse puts it in limits.max_open_files.
 */
uint64_t gxd_open_files_ceiling(const char *nr_open_path);

#endif
