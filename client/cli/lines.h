/**
 * @file lines.h
 * Splitting a byte stream into lines for fleet output, where each line is
 * printed whole with its host's prefix. Pure: no I/O.
 *
 * Bytes are fed as they arrive; every complete line (ending in '\n') goes
 * to the sink without its '\n'. A line that reaches GXC_LINE_MAX bytes
 * without a newline goes to the sink as it is (a piece), so a stream
 * without newlines costs at most GXC_LINE_MAX bytes of memory. The rest
 * waits for more bytes or gxc_lines_finish.
 */
#ifndef GXC_LINES_H
#define GXC_LINES_H

#include <stddef.h>
#include <stdint.h>

/** Longest line kept whole: longer ones are printed in pieces this long. */
#define GXC_LINE_MAX ((size_t)64 << 10)

/** Takes one line (or piece) of @p len bytes, without its newline; the
 *  bytes are borrowed for the call. Returns 0, or -1 to stop feeding. */
typedef int (*gxc_lines_sink)(void *ud, const uint8_t *line, size_t len);

/** A line being assembled. Zero-initialise; gxc_lines_free releases. */
typedef struct {
  uint8_t *buf; /**< GXC_LINE_MAX bytes once needed; owned */
  size_t len;   /**< bytes of the unfinished line */
} gxc_lines;

/**
 * Feeds @p len bytes: calls @p sink for each line completed (or piece
 * filled) and keeps the unfinished rest. Returns 0, -1 if the sink said
 * stop, or -2 out of memory (nothing was kept; the sink got what was
 * complete).
 */
int gxc_lines_feed(gxc_lines *l, const uint8_t *data, size_t len,
                   gxc_lines_sink sink, void *ud);

/** Hands the unfinished last line, if any, to @p sink, and forgets it.
 *  Returns 0 or the sink's -1. */
int gxc_lines_finish(gxc_lines *l, gxc_lines_sink sink, void *ud);

/** Frees the buffer. */
void gxc_lines_free(gxc_lines *l);

#endif
