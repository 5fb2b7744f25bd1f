/**
 * @file session_fixture.h
 * The fixture of the server/session unit tests (session_test.c: runs and
 * the protocol; session_lifecycle_test.c: draining, freeing, slots): a
 * session context on a bare uv loop, a fake rpc layer (fake_rpc.h) as
 * the client and a fake child module (fake_child.h) as the launcher,
 * and the steps the tests are written in. Every test ends with the
 * session freed (sfx_teardown asserts it; ASan reports what is not).
 */
#ifndef GXT_SESSION_FIXTURE_H
#define GXT_SESSION_FIXTURE_H

#include <stddef.h>
#include <uv.h>

#include "server/profiles.h"
#include "server/session.h"
#include "tests/server/fake_child.h"
#include "tests/server/fake_rpc.h"
#include "tests/server/start_req.h"

#define ARGV(...) ((const char *const[]){__VA_ARGS__, NULL})
#define EV(x) GEXEC__V1__RUN_RESPONSE__EVENT_##x
#define DEF_ENV "PATH=" GXD_DEFAULT_PATH " HOME=/root LANG=C.UTF-8"

extern uv_loop_t sfx_loop;          /**< the bare loop of each test */
extern gxd_session_ctx sfx_ctx;     /**< the sessions under test */
extern gxd_profiles sfx_profiles;   /**< the built-in profile table */

/** cmocka setup: a fresh loop and context (baseline profile, grace 5 s,
 *  every tier usable, a policy letting root and the fake TLS client do
 *  anything). */
int sfx_setup(void **state);

/** cmocka teardown: asserts every session was freed and every handle
 *  closed. */
int sfx_teardown(void **state);

/** Delivers @p m to the session of @p c as the client's next message. */
void send_msg(gx_rpc_call *c, Gexec__V1__RunRequest *m);

/** Sends @p r's start message on @p c. */
void send_start(gx_rpc_call *c, gxt_req *r);

/** Sends @p data as a stdin chunk on @p c. */
void send_stdin(gx_rpc_call *c, const char *data);

/** Sends stdin's end on @p c. */
void send_eof(gx_rpc_call *c);

/** Sends signal @p n on @p c. */
void send_signal(gx_rpc_call *c, int n);

/** Starts the session of @p c holding @p slot (NULL: none), its caller
 *  as the fake transport says. */
void session_start_slot(gx_rpc_call *c, const gxd_guard_slot *slot);

/** session_start_slot without a slot. */
void session_start(gx_rpc_call *c);

/** Opens a stream (the session posts its first receive). */
gx_rpc_call *open_stream(void);

/** Opens a stream and starts @p r on it; returns the call. */
gx_rpc_call *open_run(gxt_req *r);

/** A request for `sh -c x` with default options (in place: the message
 *  points into its own storage). */
void req(gxt_req *r);

/** Opens a run and has its command exec'd; `started` is sent and its
 *  send completed. The child in @p ch. */
gx_rpc_call *running(gxt_req *r, gxd_child **ch);

/** The child @p ch exits with @p code. */
void exit_code(gxd_child *ch, int code);

/** The child @p ch is killed by @p sig (@p timed_out: by its timeout). */
void killed(gxd_child *ch, int sig, int timed_out);

/** Asserts the call finished with @p status and @p msg. */
void expect_status(const gx_rpc_call *c, int status, const char *msg);

/** Asserts message @p i of @p c is a chunk of @p stream (1 stdout, 2
 *  stderr) with exactly @p bytes. */
void expect_chunk(const gx_rpc_call *c, size_t i, int stream,
                  const char *bytes);

/** gRPC is done with the call and the child (if any) finished closing:
 *  the session is freed on the next loop turn. */
void end_run(gx_rpc_call *c, gxd_child *ch);

/** A cmocka test @p f with the fixture. */
#define T(f) cmocka_unit_test_setup_teardown(f, sfx_setup, sfx_teardown)

#endif
