/**
 * @file fd_call.h
 * Test support: one gRPC call, synchronously, on a client connection
 * over an already connected socket (from gxt_as_user_take), so that the
 * server sees the credentials of whoever connected it. Uses the gRPC C
 * core directly (grpc_channel_create_from_fd): lib/rpc has no such
 * channel, and product code needs none.
 */
#ifndef GXT_FD_CALL_H
#define GXT_FD_CALL_H

#include <stddef.h>
#include <stdint.h>

/** What the client saw. */
typedef struct {
  int status;         /**< the gRPC status code; -1 if none arrived */
  char details[256];  /**< its message */
  int nmsgs;          /**< messages received */
  uint8_t last[4096]; /**< the last one's first bytes */
  size_t last_len;    /**< its full length */
} gxt_fd_result;

/**
 * Calls @p method ("/pkg.Service/Method") on a channel made on @p fd
 * (taken over: gRPC closes it with the channel): sends @p req_len bytes
 * at @p req as one message unless @p req is NULL, half-closes, reads
 * every message and the status, all within @p timeout_ms. Blocks; any
 * thread. Initializes gRPC for its own use. Returns the status code
 * (also in @p out), or -1 if the call could not be made.
 */
int gxt_fd_call(int fd, const char *method, const void *req, size_t req_len,
                int timeout_ms, gxt_fd_result *out);

#endif
