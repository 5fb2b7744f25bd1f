/* The process's one engine: a gx_rpc_client (a completion queue and its
 * thread) shared by every connection, started with the first connection
 * and stopped when the last one closes, so that a program that closed
 * everything has no thread of ours left. */
#include <pthread.h>

#include "client/internal.h"
#include "lib/gx_err.h"

static pthread_mutex_t engine_mu = PTHREAD_MUTEX_INITIALIZER;
static gx_rpc_client *engine;
static unsigned engine_refs;

int gexec__engine_acquire(gx_rpc_client **out) {
  int rc = GX_OK;
  pthread_mutex_lock(&engine_mu);
  if (!engine) rc = gx_rpc_client_new(&engine);
  if (rc == GX_OK) {
    engine_refs++;
    *out = engine;
  }
  pthread_mutex_unlock(&engine_mu);
  return rc;
}

void gexec__engine_release(void) {
  gx_rpc_client *stop = NULL;
  pthread_mutex_lock(&engine_mu);
  if (engine_refs > 0 && --engine_refs == 0) {
    stop = engine;
    engine = NULL;
  }
  pthread_mutex_unlock(&engine_mu);
  gx_rpc_client_free(stop); /* joins its thread: outside the lock */
}
