/* gexec.v1.Facts/Get: admission on the loop, reading on the thread pool,
 * the answer back on the loop (facts.h). */
#include "server/facts.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/gx_err.h"
#include "server/log.h"
#include "server/wire_check.h"

/* One call being read. Freed by after_work (always last: the timer is
 * closed first when it fired). */
typedef struct gxd_facts_job {
  uv_work_t work;
  uv_timer_t timer;
  gxd_facts *f;
  gx_rpc_call *call; /* NULL once answered */
  unsigned groups;
  int pseudo;
  int rc;
  Gexec__V1__FactsResponse *resp;
  char identity[512];
  char rule[128];
  struct gxd_facts_job *next; /* gxd_facts.jobs */
} facts_job;

static void log_call(const facts_job *j, const char *status) {
  char groups[160];
  gxd_facts_group_names(j->groups, groups, sizeof groups);
  json_object *o = json_object_new_object();
  json_object_object_add(o, "event", json_object_new_string("facts"));
  json_object_object_add(o, "identity", json_object_new_string(j->identity));
  json_object_object_add(o, "rule", json_object_new_string(j->rule));
  json_object_object_add(o, "groups", json_object_new_string(groups));
  json_object_object_add(o, "status", json_object_new_string(status));
  gxd_log_event(GXD_LOG_INFO, o);
}

static void on_work(uv_work_t *w) {
  facts_job *j = w->data;
  j->rc = gxd_facts_collect(&j->f->src, j->groups, j->pseudo, &j->resp);
}

static void free_job(uv_handle_t *h) {
  facts_job *j = h->data;
  if (j->resp) gexec__v1__facts_response__free_unpacked(j->resp, NULL);
  free(j);
}

static void unlink_job(facts_job *j) {
  facts_job **it = &j->f->jobs;
  while (*it && *it != j) it = &(*it)->next;
  if (*it) *it = j->next;
}

static void after_work(uv_work_t *w, int status) {
  facts_job *j = w->data;
  j->f->inflight--;
  unlink_job(j);
  if (!j->call) { /* timed out: answered already */
  } else if (status != 0 || j->rc != 0) {
    gx_rpc_call_finish(j->call, GX_STATUS_RESOURCE_EXHAUSTED,
                       "the daemon ran out of memory reading facts");
    log_call(j, "RESOURCE_EXHAUSTED");
  } else {
    gx_rpc_call_finish_msg(j->call, &j->resp->base, GX_STATUS_OK, "");
    log_call(j, "OK");
  }
  j->call = NULL;
  uv_timer_stop(&j->timer);
  /* a daemon tearing its loop down may have closed the timer already */
  if (!uv_is_closing((uv_handle_t *)&j->timer))
    uv_close((uv_handle_t *)&j->timer, free_job);
}

static void on_timeout(uv_timer_t *t) {
  facts_job *j = t->data;
  char why[128];
  snprintf(why, sizeof why, "reading the facts took longer than %d ms "
           "(a filesystem may not answer)", GXD_FACTS_TIMEOUT_MS);
  gx_rpc_call_finish(j->call, GX_STATUS_DEADLINE_EXCEEDED, why);
  log_call(j, "DEADLINE_EXCEEDED");
  j->call = NULL;
}

/* Checks the request; 0, or ends the call and returns -1. */
static int check_request(gx_rpc_call *call, const ProtobufCMessage *msg,
                         facts_job *j) {
  const Gexec__V1__FactsRequest *req = (const Gexec__V1__FactsRequest *)msg;
  char why[512];
  if (gxd_wire_check_unknown(msg, why, sizeof why) != GX_STATUS_OK ||
      gxd_facts_groups(req->groups, req->n_groups, &j->groups, why,
                       sizeof why) != 0) {
    gx_rpc_call_finish(call, GX_STATUS_INVALID_ARGUMENT, why);
    log_call(j, "INVALID_ARGUMENT");
    return -1;
  }
  j->pseudo = req->include_pseudo_filesystems;
  return 0;
}

static void start_job(gxd_facts *f, facts_job *j) {
  j->work.data = j->timer.data = j;
  uv_timer_init(f->loop, &j->timer);
  if (uv_queue_work(f->loop, &j->work, on_work, after_work) != 0) {
    gx_rpc_call_finish(j->call, GX_STATUS_INTERNAL,
                       "cannot queue the reading of facts");
    uv_close((uv_handle_t *)&j->timer, free_job);
    return;
  }
  f->inflight++;
  j->next = f->jobs;
  f->jobs = j;
  uv_timer_start(&j->timer, on_timeout, GXD_FACTS_TIMEOUT_MS, 0);
}

/* The connection's stream rate, as for runs (a flood of Facts calls on
 * a unix socket is not charged by the gate): 0, or ends the call and
 * returns -1. */
static int admit_rate(gxd_facts *f, gx_rpc_call *call) {
  char why[256];
  int st = f->admit_rate(f->rate_ud, call, why, sizeof why);
  if (st == GX_STATUS_OK) return 0;
  gx_rpc_call_finish(call, st, why);
  return -1;
}

static void get(void *ud, gx_rpc_call *call, const ProtobufCMessage *msg) {
  gxd_facts *f = ud;
  gxd_caller_info *caller = malloc(sizeof *caller);
  facts_job *j = calloc(1, sizeof *j);
  if (!caller || !j) {
    gx_rpc_call_finish(call, GX_STATUS_RESOURCE_EXHAUSTED, "out of memory");
    goto out;
  }
  j->f = f;
  j->call = call;
  if (f->admit_rate && admit_rate(f, call) != 0) goto out;
  if (!gxd_access_admit_facts(*f->access, call, caller, j->rule,
                              sizeof j->rule))
    goto out; /* ended, logged and audited */
  snprintf(j->identity, sizeof j->identity, "%s", caller->name);
  if (check_request(call, msg, j) != 0) goto out;
  if (f->inflight >= GXD_FACTS_INFLIGHT) {
    gx_rpc_call_finish(call, GX_STATUS_RESOURCE_EXHAUSTED,
                       "too many facts calls in progress; retry later");
    log_call(j, "RESOURCE_EXHAUSTED");
    goto out;
  }
  start_job(f, j);
  j = NULL; /* the job's now */
out:
  free(caller);
  free(j);
}

void gxd_facts_drain(gxd_facts *f) {
  for (facts_job *j = f->jobs; j; j = j->next) {
    if (!j->call) continue;
    gx_rpc_call_finish(j->call, GX_STATUS_UNAVAILABLE,
                       "gexecd is shutting down; retry on another daemon");
    log_call(j, "UNAVAILABLE");
    j->call = NULL;
    uv_timer_stop(&j->timer);
  }
}

int gxd_facts_add(gx_rpc_server *srv, gxd_facts *f) {
  return gx_rpc_server_add_unary(srv, "/gexec.v1.Facts/Get",
                                 &gexec__v1__facts_request__descriptor, get,
                                 f);
}
