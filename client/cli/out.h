/**
 * @file out.h
 * Buffered output to a file descriptor for the fleet modes: whole lines
 * are collected and written with few write(2) calls, so that a line is
 * never split between writes of ours to a pipe read by others.
 */
#ifndef GXC_OUT_H
#define GXC_OUT_H

#include <stddef.h>
#include <stdint.h>

/** Bytes buffered before a write. */
#define GXC_OUT_BUF ((size_t)64 << 10)

/** An output. Set @c fd, zero the rest; gxc_out_free releases. */
typedef struct {
  int fd;
  uint8_t *buf; /**< GXC_OUT_BUF bytes once needed; owned */
  size_t len;
  int err;      /**< the first errno of a failed write; then writes stop */
} gxc_out;

/** Buffers @p len bytes (writing when the buffer fills). Returns 0 or -1
 *  once a write failed (o->err). */
int gxc_out_put(gxc_out *o, const void *data, size_t len);

/** gxc_out_put of a NUL-terminated string. */
int gxc_out_puts(gxc_out *o, const char *s);

/** Writes what is buffered (waiting while a non-blocking fd is full).
 *  Returns 0 or -1 (o->err). */
int gxc_out_flush(gxc_out *o);

/** Flushes and frees the buffer (not the fd). */
void gxc_out_free(gxc_out *o);

/** Writes all of @p data to @p fd unbuffered. Returns 0 or an errno. */
int gxc_write_all(int fd, const void *data, size_t len);

#endif
