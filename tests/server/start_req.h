/**
 * @file start_req.h
 * A gexec.v1.Start message with its own storage, for unit tests that
 * build requests field by field.
 */
#ifndef GXT_START_REQ_H
#define GXT_START_REQ_H

#include "gexec/v1/exec.pb-c.h"

/** Most argv elements and env entries a gxt_req holds. */
#define GXT_REQ_MAX 16

/** A Start message and the arrays it points into. */
typedef struct {
  Gexec__V1__Start s;
  char *argv[GXT_REQ_MAX];
  Gexec__V1__Start__EnvEntry ent[GXT_REQ_MAX];
  Gexec__V1__Start__EnvEntry *env[GXT_REQ_MAX];
} gxt_req;

/** Initializes @p r with the NULL-terminated argv @p args (borrowed). */
void gxt_req_init(gxt_req *r, const char *const *args);

/** Adds the env entry @p key=@p value (borrowed). */
void gxt_req_env(gxt_req *r, const char *key, const char *value);

#endif
