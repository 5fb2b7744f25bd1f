#include "server/wire_check.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/gx_err.h"

/* The walk's state: the path of the message being visited. */
typedef struct {
  char path[GXD_WIRE_PATH_MAX];
  size_t len; /* strlen(path); always < sizeof path */
  char *why;
  size_t why_len;
} walker;

static size_t push(walker *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Appends to the path (cut at its bound); returns the length to restore. */
static size_t push(walker *w, const char *fmt, ...) {
  size_t old = w->len, room = sizeof w->path - w->len;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(w->path + w->len, room, fmt, ap);
  va_end(ap);
  if (n > 0) w->len += (size_t)n < room ? (size_t)n : room - 1;
  return old;
}

static void pop(walker *w, size_t old) {
  w->len = old;
  w->path[old] = '\0';
}

static int walk(walker *w, const ProtobufCMessage *m, unsigned depth);

/* Visits @p sub (may be NULL), one level below the current path. */
static int visit(walker *w, const ProtobufCMessage *sub, unsigned depth) {
  if (!sub) return GX_STATUS_OK;
  if (depth >= GXD_WIRE_MAX_DEPTH) {
    snprintf(w->why, w->why_len,
             "%s nests messages more than %d levels deep; refusing what "
             "this gexecd cannot check", w->path, GXD_WIRE_MAX_DEPTH);
    return GX_STATUS_INVALID_ARGUMENT;
  }
  return walk(w, sub, depth + 1);
}

static int walk_repeated(walker *w, const ProtobufCMessage *m,
                         const ProtobufCFieldDescriptor *f, unsigned depth) {
  const char *base = (const char *)m;
  size_t n = *(const size_t *)(base + f->quantifier_offset);
  ProtobufCMessage *const *v = *(ProtobufCMessage *const *const *)(base +
                                                                   f->offset);
  for (size_t i = 0; i < n; i++) {
    size_t old = push(w, ".%s[%zu]", f->name, i);
    int st = visit(w, v[i], depth);
    pop(w, old);
    if (st != GX_STATUS_OK) return st;
  }
  return GX_STATUS_OK;
}

static int walk_field(walker *w, const ProtobufCMessage *m,
                      const ProtobufCFieldDescriptor *f, unsigned depth) {
  const char *base = (const char *)m;
  if (f->type != PROTOBUF_C_TYPE_MESSAGE) return GX_STATUS_OK;
  if (f->label == PROTOBUF_C_LABEL_REPEATED)
    return walk_repeated(w, m, f, depth);
  /* a oneof's members share storage: only the active one is a message */
  if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
      *(const uint32_t *)(base + f->quantifier_offset) != f->id)
    return GX_STATUS_OK;
  size_t old = push(w, ".%s", f->name);
  int st = visit(w, *(ProtobufCMessage *const *)(base + f->offset), depth);
  pop(w, old);
  return st;
}

/* @p depth is the nesting level of @p m, 1 for the top-level message. */
static int walk(walker *w, const ProtobufCMessage *m, unsigned depth) {
  const ProtobufCMessageDescriptor *d = m->descriptor;
  if (m->n_unknown_fields > 0) {
    snprintf(w->why, w->why_len,
             "%s has field %u that this gexecd does not know (sent by a "
             "newer client?); refusing it rather than ignoring it",
             w->path, (unsigned)m->unknown_fields[0].tag);
    return GX_STATUS_INVALID_ARGUMENT;
  }
  for (unsigned i = 0; i < d->n_fields; i++) {
    int st = walk_field(w, m, &d->fields[i], depth);
    if (st != GX_STATUS_OK) return st;
  }
  return GX_STATUS_OK;
}

int gxd_wire_check_unknown(const ProtobufCMessage *msg, char *why,
                           size_t why_len) {
  walker w = {.len = 0, .why = why, .why_len = why_len};
  push(&w, "%s", msg->descriptor->short_name);
  return walk(&w, msg, 1);
}
