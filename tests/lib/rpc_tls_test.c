/* lib/rpc over TLS: a gx_rpc_server listening on 127.0.0.1 with
 * gx_rpc_creds_tls_server, and clients made with gRPC's own C API
 * (grpc_ssl_credentials_create: the test must not depend on the rpc
 * module's client side to judge its server side), with certificates that
 * tests/tls/mkcerts.sh makes with openssl when the test starts.
 *
 * What it proves: each client certificate kind is accepted or refused in
 * the handshake as issue 9 says; gx_rpc_call_auth reports transport
 * "ssl" and the certificate's SPIFFE ID, DNS SAN, CN, PEM, the chain the
 * client sent with it (none on a resumed session) and the identity
 * chosen from them; a client CA that is a root accepts the clients of
 * its intermediates that send them; TLS without a client CA asks for no
 * client certificate; a new set in the source is presented from the next
 * handshake on while an established connection keeps working; a TLS
 * connection can be cut (gx_rpc_call_cut_connection) without the others. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <uv.h>

#include "lib/gx_err.h"
#include "lib/rpc.h"
#include "tests/tls/tls_certs.h"

#define METHOD "/gexec.test.Rpc/Echo"
#define WAIT_MS 10000

static const char *certs; /* the directory mkcerts.sh filled */

/* What a server call's gx_rpc_call_auth said, copied ("(null)" for
 * NULL). */
typedef struct {
  int rc, authenticated;
  char transport[16], spiffe_id[128], dns[128], cn[128], identity[128];
  char pem[4096], chain[8192];
} auth_copy;

typedef struct {
  uv_loop_t loop;
  uv_timer_t tick;
  gx_rpc_server *srv;
  gx_rpc_tls_source *src;
  char target[64];
  int calls, shut_down;
  auth_copy auth;
  char peer[64];      /* of the last call */
  int hold;           /* keep calls instead of finishing them */
  gx_rpc_call *held;  /* the last call kept */
} fixture;

static void copy(char *dst, size_t len, const char *s) {
  snprintf(dst, len, "%s", s ? s : "(null)");
}

static void on_call(void *ud, gx_rpc_call *call, int method) {
  fixture *f = ud;
  gx_rpc_auth a;
  (void)method;
  f->calls++;
  memset(&f->auth, 0, sizeof f->auth);
  f->auth.rc = gx_rpc_call_auth(call, &a);
  if (f->auth.rc == GX_OK) {
    f->auth.authenticated = a.authenticated;
    copy(f->auth.transport, sizeof f->auth.transport, a.transport);
    copy(f->auth.spiffe_id, sizeof f->auth.spiffe_id, a.spiffe_id);
    copy(f->auth.dns, sizeof f->auth.dns, a.dns);
    copy(f->auth.cn, sizeof f->auth.cn, a.common_name);
    copy(f->auth.identity, sizeof f->auth.identity, a.identity);
    copy(f->auth.pem, sizeof f->auth.pem, a.pem_cert);
    copy(f->auth.chain, sizeof f->auth.chain, a.pem_chain);
  }
  copy(f->peer, sizeof f->peer, gx_rpc_call_peer(call));
  if (f->hold)
    f->held = call;
  else
    gx_rpc_call_finish(call, GX_STATUS_OK, "");
}

static void on_tick(uv_timer_t *t) { (void)t; }
static void on_shut_down(void *ud) { ((fixture *)ud)->shut_down = 1; }

/* A server with a source holding server.pem (and, with @p mtls, ca.pem as
 * the client CA), listening on 127.0.0.1:0. */
static fixture *start_server(int mtls) {
  fixture *f = calloc(1, sizeof *f);
  assert_non_null(f);
  assert_int_equal(uv_loop_init(&f->loop), 0);
  assert_int_equal(uv_timer_init(&f->loop, &f->tick), 0);
  assert_int_equal(uv_timer_start(&f->tick, on_tick, 1, 1), 0);
  char *cert = gxt_tls_read(certs, "server.pem");
  char *key = gxt_tls_read(certs, "server.key");
  char *ca = mtls ? gxt_tls_read(certs, "ca.pem") : NULL;
  assert_int_equal(gx_rpc_tls_source_new(mtls, &f->src), GX_OK);
  assert_int_equal(gx_rpc_tls_source_set(f->src, cert, key, ca), GX_OK);
  free(cert);
  free(key);
  free(ca);
  gx_rpc_creds *creds;
  assert_int_equal(gx_rpc_creds_tls_server(f->src, &creds), GX_OK);
  assert_int_equal(gx_rpc_server_new(&f->loop, NULL, &f->srv), GX_OK);
  assert_int_equal(gx_rpc_server_add_method(f->srv, METHOD), 0);
  int port = gx_rpc_server_listen(f->srv, "127.0.0.1:0", creds);
  gx_rpc_creds_free(creds);
  assert_true(port > 0);
  snprintf(f->target, sizeof f->target, "127.0.0.1:%d", port);
  assert_int_equal(gx_rpc_server_start(f->srv, on_call, f), GX_OK);
  return f;
}

static void stop_server(fixture *f) {
  gx_rpc_server_shutdown(f->srv, on_shut_down, f);
  gx_rpc_server_cancel_all(f->srv);
  while (!f->shut_down) uv_run(&f->loop, UV_RUN_ONCE);
  gx_rpc_server_free(f->srv);
  gx_rpc_tls_source_free(f->src); /* after the server: see rpc.h */
  uv_close((uv_handle_t *)&f->tick, NULL);
  uv_run(&f->loop, UV_RUN_DEFAULT);
  assert_int_equal(uv_loop_close(&f->loop), 0);
  free(f);
}

/* ------------------------------------------------------- a raw client */

/* A channel trusting @p ca_name, presenting @p client ("<client>.pem",
 * or "<client>-chain.pem" with @p with_chain, and "<client>.key"; NULL:
 * no certificate), with its own connection, and TLS sessions cached in
 * @p cache (NULL: none). */
static grpc_channel *channel_ex(fixture *f, const char *ca_name,
                                const char *client, int with_chain,
                                grpc_ssl_session_cache *cache) {
  char name[64];
  char *ca = gxt_tls_read(certs, ca_name), *cert = NULL, *key = NULL;
  grpc_ssl_pem_key_cert_pair pair;
  if (client) {
    snprintf(name, sizeof name, "%s%s.pem", client,
             with_chain ? "-chain" : "");
    cert = gxt_tls_read(certs, name);
    snprintf(name, sizeof name, "%s.key", client);
    key = gxt_tls_read(certs, name);
    pair.private_key = key;
    pair.cert_chain = cert;
  }
  grpc_channel_credentials *cr =
      grpc_ssl_credentials_create(ca, client ? &pair : NULL, NULL, NULL);
  grpc_arg arg[2] = {{.type = GRPC_ARG_INTEGER,
                      .key = GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL,
                      .value.integer = 1}};
  if (cache) arg[1] = grpc_ssl_session_cache_create_channel_arg(cache);
  grpc_channel_args args = {cache ? 2 : 1, arg};
  grpc_channel *ch = grpc_channel_create(f->target, cr, &args);
  grpc_channel_credentials_release(cr);
  free(ca);
  free(cert);
  free(key);
  return ch;
}

static grpc_channel *channel(fixture *f, const char *ca_name,
                             const char *client) {
  return channel_ex(f, ca_name, client, 0, NULL);
}

/* The server's CN as the client's call saw it, into @p out. */
static void server_cn(grpc_call *call, char *out, size_t len) {
  snprintf(out, len, "(none)");
  grpc_auth_context *ctx = grpc_call_auth_context(call);
  if (!ctx) return;
  grpc_auth_property_iterator it = grpc_auth_context_find_properties_by_name(
      ctx, GRPC_X509_CN_PROPERTY_NAME);
  const grpc_auth_property *p = grpc_auth_property_iterator_next(&it);
  if (p) snprintf(out, len, "%.*s", (int)p->value_length, p->value);
  grpc_auth_context_release(ctx);
}

/* One call of METHOD on @p ch, with the server's loop run meanwhile.
 * Returns its status; the server's CN goes to @p cn (may be NULL). */
static int call_once(fixture *f, grpc_channel *ch, char *cn, size_t cn_len) {
  grpc_completion_queue *cq = grpc_completion_queue_create_for_next(NULL);
  gpr_timespec deadline = gpr_time_add(
      gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_millis(WAIT_MS, GPR_TIMESPAN));
  grpc_slice method = grpc_slice_from_static_string(METHOD);
  grpc_call *call = grpc_channel_create_call(
      ch, NULL, GRPC_PROPAGATE_DEFAULTS, cq, method, NULL, deadline, NULL);
  grpc_metadata_array initial, trailing;
  grpc_metadata_array_init(&initial);
  grpc_metadata_array_init(&trailing);
  grpc_status_code status = GRPC_STATUS_UNKNOWN;
  grpc_slice details;
  grpc_op ops[4];
  memset(ops, 0, sizeof ops);
  ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
  ops[1].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
  ops[2].op = GRPC_OP_RECV_INITIAL_METADATA;
  ops[2].data.recv_initial_metadata.recv_initial_metadata = &initial;
  ops[3].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
  ops[3].data.recv_status_on_client.trailing_metadata = &trailing;
  ops[3].data.recv_status_on_client.status = &status;
  ops[3].data.recv_status_on_client.status_details = &details;
  assert_int_equal(grpc_call_start_batch(call, ops, 4, (void *)1, NULL),
                   GRPC_CALL_OK);
  grpc_event ev;
  do {
    uv_run(&f->loop, UV_RUN_NOWAIT);
    ev = grpc_completion_queue_next(
        cq, gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                         gpr_time_from_millis(2, GPR_TIMESPAN)),
        NULL);
  } while (ev.type == GRPC_QUEUE_TIMEOUT);
  assert_int_equal(ev.type, GRPC_OP_COMPLETE);
  if (cn) server_cn(call, cn, cn_len);
  grpc_slice_unref(details);
  grpc_metadata_array_destroy(&initial);
  grpc_metadata_array_destroy(&trailing);
  grpc_call_unref(call);
  grpc_completion_queue_shutdown(cq);
  while (grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_MONOTONIC),
                                    NULL).type != GRPC_QUEUE_SHUTDOWN) {
  }
  grpc_completion_queue_destroy(cq);
  return (int)status;
}

/* A fresh channel's one call: its status. */
static int call_as(fixture *f, const char *ca_name, const char *client) {
  grpc_channel *ch = channel(f, ca_name, client);
  int st = call_once(f, ch, NULL, 0);
  grpc_channel_destroy(ch);
  return st;
}

/* A call of METHOD on @p ch the server keeps: started, and the loop run
 * until the server has it. Its status arrives on @p cq (tag 1) into
 * @p status; @p initial, @p trailing and @p details belong to it. */
typedef struct {
  grpc_completion_queue *cq;
  grpc_call *call;
  grpc_metadata_array initial, trailing;
  grpc_status_code status;
  grpc_slice details;
} kept_call;

static void start_kept(fixture *f, grpc_channel *ch, kept_call *k) {
  grpc_op ops[4];
  k->cq = grpc_completion_queue_create_for_next(NULL);
  k->call = grpc_channel_create_call(
      ch, NULL, GRPC_PROPAGATE_DEFAULTS, k->cq,
      grpc_slice_from_static_string(METHOD), NULL,
      gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                   gpr_time_from_millis(WAIT_MS, GPR_TIMESPAN)),
      NULL);
  grpc_metadata_array_init(&k->initial);
  grpc_metadata_array_init(&k->trailing);
  memset(ops, 0, sizeof ops);
  ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
  ops[1].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
  ops[2].op = GRPC_OP_RECV_INITIAL_METADATA;
  ops[2].data.recv_initial_metadata.recv_initial_metadata = &k->initial;
  ops[3].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
  ops[3].data.recv_status_on_client.trailing_metadata = &k->trailing;
  ops[3].data.recv_status_on_client.status = &k->status;
  ops[3].data.recv_status_on_client.status_details = &k->details;
  assert_int_equal(grpc_call_start_batch(k->call, ops, 4, (void *)1, NULL),
                   GRPC_CALL_OK);
  f->held = NULL;
  for (long long i = 0; !f->held && i < WAIT_MS; i++) {
    uv_run(&f->loop, UV_RUN_NOWAIT);
    usleep(1000);
  }
  assert_non_null(f->held);
}

/* Runs the loop until the kept call's status arrived; returns it. */
static int end_kept(fixture *f, kept_call *k) {
  grpc_event ev;
  do {
    uv_run(&f->loop, UV_RUN_NOWAIT);
    ev = grpc_completion_queue_next(
        k->cq, gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                            gpr_time_from_millis(2, GPR_TIMESPAN)),
        NULL);
  } while (ev.type == GRPC_QUEUE_TIMEOUT);
  assert_int_equal(ev.type, GRPC_OP_COMPLETE);
  grpc_slice_unref(k->details);
  grpc_metadata_array_destroy(&k->initial);
  grpc_metadata_array_destroy(&k->trailing);
  grpc_call_unref(k->call);
  grpc_completion_queue_shutdown(k->cq);
  while (grpc_completion_queue_next(k->cq, gpr_inf_future(GPR_CLOCK_MONOTONIC),
                                    NULL).type != GRPC_QUEUE_SHUTDOWN) {
  }
  grpc_completion_queue_destroy(k->cq);
  return (int)k->status;
}

/* ---------------------------------------------------------------- tests */

/* gx_rpc_call_cut_connection on a TLS listener: the call's TCP socket is
 * found by its peer address and shut down under the TLS layer; the
 * client's call fails UNAVAILABLE, another client's connection (same
 * peer string before and after) keeps serving. */
static void cut_tls_connection_keeps_others(void **state) {
  (void)state;
  char peer_b[64];
  kept_call k;
  fixture *f = start_server(1);
  grpc_channel *a = channel(f, "ca.pem", "client-cn");
  grpc_channel *b = channel(f, "ca.pem", "client-dns");
  assert_int_equal(call_once(f, b, NULL, 0), GRPC_STATUS_OK);
  snprintf(peer_b, sizeof peer_b, "%s", f->peer);
  f->hold = 1;
  start_kept(f, a, &k);
  f->hold = 0;
  assert_string_not_equal(f->peer, peer_b);
  assert_int_equal(gx_rpc_call_cut_connection(f->held), GX_OK);
  assert_int_equal(end_kept(f, &k), GRPC_STATUS_UNAVAILABLE);
  assert_int_equal(gx_rpc_call_finish(f->held, GX_STATUS_OK, ""), GX_OK);
  assert_int_equal(call_once(f, b, NULL, 0), GRPC_STATUS_OK);
  assert_string_equal(f->peer, peer_b);
  assert_string_equal(f->auth.identity, "bob.example.org");
  grpc_channel_destroy(a);
  grpc_channel_destroy(b);
  stop_server(f);
}

/* mTLS: a SPIFFE certificate's identity is its SPIFFE ID (before its
 * DNS SAN); every field is reported, the PEM byte for byte. */
static void spiffe_certificate(void **state) {
  (void)state;
  fixture *f = start_server(1);
  assert_int_equal(call_as(f, "ca.pem", "client-spiffe"), GRPC_STATUS_OK);
  assert_int_equal(f->calls, 1);
  assert_int_equal(f->auth.rc, GX_OK);
  assert_string_equal(f->auth.transport, "ssl");
  assert_int_equal(f->auth.authenticated, 1);
  assert_string_equal(f->auth.spiffe_id, "spiffe://example.org/ops/alice");
  assert_string_equal(f->auth.dns, "alice.example.org");
  assert_string_equal(f->auth.cn, "spiffe-client");
  assert_string_equal(f->auth.identity, "spiffe://example.org/ops/alice");
  char *pem = gxt_tls_read(certs, "client-spiffe.pem");
  assert_string_equal(f->auth.pem, pem);
  free(pem);
  stop_server(f);
}

/* DNS SANs only: the first one is the identity. */
static void dns_certificate(void **state) {
  (void)state;
  fixture *f = start_server(1);
  assert_int_equal(call_as(f, "ca.pem", "client-dns"), GRPC_STATUS_OK);
  assert_string_equal(f->auth.spiffe_id, "(null)");
  assert_string_equal(f->auth.dns, "bob.example.org");
  assert_string_equal(f->auth.cn, "dns-client");
  assert_string_equal(f->auth.identity, "bob.example.org");
  assert_int_equal(f->auth.authenticated, 1);
  stop_server(f);
}

/* No SAN: the subject CN. */
static void cn_certificate(void **state) {
  (void)state;
  fixture *f = start_server(1);
  assert_int_equal(call_as(f, "ca.pem", "client-cn"), GRPC_STATUS_OK);
  assert_string_equal(f->auth.spiffe_id, "(null)");
  assert_string_equal(f->auth.dns, "(null)");
  assert_string_equal(f->auth.cn, "carol");
  assert_string_equal(f->auth.identity, "carol");
  stop_server(f);
}

/* Another CA's, an expired and no certificate fail the handshake: the
 * client sees UNAVAILABLE and no call reaches the server. A revoked one
 * passes it (gRPC checks no CRL): server/tls.c refuses it per call. */
static void refused_in_handshake(void **state) {
  (void)state;
  fixture *f = start_server(1);
  assert_int_equal(call_as(f, "ca.pem", "client-other"),
                   GRPC_STATUS_UNAVAILABLE);
  assert_int_equal(call_as(f, "ca.pem", "client-expired"),
                   GRPC_STATUS_UNAVAILABLE);
  assert_int_equal(call_as(f, "ca.pem", NULL), GRPC_STATUS_UNAVAILABLE);
  assert_int_equal(f->calls, 0);
  assert_int_equal(call_as(f, "ca.pem", "client-revoked"), GRPC_STATUS_OK);
  assert_int_equal(f->calls, 1);
  assert_string_equal(f->auth.identity, "revoked");
  /* a client that does not trust the server's CA refuses it */
  assert_int_equal(call_as(f, "other-ca.pem", "client-cn"),
                   GRPC_STATUS_UNAVAILABLE);
  assert_int_equal(f->calls, 1);
  stop_server(f);
}

/* A client of an intermediate CA, with --tls-client-ca holding only the
 * root: the handshake accepts it when it sends the intermediate (gRPC
 * builds the path from what the client sends), and refuses it when it
 * sends its certificate alone. pem_cert is the client's certificate,
 * pem_chain what it sent after it, byte for byte. */
static void intermediate_chain_reported(void **state) {
  (void)state;
  fixture *f = start_server(1);
  grpc_channel *ch = channel_ex(f, "ca.pem", "client-inter", 1, NULL);
  assert_int_equal(call_once(f, ch, NULL, 0), GRPC_STATUS_OK);
  grpc_channel_destroy(ch);
  assert_int_equal(f->calls, 1);
  assert_string_equal(f->auth.identity, "erin");
  char *pem = gxt_tls_read(certs, "client-inter.pem");
  char *inter = gxt_tls_read(certs, "inter.pem");
  assert_string_equal(f->auth.pem, pem);
  assert_string_equal(f->auth.chain, inter);
  assert_int_equal(call_as(f, "ca.pem", "client-inter"),
                   GRPC_STATUS_UNAVAILABLE);
  assert_int_equal(f->calls, 1);
  /* a client given its certificate alone: its OpenSSL completes the
   * chain from the CAs it trusts, and sends the root */
  char *ca = gxt_tls_read(certs, "ca.pem");
  assert_int_equal(call_as(f, "ca.pem", "client-cn"), GRPC_STATUS_OK);
  assert_string_equal(f->auth.chain, ca);
  free(ca);
  free(pem);
  free(inter);
  stop_server(f);
}

/* A resumed TLS session (a client caching sessions): the certificate
 * is reported again, the chain is not (OpenSSL's session ticket keeps
 * the peer's certificate only); server/tls.c relies on both. */
static void resumed_session_has_no_chain(void **state) {
  (void)state;
  fixture *f = start_server(1);
  grpc_ssl_session_cache *cache = grpc_ssl_session_cache_create_lru(8);
  char *pem = gxt_tls_read(certs, "client-inter.pem");
  char *inter = gxt_tls_read(certs, "inter.pem");
  for (int i = 0; i < 3; i++) {
    grpc_channel *ch = channel_ex(f, "ca.pem", "client-inter", 1, cache);
    assert_int_equal(call_once(f, ch, NULL, 0), GRPC_STATUS_OK);
    grpc_channel_destroy(ch);
    assert_string_equal(f->auth.pem, pem);
    assert_string_equal(f->auth.identity, "erin");
    assert_string_equal(f->auth.chain, i == 0 ? inter : "(null)");
  }
  free(pem);
  free(inter);
  grpc_ssl_session_cache_destroy(cache);
  stop_server(f);
}

/* TLS without a client CA: no certificate is asked for, none is
 * reported, and the peer is not authenticated. */
static void tls_without_client_auth(void **state) {
  (void)state;
  fixture *f = start_server(0);
  assert_int_equal(call_as(f, "ca.pem", NULL), GRPC_STATUS_OK);
  assert_string_equal(f->auth.transport, "ssl");
  assert_int_equal(f->auth.authenticated, 0);
  assert_string_equal(f->auth.identity, "(null)");
  assert_string_equal(f->auth.pem, "(null)");
  assert_string_equal(f->auth.chain, "(null)");
  assert_string_equal(f->auth.cn, "(null)");
  stop_server(f);
}

/* A new set takes effect at the next handshake: a connection made before
 * keeps the old certificate and keeps working; a new one gets the new
 * certificate (from another CA, so that only clients trusting it
 * connect), also after a second rotation back. */
static void reload_on_next_handshake(void **state) {
  (void)state;
  char cn[64];
  fixture *f = start_server(1);
  grpc_channel *old = channel(f, "ca.pem", "client-cn");
  assert_int_equal(call_once(f, old, cn, sizeof cn), GRPC_STATUS_OK);
  assert_string_equal(cn, "gexecd");
  assert_int_equal(gx_rpc_tls_source_generation(f->src), 1);

  char *cert = gxt_tls_read(certs, "server2.pem");
  char *key = gxt_tls_read(certs, "server2.key");
  char *ca = gxt_tls_read(certs, "ca.pem");
  assert_int_equal(gx_rpc_tls_source_set(f->src, cert, key, ca), GX_OK);
  assert_int_equal(gx_rpc_tls_source_generation(f->src), 2);

  assert_int_equal(call_once(f, old, cn, sizeof cn), GRPC_STATUS_OK);
  assert_string_equal(cn, "gexecd"); /* the same connection */
  grpc_channel *fresh = channel(f, "ca2.pem", "client-cn");
  assert_int_equal(call_once(f, fresh, cn, sizeof cn), GRPC_STATUS_OK);
  assert_string_equal(cn, "gexecd-rotated");
  assert_int_equal(call_as(f, "ca.pem", "client-cn"),
                   GRPC_STATUS_UNAVAILABLE);
  free(cert);
  free(key);
  cert = gxt_tls_read(certs, "server.pem");
  key = gxt_tls_read(certs, "server.key");
  assert_int_equal(gx_rpc_tls_source_set(f->src, cert, key, ca), GX_OK);
  assert_int_equal(call_as(f, "ca.pem", "client-cn"), GRPC_STATUS_OK);
  assert_int_equal(call_once(f, fresh, cn, sizeof cn), GRPC_STATUS_OK);
  assert_string_equal(cn, "gexecd-rotated");
  grpc_channel_destroy(old);
  grpc_channel_destroy(fresh);
  free(cert);
  free(key);
  free(ca);
  stop_server(f);
}

/* A set gRPC cannot use (a key of another certificate) keeps the
 * previous one in force for new handshakes. */
static void unusable_set_keeps_previous(void **state) {
  (void)state;
  fixture *f = start_server(1);
  char *cert = gxt_tls_read(certs, "server2.pem");
  char *key = gxt_tls_read(certs, "server.key"); /* not server2's */
  char *ca = gxt_tls_read(certs, "ca.pem");
  assert_int_equal(gx_rpc_tls_source_set(f->src, cert, key, ca), GX_OK);
  char cn[64];
  grpc_channel *ch = channel(f, "ca.pem", "client-cn");
  assert_int_equal(call_once(f, ch, cn, sizeof cn), GRPC_STATUS_OK);
  assert_string_equal(cn, "gexecd");
  grpc_channel_destroy(ch);
  free(cert);
  free(key);
  free(ca);
  stop_server(f);
}

/* The source's contract: what set refuses, listening before any set,
 * and TLS server credentials refused for a channel. */
static void source_contract(void **state) {
  (void)state;
  gx_rpc_tls_source *m, *t;
  gx_rpc_creds *creds;
  gx_rpc_server *srv;
  gx_rpc_channel *ch = NULL;
  uv_loop_t loop;
  assert_int_equal(uv_loop_init(&loop), 0);
  assert_int_equal(gx_rpc_tls_source_new(1, &m), GX_OK);
  assert_int_equal(gx_rpc_tls_source_new(0, &t), GX_OK);
  assert_int_equal(gx_rpc_tls_source_set(m, "C", "K", NULL), GX_EINVAL);
  assert_int_equal(gx_rpc_tls_source_set(m, "C", "K", ""), GX_EINVAL);
  assert_int_equal(gx_rpc_tls_source_set(m, "", "K", "A"), GX_EINVAL);
  assert_int_equal(gx_rpc_tls_source_set(m, "C", NULL, "A"), GX_EINVAL);
  assert_int_equal(gx_rpc_tls_source_set(t, "C", "K", "A"), GX_EINVAL);
  assert_int_equal(gx_rpc_tls_source_generation(m), 0);
  assert_int_equal(gx_rpc_creds_tls_server(m, &creds), GX_OK);
  assert_int_equal(gx_rpc_server_new(&loop, NULL, &srv), GX_OK);
  assert_int_equal(gx_rpc_server_listen(srv, "127.0.0.1:0", creds), GX_EINVAL);
  assert_int_equal(gx_rpc_channel_new("127.0.0.1:1", creds, NULL, &ch),
                   GX_EINVAL);
  assert_null(ch);
  gx_rpc_server_shutdown(srv, NULL, NULL);
  gx_rpc_server_free(srv);
  gx_rpc_creds_free(creds);
  gx_rpc_tls_source_free(m);
  gx_rpc_tls_source_free(t);
  gx_rpc_tls_source_free(NULL);
  uv_run(&loop, UV_RUN_DEFAULT);
  assert_int_equal(uv_loop_close(&loop), 0);
}

static int group_setup(void **state) {
  (void)state;
  certs = gxt_tls_make(NULL);
  gx_rpc_global_init();
  return 0;
}

static int group_teardown(void **state) {
  (void)state;
  gx_rpc_global_shutdown();
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(spiffe_certificate),
      cmocka_unit_test(dns_certificate),
      cmocka_unit_test(cn_certificate),
      cmocka_unit_test(refused_in_handshake),
      cmocka_unit_test(intermediate_chain_reported),
      cmocka_unit_test(resumed_session_has_no_chain),
      cmocka_unit_test(tls_without_client_auth),
      cmocka_unit_test(reload_on_next_handshake),
      cmocka_unit_test(unusable_set_keeps_previous),
      cmocka_unit_test(source_contract),
      cmocka_unit_test(cut_tls_connection_keeps_others),
  };
  return cmocka_run_group_tests_name("lib/rpc TLS", tests, group_setup,
                                     group_teardown);
}
