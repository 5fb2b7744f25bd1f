/* Unit tests for server/tls: loading and its refusals (each naming the
 * flag and file at fault), reload keeping the set in force when a new
 * file is broken, the revocation verdicts with their cache, and chains
 * through intermediate CAs (each CA's CRL checked). The
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

/* The verdict on @p client's certificate presented with the file
 * @p chain (NULL: no chain): 0, or -1 with why. */
static int check_chain(gxd_tls *t, const char *dir, const char *client,
                       const char *chain) {
  char name[64];
  snprintf(name, sizeof name, "%s.pem", client);
  char *pem = gxt_tls_read(dir, name);
  char *sent = chain ? gxt_tls_read(dir, chain) : NULL;
  memset(why, 0, sizeof why);
  int rc = gxd_tls_check_peer(t, pem, sent, why, sizeof why);
  free(pem);
  free(sent);
  return rc;
}

/* The verdict on @p client's certificate alone. */
static int check(gxd_tls *t, const char *dir, const char *client) {
  return check_chain(t, dir, client, NULL);
}

/* The one-line file @p name of @p dir (a serial), without its newline,
 * in static storage. */
static const char *line_of(const char *dir, const char *name) {
  static char buf[64];
  char *text = gxt_tls_read(dir, name);
  snprintf(buf, sizeof buf, "%.*s", (int)strcspn(text, "\n"), text);
  free(text);
  return buf;
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
  g.crl_dir = at(dir, "impostor-crl");
  snprintf(want, sizeof want, "--tls-crl-dir %s: ca.crl.pem: the CRL "
           "of CN=gexec test CA is not signed by the --tls-client-ca "
           "certificate of that name", g.crl_dir);
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
  assert_int_equal(gxd_tls_check_peer(t, NULL, NULL, why, sizeof why), -1);
  assert_string_equal(why, "no client certificate to check for revocation");
  assert_int_equal(gxd_tls_check_peer(t, "junk", NULL, why, sizeof why), -1);
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

/* A CRL of an issuer that is no client CA is taken for an
 * intermediate's and kept (checked when a chain names that issuer); it
 * is no CRL of the client CA, whose clients stay refused. */
static void crl_of_unknown_issuer_is_kept(void **state) {
  (void)state;
  gxd_tls_files f = mtls_files(certs);
  free((char *)f.crl_dir);
  f.crl_dir = strdup(at(certs, "other-crl"));
  gxd_tls *t;
  assert_int_equal(gxd_tls_open(&f, &t, why, sizeof why), 0);
  assert_int_equal(check(t, certs, "client-cn"), -1);
  assert_string_equal(why, "no CRL of CN=gexec test CA in --tls-crl-dir: its "
                           "client certificates are refused");
  gxd_tls_free(t);
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
    assert_int_equal(gxd_tls_check_peer(t, variant, NULL, why, sizeof why), 0);
  }
  assert_int_equal(gxd_tls_verifications(t), GXD_TLS_CACHE + 1);
  snprintf(variant, len + 16, "%s%d\n", pem, 0); /* replaced: checked again */
  assert_int_equal(gxd_tls_check_peer(t, variant, NULL, why, sizeof why), 0);
  assert_int_equal(gxd_tls_verifications(t), GXD_TLS_CACHE + 2);
  snprintf(variant, len + 16, "%s%d\n", pem, GXD_TLS_CACHE); /* still in */
  assert_int_equal(gxd_tls_check_peer(t, variant, NULL, why, sizeof why), 0);
  assert_int_equal(gxd_tls_verifications(t), GXD_TLS_CACHE + 2);
  free(variant);
  free(pem);
  gxd_tls_free(t);
  free_files(&f);
}

/* ------------------------------------------------ intermediate CAs */

/* --tls-client-ca holding the root only: a client of an intermediate is
 * refused without the intermediate (its issuer is unknown), accepted
 * with it, and refused when the intermediate's CRL revokes it. */
static void root_only_ca_and_intermediate_clients(void **state) {
  (void)state;
  gxd_tls_files f = mtls_files(certs);
  gxd_tls *t;
  char want[256];
  assert_int_equal(gxd_tls_open(&f, &t, why, sizeof why), 0);
  assert_int_equal(check(t, certs, "client-inter"), -1);
  assert_string_equal(why, "client certificate refused: unable to get local "
                           "issuer certificate (issuer CN=gexec intermediate "
                           "CA)");
  assert_int_equal(check_chain(t, certs, "client-inter", "inter.pem"), 0);
  assert_int_equal(
      check_chain(t, certs, "client-inter-revoked", "inter.pem"), -1);
  snprintf(want, sizeof want, "client certificate serial 0x%s is revoked "
           "(CRL of CN=gexec intermediate CA)",
           line_of(certs, "serial-client-inter-revoked"));
  assert_string_equal(why, want);
  /* what a client sends: its certificate first, then the intermediate */
  assert_int_equal(
      check_chain(t, certs, "client-inter", "client-inter-chain.pem"), 0);
  gxd_tls_free(t);
  free_files(&f);
}

/* An intermediate the root's CRL revokes: its clients are refused with
 * a reason naming it, whether the intermediate comes from the client's
 * chain or from --tls-client-ca itself (a bundle of root and
 * intermediate). */
static void revoked_intermediate_refused(void **state) {
  (void)state;
  const char *dir = gxt_tls_make(NULL);
  gxd_tls_files f = mtls_files(dir);
  gxd_tls *t;
  char want[256];
  snprintf(want, sizeof want, "CA certificate CN=gexec revoked intermediate "
           "CA (serial 0x%s) in the client's chain is revoked (CRL of "
           "CN=gexec test CA)", line_of(dir, "serial-inter-revoked"));
  assert_int_equal(gxd_tls_open(&f, &t, why, sizeof why), 0);
  assert_int_equal(check_chain(t, dir, "client-under-revoked",
                               "client-under-revoked-chain.pem"), -1);
  assert_string_equal(why, want);
  assert_int_equal(check(t, dir, "client-under-revoked"), -1); /* resumed */
  assert_string_equal(why, want);
  gxd_tls_free(t);
  char *ca = gxt_tls_read(dir, "ca.pem");
  char *inter = gxt_tls_read(dir, "inter-revoked.pem"), bundle[8192];
  snprintf(bundle, sizeof bundle, "%s%s", ca, inter);
  gxt_tls_write(dir, "ca.pem", bundle);
  assert_int_equal(gxd_tls_open(&f, &t, why, sizeof why), 0);
  assert_int_equal(check(t, dir, "client-under-revoked"), -1);
  assert_string_equal(why, want);
  assert_int_equal(check_chain(t, dir, "client-under-revoked",
                               "inter-revoked.pem"), -1);
  assert_string_equal(why, want);
  assert_int_equal(check(t, dir, "client-cn"), 0);
  gxd_tls_free(t);
  free(ca);
  free(inter);
  free_files(&f);
}

/* Every CA of the chain needs its CRL: without the intermediate's, its
 * clients are refused; with only the intermediate's, too (the root's
 * CRL is missing to check the intermediate): fail closed. */
static void every_ca_of_the_chain_needs_a_crl(void **state) {
  (void)state;
  const char *dir = gxt_tls_make(NULL);
  gxd_tls_files f = mtls_files(dir);
  gxd_tls *t;
  char *inter_crl = gxt_tls_read(dir, "crl/inter.crl.pem");
  assert_int_equal(unlink(at(dir, "crl/inter.crl.pem")), 0);
  assert_int_equal(gxd_tls_open(&f, &t, why, sizeof why), 0);
  assert_int_equal(check_chain(t, dir, "client-inter", "inter.pem"), -1);
  assert_string_equal(why, "no CRL of CN=gexec intermediate CA in "
                           "--tls-crl-dir: its client certificates are "
                           "refused");
  assert_int_equal(check(t, dir, "client-cn"), 0);
  gxd_tls_free(t);
  free((char *)f.crl_dir);
  f.crl_dir = strdup(at(dir, "inter-only"));
  assert_int_equal(mkdir(f.crl_dir, 0700), 0);
  gxt_tls_write(dir, "inter-only/inter.crl.pem", inter_crl);
  assert_int_equal(gxd_tls_open(&f, &t, why, sizeof why), 0);
  assert_int_equal(check_chain(t, dir, "client-inter", "inter.pem"), -1);
  assert_string_equal(why, "no CRL of CN=gexec test CA in --tls-crl-dir: its "
                           "client certificates are refused");
  gxd_tls_free(t);
  free(inter_crl);
  free_files(&f);
}

/* An intermediate alone in --tls-client-ca (gRPC's handshake accepts
 * such partial chains): its own revocation cannot be checked without
 * its root, so its clients are refused. */
static void intermediate_as_client_ca_refused(void **state) {
  (void)state;
  gxd_tls_files f = mtls_files(certs);
  gxd_tls *t;
  free((char *)f.client_ca);
  f.client_ca = strdup(at(certs, "inter.pem"));
  assert_int_equal(gxd_tls_open(&f, &t, why, sizeof why), 0);
  assert_int_equal(check_chain(t, certs, "client-inter", "inter.pem"), -1);
  assert_string_equal(why, "client certificate refused: unable to get issuer "
                           "certificate (CA CN=gexec intermediate CA in its "
                           "chain, issuer CN=gexec test CA)");
  gxd_tls_free(t);
  free_files(&f);
}

/* The verdict is cached per certificate and chain: the same certificate
 * with another chain is checked again, and gets its own verdict. A
 * certificate without a chain (a resumed TLS session; "" is none too)
 * is checked with the chain it last came with, also after a reload,
 * which forgets verdicts, not chains. */
static void cache_is_keyed_on_the_chain(void **state) {
  (void)state;
  gxd_tls_files f = mtls_files(certs);
  gxd_tls *t;
  char *pem = gxt_tls_read(certs, "client-inter.pem");
  char *inter = gxt_tls_read(certs, "inter.pem");
  char *ca = gxt_tls_read(certs, "ca.pem"), both[8192];
  snprintf(both, sizeof both, "%s%s", inter, ca);
  assert_int_equal(gxd_tls_open(&f, &t, why, sizeof why), 0);
  assert_int_equal(gxd_tls_check_peer(t, pem, NULL, why, sizeof why), -1);
  assert_int_equal(gxd_tls_check_peer(t, pem, inter, why, sizeof why), 0);
  assert_int_equal(gxd_tls_verifications(t), 2);
  assert_int_equal(gxd_tls_check_peer(t, pem, inter, why, sizeof why), 0);
  assert_int_equal(gxd_tls_check_peer(t, pem, NULL, why, sizeof why), 0);
  assert_int_equal(gxd_tls_check_peer(t, pem, "", why, sizeof why), 0);
  assert_int_equal(gxd_tls_verifications(t), 2);
  assert_int_equal(gxd_tls_check_peer(t, pem, both, why, sizeof why), 0);
  assert_int_equal(gxd_tls_verifications(t), 3);
  assert_int_equal(gxd_tls_check_peer(t, pem, NULL, why, sizeof why), 0);
  assert_int_equal(gxd_tls_verifications(t), 3); /* both's verdict */
  assert_int_equal(gxd_tls_reload(t, why, sizeof why), 0);
  assert_int_equal(gxd_tls_check_peer(t, pem, NULL, why, sizeof why), 0);
  assert_int_equal(gxd_tls_verifications(t), 4);
  /* the certificate's text followed by the chain's is another key */
  char *joined = gxt_tls_read(certs, "client-inter-chain.pem");
  assert_int_equal(gxd_tls_check_peer(t, joined, NULL, why, sizeof why), -1);
  assert_int_equal(gxd_tls_verifications(t), 5);
  free(joined);
  free(pem);
  free(inter);
  free(ca);
  gxd_tls_free(t);
  free_files(&f);
}

/* A chain that does not parse, or holds more than GXD_TLS_CHAIN_MAX
 * certificates, is refused (fail closed). */
static void bad_chains_refused(void **state) {
  (void)state;
  gxd_tls_files f = mtls_files(certs);
  gxd_tls *t;
  char *pem = gxt_tls_read(certs, "client-inter.pem");
  char *inter = gxt_tls_read(certs, "inter.pem");
  size_t n = strlen(inter);
  char *many = calloc(GXD_TLS_CHAIN_MAX + 1, n + 1);
  assert_non_null(many);
  assert_int_equal(gxd_tls_open(&f, &t, why, sizeof why), 0);
  assert_int_equal(gxd_tls_check_peer(t, pem, "junk", why, sizeof why), -1);
  assert_string_equal(why, "the client's certificate chain cannot be checked "
                           "(no PEM certificate in it)");
  for (int i = 0; i < GXD_TLS_CHAIN_MAX; i++) memcpy(many + i * n, inter, n);
  assert_int_equal(gxd_tls_check_peer(t, pem, many, why, sizeof why), 0);
  memcpy(many + GXD_TLS_CHAIN_MAX * n, inter, n);
  assert_int_equal(gxd_tls_check_peer(t, pem, many, why, sizeof why), -1);
  assert_string_equal(why, "the client's certificate chain cannot be checked "
                           "(more than 10 certificates)");
  free(many);
  free(pem);
  free(inter);
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
      cmocka_unit_test(crl_of_unknown_issuer_is_kept),
      cmocka_unit_test(verdicts_are_cached),
      cmocka_unit_test(cache_is_bounded),
      cmocka_unit_test(root_only_ca_and_intermediate_clients),
      cmocka_unit_test(revoked_intermediate_refused),
      cmocka_unit_test(every_ca_of_the_chain_needs_a_crl),
      cmocka_unit_test(intermediate_as_client_ca_refused),
      cmocka_unit_test(cache_is_keyed_on_the_chain),
      cmocka_unit_test(bad_chains_refused),
  };
  return cmocka_run_group_tests_name("server/tls", tests, group_setup, NULL);
}
