/**
 * @file json_out.h
 * The one JSON object `gexec run --json` prints, built with json-c.
 *
 * Strings in JSON must be Unicode. Output bytes that are valid UTF-8 go
 * into "stdout"/"stderr" unchanged (json-c escapes quotes, backslashes
 * and control characters, NUL included). When a stream is not valid
 * UTF-8, each maximal invalid subsequence (the WHATWG / Unicode "U+FFFD
 * substitution of maximal subparts" rule) becomes U+FFFD in the string,
 * and the exact bytes are added as "stdout_base64"/"stderr_base64"
 * (RFC 4648, with padding). Strings from the command line (target,
 * argv) get the U+FFFD treatment only.
 */
#ifndef GXC_JSON_OUT_H
#define GXC_JSON_OUT_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "client/gexec.h"

/** Everything the object is built from; all of it borrowed. */
typedef struct {
  const char *target;         /**< as shown to people; NULL gives null */
  const char *const *argv;    /**< PROGRAM [ARG]..., NULL-terminated */
  int has_exit;               /**< nonzero: @c exit holds the run's end */
  gexec_exit exit;
  uint32_t pid;               /**< 0 = unknown (the run never started) */
  uint64_t run_id;            /**< the daemon's run id from `started`;
                                   0 = unknown (never started, or an older
                                   daemon) */
  const uint8_t *out;         /**< captured stdout */
  size_t out_len;
  const uint8_t *err;         /**< captured stderr */
  size_t err_len;
  int capture_truncated;      /**< our capture cap dropped output */
  int rc;                     /**< GEXEC_OK, or how the run failed */
  const gexec_error *error;   /**< details when rc != GEXEC_OK; may be NULL */
} gxc_json_run;

/**
 * Builds the object (keys in this order): target, argv, exit_code,
 * signal, core_dumped, timed_out, oom_killed, output_truncated, pid,
 * run_id, user_time_us, system_time_us, max_rss_kb, wall_time_us, isolation,
 * stdout, [stdout_base64], stderr, [stderr_base64], error. Returns a new
 * reference (release with json_object_put), or NULL when out of memory.
 *
 * isolation is null when the run did not end (has_exit == 0) or the
 * daemon reported none (gxc_isolation_reported), else {profile (null
 * when ""), namespaces (the comma-separated list as an array of
 * strings), cgroup (null when ""), seccomp, uid, read_only_root,
 * no_new_privs, description}. oom_killed is a boolean when the run
 * ended, null otherwise (like core_dumped and timed_out). pid and run_id
 * are numbers once the run started (from the exit, else from `started`),
 * null otherwise (run_id also from a daemon that reports none).
 */
json_object *gxc_json_build(const gxc_json_run *r);

/**
 * Returns the object as one line of JSON, without a newline: no spaces,
 * '/' not escaped. The string belongs to @p obj.
 */
const char *gxc_json_text(json_object *obj, size_t *len);

/** Returns nonzero when the daemon reported an isolation (any field set:
 *  an older daemon sends none, leaving @p i all zero). */
int gxc_isolation_reported(const gexec_isolation *i);

/** Returns nonzero when @p s[0..len) is valid UTF-8 (RFC 3629). */
int gxc_utf8_valid(const uint8_t *s, size_t len);

/**
 * Copies @p s[0..len) into @p out as valid UTF-8, each maximal invalid
 * subsequence replaced by U+FFFD (3 bytes). @p cap must be at least
 * 3 * len + 1. NUL-terminates; returns the length written.
 */
size_t gxc_utf8_lossy(const uint8_t *s, size_t len, char *out, size_t cap);

/**
 * Encodes @p s[0..len) as base64 with padding into @p out; @p cap must be
 * at least 4 * ((len + 2) / 3) + 1. NUL-terminates; returns the length.
 */
size_t gxc_base64(const uint8_t *s, size_t len, char *out, size_t cap);

#endif
