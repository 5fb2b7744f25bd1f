/**
 * @file tls.h
 * The CLI's TLS settings: --ca, --cert, --key and --tls-server-name over
 * $GEXEC_CA, $GEXEC_CERT and $GEXEC_KEY, checked together and turned into
 * libgexec connection options. Every subcommand that connects uses them.
 */
#ifndef GXC_TLS_H
#define GXC_TLS_H

#include <stddef.h>

#include "client/cli/args.h"
#include "client/gexec.h"

/** The TLS settings in force, and where each came from (for messages:
 *  "--cert" or "GEXEC_CERT"). Strings are borrowed. */
typedef struct {
  const char *ca, *cert, *key, *server_name; /**< NULL: none */
  const char *ca_from, *cert_from, *key_from;
} gxc_tls;

/**
 * Picks each file from its flag in @p a if given, else from the matching
 * environment value (@p env_ca, @p env_cert, @p env_key: getenv's results,
 * NULL or "" = unset). A certificate needs a key and a key a certificate;
 * both need a CA, and so does --tls-server-name. Returns 0, or -1 with a
 * one-line reason in @p why (a usage error). Pure.
 */
int gxc_tls_pick(const gxc_args *a, const char *env_ca, const char *env_cert,
                 const char *env_key, gxc_tls *out, char *why, size_t len);

/**
 * Makes the connection options of @p t (defaults plus TLS). Returns
 * GEXEC_OK with *out the caller's (gexec_conn_opts_free), or GEXEC_ENOMEM.
 */
int gxc_tls_conn_opts(const gxc_tls *t, gexec_conn_opts **out);

#endif
