#include "lib/gx_err.h"

#include <stddef.h>

const char *gx_strerror(int err) {
  switch (err) {
    case GX_OK: return "success";
    case GX_EINVAL: return "invalid argument";
    case GX_ENOMEM: return "out of memory";
    case GX_ESYS: return "system call failed";
    case GX_ERPC: return "RPC layer refused the operation";
    case GX_ECLOSED: return "already closed or finished";
    case GX_EBUSY: return "an operation of this kind is already in flight";
    case GX_ETIMEDOUT: return "timed out";
    case GX_E2BIG: return "input exceeds a configured bound";
    case GX_ESTATUS: return "the call ended with a non-OK status";
    default: return "unknown error";
  }
}

static const char *const status_names[] = {
    "OK",         "CANCELLED",          "UNKNOWN",
    "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
    "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION", "ABORTED",    "OUT_OF_RANGE",
    "UNIMPLEMENTED", "INTERNAL",         "UNAVAILABLE",
    "DATA_LOSS",  "UNAUTHENTICATED",
};

const char *gx_status_name(int status) {
  if (status < 0 || (size_t)status >= sizeof status_names / sizeof *status_names)
    return "UNKNOWN_STATUS";
  return status_names[status];
}
