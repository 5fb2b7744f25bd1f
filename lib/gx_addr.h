/**
 * @file gx_addr.h
 * Parsing and classifying gexec addresses: "unix:/path" and "host:port".
 * Shared by gexecd (which listens) and libgexec (which connects).
 */
#ifndef GX_ADDR_H
#define GX_ADDR_H

#include <stddef.h>

/** Kinds of address. */
typedef enum { GX_ADDR_UNIX = 1, GX_ADDR_TCP = 2 } gx_addr_kind;

/** A parsed address. All strings are NUL-terminated copies, bounded. */
typedef struct {
  gx_addr_kind kind;
  char path[108];   /**< unix: the socket path (sun_path size) */
  char host[256];   /**< tcp: host name or literal, without brackets */
  int port;         /**< tcp: 0..65535 */
  int is_loopback;  /**< tcp: 127.0.0.0/8, ::1 or "localhost" */
} gx_addr;

/**
 * Parses @p s ("unix:/abs/path", "127.0.0.1:7000", "[::1]:7000",
 * "localhost:7000"). Returns 0, or -1 with a reason in @p why.
 */
int gx_addr_parse(const char *s, gx_addr *out, char *why, size_t why_len);

/**
 * Writes the default address into @p buf: "unix:$XDG_RUNTIME_DIR/gexec/
 * gexecd.sock" when XDG_RUNTIME_DIR is set, else
 * "unix:/run/gexec/gexecd.sock". Returns 0, or -1 if it does not fit.
 */
int gx_addr_default(char *buf, size_t len);

#endif
