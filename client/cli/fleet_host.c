/* One host of a fleet run: outcome, status and reason (fleet_host.h). */
#include "client/cli/fleet_host.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/cli/exitcode.h"
#include "client/cli/textsafe.h"

void gxc_host_set_exit(gxc_host *h, const gexec_exit *e) {
  h->has_exit = 1;
  h->exit = *e;
  h->rc = GEXEC_OK;
  memset(&h->err, 0, sizeof h->err);
  if (e->timed_out)
    h->outcome = GXC_OUTCOME_TIMED_OUT;
  else if (e->signal)
    h->outcome = GXC_OUTCOME_SIGNALED;
  else
    h->outcome = e->exit_code ? GXC_OUTCOME_EXITED : GXC_OUTCOME_OK;
}

/* Whether a connection failure's reason is TLS refusing us. */
static int tls_reason(const char *msg) {
  return strstr(msg, "certificate") || strstr(msg, "TLS");
}

void gxc_host_set_error(gxc_host *h, int rc, const gexec_error *err,
                        int started) {
  h->has_exit = 0;
  h->rc = rc;
  if (err)
    h->err = *err;
  else
    snprintf(h->err.message, sizeof h->err.message, "%s",
             gexec_strerror(rc));
  h->err.code = rc;
  if (started)
    h->outcome = GXC_OUTCOME_FAILED;
  else if (rc == GEXEC_EREFUSED)
    h->outcome = GXC_OUTCOME_REFUSED;
  else if (rc == GEXEC_ECONNECT)
    h->outcome = tls_reason(h->err.message) ? GXC_OUTCOME_REFUSED
                                            : GXC_OUTCOME_UNREACHABLE;
  else
    h->outcome = GXC_OUTCOME_FAILED;
}

int gxc_host_status(const gxc_host *h) {
  if (h->outcome == GXC_OUTCOME_OK) return 0;
  if (h->has_exit) return gxc_exit_from_exit(&h->exit);
  if (h->outcome == GXC_OUTCOME_FAILED && h->rc == GEXEC_ESTATUS)
    return gxc_exit_from_error(h->rc, &h->err);
  return GXC_EXIT_ERROR;
}

/* "5 s", "2.5 s", "500 ms". */
static void duration(uint64_t ms, char *buf, size_t len) {
  uint64_t tenths = (ms + 50) / 100; /* 2999 ms: 3 s, not 3.0 s */
  if (ms >= 1000 && tenths % 10 == 0)
    snprintf(buf, len, "%llu s", (unsigned long long)(tenths / 10));
  else if (ms >= 1000)
    snprintf(buf, len, "%llu.%llu s", (unsigned long long)(tenths / 10),
             (unsigned long long)(tenths % 10));
  else
    snprintf(buf, len, "%llu ms", (unsigned long long)ms);
}

static const char *ended(const gxc_host *h, char *buf, size_t len) {
  char d[32];
  const gexec_exit *e = &h->exit;
  switch (h->outcome) {
    case GXC_OUTCOME_EXITED:
      snprintf(buf, len, "exited with %d", e->exit_code);
      break;
    case GXC_OUTCOME_SIGNALED:
      if (e->oom_killed)
        snprintf(buf, len, "killed by the memory limit (OOM)");
      else
        snprintf(buf, len, "killed by signal %d (%s)", e->signal,
                 sigabbrev_np(e->signal) ? sigabbrev_np(e->signal) : "?");
      break;
    default: /* timed out */
      if (!h->timeout_ms) {
        snprintf(buf, len, "timed out (process tree killed)");
        break;
      }
      duration(h->timeout_ms, d, sizeof d);
      snprintf(buf, len, "timed out after %s (process tree killed)", d);
  }
  return buf;
}

const char *gxc_host_reason(const gxc_host *h, char *buf, size_t len) {
  char msg[4 * sizeof h->err.message]; /* a daemon's words: escaped */
  gxc_text_safe(h->err.message, msg, sizeof msg);
  buf[0] = '\0';
  if (h->has_exit) return h->outcome == GXC_OUTCOME_OK ? buf
                                                       : ended(h, buf, len);
  switch (h->outcome) {
    case GXC_OUTCOME_UNREACHABLE:
      snprintf(buf, len, "unreachable (%s)", msg);
      break;
    case GXC_OUTCOME_REFUSED:
      if (h->rc == GEXEC_EREFUSED) /* libgexec says "refused by X: " */
        snprintf(buf, len, "%s%s",
                 strncmp(msg, "refused by ", 11) ? "refused by policy: " : "",
                 msg);
      else
        snprintf(buf, len, "refused: TLS: %s", msg);
      break;
    case GXC_OUTCOME_FAILED:
      if (gxc_host_status(h) == GXC_EXIT_NOTFOUND)
        snprintf(buf, len, "command not found: %s", msg);
      else if (gxc_host_status(h) == GXC_EXIT_NOEXEC)
        snprintf(buf, len, "cannot execute: %s", msg);
      else
        snprintf(buf, len, "failed: %s", msg);
      break;
    default: break;
  }
  return buf;
}

int gxc_capture_add(gxc_capture *c, const uint8_t *data, size_t len) {
  size_t room = GXC_FLEET_CAPTURE_MAX - c->len, take = len < room ? len : room;
  if (c->len + take > c->alloc) {
    size_t want = c->alloc ? c->alloc : 4096;
    while (want < c->len + take) want *= 2;
    if (want > GXC_FLEET_CAPTURE_MAX) want = GXC_FLEET_CAPTURE_MAX;
    uint8_t *nb = realloc(c->buf, want);
    if (!nb) return c->truncated = 1;
    c->buf = nb;
    c->alloc = want;
  }
  if (take) memcpy(c->buf + c->len, data, take);
  c->len += take;
  if (take < len) c->truncated = 1;
  return take < len;
}

void gxc_host_release(gxc_host *h) {
  for (int i = 0; i < 2; i++) {
    free(h->cap[i].buf);
    h->cap[i] = (gxc_capture){0};
    gxc_lines_free(&h->lines[i]);
    if (h->out_fd[i] >= 0) close(h->out_fd[i]);
    h->out_fd[i] = -1;
  }
  free(h->facts_json);
  h->facts_json = NULL;
}
