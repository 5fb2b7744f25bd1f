/* lib/rpc's TLS credentials for channels (gx_rpc_creds_tls_client): the
 * constructor's checks, servers refusing them, and a channel made with
 * them not being plaintext: no call reaches the fixture's plaintext
 * server, where plaintext credentials get through. The handshakes with
 * TLS servers, and their failures, are tested from libgexec and the CLI
 * (tests/client: tls_cli_test). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lib/gx_err.h"
#include "tests/lib/rpc_fixture.h"

/* Not parsed by the constructor: any non-empty text will do. */
#define PEM "-----BEGIN CERTIFICATE-----\n...\n-----END CERTIFICATE-----\n"

static void constructor_checks_arguments(void **state) {
  gx_rpc_creds *c = (gx_rpc_creds *)state; /* a sentinel: must not change */
  gx_rpc_creds *keep = c;
  (void)state;
  assert_int_equal(gx_rpc_creds_tls_client(NULL, NULL, NULL, NULL, &c),
                   GX_EINVAL);
  assert_int_equal(gx_rpc_creds_tls_client("", NULL, NULL, NULL, &c),
                   GX_EINVAL);
  assert_int_equal(gx_rpc_creds_tls_client(PEM, PEM, NULL, NULL, &c),
                   GX_EINVAL);
  assert_int_equal(gx_rpc_creds_tls_client(PEM, NULL, PEM, NULL, &c),
                   GX_EINVAL);
  assert_int_equal(gx_rpc_creds_tls_client(PEM, "", PEM, NULL, &c),
                   GX_EINVAL);
  assert_int_equal(gx_rpc_creds_tls_client(PEM, PEM, "", NULL, &c),
                   GX_EINVAL);
  assert_int_equal(gx_rpc_creds_tls_client(PEM, NULL, NULL, "", &c),
                   GX_EINVAL);
  assert_ptr_equal(c, keep);
  const char *ok[][4] = {{PEM, NULL, NULL, NULL},
                         {PEM, PEM, PEM, NULL},
                         {PEM, PEM, PEM, "gexecd.example"},
                         {PEM, NULL, NULL, "127.0.0.1"}};
  for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
    c = NULL;
    assert_int_equal(
        gx_rpc_creds_tls_client(ok[i][0], ok[i][1], ok[i][2], ok[i][3], &c),
        GX_OK);
    assert_non_null(c);
    gx_rpc_creds_free(c); /* ASan: the copies, the wiped key */
  }
}

static void servers_refuse_client_creds(void **state) {
  fixture *f = *state;
  gx_rpc_creds *c;
  assert_int_equal(gx_rpc_creds_tls_client(PEM, NULL, NULL, NULL, &c), GX_OK);
  assert_int_equal(gx_rpc_server_listen(f->srv, "127.0.0.1:0", c), GX_EINVAL);
  gx_rpc_creds_free(c);
}

/* Replaces the fixture's channel with one made with @p creds (freed
 * here: channels keep nothing of them) and the options @p o. */
static void reconnect(fixture *f, gx_rpc_creds *creds,
                      const gx_rpc_channel_opts *o) {
  gx_rpc_channel_free(f->ch);
  f->ch = NULL;
  assert_int_equal(gx_rpc_channel_new(f->target, creds, o, &f->ch), GX_OK);
  gx_rpc_creds_free(creds);
}

/* A fail-fast call (no wait for ready), to its end. Nothing more is
 * started on it: it may be over (and freed) as soon as it started. */
static void call_to_end(fixture *f) {
  f->cli.script = client_reads_all;
  assert_int_equal(gx_rpc_call_start(f->ch, METHOD, WAIT_MS, 0, &handlers,
                                     &f->cli, &f->cli.call),
                   GX_OK);
  assert_true(run_until(f, client_done, WAIT_MS));
}

/* gRPC parses the PEM only when the channel connects: with a CA it cannot
 * load ("Could not load any root certificate"), the secure subchannel
 * cannot even be made, and the call fails before reaching the server. A
 * plaintext channel would have got through (next test). This is why
 * libgexec checks the files before making credentials; real handshakes
 * are in tests/client/tls_cli_test. */
static void tls_channel_is_not_plaintext(void **state) {
  fixture *f = *state;
  gx_rpc_creds *c;
  /* keepalive set too: the channel takes the arguments */
  gx_rpc_channel_opts o = {.keepalive_time_ms = 10000,
                           .keepalive_timeout_ms = 1000};
  assert_int_equal(
      gx_rpc_creds_tls_client(PEM, NULL, NULL, "gexecd.example", &c), GX_OK);
  reconnect(f, c, &o);
  call_to_end(f);
  assert_int_equal(f->cli.status, GX_STATUS_UNAVAILABLE);
  assert_int_equal(f->calls, 0); /* the server never saw a call */
}

/* The control: the same call with plaintext credentials (and keepalive
 * off) reaches the server. */
static void plaintext_channel_gets_through(void **state) {
  fixture *f = *state;
  gx_rpc_creds *c;
  gx_rpc_channel_opts o = {.keepalive_time_ms = -1};
  assert_int_equal(gx_rpc_creds_insecure(&c), GX_OK);
  reconnect(f, c, &o);
  f->cli.script = client_reads_all;
  assert_int_equal(gx_rpc_call_start(f->ch, METHOD, WAIT_MS, 0, &handlers,
                                     &f->cli, &f->cli.call),
                   GX_OK);
  assert_true(run_until(f, has_call, WAIT_MS));
  assert_int_equal(f->calls, 1);
  assert_int_equal(gx_rpc_call_finish(f->srv_side.call, GX_STATUS_OK, ""),
                   GX_OK);
  assert_true(run_until(f, client_done, WAIT_MS));
  assert_int_equal(f->cli.status, GX_STATUS_OK);
}

static const options unstarted = {.start = 0};

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(constructor_checks_arguments),
      cmocka_unit_test_prestate_setup_teardown(servers_refuse_client_creds,
                                               setup, teardown,
                                               (void *)&unstarted),
      cmocka_unit_test_setup_teardown(tls_channel_is_not_plaintext, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(plaintext_channel_gets_through, setup,
                                      teardown),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
