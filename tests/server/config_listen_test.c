/* Unit tests for server/config: --listen (repeatable, the default port,
 * the exposure rule for non-loopback TCP), the TLS flags and keepalive. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "server/config.h"
#include "tests/server/config_fixture.h"

static void listen_repeatable(void **state) {
  char *argv[] = {"gexecd",     "-l",       "unix:/tmp/a.sock",
                  "--listen",   "127.0.0.1:7000", "--listen=[::1]:7001",
                  "-llocalhost:7002", NULL};
  (void)state;
  assert_int_equal(parse(argv), GXD_CONFIG_RUN);
  assert_int_equal(cfg.nlisten, 4);
  assert_string_equal(cfg.listen[0], "unix:/tmp/a.sock");
  assert_string_equal(cfg.listen[1], "127.0.0.1:7000");
  assert_string_equal(cfg.listen[2], "[::1]:7001");
  assert_string_equal(cfg.listen[3], "localhost:7002");
}

/* --socket-group takes an existing group by name (root's is 0) and
 * refuses an unknown one, naming it. Without it: none. */
static void socket_group_is_resolved(void **state) {
  char *none[] = {"gexecd", NULL};
  char *root[] = {"gexecd", "--socket-group", "root", NULL};
  char *unknown[] = {"gexecd", "--socket-group", "no-such-group-gx", NULL};
  (void)state;
  assert_int_equal(parse(none), GXD_CONFIG_RUN);
  assert_null(cfg.socket_group);
  assert_int_equal(parse(root), GXD_CONFIG_RUN);
  assert_string_equal(cfg.socket_group, "root");
  assert_int_equal(cfg.socket_gid, 0);
  parse_fails(unknown, "");
  assert_string_equal(why, "--socket-group no-such-group-gx: no such group");
}

static void listen_refuses_non_loopback_tcp(void **state) {
  static const char *const refused[] = {
      "0.0.0.0:7000", "192.168.1.5:7000", "[::]:7000", "[fe80::1]:7000",
      "example.com:7000", "10.0.0.1:7000",
  };
  (void)state;
  for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
    char *argv[] = {"gexecd", "--listen", (char *)refused[i], NULL};
    char want[300];
    snprintf(want, sizeof want,
             "--listen %s: a TCP listener on a non-loopback address needs "
             "mTLS and a policy (anyone on the network could run commands); "
             "missing --tls-cert, --tls-key, --tls-client-ca, --policy",
             refused[i]);
    parse_fails(argv, want);
    assert_string_equal(why, want);
  }
}

/* One bad address among good ones fails the whole parse. */
static void listen_refusal_after_good_one(void **state) {
  char *argv[] = {"gexecd", "-l", "127.0.0.1:1", "-l", "0.0.0.0:1", NULL};
  (void)state;
  parse_fails(argv, "--listen 0.0.0.0:1: a TCP listener on a non-loopback");
}

/* The exposure check runs once every flag is read: the flags may come
 * after --listen, and each missing one is named. */
static void listen_non_loopback_needs_mtls_and_policy(void **state) {
  char *all[] = {"gexecd", "-l", "10.0.0.1:7000", "--tls-cert", "c.pem",
                 "--tls-key", "k.pem", "--tls-client-ca", "ca.pem",
                 "--policy", "p.json", NULL};
  char *no_policy[] = {"gexecd", "-l", "10.0.0.1:7000", "--tls-cert",
                       "c.pem", "--tls-key", "k.pem", "--tls-client-ca",
                       "ca.pem", NULL};
  char *no_ca[] = {"gexecd", "--policy", "p.json", "--tls-cert", "c.pem",
                   "--tls-key", "k.pem", "-l", "[::]:7000", NULL};
  (void)state;
  assert_int_equal(parse(all), GXD_CONFIG_RUN);
  assert_string_equal(cfg.listen[0], "10.0.0.1:7000");
  assert_string_equal(cfg.tls_cert, "c.pem");
  assert_string_equal(cfg.tls_key, "k.pem");
  assert_string_equal(cfg.tls_client_ca, "ca.pem");
  assert_null(cfg.tls_crl_dir);
  assert_string_equal(cfg.policy_file, "p.json");
  parse_fails(no_policy, "");
  assert_string_equal(why,
                      "--listen 10.0.0.1:7000: a TCP listener on a "
                      "non-loopback address needs mTLS and a policy (anyone "
                      "on the network could run commands); missing --policy");
  parse_fails(no_ca, "");
  assert_string_equal(why,
                      "--listen [::]:7000: a TCP listener on a non-loopback "
                      "address needs mTLS and a policy (anyone on the network "
                      "could run commands); missing --tls-client-ca");
}

/* The TLS flags come in working combinations, whatever the listeners. */
static void tls_flags_need_each_other(void **state) {
  char *cert[] = {"gexecd", "--tls-cert", "c.pem", NULL};
  char *key[] = {"gexecd", "--tls-key", "k.pem", NULL};
  char *ca[] = {"gexecd", "--tls-client-ca", "ca.pem", NULL};
  char *crl[] = {"gexecd", "--tls-cert", "c.pem", "--tls-key", "k.pem",
                 "--tls-crl-dir", "crl", NULL};
  char *tls[] = {"gexecd", "--tls-cert", "c.pem", "--tls-key", "k.pem",
                 "-l", "127.0.0.1:0", NULL};
  char *full[] = {"gexecd", "--tls-cert", "c.pem", "--tls-key", "k.pem",
                  "--tls-client-ca", "ca.pem", "--tls-crl-dir", "crl", NULL};
  (void)state;
  parse_fails(cert, "");
  assert_string_equal(why, "--tls-cert needs --tls-key");
  parse_fails(key, "");
  assert_string_equal(why, "--tls-key needs --tls-cert");
  parse_fails(ca, "");
  assert_string_equal(why, "--tls-client-ca needs --tls-cert and --tls-key");
  parse_fails(crl, "");
  assert_string_equal(why, "--tls-crl-dir needs --tls-client-ca (its CRLs "
                           "revoke client certificates)");
  assert_int_equal(parse(tls), GXD_CONFIG_RUN); /* TLS on loopback */
  assert_null(cfg.tls_client_ca);
  assert_int_equal(parse(full), GXD_CONFIG_RUN);
  assert_string_equal(cfg.tls_crl_dir, "crl");
}

static void keepalive(void **state) {
  char *none[] = {"gexecd", NULL};
  (void)state;
  assert_int_equal(parse(none), GXD_CONFIG_RUN);
  assert_int_equal(cfg.keepalive_time_ms, 30000);
  assert_int_equal(cfg.keepalive_timeout_ms, 10000);
  assert_null(cfg.tls_cert);
  assert_null(cfg.policy_file);
  char *both[] = {"gexecd", "--keepalive-time", "1s", "--keepalive-timeout",
                  "2.5", NULL};
  assert_int_equal(parse(both), GXD_CONFIG_RUN);
  assert_int_equal(cfg.keepalive_time_ms, 1000);
  assert_int_equal(cfg.keepalive_timeout_ms, 2500);
  refuses("--keepalive-time", "999ms", "a duration from 1s to 2h");
  refuses("--keepalive-time", "2h1ms", "a duration from 1s to 2h");
  refuses("--keepalive-time", "0", "a duration from 1s to 2h");
  refuses("--keepalive-timeout", "10m1ms", "a duration from 1s to 10m");
  refuses("--keepalive-timeout", "x", "a duration from 1s to 10m");
}

static void listen_unparseable(void **state) {
  char *a1[] = {"gexecd", "--listen", "unix:relative.sock", NULL};
  char *a2[] = {"gexecd", "--listen", "127.0.0.1:70000", NULL};
  char *a3[] = {"gexecd", "--listen", "", NULL};
  char *a4[] = {"gexecd", "--listen", "host:", NULL};
  (void)state;
  parse_fails(a1, "--listen: unix socket path 'relative.sock' must be "
                  "absolute");
  assert_int_equal(strncmp(why, "--listen: ", 10), 0);
  parse_fails(a2, "--listen: address '127.0.0.1:70000': port must be "
                  "0..65535");
  parse_fails(a3, "--listen: address '': expected host:port or "
                  "unix:/path");
  parse_fails(a4, "--listen: address 'host:': port must be 0..65535");
}

/* A TCP host without ":port" listens on GX_ADDR_DEFAULT_PORT (7443). */
static void listen_default_port(void **state) {
  char *argv[] = {"gexecd", "-l", "localhost", "-l", "127.0.0.1",
                  "--listen=[::1]", "-l", "127.0.0.1:0", NULL};
  char big[400];
  char *a2[] = {"gexecd", "-l", big, NULL};
  (void)state;
  assert_int_equal(parse(argv), GXD_CONFIG_RUN);
  assert_int_equal(cfg.nlisten, 4);
  assert_string_equal(cfg.listen[0], "localhost:7443");
  assert_string_equal(cfg.listen[1], "127.0.0.1:7443");
  assert_string_equal(cfg.listen[2], "[::1]:7443");
  assert_string_equal(cfg.listen[3], "127.0.0.1:0");
  memset(big, 'a', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  parse_fails(a2, "--listen: address 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                  "aaaaaaaaaaaaaaaaaaaaaaaa...' is too long");
}

/* A bare non-loopback host is still refused without mTLS and a policy. */
static void listen_default_port_exposure(void **state) {
  char *argv[] = {"gexecd", "--listen", "10.0.0.1", NULL};
  (void)state;
  parse_fails(argv, "--listen 10.0.0.1:7443: a TCP listener on a "
                    "non-loopback address");
}

static void listen_at_most_sixteen(void **state) {
  char *argv[2 + 2 * (GXD_MAX_LISTEN + 1)];
  char addrs[GXD_MAX_LISTEN + 1][32];
  int n = 0;
  (void)state;
  argv[n++] = "gexecd";
  for (int i = 0; i <= GXD_MAX_LISTEN; i++) {
    snprintf(addrs[i], sizeof addrs[i], "unix:/tmp/s%d", i);
    argv[n++] = "-l";
    argv[n++] = addrs[i];
  }
  argv[n] = NULL;
  assert_int_equal(GXD_MAX_LISTEN, 16);
  parse_fails(argv, "at most 16 --listen");

  argv[n - 2] = NULL; /* exactly 16 */
  assert_int_equal(parse(argv), GXD_CONFIG_RUN);
  assert_int_equal(cfg.nlisten, 16);
  assert_string_equal(cfg.listen[15], "unix:/tmp/s15");
}

/* ------------------------------------------------------- numeric flags */

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(listen_repeatable),
      cmocka_unit_test(socket_group_is_resolved),
      cmocka_unit_test(listen_refuses_non_loopback_tcp),
      cmocka_unit_test(listen_refusal_after_good_one),
      cmocka_unit_test(listen_non_loopback_needs_mtls_and_policy),
      cmocka_unit_test(tls_flags_need_each_other),
      cmocka_unit_test(keepalive),
      cmocka_unit_test(listen_unparseable),
      cmocka_unit_test(listen_default_port),
      cmocka_unit_test(listen_default_port_exposure),
      cmocka_unit_test(listen_at_most_sixteen),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
