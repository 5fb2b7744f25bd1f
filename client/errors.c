/* Error codes and messages of libgexec. */
#include <stdarg.h>
#include <stdio.h>

#include "client/internal.h"
#include "lib/gx_err.h"

int gexec__fail(gexec_error *err, int code, int status, const char *fmt,
                ...) {
  if (!err) return code;
  err->code = code;
  err->status = status;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->message, sizeof err->message, fmt, ap);
  va_end(ap);
  return code;
}

const char *gexec_strerror(int code) {
  switch (code) {
    case GEXEC_OK: return "success";
    case GEXEC_EINVAL: return "invalid argument";
    case GEXEC_ENOMEM: return "out of memory";
    case GEXEC_ECONNECT: return "cannot connect to the daemon";
    case GEXEC_ESTATUS: return "the daemon ended the call with an error";
    case GEXEC_ECLOSED: return "already ended or closed";
    case GEXEC_ETIMEDOUT: return "timed out";
    case GEXEC_EREFUSED: return "refused by the daemon's policy";
    default: return "unknown error";
  }
}

const char *gexec_status_name(int status) { return gx_status_name(status); }
