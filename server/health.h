/**
 * @file health.h
 * grpc.health.v1.Health/Check: "" and "gexec.v1.Exec" are SERVING (or
 * NOT_SERVING while the daemon drains); any other service is NOT_FOUND.
 */
#ifndef GXD_HEALTH_H
#define GXD_HEALTH_H

#include "lib/rpc.h"

/** Registers Health/Check on @p srv (before start), as a unary method.
 *  Each request reads *@p draining, which must outlive the server.
 *  Returns the method's index >= 0, or a gx_err < 0. */
int gxd_health_add(gx_rpc_server *srv, const int *draining);

#endif
