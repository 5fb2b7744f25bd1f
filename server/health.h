/**
 * @file health.h
 * grpc.health.v1.Health/Check: "" and "gexec.v1.Exec" are SERVING (or
 * NOT_SERVING while the daemon drains); any other service is NOT_FOUND.
 */
#ifndef GXD_HEALTH_H
#define GXD_HEALTH_H

#include "lib/rpc.h"

/** Serves one Check call; reads *@p draining when the request arrives.
 *  @p draining must outlive the call. */
void gxd_health_check(gx_rpc_call *call, const int *draining);

#endif
