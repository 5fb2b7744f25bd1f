/**
 * @file input.h
 * Reading gexec's stdin in large pieces without delaying small ones.
 *
 * `gexec run` sends what it reads from fd 0 as stdin messages of up to
 * 1 MiB. A plain read() of a pipe returns at most what the pipe holds
 * (64 KiB by default) and, from a slow writer, whatever arrived: one
 * message per read would mean many small messages. gxc_input_read
 * coalesces: after one read, it keeps reading while poll() with a zero
 * timeout says more is ready, up to the caller's cap, and returns as soon
 * as nothing more is ready, so that interactive input is never held back.
 *
 * An end of file or a read error seen after some bytes is remembered and
 * reported by the next call, so that no byte and no EOF is lost (a
 * terminal's Ctrl-D is a one-time EOF: reading again would block).
 * Not thread-safe: one reader per gxc_input.
 */
#ifndef GXC_INPUT_H
#define GXC_INPUT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/** A coalescing reader of one fd. Initialize with gxc_input_init. */
typedef struct {
  int fd;
  int eof; /**< an EOF is pending: the next read returns 0 */
  int err; /**< an errno is pending: the next read returns -1 */
} gxc_input;

/** Starts reading @p fd (not owned: never closed here). */
void gxc_input_init(gxc_input *in, int fd);

/**
 * Reads up to @p cap bytes (cap > 0) into @p buf: one read(), which
 * blocks if nothing is ready (callers poll first), then more reads while
 * poll(fd, 0 ms) reports data (or an EOF or error), until @p cap bytes.
 * Returns the number of bytes (> 0); 0 at end of file; -1 with errno set
 * on a read error (EAGAIN when @p fd is non-blocking and had nothing).
 * An EOF or error that follows some bytes is returned by the next call.
 * EINTR is retried.
 */
ssize_t gxc_input_read(gxc_input *in, uint8_t *buf, size_t cap);

/**
 * When @p fd is a pipe or FIFO, raises its buffer to @p want bytes, or to
 * /proc/sys/fs/pipe-max-size if that is lower, so that a writer can run
 * up to one message ahead. Never shrinks it. Returns the pipe's size
 * afterwards, or -1 when @p fd is not a pipe or its size is unknown;
 * a refusal (EPERM: the user's pipe quota) just leaves the size as it was.
 */
long gxc_input_grow_pipe(int fd, size_t want);

#endif
