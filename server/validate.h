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

/** Bounds applied to a Start message. */
typedef struct {
  size_t max_argc;          /**< argv elements */
  size_t max_envc;          /**< env entries */
  size_t max_arg_bytes;     /**< argv + env bytes together (ARG_MAX-safe) */
  uint64_t max_timeout_ms;  /**< the daemon's maximum run time */
  uint32_t max_grace_ms;    /**< the largest kill_grace_ms accepted */
} gxd_limits;

/** Default bounds: 4096 args, 1024 env entries, 1 MiB, 24 h, 60 s. */
extern const gxd_limits gxd_default_limits;

/**
 * Scans the serialized RunRequest @p buf for NUL bytes inside the string
 * fields of `start` (argv, env names and values, cwd). protobuf-c turns
 * strings into C strings, which would silently cut them at a NUL, so this
 * runs on the wire bytes. Returns the offending field's name, or NULL.
 */
const char *gxd_wire_find_nul(const uint8_t *buf, size_t len);

/** Validates @p s against @p lim; returns a gx_status. */
int gxd_validate_start(const Gexec__V1__Start *s, const gxd_limits *lim,
                       char *why, size_t why_len);

/** Validates a signal number (1..64); returns a gx_status. */
int gxd_validate_signal(int32_t number, char *why, size_t why_len);

#endif
