/**
 * @file rpc_fixture.h
 * The fixture of lib/rpc's unit tests (rpc_test.c, rpc_unary_test.c) on
 * a bare libuv loop: a real gx_rpc_server on a unix socket under
 * $TEST_TMPDIR, a real gx_rpc_channel client in the same process, and the
 * fault-injection seams of lib/rpc_internal.h to make failure paths
 * reachable on demand. setup installs the seams and teardown restores
 * the real functions, so every test starts without faults.
 *
 * Every callback appends one letter to its side's event string:
 *   N new call (server)   M message received   E no more messages
 *   W send completed      C closed (server)    S status (client)
 *   D done (last callback; the call is gone)
 * so that each test can assert the exact sequence a side saw.
 *
 * Unary methods (gx_rpc_server_add_unary) are served by the rpc module
 * itself: their server side is seen through the handler's record and
 * rpc_calls_alive, which every teardown checks is back to 0.
 */
#ifndef GXT_RPC_FIXTURE_H
#define GXT_RPC_FIXTURE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "lib/rpc.h"
#include "lib/rpc_internal.h"

/** The server's first streaming method (index 0). */
#define METHOD "/gexec.test.Rpc/Echo"
/** The server's unary method (a grpc.health.v1.HealthCheckRequest in,
 *  a HealthCheckResponse out). */
#define UNARY "/gexec.test.Rpc/Unary"
/** How long a wait may take before the test fails, and client calls'
 *  deadline (ms). */
#define WAIT_MS 10000
/** Events a side records at most. */
#define MAX_EVENTS 15

/* ------------------------------------------------------ fault injection */

/** The n-th registered request posted fails (1-based); 0: none. */
extern atomic_int g_fail_request_at;
/** RECV_MESSAGE batches started, by either side. */
extern atomic_int g_recv_batches;

/** Batches containing an op of type @p op fail, the next @p times of
 *  them. Safe from any thread. */
void fail_batches_with(grpc_op_type op, int times);

/** A pthread_create that always fails with EAGAIN, for
 *  rpc_thread_create (the test puts pthread_create back). */
int failing_thread_create(pthread_t *t, const pthread_attr_t *attr,
                          void *(*fn)(void *), void *arg);

/* -------------------------------------------------------------- fixture */

typedef struct fixture fixture;

/** What one side of a call saw. Guarded by mu: the client side is written
 *  on the channel's thread and read on the test's. */
typedef struct side {
  pthread_mutex_t mu;
  fixture *f;
  gx_rpc_call *call;
  char ev[MAX_EVENTS + 1];
  size_t nev;
  uint8_t data[256]; /**< the last message received (first 256 bytes) */
  size_t data_len;
  int sent_ok, cancelled, status;
  char msg[128];
  char trailer[32]; /**< client: the "gexec-test" trailer, cut to fit */
  int has_trailer;
  int script_err; /**< first error a script's call returned (0: none) */
  /** Runs after each event is recorded; NULL: none. */
  void (*script)(struct side *s, char ev);
} side;

/** Per-test options, given as cmocka's initial state (NULL: a started
 *  server with insecure credentials). */
typedef struct {
  size_t max_recv_bytes;
  int start;      /**< start the server in setup */
  int null_creds; /**< listen and connect with NULL instead of insecure */
  /** listen with gx_rpc_server_listen_unix and unix_opts (the channel
   *  connects there all the same) */
  int own_unix;
  gx_rpc_unix_opts unix_opts;
  /** also listen on 127.0.0.1:0 (its port in fixture.tcp_port) */
  int tcp;
} options;

/** What the unary handler does with a request. */
typedef enum { UNARY_REPLY, UNARY_FAIL, UNARY_DEFER } unary_mode;

/** gx_rpc_call_auth as a server call saw it, copied (the strings are the
 *  call's). */
typedef struct {
  int rc;
  char transport[32];
  int authenticated, has_identity_property, has_unix_cred;
  size_t nidentities;
  int identities_null;
  int cached; /**< a second query returned the same strings */
  uint32_t uid, gid;
  int32_t pid;
  uint64_t conn_id;
  char peer[64]; /**< gx_rpc_call_peer */
} auth_seen;

/** Server calls on_call keeps apart (later ones only count). */
#define MAX_SEEN 8

/** One test's world; setup allocates it, teardown frees it. */
struct fixture {
  uv_loop_t loop;
  uv_timer_t tick; /**< wakes the loop so that waits see client events */
  gx_rpc_server *srv;
  gx_rpc_channel *ch;
  char target[64];
  side cli, srv_side;
  int calls, method; /**< on_call count and the last method index */
  char peer[64];
  int shut_down;
  /* results recorded inside callbacks, asserted by the test afterwards */
  int rc1, rc2, rc3, done_after1, done_after2;
  auth_seen auth; /**< of the last call on_call saw */
  gx_rpc_call *seen[MAX_SEEN]; /**< the calls on_call saw, in order */
  auth_seen seen_auth[MAX_SEEN];
  int tcp_port; /**< options.tcp */
  /* the unary method */
  unary_mode unary_mode;
  int unary_calls;
  char unary_service[64];
  gx_rpc_call *unary_call; /**< UNARY_DEFER: answered by the test */
  auth_seen unary_auth;
};

/** How many @p ev events side @p s recorded. */
int count(side *s, char ev);

/** The events side @p s recorded so far, in order, into @p out. */
void events(side *s, char *out, size_t len);

/** Handlers that record each event on the side given as user data. */
extern const gx_rpc_handlers handlers;

/** Server: every new call is recorded and gets the handlers; the server
 *  side's script decides what happens next. */
void on_call(void *ud, gx_rpc_call *call, int method);

/** Runs the loop until @p pred holds or @p ms pass; returns pred's
 *  value. */
int run_until(fixture *f, int (*pred)(fixture *), int ms);

/* Predicates for run_until. */

/** Both sides saw on_done, once. */
int both_done(fixture *f);
/** The client saw on_done, once. */
int client_done(fixture *f);
/** on_call saw a call. */
int has_call(fixture *f);
/** Never holds: run_until(f, never, ms) runs the loop for ms. */
int never(fixture *f);
/** No call is alive in the process (rpc_calls_alive is 0). */
int no_call_alive(fixture *f);
/** The client's call ended and the server's was released too. */
int all_released(fixture *f);
/** The unary handler ran. */
int unary_called(fixture *f);
/** The client saw a send complete. */
int client_sent(fixture *f);
/** Exactly two calls are alive (a client's and its server's). */
int both_calls_alive(fixture *f);

/** cmocka group setup: enters $TEST_TMPDIR (a socket's absolute path
 *  there is too long for sun_path) and initializes gRPC. */
int group_setup(void **state);
/** cmocka group teardown: shuts gRPC down. */
int group_teardown(void **state);

/** cmocka setup: a fixture in *@p state (whose options it reads first,
 *  see options) with the fault-injection seams installed, a server
 *  listening on a fresh socket with METHOD, "/gexec.test.Rpc/Other" and
 *  UNARY, and a channel to it. */
int setup(void **state);
/** cmocka teardown: ends whatever a failed test left running, then checks
 *  that the loop closes with no handle left and no call alive, and puts
 *  the real functions back into the seams. */
int teardown(void **state);

/** Client script: after each message, posts the next receive. Runs on
 *  the channel's thread, where cmocka cannot fail a test: errors are kept
 *  in script_err. */
void client_reads_all(side *s, char ev);

/** Starts a client call of @p method with a 10 s deadline, reading all
 *  messages (client_reads_all). */
void client_start(fixture *f, const char *method);

/** Side @p s saw exactly the events @p want, in order. */
void assert_events(side *s, const char *want);

/** The client's end: @p before, then on_recv(NULL) and on_status in
 *  either order (gRPC's is not specified), then on_done; and no script
 *  error. */
void assert_client_end(side *s, const char *before);

/** The same for a client whose one send may complete after the reply
 *  arrived (the server answers the message, not the half-close: seen
 *  under ASan as "MWESD"): its 'W' is counted, then left out. */
void assert_client_end_echoed(side *s, const char *before);

#endif
