/* Facts/Get calls (gexec.h): a gexec_proc of kind GEXEC__PROC_FACTS whose
 * one request is packed before the call exists (like a run's Start) and
 * whose one response is turned into JSON when it arrives. The call's
 * machinery (connection, status, trailers, queue) is proc.c's. */
#include <stdlib.h>
#include <string.h>

#include "client/internal.h"
#include "gexec/v1/facts.pb-c.h"
#include "lib/gx_err.h"

/** The timeout when the request leaves it at 0. */
#define GEXEC__FACTS_TIMEOUT_MS 10000

int gexec__facts_accept(gexec_proc *p, const uint8_t *data, size_t len) {
  if (p->facts_json) return -1;
  Gexec__V1__FactsResponse *m =
      gexec__v1__facts_response__unpack(NULL, len, data);
  if (!m) return -1;
  p->facts_json = gexec__pb_json(&m->base, &p->facts_len);
  gexec__v1__facts_response__free_unpacked(m, NULL);
  return p->facts_json ? 0 : -1;
}

/* Packs the FactsRequest of @p r into p->start_msg. */
static int pack_request(gexec_proc *p, const gexec_facts_req *r) {
  size_t n = 0;
  while (r->groups && r->groups[n]) n++;
  Gexec__V1__FactsRequest m = GEXEC__V1__FACTS_REQUEST__INIT;
  m.n_groups = n;
  m.groups = (char **)r->groups;
  m.include_pseudo_filesystems = r->include_pseudo_filesystems != 0;
  p->start_len = gexec__v1__facts_request__get_packed_size(&m);
  p->start_msg = malloc(p->start_len ? p->start_len : 1);
  if (!p->start_msg) return -1;
  gexec__v1__facts_request__pack(&m, p->start_msg);
  return 0;
}

static int facts_new(gexec_conn *conn, const gexec_facts_req *user,
                     gexec_proc **out, gexec_error *err) {
  gexec_facts_req r;
  if (!conn) return gexec__fail(err, GEXEC_EINVAL, 0, "no connection");
  if (!user || gexec__load(&r, sizeof r, user, user->size, sizeof r) !=
                   GEXEC_OK)
    return gexec__fail(err, GEXEC_EINVAL, 0,
                       user ? "the gexec_facts_req sets a field this "
                              "libgexec (" GEXEC_VERSION ") does not know"
                            : "no gexec_facts_req");
  if (r.timeout_ms < 0)
    return gexec__fail(err, GEXEC_EINVAL, 0, "timeout_ms is negative");
  gexec_proc *p = calloc(1, sizeof *p);
  if (!p) return gexec__fail(err, GEXEC_ENOMEM, 0, "out of memory");
  p->kind = GEXEC__PROC_FACTS;
  p->conn = conn;
  p->stdin_null = p->stdin_closed = 1;
  p->deadline_ms = r.timeout_ms ? r.timeout_ms : GEXEC__FACTS_TIMEOUT_MS;
  pthread_mutex_init(&p->mu, NULL);
  gexec__cond_init(&p->cv);
  if (pack_request(p, &r) != 0) {
    gexec_proc_free(p);
    return gexec__fail(err, GEXEC_ENOMEM, 0, "out of memory");
  }
  *out = p;
  return GEXEC_OK;
}

int gexec_facts_get(gexec_conn *conn, const gexec_facts_req *req,
                    char **json_out, gexec_error *err) {
  gexec_proc *p;
  if (!json_out) return gexec__fail(err, GEXEC_EINVAL, 0, "no json_out");
  *json_out = NULL;
  int rc = facts_new(conn, req, &p, err);
  if (rc != GEXEC_OK) return rc;
  gexec__conn_submit(conn, p);
  pthread_mutex_lock(&p->mu);
  while (!p->done) pthread_cond_wait(&p->cv, &p->mu);
  rc = gexec__end_result(p, err);
  if (rc == GEXEC_OK) {
    *json_out = p->facts_json;
    p->facts_json = NULL;
  }
  pthread_mutex_unlock(&p->mu);
  gexec_proc_free(p);
  return rc;
}

int gexec_facts_start_async(gexec_conn *conn, const gexec_facts_req *req,
                            gexec_evq *q, void *user_data, gexec_proc **out,
                            gexec_error *err) {
  if (!q) return gexec__fail(err, GEXEC_EINVAL, 0, "no event queue");
  gexec_proc *p;
  int rc = facts_new(conn, req, &p, err);
  if (rc != GEXEC_OK) return rc;
  p->q = q;
  p->user = user_data;
  *out = p; /* before submit: its event may be taken at once */
  gexec__conn_submit(conn, p);
  return GEXEC_OK;
}
