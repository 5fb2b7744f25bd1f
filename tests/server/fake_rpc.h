/**
 * @file fake_rpc.h
 * A fake of the server side of lib/rpc.h for unit tests of the session:
 * it records what the session sends (each message unpacked as a
 * gexec.v1.RunResponse) and how it finishes the call, and lets the test
 * play the client and gRPC: deliver messages, half-close, cancel,
 * complete a send, end the call. Callbacks fire only from these test
 * functions, never from inside a gx_rpc_* call (as the real layer
 * promises).
 */
#ifndef GXT_FAKE_RPC_H
#define GXT_FAKE_RPC_H

#include <stddef.h>

#include "gexec/v1/exec.pb-c.h"
#include "lib/rpc.h"

/** Most messages one fake call records. */
#define FAKE_RPC_MAX_SENT 64

/** One fake call; the fields are the test's to read. */
struct gx_rpc_call {
  const gx_rpc_handlers *h;
  void *ud;
  int recv_posted; /**< a receive is posted */
  int send_busy;   /**< a send is in flight */
  Gexec__V1__RunResponse *sent[FAKE_RPC_MAX_SENT]; /**< in order */
  size_t nsent;
  int finished;    /**< gx_rpc_call_finish[_msg] was called */
  int status;      /**< the status it finished with */
  char msg[512];
  int last_with_status; /**< the last message went with the status */
  int cancelled;   /**< the client cancelled (fake_call_cancel) */
  int done;        /**< on_done fired */
  int authenticated; /**< set by the test: the transport proved the
                          identity "fake-client" (gx_rpc_call_auth: a
                          TLS certificate's CN); else the caller is the
                          unix peer uid @c uid */
  uint32_t uid;
  char trailers[256]; /**< "key=value;" per gx_rpc_call_set_trailer */
};

/** A new call (free with fake_call_free after it is done). */
gx_rpc_call *fake_call_new(void);

/** Frees @p c and what it recorded. */
void fake_call_free(gx_rpc_call *c);

/** Delivers @p req to the posted receive (the test fails if none is). */
void fake_call_deliver(gx_rpc_call *c, const Gexec__V1__RunRequest *req);

/** Delivers raw bytes to the posted receive. */
void fake_call_deliver_bytes(gx_rpc_call *c, const void *data, size_t len);

/** The client half-closed: the posted receive completes with no data. */
void fake_call_half_close(gx_rpc_call *c);

/** Completes the send in flight (@p ok 0: it failed). */
void fake_call_sent(gx_rpc_call *c, int ok);

/** The client cancelled (or disconnected): on_closed(cancelled). */
void fake_call_cancel(gx_rpc_call *c);

/** gRPC is done with the call (which must have been finished, as on_done
 *  waits for the status): a receive still posted completes with no data,
 *  a send in flight completes (failed if cancelled), on_closed fires
 *  (unless cancel did), then on_done. */
void fake_call_end(gx_rpc_call *c);

/** The event of the @p i-th message sent (a RunResponse event case). */
int fake_call_kind(const gx_rpc_call *c, size_t i);

#endif
