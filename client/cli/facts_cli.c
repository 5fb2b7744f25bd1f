/* `gexec facts`: see facts_cli.h. */
#include "client/cli/facts_cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/cli/exitcode.h"
#include "client/cli/facts_view.h"
#include "client/cli/fleet_report.h"
#include "client/cli/json_out.h"
#include "client/cli/teardown.h"
#include "client/cli/textsafe.h"

/* The request for @p a's FIELDs; @p groups has room for 16. */
static gexec_facts_req request(const gxc_args *a, uint64_t timeout_ms,
                               const char **groups) {
  gexec_facts_req r = GEXEC_FACTS_REQ_INIT;
  if (gxc_facts_groups((const char *const *)a->prog, (size_t)a->prog_argc,
                       groups) == 0)
    r.groups = groups;
  r.include_pseudo_filesystems = a->all_filesystems;
  r.timeout_ms = (int64_t)timeout_ms;
  return r;
}

static int write_json(gxc_out *o, json_object *obj) {
  size_t len = 0;
  const char *text = obj ? gxc_json_text(obj, &len) : NULL;
  if (!text) return -1;
  return gxc_out_put(o, text, len) || gxc_out_put(o, "\n", 1) ? -1 : 0;
}

/* Closes @p o and turns a write failure into the exit status. */
static int out_status(gxc_out *o, int status) {
  gxc_out_flush(o);
  gxc_out_free(o);
  if (o->err == EPIPE) return GXC_EXIT_EPIPE;
  if (o->err) {
    fprintf(stderr, "gexec: cannot write to stdout: %s\n", strerror(o->err));
    return GXC_EXIT_ERROR;
  }
  return status;
}

/* Prints one host's facts: the block, or the (selected) JSON. */
static int print_one(const gxc_args *a, const char *text) {
  gxc_out o = {.fd = STDOUT_FILENO};
  json_object *facts = json_tokener_parse(text);
  const char *const *fields = (const char *const *)a->prog;
  size_t nf = (size_t)a->prog_argc;
  if (!facts) {
    fprintf(stderr, "gexec: the daemon's facts are not valid JSON\n");
    return GXC_EXIT_ERROR;
  }
  if (a->json) {
    json_object *sel = gxc_facts_select(facts, fields, nf);
    write_json(&o, sel);
    json_object_put(sel);
  } else {
    gxc_facts_block(facts, fields, nf, &o);
  }
  json_object_put(facts);
  return out_status(&o, 0);
}

int gxc_facts_one(const gxc_args *a, const char *target, const char *shown,
                  const gexec_conn_opts *opts) {
  gexec_conn *conn = NULL;
  gexec_error err = {0};
  const char *groups[16];
  char *text = NULL;
  gexec_facts_req req = request(a, a->timeout_ms, groups);
  int rc = gexec_connect(target, opts, &conn, &err);
  if (rc == GEXEC_OK) rc = gexec_facts_get(conn, &req, &text, &err);
  gxc_conn_release(conn);
  char msg[4 * sizeof err.message]; /* the daemon's words: escaped */
  gxc_text_safe(rc == GEXEC_EREFUSED ? err.message
                                    : gxc_strip_target(err.message, shown),
                msg, sizeof msg);
  if (rc == GEXEC_EREFUSED) {
    fprintf(stderr, "gexec: %s%s\n",
            strncmp(msg, "refused by ", 11) ? "refused by policy: " : "", msg);
    return GXC_EXIT_ERROR;
  }
  if (rc != GEXEC_OK) {
    fprintf(stderr, "gexec: %s%.140s: %s\n",
            rc == GEXEC_ECONNECT ? "cannot connect to " : "facts of ", shown,
            msg);
    return rc == GEXEC_ESTATUS ? gxc_exit_from_error(rc, &err)
                               : GXC_EXIT_ERROR;
  }
  int status = print_one(a, text);
  free(text);
  return status;
}

/* ---------------------------------------------------------- the kind */

static int start(gxc_fleet *f, gxc_host *h, uint64_t timeout_ms,
                 gexec_error *err) {
  const char *groups[16];
  uint64_t t = f->a->timeout_ms;
  if (timeout_ms && (!t || timeout_ms < t)) t = timeout_ms;
  gexec_facts_req req = request(f->a, t, groups);
  return gexec_facts_start_async(h->conn, &req, f->q, h, &h->proc, err);
}

static int on_event(gxc_fleet *f, gxc_host *h, const gexec_run_event *ev) {
  if (ev->type != GEXEC_EV_FACTS) return 0;
  snprintf(h->identity, sizeof h->identity, "%s",
           gexec_proc_server_identity(h->proc));
  h->facts_json = strndup((const char *)ev->data, ev->len);
  h->outcome = GXC_OUTCOME_OK;
  h->rc = GEXEC_OK;
  if (!h->facts_json) {
    gexec_error e = {.code = GEXEC_ENOMEM};
    snprintf(e.message, sizeof e.message, "out of memory");
    gxc_host_set_error(h, GEXEC_ENOMEM, &e, 1);
  }
  gxc_fleet_end(f, h);
  return 1;
}

/* The "error" member of a host: null or {status, code, message}. */
static json_object *error_json(const gxc_host *h) {
  if (h->outcome == GXC_OUTCOME_OK) return NULL;
  int st = gxc_status_of(h->rc, &h->err);
  json_object *e = json_object_new_object();
  if (!e) return NULL;
  json_object_object_add(e, "status",
                         json_object_new_string(gexec_status_name(st)));
  json_object_object_add(e, "code", json_object_new_int(st));
  json_object_object_add(e, "message", json_object_new_string(h->err.message));
  return e;
}

static json_object *host_json(const gxc_host *h, json_object *facts,
                              const gxc_args *a) {
  json_object *o = json_object_new_object();
  if (!o) return NULL;
  json_object_object_add(o, "target", json_object_new_string(h->name));
  json_object_object_add(o, "address", json_object_new_string(h->address));
  json_object *id =
      h->identity[0] ? json_object_new_string(h->identity) : NULL;
  json_object_object_add(o, "identity", id);
  json_object_object_add(o, "facts",
                         facts ? gxc_facts_select(facts,
                                                  (const char *const *)a->prog,
                                                  (size_t)a->prog_argc)
                               : NULL);
  json_object_object_add(o, "error", error_json(h));
  return o;
}

static int print_json(gxc_fleet *f, json_object **facts, int64_t wall_us) {
  json_object *doc = json_object_new_object(), *arr = json_object_new_array();
  int rc = doc && arr ? 0 : -1;
  for (size_t i = 0; i < f->n && rc == 0; i++) {
    json_object *h = host_json(&f->hosts[i], facts[i], f->a);
    rc = h ? json_object_array_add(arr, h) : -1;
  }
  if (rc == 0) {
    json_object_object_add(doc, "hosts", arr);
    arr = NULL;
    json_object_object_add(doc, "summary",
                           gxc_fleet_json_summary(f->hosts, f->n, wall_us));
    rc = write_json(&f->out, doc);
  }
  json_object_put(arr);
  json_object_put(doc);
  return rc;
}

static int print_table(gxc_fleet *f, json_object **facts) {
  const char **names = calloc(f->n, sizeof *names);
  const char *const *fields = (const char *const *)f->a->prog;
  size_t nf = (size_t)f->a->prog_argc;
  char **diff = NULL;
  long nd = 0;
  int rc = names ? 0 : -1;
  for (size_t i = 0; i < f->n && names; i++) names[i] = f->hosts[i].name;
  if (rc == 0 && !nf && !f->a->diff) {
    fields = gxc_facts_default_fields;
    while (fields[nf]) nf++;
  }
  if (rc == 0 && f->a->diff) {
    nd = gxc_facts_differing(facts, f->n, fields, nf, &diff);
    rc = nd < 0 ? -1 : 0;
    fields = (const char *const *)diff;
    nf = nd > 0 ? (size_t)nd : 0;
  }
  if (rc == 0 && !(f->a->diff && nf == 0))
    rc = gxc_facts_table(names, facts, f->n, fields, nf, &f->out);
  gxc_facts_paths_free(diff, nd > 0 ? (size_t)nd : 0);
  free(names);
  return rc;
}

static int report(gxc_fleet *f, int64_t wall_us) {
  int status = gxc_fleet_status(f->hosts, f->n);
  json_object **facts = calloc(f->n, sizeof *facts);
  if (!facts) {
    fprintf(stderr, "gexec: out of memory\n");
    return GXC_EXIT_ERROR;
  }
  for (size_t i = 0; i < f->n; i++)
    if (f->hosts[i].facts_json)
      facts[i] = json_tokener_parse(f->hosts[i].facts_json);
  int rc = f->a->json ? print_json(f, facts, wall_us) : print_table(f, facts);
  if (rc != 0 && !f->out.err)
    fprintf(stderr, "gexec: out of memory building the output\n");
  for (size_t i = 0; i < f->n; i++) json_object_put(facts[i]);
  free(facts);
  return rc != 0 && !f->out.err ? GXC_EXIT_ERROR : status;
}

const gxc_fleet_kind gxc_fleet_facts_kind = {start, on_event, NULL, NULL,
                                             report};
