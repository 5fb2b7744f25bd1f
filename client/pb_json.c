/* A protobuf-c message as JSON, by a walk of its descriptor: proto3's
 * JSON mapping with the proto field names (MessageToDict's
 * preserving_proto_field_name), except that 64-bit integers are JSON
 * numbers. As that mapping, a field at its default value (0, "", false,
 * an empty list, an unset message) is left out. Bytes are base64 (none
 * in facts.proto today); enums by their value's name. */
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/internal.h"

static json_object *message(const ProtobufCMessage *m, int depth);

/* Doubles in their shortest text that reads back the same. */
static json_object *number(double d) {
  char buf[40];
  if (!isfinite(d))
    return json_object_new_string(isnan(d) ? "NaN"
                                  : d > 0  ? "Infinity"
                                           : "-Infinity");
  snprintf(buf, sizeof buf, "%.15g", d);
  if (strtod(buf, NULL) != d) snprintf(buf, sizeof buf, "%.17g", d);
  return json_object_new_double_s(d, buf);
}

static json_object *base64(const ProtobufCBinaryData *b) {
  static const char al[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t n = (b->len + 2) / 3 * 4;
  char *s = malloc(n + 1);
  if (!s) return NULL;
  size_t w = 0;
  for (size_t i = 0; i < b->len; i += 3) {
    uint32_t v = (uint32_t)b->data[i] << 16;
    if (i + 1 < b->len) v |= (uint32_t)b->data[i + 1] << 8;
    if (i + 2 < b->len) v |= b->data[i + 2];
    s[w++] = al[v >> 18 & 63];
    s[w++] = al[v >> 12 & 63];
    s[w++] = i + 1 < b->len ? al[v >> 6 & 63] : '=';
    s[w++] = i + 2 < b->len ? al[v & 63] : '=';
  }
  s[w] = '\0';
  json_object *o = json_object_new_string(s);
  free(s);
  return o;
}

static json_object *enum_value(const ProtobufCFieldDescriptor *f, int v) {
  const ProtobufCEnumValue *e =
      protobuf_c_enum_descriptor_get_value(f->descriptor, v);
  return e ? json_object_new_string(e->name) : json_object_new_int(v);
}

/* One value of field @p f at @p p; NULL when it has its default value
 * (@p in_list: never, a list keeps every element). */
static json_object *value(const ProtobufCFieldDescriptor *f, const void *p,
                          int in_list, int depth) {
  switch (f->type) {
    case PROTOBUF_C_TYPE_BOOL: {
      protobuf_c_boolean b = *(const protobuf_c_boolean *)p;
      return b || in_list ? json_object_new_boolean(b) : NULL;
    }
    case PROTOBUF_C_TYPE_INT32: case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32: {
      int32_t v = *(const int32_t *)p;
      return v || in_list ? json_object_new_int(v) : NULL;
    }
    case PROTOBUF_C_TYPE_UINT32: case PROTOBUF_C_TYPE_FIXED32: {
      uint32_t v = *(const uint32_t *)p;
      return v || in_list ? json_object_new_int64(v) : NULL;
    }
    case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64: {
      int64_t v = *(const int64_t *)p;
      return v || in_list ? json_object_new_int64(v) : NULL;
    }
    case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64: {
      uint64_t v = *(const uint64_t *)p;
      return v || in_list ? json_object_new_uint64(v) : NULL;
    }
    case PROTOBUF_C_TYPE_FLOAT: {
      float v = *(const float *)p;
      return v != 0 || in_list ? number(v) : NULL;
    }
    case PROTOBUF_C_TYPE_DOUBLE: {
      double v = *(const double *)p;
      return v != 0 || in_list ? number(v) : NULL;
    }
    case PROTOBUF_C_TYPE_ENUM: {
      int v = *(const int *)p;
      return v || in_list ? enum_value(f, v) : NULL;
    }
    case PROTOBUF_C_TYPE_STRING: {
      const char *s = *(char *const *)p;
      return s && (s[0] || in_list) ? json_object_new_string(s) : NULL;
    }
    case PROTOBUF_C_TYPE_BYTES: {
      const ProtobufCBinaryData *b = p;
      return b->len || in_list ? base64(b) : NULL;
    }
    case PROTOBUF_C_TYPE_MESSAGE: {
      const ProtobufCMessage *m = *(ProtobufCMessage *const *)p;
      return m ? message(m, depth + 1) : NULL;
    }
  }
  return NULL;
}

static size_t value_size(const ProtobufCFieldDescriptor *f) {
  switch (f->type) {
    case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64: case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64: case PROTOBUF_C_TYPE_DOUBLE:
      return 8;
    case PROTOBUF_C_TYPE_BOOL: return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING: case PROTOBUF_C_TYPE_MESSAGE:
      return sizeof(void *);
    case PROTOBUF_C_TYPE_BYTES: return sizeof(ProtobufCBinaryData);
    default: return 4;
  }
}

static json_object *list(const ProtobufCFieldDescriptor *f,
                         const ProtobufCMessage *m, int depth) {
  size_t n = *(const size_t *)((const char *)m + f->quantifier_offset);
  const char *arr = *(char *const *)((const char *)m + f->offset);
  if (n == 0 || !arr) return NULL;
  json_object *a = json_object_new_array_ext((int)n);
  for (size_t i = 0; a && i < n; i++) {
    json_object *v = value(f, arr + i * value_size(f), 1, depth);
    if (!v) v = json_object_new_object(); /* an element never goes */
    json_object_array_add(a, v);
  }
  return a;
}

/* Whether a field with presence (proto2 optional, proto3 optional, a
 * oneof member) is set. */
static int present(const ProtobufCFieldDescriptor *f,
                   const ProtobufCMessage *m) {
  if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
    return *(const uint32_t *)((const char *)m + f->quantifier_offset) ==
           f->id;
  if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->quantifier_offset &&
      f->type != PROTOBUF_C_TYPE_MESSAGE && f->type != PROTOBUF_C_TYPE_STRING)
    return *(const protobuf_c_boolean *)((const char *)m +
                                         f->quantifier_offset);
  return 1;
}

static json_object *message(const ProtobufCMessage *m, int depth) {
  const ProtobufCMessageDescriptor *d = m->descriptor;
  json_object *o = json_object_new_object();
  if (!o || depth > 32) return o; /* facts nest 3 deep */
  for (unsigned i = 0; i < d->n_fields; i++) {
    const ProtobufCFieldDescriptor *f = &d->fields[i];
    json_object *v;
    if (f->label == PROTOBUF_C_LABEL_REPEATED)
      v = list(f, m, depth);
    else if (!present(f, m))
      v = NULL;
    else
      v = value(f, (const char *)m + f->offset, 0, depth);
    if (v) json_object_object_add(o, f->name, v);
  }
  return o;
}

/* Whether @p s (@p n bytes) is valid UTF-8 (no overlong forms,
 * surrogates or code points past U+10FFFF). */
static int valid_utf8(const unsigned char *s, size_t n) {
  for (size_t i = 0; i < n;) {
    unsigned char c = s[i];
    size_t k = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2
             : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    if (k == 0 || k > n - i) return 0;
    for (size_t j = 1; j < k; j++)
      if ((s[i + j] & 0xc0) != 0x80) return 0;
    if ((c == 0xe0 && s[i + 1] < 0xa0) || (c == 0xed && s[i + 1] >= 0xa0) ||
        (c == 0xf0 && s[i + 1] < 0x90) || (c == 0xf4 && s[i + 1] >= 0x90))
      return 0;
    i += k;
  }
  return 1;
}

char *gexec__pb_json(const ProtobufCMessage *m, size_t *len) {
  json_object *o = message(m, 0);
  if (!o) return NULL;
  size_t n;
  const char *s = json_object_to_json_string_length(
      o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
  /* json-c copies string bytes as they are: the text is valid UTF-8
   * exactly when every string of the message is */
  if (s && !valid_utf8((const unsigned char *)s, n)) s = NULL;
  char *out = s ? malloc(n + 1) : NULL;
  if (out) {
    memcpy(out, s, n + 1);
    if (len) *len = n;
  }
  json_object_put(o);
  return out;
}
