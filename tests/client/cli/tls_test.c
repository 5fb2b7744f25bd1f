/* Unit tests for client/cli/tls: flags over the environment, and the
 * settings that do not go together. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "client/cli/tls.h"

static char why[256];

/* Picks from @p a and the environment values, expecting success. */
static gxc_tls pick_ok(const gxc_args *a, const char *ca, const char *cert,
                       const char *key) {
  gxc_tls t;
  why[0] = '\0';
  assert_int_equal(gxc_tls_pick(a, ca, cert, key, &t, why, sizeof why), 0);
  return t;
}

static void pick_err(const gxc_args *a, const char *ca, const char *cert,
                     const char *key, const char *msg) {
  gxc_tls t;
  assert_int_equal(gxc_tls_pick(a, ca, cert, key, &t, why, sizeof why), -1);
  assert_string_equal(why, msg);
}

static void nothing_is_plaintext(void **state) {
  gxc_args a = {0};
  (void)state;
  gxc_tls t = pick_ok(&a, NULL, "", NULL); /* empty = unset */
  assert_null(t.ca);
  assert_null(t.cert);
  assert_null(t.key);
  assert_null(t.server_name);
}

static void flags_override_environment(void **state) {
  gxc_args a = {.ca = "/f/ca", .key = "/f/key"};
  (void)state;
  gxc_tls t = pick_ok(&a, "/e/ca", "/e/cert", "/e/key");
  assert_string_equal(t.ca, "/f/ca");
  assert_string_equal(t.ca_from, "--ca");
  assert_string_equal(t.cert, "/e/cert");
  assert_string_equal(t.cert_from, "GEXEC_CERT");
  assert_string_equal(t.key, "/f/key");
  assert_string_equal(t.key_from, "--key");
  a = (gxc_args){.tls_server_name = "d.example"};
  t = pick_ok(&a, "/e/ca", NULL, NULL);
  assert_string_equal(t.ca, "/e/ca");
  assert_string_equal(t.ca_from, "GEXEC_CA");
  assert_string_equal(t.server_name, "d.example");
}

static void settings_that_need_others(void **state) {
  gxc_args cert = {.ca = "/ca", .cert = "/c"};
  gxc_args key = {.ca = "/ca", .key = "/k"};
  gxc_args nca = {.cert = "/c", .key = "/k"};
  gxc_args name = {.tls_server_name = "d.example"};
  gxc_args none = {0};
  (void)state;
  pick_err(&cert, NULL, NULL, NULL,
           "--cert needs a private key: --key FILE or GEXEC_KEY");
  pick_err(&none, "/ca", "/c", NULL,
           "GEXEC_CERT needs a private key: --key FILE or GEXEC_KEY");
  pick_err(&key, NULL, NULL, NULL,
           "--key needs a certificate: --cert FILE or GEXEC_CERT");
  pick_err(&nca, NULL, NULL, NULL,
           "--cert needs the daemon's CA: --ca FILE or GEXEC_CA");
  pick_err(&none, NULL, "/c", "/k",
           "GEXEC_CERT needs the daemon's CA: --ca FILE or GEXEC_CA");
  pick_err(&name, NULL, NULL, NULL,
           "--tls-server-name needs the daemon's CA: --ca FILE or GEXEC_CA");
}

static void options_are_made(void **state) {
  gxc_tls t = {.ca = "/ca", .cert = "/c", .key = "/k",
               .server_name = "d.example"};
  gexec_conn_opts *o = NULL;
  (void)state;
  assert_int_equal(gxc_tls_conn_opts(&t, &o), GEXEC_OK);
  assert_non_null(o);
  gexec_conn_opts_free(o);
  t = (gxc_tls){0};
  assert_int_equal(gxc_tls_conn_opts(&t, &o), GEXEC_OK);
  gexec_conn_opts_free(o);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(nothing_is_plaintext),
      cmocka_unit_test(flags_override_environment),
      cmocka_unit_test(settings_that_need_others),
      cmocka_unit_test(options_are_made),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
