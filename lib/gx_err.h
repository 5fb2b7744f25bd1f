/**
 * @file gx_err.h
 * Error codes shared by gexecd, libgexec and the CLI.
 *
 * Two families:
 *  - gx_err: our own integer results. GX_OK (0) is success, every failure
 *    is negative. gx_strerror() names each one.
 *  - gx_status: the gRPC status codes (numbers fixed by the gRPC spec),
 *    carried on the wire. gx_status_name() names each one.
 */
#ifndef GX_ERR_H
#define GX_ERR_H

/** Result codes of gexec functions: 0 on success, negative on failure. */
typedef enum {
  GX_OK = 0,
  GX_EINVAL = -1,    /**< an argument is malformed */
  GX_ENOMEM = -2,    /**< allocation failed */
  GX_ESYS = -3,      /**< a system call failed (see errno) */
  GX_ERPC = -4,      /**< the RPC layer refused an operation */
  GX_ECLOSED = -5,   /**< the object is closed or finished */
  GX_EBUSY = -6,     /**< an operation of this kind is already in flight */
  GX_ETIMEDOUT = -7, /**< a local wait ran out of time */
  GX_E2BIG = -8,     /**< input exceeds a configured bound */
  GX_ESTATUS = -9,   /**< the peer ended the call with a non-OK status */
} gx_err;

/** gRPC status codes, as numbered by the gRPC specification. */
typedef enum {
  GX_STATUS_OK = 0,
  GX_STATUS_CANCELLED = 1,
  GX_STATUS_UNKNOWN = 2,
  GX_STATUS_INVALID_ARGUMENT = 3,
  GX_STATUS_DEADLINE_EXCEEDED = 4,
  GX_STATUS_NOT_FOUND = 5,
  GX_STATUS_ALREADY_EXISTS = 6,
  GX_STATUS_PERMISSION_DENIED = 7,
  GX_STATUS_RESOURCE_EXHAUSTED = 8,
  GX_STATUS_FAILED_PRECONDITION = 9,
  GX_STATUS_ABORTED = 10,
  GX_STATUS_OUT_OF_RANGE = 11,
  GX_STATUS_UNIMPLEMENTED = 12,
  GX_STATUS_INTERNAL = 13,
  GX_STATUS_UNAVAILABLE = 14,
  GX_STATUS_DATA_LOSS = 15,
  GX_STATUS_UNAUTHENTICATED = 16,
} gx_status;

/** Returns a static, human-readable description of a gx_err code. */
const char *gx_strerror(int err);

/** Returns the canonical upper-case name of a gRPC status ("NOT_FOUND"). */
const char *gx_status_name(int status);

#endif
