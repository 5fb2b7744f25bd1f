/**
 * @file args.h
 * The gexec command line: subcommands, options, and the --help texts.
 * Pure: no I/O, no globals besides getopt's own.
 */
#ifndef GXC_ARGS_H
#define GXC_ARGS_H

#include <stddef.h>
#include <stdint.h>

/** Most -e options accepted (the daemon's own limit). */
#define GXC_MAX_ENV 1024

/** Largest -c of `gexec ping`. */
#define GXC_MAX_PING_COUNT 100000

/** Default per-ping timeout of `gexec ping`, in milliseconds. */
#define GXC_PING_TIMEOUT_MS 5000

/** What to do once the command line is parsed. */
typedef enum {
  GXC_CMD_NONE = 0, /**< not known yet (a top-level usage error) */
  GXC_CMD_HELP,     /**< print the top-level help, exit 0 */
  GXC_CMD_VERSION,  /**< print the version, exit 0 */
  GXC_CMD_RUN,      /**< run a command */
  GXC_CMD_RUN_HELP, /**< print `gexec run --help`, exit 0 */
  GXC_CMD_PING,     /**< health check */
  GXC_CMD_PING_HELP, /**< print `gexec ping --help`, exit 0 */
  GXC_CMD_FACTS,     /**< system facts of one host or a fleet */
  GXC_CMD_FACTS_HELP /**< print `gexec facts --help`, exit 0 */
} gxc_cmd;

/** Most -w and most -x options (each may list many targets). */
#define GXC_MAX_TARGET_OPTS 64

/** Default -f: hosts worked on at once in fleet mode. */
#define GXC_DEFAULT_FANOUT 64

/** Largest -f. */
#define GXC_MAX_FANOUT 4096

/** Default --stdin-timeout (ms): a host that takes none of its stdin for
 *  this long is cut off. */
#define GXC_DEFAULT_STDIN_TIMEOUT_MS 30000

/**
 * A parsed command line. Strings point into the argv given to
 * gxc_args_parse, which must outlive this struct.
 */
typedef struct {
  gxc_cmd cmd;
  const char *target;           /**< -H; NULL = not given */
  uint64_t timeout_ms;          /**< -t; 0 = the daemon's maximum */
  const char *cwd;              /**< -C; NULL = daemon's default */
  const char *env[GXC_MAX_ENV + 1]; /**< -e values, NULL-terminated */
  size_t nenv;
  int stdin_null;               /**< -n */
  int merge_stderr;             /**< --merge-stderr */
  int json;                     /**< --json */
  uint32_t kill_grace_ms;       /**< --kill-grace; 0 = daemon's default */
  int verbose;                  /**< -v: report the isolation on stderr */
  const char *profile;          /**< --profile; NULL = daemon's default */
  const char *user;             /**< -u; NULL = daemon's default */
  uint64_t memory_bytes;        /**< --memory; 0 = the profile's default */
  uint64_t pids;                /**< --pids; 0 = the profile's default */
  uint64_t cpu_time_ms;         /**< --cpu-time; 0 = the profile's default */
  uint64_t open_files;          /**< --open-files; 0 = profile's default */
  char *const *prog;            /**< PROGRAM [ARG]..., NULL-terminated */
  int prog_argc;
  int ping_count;               /**< ping -c (default 1) */
  uint64_t ping_timeout_ms;     /**< ping -t (default 5 s) */
  /* TLS, every subcommand (NULL = not given; see client/cli/tls.h) */
  const char *ca;               /**< --ca FILE */
  const char *cert;             /**< --cert FILE */
  const char *key;              /**< --key FILE */
  const char *tls_server_name;  /**< --tls-server-name NAME */
  /* fleet mode (-w; run and facts; see client/cli/fleet.h) */
  int fleet;                    /**< -w given: fleet mode */
  const char *wtargets[GXC_MAX_TARGET_OPTS + 1]; /**< -w values */
  size_t nw;
  const char *xtargets[GXC_MAX_TARGET_OPTS + 1]; /**< -x values */
  size_t nx;
  const char *groups_file;      /**< --groups-file; NULL = the default */
  uint64_t fanout;              /**< -f (default GXC_DEFAULT_FANOUT) */
  uint64_t connect_timeout_ms;  /**< --connect-timeout; 0 = library's */
  uint64_t deadline_ms;         /**< --deadline; 0 = none */
  int gather;                   /**< -b: fold identical output */
  int diff;                     /**< --diff (run: implies -b) */
  const char *outdir;           /**< --outdir DIR */
  int send_stdin;               /**< --stdin: spool stdin to every host */
  uint64_t stdin_timeout_ms;    /**< --stdin-timeout; 0 = never */
  int all_filesystems;          /**< facts --all-filesystems */
} gxc_args;

/**
 * Parses @p argv (NULL-terminated, as main() gets it) into @p out.
 * Durations (-t, --kill-grace, --cpu-time, ping -t) and sizes (--memory)
 * have the syntaxes of lib/gx_units.h (DUR and SIZE in the --help texts).
 * Options of `run` stop at the first non-option or after `--`: everything
 * from PROGRAM on belongs to the program. `facts` takes FIELD names as
 * its operands (in prog / prog_argc; prog NULL when none). Returns 0, or -1 with a
 * one-line reason in @p why (a usage error); then out->cmd says whose
 * --help to point at (GXC_CMD_RUN, GXC_CMD_PING, GXC_CMD_FACTS or GXC_CMD_NONE).
 * Resets getopt's state.
 */
int gxc_args_parse(int argc, char *const *argv, gxc_args *out, char *why,
                   size_t why_len);

/**
 * Parses a positive decimal count (digits only, at least 1, at most
 * @p max). Returns 0 or -1 (then @p out is untouched).
 */
int gxc_parse_count(const char *s, uint64_t max, uint64_t *out);

/**
 * Checks one -e value: "NAME=VALUE" with a non-empty NAME (VALUE may be
 * empty). Returns 0, or -1 with a reason in @p why.
 */
int gxc_check_env(const char *s, char *why, size_t why_len);

/**
 * Picks the target to connect to: @p opt (-H) if given, else @p env
 * ($GEXEC_TARGET) if non-empty, else NULL (the library's default).
 */
const char *gxc_pick_target(const char *opt, const char *env);

/**
 * Writes the target as shown to people into @p buf: @p target itself, or,
 * for NULL, the default socket for @p xdg_runtime_dir as
 * gx_addr_default_for (lib/gx_addr.h) computes it, the address libgexec
 * connects to. Truncates to fit @p len. Returns @p buf.
 */
const char *gxc_target_display(const char *target, const char *xdg_runtime_dir,
                               char *buf, size_t len);

/**
 * Returns the part of a library message @p msg that follows a leading
 * "cannot connect to TARGET: " or "TARGET: " (@p shown is TARGET), so
 * that a reason we prefix with the target does not name it twice; else
 * @p msg itself.
 */
const char *gxc_strip_target(const char *msg, const char *shown);

/** Returns the text of `gexec --help`. */
const char *gxc_usage_main(void);

/** Returns the text of `gexec run --help`. */
const char *gxc_usage_run(void);

/** Returns the text of `gexec ping --help`. */
const char *gxc_usage_ping(void);

/** Returns the text of `gexec facts --help`. */
const char *gxc_usage_facts(void);

#endif
