/* Unit tests for server/tls: loading and its refusals (each naming the
 * flag and file at fault), reload keeping the set in force when a new
 * file is broken, and the revocation verdicts with their cache. The
 * material is made by tests/tls/mkcerts.sh (openssl) when the test
 * starts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/rpc.h"
#include "server/tls.h"
#include "tests/tls/tls_certs.h"

static const char *certs; /* shared, never modified */
static char why[512];

/* Paths in @p dir; four rotating buffers, so that one call can name
 * several files. */
static const char *at(const char *dir, const char *name) {
  static char buf[4][4096];
  static int i;
  i = (i + 1) % 4;
  return gxt_tls_path(dir, name, buf[i], sizeof buf[i]);
}

static gxd_tls_files mtls_files(const char *dir) {
  gxd_tls_files f = {strdup(at(dir, "server.pem")),
                     strdup(at(dir, "server.key")), strdup(at(dir, "ca.pem")),
                     strdup(at(dir, "crl"))};
  return f;
}

static void free_files(gxd_tls_files *f) {
  free((char *)f->cert);
  free((char *)f->key);
  free((char *)f->client_ca);
  free((char *)f->crl_dir);
}

/* Opening @p f fails with exactly @p want. */
static void open_fails(const gxd_tls_files *f, const char *want) {
  gxd_tls *t = NULL;
  memset(why, 0, sizeof why);
  assert_int_equal(gxd_tls_open(f, &t, why, sizeof why), -1);
  assert_null(t);
  assert_string_equal(why, want);
}

/* Opening @p f fails with a reason that starts with @p prefix. */
static void open_fails_with_prefix(const gxd_tls_files *f,
                                   const char *prefix) {
  gxd_tls *t = NULL;
  assert_int_equal(gxd_tls_open(f, &t, why, sizeof why), -1);
  if (strncmp(why, prefix, strlen(prefix)) != 0)
    fail_msg("reason '%s' does not start with '%s'", why, prefix);
}

/* The verdict on @p client's certificate: 0, or -1 with why. */
static int check(gxd_tls *t, const char *dir, const char *client) {
  char name[64];
  snprintf(name, sizeof name, "%s.pem", client);
  char *pem = gxt_tls_read(dir, name);
  memset(why, 0, sizeof why);
  int rc = gxd_tls_check_peer(t, pem, why, sizeof why);
  free(pem);
  return rc;
}

/* ------------------------------------------------------------- loading */

static void opens_with_every_file(void **state) {
  (void)state;
  gxd_tls_files f = mtls_files(certs);
  gxd_tls *t;
  assert_int_equal(gxd_tls_open(&f, &t, why, sizeof why), 0);
  assert_int_equal(gxd_tls_mtls(t), 1);
  assert_int_equal(gxd_tls_generation(t), 1);
  assert_non_null(gxd_tls_creds(t));
  gxd_tls_free(t);
  gxd_tls_files tls_only = {f.cert, f.key, NULL, NULL};
  assert_int_equal(gxd_tls_open(&tls_only, &t, why, sizeof why), 0);
  assert_int_equal(gxd_tls_mtls(t), 0);
  assert_int_equal(check(t, certs, "client-revoked"), 0); /* no CRL dir */
  assert_int_equal(gxd_tls_verifications(t), 0);
  gxd_tls_free(t);
  gxd_tls_free(NULL);
  free_files(&f);
}

static void refuses_missing_pairs(void **state) {
  (void)state;
  gxd_tls_files f = {at(certs, "server.pem"), NULL, NULL, NULL};
  open_fails(&f, "TLS needs both --tls-cert and --tls-key");
  f = (gxd_tls_files){NULL, at(certs, "server.key"), NULL, NULL};
  open_fails(&f, "TLS needs both --tls-cert and --tls-key");
  f = (gxd_tls_files){at(certs, "server.pem"), at(certs, "server.key"), NULL,
                      at(certs, "crl")};
  open_fails(&f, "--tls-crl-dir needs --tls-client-ca");
}

static void names_the_bad_certificate(void **state) {
  (void)state;
  char want[1024];
  const char *dir = gxt_tls_make(NULL);
  gxd_tls_files f = mtls_files(dir);
  const char *nope = at(dir, "nope.pem");
  gxd_tls_files g = f;
  g.cert = nope;
  snprintf(want, sizeof want, "--tls-cert %s: No such file or directory",
           nope);
  open_fails(&g, want);
  gxt_tls_write(dir, "server.pem", "garbage\n");
  snprintf(want, sizeof want, "--tls-cert %s: no PEM certificate in it",
           f.cert);
  open_fails(&f, want);
  gxt_tls_write(dir, "server.pem", "-----BEGIN CERTIFICATE-----\nAAAA\n"
                                   "-----END CERTIFICATE-----\n");
  snprintf(want, sizeof want, "--tls-cert %s: no certificate parses in it",
           f.cert);
  open_fails(&f, want);
  g.cert = at(dir, "client-expired.pem");
  g.key = at(dir, "client-expired.key");
  snprintf(want, sizeof want,
           "--tls-cert %s: the certificate expired on Jan  2 00:00:00 2020 GMT",
           g.cert);
  open_fails(&g, want);
  g.cert = at(dir, "crl");
  snprintf(want, sizeof want, "--tls-cert %s: not a regular file", g.cert);
  open_fails(&g, want);
  free_files(&f);
}

static void names_the_bad_key(void **state) {
  (void)state;
  char want[1024];
  gxd_tls_files f = mtls_files(certs);
  gxd_tls_files g = f;
  g.key = at(certs, "client-cn.key");
  snprintf(want, sizeof want,
           "--tls-key %s: does not match the certificate of --tls-cert %s",
           g.key, f.cert);
  open_fails(&g, want);
  g.key = at(certs, "server-enc.key"); /* and no prompt for a pass phrase */
  snprintf(want, sizeof want, "--tls-key %s: no unencrypted PEM private key "
           "in it (", g.key);
  open_fails_with_prefix(&g, want);
  g.key = at(certs, "server.pem");
  snprintf(want, sizeof want, "--tls-key %s: no unencrypted PEM private key "
           "in it (", g.key);
  open_fails_with_prefix(&g, want);
  free_files(&f);
}

static void names_the_bad_client_ca(void **state) {
  (void)state;
  char want[1024];
  gxd_tls_files f = mtls_files(certs);
  gxd_tls_files g = f;
  g.client_ca = at(certs, "client-cn.pem");
  snprintf(want, sizeof want, "--tls-client-ca %s: certificate 1 (CN=carol) "
           "is not a CA certificate", g.client_ca);
  open_fails(&g, want);
  g.client_ca = at(certs, "server.key");
  snprintf(want, sizeof want, "--tls-client-ca %s: no PEM certificate in it",
           g.client_ca);
  open_fails(&g, want);
  free_files(&f);
}

static void names_the_bad_crl(void **state) {
  (void)state;
  char want[1024];
  const char *dir = gxt_tls_make(NULL);
  gxd_tls_files f = mtls_files(dir);
  gxd_tls_files g = f;
  g.crl_dir = at(dir, "nope");
  snprintf(want, sizeof want, "--tls-crl-dir %s: No such file or directory",
           g.crl_dir);
  open_fails(&g, want);
  g.crl_dir = at(dir, "other-crl");
  snprintf(want, sizeof want, "--tls-crl-dir %s: other-ca.crl.pem: the CRL "
           "of CN=some other CA is not signed by a --tls-client-ca "
           "certificate", g.crl_dir);
  open_fails(&g, want);
  g.crl_dir = at(dir, "empty");
  assert_int_equal(mkdir(g.crl_dir, 0700), 0);
  snprintf(want, sizeof want, "--tls-crl-dir %s: no CRL in it", g.crl_dir);
  open_fails(&g, want);
  gxt_tls_write(dir, "crl/junk.pem", "not a CRL\n");
  snprintf(want, sizeof want, "--tls-crl-dir %s: junk.pem: not a CRL (PEM or "
           "DER)", f.crl_dir);
  open_fails(&f, want);
  /* a bad block after a good one is not skipped: it may revoke someone */
  assert_int_equal(unlink(at(dir, "crl/junk.pem")), 0);
  char *crl = gxt_tls_read(dir, "crl/ca.crl.pem"), two[8192];
  snprintf(two, sizeof two, "%s-----BEGIN X509 CRL-----\nAAAA\n"
           "-----END X509 CRL-----\n", crl);
  gxt_tls_write(dir, "crl/ca.crl.pem", two);
  snprintf(want, sizeof want, "--tls-crl-dir %s: ca.crl.pem: CRL 2 does not "
           "parse", f.crl_dir);
  open_fails(&f, want);
  free(crl);
  free_files(&f);
}

/* -------------------------------------------------------------- reload */

/* A broken file keeps the whole set in force; fixing it installs the new
 * one; a new CRL changes the verdicts (the cache is emptied). */
static void reload_keeps_old_on_broken_files(void **state) {
  (void)state;
  const char *dir = gxt_tls_make(NULL);
  gxd_tls_files f = mtls_files(dir);
  gxd_tls *t;
  char want[1024];
  assert_int_equal(gxd_tls_open(&f, &t, why, sizeof why), 0);
  assert_int_equal(check(t, dir, "client-revoked"), -1);
  char *good_cert = gxt_tls_read(dir, "server.pem");
  gxt_tls_write(dir, "server.pem", "garbage\n");
  assert_int_equal(gxd_tls_reload(t, why, sizeof why), -1);
  snprintf(want, sizeof want, "--tls-cert %s: no PEM certificate in it",
           f.cert);
  assert_string_equal(why, want);
  assert_int_equal(gxd_tls_generation(t), 1);
  gxt_tls_write(dir, "server.pem", good_cert);
  gxt_tls_write(dir, "crl/ca.crl.pem", "broken\n");
  assert_int_equal(gxd_tls_reload(t, why, sizeof why), -1);
  assert_int_equal(gxd_tls_generation(t), 1);
  assert_int_equal(check(t, dir, "client-revoked"), -1); /* old CRL holds */
  char *crl2 = gxt_tls_read(dir, "crl2/ca.crl.pem");
  gxt_tls_write(dir, "crl/ca.crl.pem", crl2);
  assert_int_equal(gxd_tls_reload(t, why, sizeof why), 0);
  assert_int_equal(gxd_tls_generation(t), 2);
  assert_int_equal(check(t, dir, "client-revoked"), 0); /* not in crl2 */
  gxd_tls_free(t);
  free(good_cert);
  free(crl2);
  free_files(&f);
}

/* Relative names are the working directory's at open: the daemon moves
 * to "/" afterwards, and a reload still finds the files; reasons name
 * the absolute path. */
static void relative_paths_survive_chdir(void **state) {
  (void)state;
  char old[4096], want[1024];
  assert_non_null(getcwd(old, sizeof old));
  assert_int_equal(chdir(certs), 0);
  gxd_tls_files f = {"server.pem", "server.key", "ca.pem", "crl"};
  gxd_tls *t;
  assert_int_equal(gxd_tls_open(&f, &t, why, sizeof why), 0);
  assert_int_equal(chdir("/"), 0);
  assert_int_equal(gxd_tls_reload(t, why, sizeof why), 0);
  assert_int_equal(gxd_tls_generation(t), 2);
  assert_int_equal(check(t, certs, "client-revoked"), -1);
  gxd_tls_free(t);
  assert_int_equal(chdir(certs), 0);
  f.key = "nope.key";
  snprintf(want, sizeof want, "--tls-key %s/nope.key: No such file or "
           "directory", certs);
  open_fails(&f, want);
  assert_int_equal(chdir(old), 0);
}

/* ---------------------------------------------------------- revocation */

static void crl_verdicts(void **state) {
  (void)state;
  gxd_tls_files f = mtls_files(certs);
  gxd_tls *t;
  char want[256];
  assert_int_equal(gxd_tls_open(&f, &t, why, sizeof why), 0);
  assert_int_equal(check(t, certs, "client-spiffe"), 0);
  assert_int_equal(check(t, certs, "client-cn"), 0);
  assert_int_equal(check(t, certs, "client-revoked"), -1);
  char *serial = gxt_tls_read(certs, "serial-revoked");
  serial[strcspn(serial, "\n")] = '\0';
  snprintf(want, sizeof want, "client certificate serial 0x%s is revoked "
           "(CRL of CN=gexec test CA)", serial);
  assert_string_equal(why, want);
  assert_int_equal(check(t, certs, "client-other"), -1);
  assert_string_equal(why, "client certificate refused: unable to get local "
                           "issuer certificate (issuer CN=some other CA)");
  memset(why, 0, sizeof why);
  assert_int_equal(gxd_tls_check_peer(t, NULL, why, sizeof why), -1);
  assert_string_equal(why, "no client certificate to check for revocation");
  assert_int_equal(gxd_tls_check_peer(t, "junk", why, sizeof why), -1);
  assert_string_equal(why, "the client certificate cannot be checked (it "
                           "does not parse)");
  free(serial);
  gxd_tls_free(t);
  free_files(&f);
}

/* A client CA without a CRL in the directory: its clients are refused
 * (fail closed), those of a CA with one are not. */
static void ca_without_crl_refuses(void **state) {
  (void)state;
  const char *dir = gxt_tls_make(NULL);
  gxd_tls_files f = mtls_files(dir);
  char *ca = gxt_tls_read(dir, "ca.pem"), *ca2 = gxt_tls_read(dir, "ca2.pem");
  char both[8192];
  snprintf(both, sizeof both, "%s%s", ca, ca2);
  gxt_tls_write(dir, "ca.pem", both);
  gxd_tls *t;
  assert_int_equal(gxd_tls_open(&f, &t, why, sizeof why), 0);
  assert_int_equal(check(t, dir, "client-cn"), 0);
  assert_int_equal(check(t, dir, "client-ca2"), -1);
  assert_string_equal(why, "no CRL of CN=gexec rotated CA in --tls-crl-dir: "
                           "its client certificates are refused");
  gxd_tls_free(t);
  free(ca);
  free(ca2);
  free_files(&f);
}

/* One full check per certificate until a reload. */
static void verdicts_are_cached(void **state) {
  (void)state;
  gxd_tls_files f = mtls_files(certs);
  gxd_tls *t;
  char first[512];
  assert_int_equal(gxd_tls_open(&f, &t, why, sizeof why), 0);
  for (int i = 0; i < 5; i++) assert_int_equal(check(t, certs, "client-cn"), 0);
  assert_int_equal(gxd_tls_verifications(t), 1);
  assert_int_equal(check(t, certs, "client-revoked"), -1);
  snprintf(first, sizeof first, "%s", why);
  assert_int_equal(check(t, certs, "client-revoked"), -1);
  assert_string_equal(why, first); /* the cached reason */
  assert_int_equal(gxd_tls_verifications(t), 2);
  assert_int_equal(gxd_tls_reload(t, why, sizeof why), 0);
  assert_int_equal(check(t, certs, "client-cn"), 0);
  assert_int_equal(gxd_tls_verifications(t), 3);
  gxd_tls_free(t);
  free_files(&f);
}

/* More certificates than the cache holds: still one verdict each, and
 * the oldest is checked again. */
static void cache_is_bounded(void **state) {
  (void)state;
  gxd_tls_files f = mtls_files(certs);
  gxd_tls *t;
  char *pem = gxt_tls_read(certs, "client-cn.pem");
  size_t len = strlen(pem);
  char *variant = malloc(len + 16);
  assert_int_equal(gxd_tls_open(&f, &t, why, sizeof why), 0);
  /* trailing text after the PEM block changes the hash, not the verdict */
  for (int i = 0; i <= GXD_TLS_CACHE; i++) {
    snprintf(variant, len + 16, "%s%d\n", pem, i);
    assert_int_equal(gxd_tls_check_peer(t, variant, why, sizeof why), 0);
  }
  assert_int_equal(gxd_tls_verifications(t), GXD_TLS_CACHE + 1);
  snprintf(variant, len + 16, "%s%d\n", pem, 0); /* replaced: checked again */
  assert_int_equal(gxd_tls_check_peer(t, variant, why, sizeof why), 0);
  assert_int_equal(gxd_tls_verifications(t), GXD_TLS_CACHE + 2);
  snprintf(variant, len + 16, "%s%d\n", pem, GXD_TLS_CACHE); /* still in */
  assert_int_equal(gxd_tls_check_peer(t, variant, why, sizeof why), 0);
  assert_int_equal(gxd_tls_verifications(t), GXD_TLS_CACHE + 2);
  free(variant);
  free(pem);
  gxd_tls_free(t);
  free_files(&f);
}

static int group_setup(void **state) {
  (void)state;
  certs = gxt_tls_make(NULL);
  static char keep[4096];
  snprintf(keep, sizeof keep, "%s", certs); /* gxt_tls_make reuses it */
  certs = keep;
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(opens_with_every_file),
      cmocka_unit_test(refuses_missing_pairs),
      cmocka_unit_test(names_the_bad_certificate),
      cmocka_unit_test(names_the_bad_key),
      cmocka_unit_test(names_the_bad_client_ca),
      cmocka_unit_test(names_the_bad_crl),
      cmocka_unit_test(reload_keeps_old_on_broken_files),
      cmocka_unit_test(relative_paths_survive_chdir),
      cmocka_unit_test(crl_verdicts),
      cmocka_unit_test(ca_without_crl_refuses),
      cmocka_unit_test(verdicts_are_cached),
      cmocka_unit_test(cache_is_bounded),
  };
  return cmocka_run_group_tests_name("server/tls", tests, group_setup, NULL);
}
