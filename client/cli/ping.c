/* `gexec ping`: see ping.h. */
#include "client/cli/ping.h"

#include <errno.h>
#include <stdio.h>

#include "client/cli/exitcode.h"
#include "client/cli/teardown.h"
#include "client/cli/textsafe.h"
#include "client/gexec.h"


/* A reason as printed: the daemon's words escaped (textsafe.h). */
typedef char reason_buf[4 * sizeof(((gexec_error *)0)->message)];

/* The library's reason, without the target we name ourselves, in
 * @p out. */
static const char *reason(int rc, const gexec_error *err, const char *shown,
                          reason_buf out) {
  if (!err->message[0]) return gexec_strerror(rc);
  return gxc_text_safe(gxc_strip_target(err->message, shown), out,
                       sizeof(reason_buf));
}

/* Prints why a ping failed. */
static void report_failure(const char *shown, int rc, const gexec_error *e) {
  reason_buf why;
  if (rc == GEXEC_ESTATUS)
    fprintf(stderr, "gexec: gexecd at %s: %s: %s\n", shown,
            gexec_status_name(e->status), reason(rc, e, shown, why));
  else
    fprintf(stderr, "gexec: gexecd at %s: %s\n", shown,
            reason(rc, e, shown, why));
}

/* Round-trip statistics over several pings, in microseconds. */
typedef struct {
  int64_t min, max, sum;
  int n;
} rtt_stats;

static void stats_add(rtt_stats *s, int64_t rtt) {
  if (s->n == 0 || rtt < s->min) s->min = rtt;
  if (s->n == 0 || rtt > s->max) s->max = rtt;
  s->sum += rtt;
  s->n++;
}

/* Who the daemon thinks we are, after the first answer (a daemon older
 * than 0.3 says nothing: nothing is printed). */
static void print_identity(const char *shown, const gexec_ping_info *info) {
  char id[4 * sizeof info->identity], rule[4 * sizeof info->rule];
  if (!info->identity[0]) return;
  gxc_text_safe(info->identity, id, sizeof id); /* the daemon's words */
  if (info->rule[0])
    printf("gexecd at %s: you are %s, policy rule '%s'\n", shown, id,
           gxc_text_safe(info->rule, rule, sizeof rule));
  else
    printf("gexecd at %s: you are %s, and no policy rule matches you\n",
           shown, id);
}

/* Sends the pings; returns GEXEC_OK or the failing call's result. */
static int ping_loop(gexec_conn *conn, const gxc_args *a, const char *shown,
                     rtt_stats *st, gexec_error *err) {
  for (int i = 0; i < a->ping_count; i++) {
    gexec_ping_info info = GEXEC_PING_INFO_INIT;
    int rc = gexec_ping_ex(conn, (int64_t)a->ping_timeout_ms, &info, err);
    int64_t rtt = info.rtt_us;
    if (rc != GEXEC_OK) return rc;
    printf("gexecd at %s: SERVING, rtt %.3f ms\n", shown, (double)rtt / 1e3);
    if (i == 0) print_identity(shown, &info);
    stats_add(st, rtt);
    if (fflush(stdout) != 0) break; /* reported by the caller */
  }
  return GEXEC_OK;
}

int gxc_ping(const gxc_args *a, const char *target, const char *shown,
             const gexec_conn_opts *opts) {
  gexec_conn *conn = NULL;
  gexec_error err = {0};
  rtt_stats st = {0};
  int rc = gexec_connect(target, opts, &conn, &err) /* 10 s */;
  if (rc != GEXEC_OK) {
    reason_buf why;
    fprintf(stderr, "gexec: cannot connect to %s: %s\n", shown,
            reason(rc, &err, shown, why));
    return GXC_EXIT_ERROR;
  }
  rc = ping_loop(conn, a, shown, &st, &err);
  gxc_conn_release(conn);
  if (rc != GEXEC_OK) report_failure(shown, rc, &err);
  else if (st.n > 1)
    printf("%d pings: rtt min/avg/max %.3f/%.3f/%.3f ms\n", st.n,
           (double)st.min / 1e3, (double)st.sum / st.n / 1e3,
           (double)st.max / 1e3);
  if (fflush(stdout) != 0 || ferror(stdout))
    return errno == EPIPE ? GXC_EXIT_EPIPE : GXC_EXIT_ERROR;
  return rc == GEXEC_OK ? 0 : GXC_EXIT_ERROR;
}
