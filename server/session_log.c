/* The run's log line and audit end record; see session_internal.h. */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "lib/gx_err.h"
#include "server/log.h"
#include "server/session_internal.h"

const char *gxd_session_stop_name(stop_reason why) {
  static const char *const names[] = {"none", "timeout", "drain", "error",
                                      "client"};
  return why < sizeof names / sizeof *names ? names[why] : "?";
}


/* The audit record of an allowed run's end. A failure is logged: the
 * run is over, there is nothing left to refuse. */
static void audit_end(gxd_session *s, int status, int ended) {
  gxd_admit_end e = {
      .status = status,
      .error = s->err_msg,
      .ended = ended,
      .exit_code = s->ex.exit_code,
      .signal = s->ex.signal,
      .timed_out = s->ex.timed_out,
      .oom_killed = s->ex.oom_killed,
      .bytes_in = s->bytes_in,
      .bytes_out = s->bytes_out,
      .wall_us = (uv_hrtime() - s->start_ns) / 1000,
      .user_us = s->ex.user_us,
      .system_us = s->ex.sys_us};
  uint64_t seq;
  json_object *r = gxd_admit_end_record(&s->caller, s->run_id, &e);
  int rc = gxd_audit_write(s->ctx->audit, r, &seq);
  json_object_put(r);
  if (rc > 0) gxd_audit_flush(s->ctx->audit); /* nobody waits for it */
  if (rc < 0)
    gxd_log(GXD_LOG_ERROR, "run %llu: cannot write its end to the audit "
            "log: %s", (unsigned long long)s->run_id, strerror(-rc));
}

/* The run's one log line; @p ended: the run's process ended (s->ex). */
void gxd_session_log_run(gxd_session *s, int status, int ended) {
  json_object *f = json_object_new_object();
  json_object_object_add(f, "event", json_object_new_string("run"));
  json_object_object_add(f, "run", json_object_new_int64((int64_t)s->run_id));
  json_object_object_add(f, "peer", json_object_new_string(s->caller.address));
  json_object_object_add(f, "identity", json_object_new_string(s->caller.name));
  if (s->adm.rule)
    json_object_object_add(f, "rule", json_object_new_string(
                                          gxd_policy_rule_name(s->adm.rule)));
  if (s->req && s->req->start) {
    json_object *argv = json_object_new_array();
    Gexec__V1__Start *st = s->req->start;
    for (size_t i = 0; i < st->n_argv && i < 32; i++)
      json_object_array_add(argv, json_object_new_string_len(
                                      st->argv[i], (int)strnlen(st->argv[i], 128)));
    json_object_object_add(f, "argv", argv);
  }
  if (s->plan.profile)
    json_object_object_add(f, "profile",
                           json_object_new_string(s->plan.profile->name));
  if (s->plan.user)
    json_object_object_add(f, "user",
                           json_object_new_string(s->plan.user->name));
  json_object_object_add(f, "pid", json_object_new_int(s->pid));
  json_object_object_add(f, "status",
                         json_object_new_string(gx_status_name(status)));
  if (status != GX_STATUS_OK)
    json_object_object_add(f, "error", json_object_new_string(s->err_msg));
  if (s->stop != STOP_NONE)
    json_object_object_add(f, "stop",
                           json_object_new_string(gxd_session_stop_name(s->stop)));
  if (ended) {
    if (s->ex.signal)
      json_object_object_add(f, "signal", json_object_new_int(s->ex.signal));
    else
      json_object_object_add(f, "exit_code",
                             json_object_new_int(s->ex.exit_code));
    json_object_object_add(f, "timed_out",
                           json_object_new_boolean(s->ex.timed_out));
  }
  if (s->ex.pipes_forced) /* output of escapees was cut off */
    json_object_object_add(f, "pipes_forced", json_object_new_boolean(1));
  json_object_object_add(f, "duration_ms", json_object_new_int64(
                                (int64_t)((uv_hrtime() - s->start_ns) / 1000000)));
  json_object_object_add(f, "bytes_in", json_object_new_int64((int64_t)s->bytes_in));
  json_object_object_add(f, "bytes_out", json_object_new_int64((int64_t)s->bytes_out));
  gxd_log_event(status == GX_STATUS_OK ? GXD_LOG_INFO : GXD_LOG_WARN, f);
  if (s->decided && s->ctx->audit) audit_end(s, status, ended);
}

/* A change of the run's phase (stopping, broken), at debug level. */
void gxd_session_log_phase(const gxd_session *s, const char *phase,
                           const char *reason) {
  if (!gxd_log_enabled(GXD_LOG_DEBUG)) return;
  json_object *f = json_object_new_object();
  json_object_object_add(f, "event", json_object_new_string(phase));
  json_object_object_add(f, "run", json_object_new_int64((int64_t)s->run_id));
  json_object_object_add(f, "reason", json_object_new_string(reason));
  gxd_log_event(GXD_LOG_DEBUG, f);
}

