/* gexec's exit statuses: see exitcode.h for the table. */
#include "client/cli/exitcode.h"

int gxc_exit_from_exit(const gexec_exit *e) {
  if (e->timed_out) return GXC_EXIT_TIMEOUT;
  if (e->signal != 0) {
    if (e->signal < 0 || e->signal > 127) return GXC_EXIT_ERROR;
    return GXC_EXIT_SIGNAL_BASE + e->signal;
  }
  if (e->exit_code < 0 || e->exit_code > 255) return GXC_EXIT_ERROR;
  return e->exit_code;
}

int gxc_exit_from_error(int rc, const gexec_error *err) {
  if (rc != GEXEC_ESTATUS || !err) return GXC_EXIT_ERROR;
  switch (err->status) {
    case GEXEC_STATUS_NOT_FOUND: return GXC_EXIT_NOTFOUND;
    case GEXEC_STATUS_PERMISSION_DENIED: return GXC_EXIT_NOEXEC;
    default: return GXC_EXIT_ERROR;
  }
}

int gxc_status_of(int rc, const gexec_error *err) {
  switch (rc) {
    case GEXEC_ESTATUS: case GEXEC_EREFUSED:
      return err && err->status > 0 ? err->status : GEXEC_STATUS_INTERNAL;
    case GEXEC_ECONNECT: return GEXEC_STATUS_UNAVAILABLE;
    case GEXEC_EINVAL: return GEXEC_STATUS_INVALID_ARGUMENT;
    case GEXEC_ENOMEM: return GEXEC_STATUS_RESOURCE_EXHAUSTED;
    case GEXEC_ETIMEDOUT: return GEXEC_STATUS_DEADLINE_EXCEEDED;
    default: return GEXEC_STATUS_INTERNAL;
  }
}
