/**
 * @file tls_certs.h
 * TLS test material for C tests: runs tests/tls/mkcerts.sh (openssl) into
 * a fresh directory and reads its files. See mkcerts.sh for what it
 * makes (a CA, server certificates, client certificates of each kind,
 * a CRL). Aborts the process on failure: a test cannot go on without.
 */
#ifndef GXT_TLS_CERTS_H
#define GXT_TLS_CERTS_H

#include <stddef.h>

/** Makes the material in a new directory under $TEST_TMPDIR (or /tmp),
 *  with @p extra_ip (NULL: none) as one more server IP SAN. Returns the
 *  directory's absolute path (static storage, overwritten by the next
 *  call). Call before any chdir: mkcerts.sh is found from the runfiles. */
const char *gxt_tls_make(const char *extra_ip);

/** "<dir>/<name>" in @p out (absolute if dir is). */
const char *gxt_tls_path(const char *dir, const char *name, char *out,
                         size_t len);

/** The contents of "<dir>/<name>", NUL-terminated, from malloc (the
 *  caller frees it). */
char *gxt_tls_read(const char *dir, const char *name);

/** Writes @p text to "<dir>/<name>" (replacing it). */
void gxt_tls_write(const char *dir, const char *name, const char *text);

#endif
