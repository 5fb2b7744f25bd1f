/* libgexec internals shared by the files of client/; not installed. */
#ifndef GEXEC_INTERNAL_H
#define GEXEC_INTERNAL_H

#include <pthread.h>

#include "client/gexec.h"
#include "gexec/v1/exec.pb-c.h"
#include "lib/rpc.h"

/** Largest stdin chunk per message (the daemon accepts 4 MiB). */
#define GEXEC_STDIN_CHUNK (1024 * 1024)
#define GEXEC_MAX_PENDING_SIGNALS 16

struct gexec_conn {
  gx_rpc_channel *ch;
  char target[256];
  int wait_for_ready;
};

/* All fields are guarded by mu; callbacks run on the channel's thread. */
struct gexec_proc {
  gexec_conn *conn;
  gx_rpc_call *call;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int stdin_null;
  /* receive side: one message waits for the reader, one is being read */
  Gexec__V1__RunResponse *pending, *current;
  int recv_posted, stream_ended;
  int started;
  uint32_t pid;
  int exited_seen, exit_delivered;
  gexec_exit exit;
  int protocol_error;
  char protocol_msg[256];
  /* end */
  int status_received, status;
  char status_msg[512];
  int done, cancelled;
  /* send side */
  int send_busy;
  int sigq[GEXEC_MAX_PENDING_SIGNALS];
  int nsig;
  int stdin_closed, eof_pending;
};

/* Sets @p err (may be NULL) and returns @p code. */
int gexec__fail(gexec_error *err, int code, int status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Under p->mu: starts the next queued control send (signal, then EOF). */
void gexec__pump_sends(gexec_proc *p);
/* Under p->mu: sends one stdin chunk; the send must be idle. */
int gexec__send_stdin(gexec_proc *p, const void *data, size_t len);
/* Under p->mu: hands the pending message to the reader (p->current) and
 * posts the next receive. Returns the message or NULL. */
Gexec__V1__RunResponse *gexec__take_pending(gexec_proc *p);
/* Under p->mu: the error the ended call reports, or GEXEC_OK when it
 * ended with `exited` and status OK. */
int gexec__end_result(gexec_proc *p, gexec_error *err);

#endif
