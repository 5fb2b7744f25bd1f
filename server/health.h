/**
 * @file health.h
 * grpc.health.v1.Health/Check: "", "gexec.v1.Exec" and "gexec.v1.Facts"
 * are SERVING (or NOT_SERVING while the daemon drains); any other service
 * is NOT_FOUND.
 */
#ifndef GXD_HEALTH_H
#define GXD_HEALTH_H

#include "lib/rpc.h"

/** Called before a Health/Check call is answered: may add trailing
 *  metadata (gexecd: who the caller is) and returns 1 to answer, or ends
 *  the call itself (gexecd: a refused caller) and returns 0. */
typedef int (*gxd_health_describe_fn)(void *ud, gx_rpc_call *call);

/** What Health/Check reads; the caller's, outliving the server. */
typedef struct {
  const int *draining;             /**< nonzero: NOT_SERVING */
  gxd_health_describe_fn describe; /**< NULL: no trailers */
  void *ud;                        /**< for describe */
} gxd_health;

/** Registers Health/Check on @p srv (before start), as a unary method
 *  reading @p h (borrowed until the server is freed). Returns the
 *  method's index >= 0, or a gx_err < 0. */
int gxd_health_add(gx_rpc_server *srv, const gxd_health *h);

#endif
