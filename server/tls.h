/**
 * @file tls.h
 * gexecd's TLS material: the files of --tls-cert, --tls-key,
 * --tls-client-ca and --tls-crl-dir, checked when loaded, reloaded on
 * SIGHUP, and the revocation check gRPC 1.51 does not make.
 *
 * Loading checks what would otherwise fail only at the first handshake,
 * and names the file at fault: each file parses (PEM; CRLs also DER), the
 * key is unencrypted and matches the certificate, the server certificate
 * is within its validity, every --tls-client-ca certificate is a CA, and
 * a CRL whose issuer is a --tls-client-ca certificate is signed by it. A
 * CRL of another issuer is taken as an intermediate CA's (the daemon sees
 * intermediates only in the chains clients present): it is kept, and its
 * signature is checked against that intermediate at each verification.
 * A reload re-reads every file and installs the new set only if all of
 * it passed: otherwise the set in force stays, and the reason is
 * returned to be logged. New handshakes use the new set; established
 * connections and their runs are untouched.
 *
 * Revocation: gRPC 1.51's handshake checks no CRL (only its experimental
 * grpc_tls_* API would), so gexecd checks each call's client certificate
 * (gx_rpc_auth.pem_cert) with the intermediates the client presented
 * (gx_rpc_auth.pem_chain, untrusted: only a path to a client CA) against
 * an X509_STORE of the client CAs and the CRLs, with
 * X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL: every certificate
 * of the chain up to a self-signed --tls-client-ca root must be
 * unrevoked by its issuer's CRL, and the issuer of each (the root
 * included) must have a CRL in --tls-crl-dir, or its clients are refused
 * (fail closed). The chain must end at a self-signed root of
 * --tls-client-ca: an intermediate alone there cannot have its own
 * revocation checked, so its clients are refused (gRPC's handshake, which
 * accepts partial chains, lets them through). A client that sends no
 * intermediates is checked alone: accepted only when a client CA issued
 * it.
 *
 * Resumed TLS sessions carry no chain (OpenSSL keeps only the client's
 * certificate in a session ticket): a certificate that comes without
 * one is checked with the chain it last came with (remembered with its
 * verdict, up to GXD_TLS_CHAIN_KEEP bytes). That is sound: the chain is
 * only path material, the verification trusts the client CAs alone.
 *
 * The verdict is cached per certificate and chain (SHA-256 of both;
 * GXD_TLS_CACHE entries, the oldest replaced first), so that a busy
 * client costs one check; a reload forgets the verdicts (each is checked
 * again under the new set) but not the chains.
 *
 * Threads: everything here runs on the daemon's loop thread; gRPC's
 * threads only see the gx_rpc_tls_source inside.
 */
#ifndef GXD_TLS_H
#define GXD_TLS_H

#include <stddef.h>
#include <stdint.h>

#include "lib/rpc.h"

/** Largest certificate, key or CA file read (bytes). */
#define GXD_TLS_FILE_MAX (1u << 20)
/** Largest CRL file read (bytes), and most files in --tls-crl-dir. */
#define GXD_TLS_CRL_FILE_MAX (64u << 20)
#define GXD_TLS_CRL_FILES_MAX 256
/** Certificates (with their chains) whose revocation verdict is
 *  remembered. */
#define GXD_TLS_CACHE 256
/** Most certificates in a client's chain (gx_rpc_auth.pem_chain); a
 *  longer chain is refused. */
#define GXD_TLS_CHAIN_MAX 10
/** Longest chain (bytes of PEM) remembered with its certificate for
 *  the certificate's resumed sessions (GXD_TLS_CACHE of them at most). */
#define GXD_TLS_CHAIN_KEEP (16u << 10)

/** The TLS flags' files. gxd_tls_open copies the paths, made absolute
 *  against the working directory of that moment (symbolic links are not
 *  resolved: a reload follows a link that was switched to new files).
 *  cert and key are required; client_ca makes it mTLS; crl_dir needs
 *  client_ca. */
typedef struct {
  const char *cert;
  const char *key;
  const char *client_ca; /**< NULL: TLS without client certificates */
  const char *crl_dir;   /**< NULL: no revocation check */
} gxd_tls_files;

typedef struct gxd_tls gxd_tls;

/**
 * Loads and checks @p files. Returns 0 with *out owning the result, or
 * -1 with the reason in @p why, which starts with the flag and file at
 * fault ("--tls-key /etc/gexec/key.pem: does not match the certificate
 * of --tls-cert /etc/gexec/cert.pem").
 */
int gxd_tls_open(const gxd_tls_files *files, gxd_tls **out, char *why,
                 size_t why_len);

/** The credentials every TCP listener gets: owned by @p t. Listeners
 *  made with them borrow @p t's source, so free @p t only after the
 *  server. */
const gx_rpc_creds *gxd_tls_creds(const gxd_tls *t);

/** Nonzero if client certificates are required (--tls-client-ca). */
int gxd_tls_mtls(const gxd_tls *t);

/**
 * Re-reads and checks every file. Returns 0 when the new set is in force
 * (next handshakes; the revocation cache is emptied), or -1 with the
 * reason in @p why when the set in force was kept.
 */
int gxd_tls_reload(gxd_tls *t, char *why, size_t why_len);

/**
 * Revocation check of a TLS client certificate, @p pem_cert and
 * @p pem_chain as gx_rpc_auth.pem_cert and .pem_chain give them (the
 * chain: the CA certificates the client sent, PEM, in any order; NULL or
 * "" for none: then the chain last seen with @p pem_cert, if any, is
 * used). Returns 0 when the call may go on (also: no
 * --tls-crl-dir), or -1 with the reason in @p why, e.g.
 * "client certificate serial 0x1005 is revoked (CRL of CN=gexec CA)",
 * "CA certificate CN=Team CA (serial 0x1007) in the client's chain is
 * revoked (CRL of CN=gexec CA)", "no CRL of CN=... in --tls-crl-dir: its
 * client certificates are refused", or for a NULL or unreadable
 * certificate or chain. Fails closed.
 */
int gxd_tls_check_peer(gxd_tls *t, const char *pem_cert,
                       const char *pem_chain, char *why, size_t why_len);

/** Sets installed so far: 1 after gxd_tls_open, +1 per successful
 *  reload. */
uint64_t gxd_tls_generation(const gxd_tls *t);

/** Full verifications gxd_tls_check_peer made (cache misses), for tests
 *  and statistics. */
uint64_t gxd_tls_verifications(const gxd_tls *t);

/** Frees @p t (NULL is fine). Only after every server listening with
 *  gxd_tls_creds(t) was freed. */
void gxd_tls_free(gxd_tls *t);

#endif
