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

/** The TCP port a host given without ":port" means, on both sides
 *  (gexecd --listen HOST, gexec -w HOST). */
#define GX_ADDR_DEFAULT_PORT 7443
#define GX_ADDR_STR_(x) #x
#define GX_ADDR_STR(x) GX_ADDR_STR_(x)
/** GX_ADDR_DEFAULT_PORT as a string literal, for help texts. */
#define GX_ADDR_DEFAULT_PORT_TEXT GX_ADDR_STR(GX_ADDR_DEFAULT_PORT)

/** Room for an address text: "[" 255-byte host "]:65535" or
 *  "unix:" 107-byte path, NUL included. */
#define GX_ADDR_TEXT_MAX 272

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
 * Writes @p s into @p buf with the default port added to a TCP host
 * given without one: "node07" -> "node07:7443", "10.0.0.1" ->
 * "10.0.0.1:7443", "[fd00::1]" -> "[fd00::1]:7443". Everything else
 * ("unix:...", "host:port", "[v6]:port", "", a bare "::1") is copied
 * unchanged; validating is gx_addr_parse's job. Returns 0, or -1 if it
 * does not fit in @p len bytes (then @p buf holds a truncated copy).
 */
int gx_addr_with_default_port(const char *s, char *buf, size_t len);

/** The default socket's path below $XDG_RUNTIME_DIR or, without it,
 *  below GX_ADDR_DEFAULT_RUN_DIR (for the --help texts too). */
#define GX_ADDR_DEFAULT_SUBPATH "/gexec/gexecd.sock"

/** The default socket's directory when XDG_RUNTIME_DIR is not usable. */
#define GX_ADDR_DEFAULT_RUN_DIR "/run"

/**
 * Writes the default address for @p xdg_runtime_dir (the value of
 * XDG_RUNTIME_DIR, or NULL) into @p buf: "unix:" @p xdg_runtime_dir
 * GX_ADDR_DEFAULT_SUBPATH when it is an absolute path, else
 * "unix:/run/gexec/gexecd.sock". Returns 0, or -1 if it does not fit
 * (then @p buf holds as much as fits, NUL-terminated, if @p len > 0).
 */
int gx_addr_default_for(const char *xdg_runtime_dir, char *buf, size_t len);

/**
 * gx_addr_default_for with this process's XDG_RUNTIME_DIR: the address
 * gexecd listens on and libgexec connects to when given none.
 */
int gx_addr_default(char *buf, size_t len);

#endif
