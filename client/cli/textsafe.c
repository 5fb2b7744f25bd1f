/* Remote text made printable: see textsafe.h. */
#include "client/cli/textsafe.h"

#include <stdio.h>
#include <string.h>

/* The length of the valid, printable UTF-8 character at @p p, or 0 (a
 * control character, C1 included, or invalid UTF-8). */
static size_t printable_len(const unsigned char *p) {
  size_t n;
  if (p[0] >= 0x20 && p[0] < 0x7f) return 1;
  if (p[0] >= 0xc2 && p[0] <= 0xdf) n = 2;
  else if (p[0] >= 0xe0 && p[0] <= 0xef) n = 3;
  else if (p[0] >= 0xf0 && p[0] <= 0xf4) n = 4;
  else return 0;
  for (size_t i = 1; i < n; i++) /* a NUL ends the loop too */
    if ((p[i] & 0xc0) != 0x80) return 0;
  if (p[0] == 0xc2 && p[1] < 0xa0) return 0; /* C1 controls */
  if (p[0] == 0xe0 && p[1] < 0xa0) return 0; /* overlong */
  if (p[0] == 0xed && p[1] >= 0xa0) return 0; /* surrogates */
  if (p[0] == 0xf0 && p[1] < 0x90) return 0; /* overlong */
  if (p[0] == 0xf4 && p[1] >= 0x90) return 0; /* past U+10FFFF */
  return n;
}

const char *gxc_text_safe(const char *s, char *out, size_t cap) {
  const unsigned char *p = (const unsigned char *)s;
  size_t o = 0;
  if (cap == 0) return out;
  while (*p) {
    size_t k = printable_len(p);
    if (k == 0) {
      if (o + 4 >= cap) break;
      snprintf(out + o, cap - o, "\\x%02x", *p++);
      o += 4;
      continue;
    }
    if (o + k >= cap) break;
    memcpy(out + o, p, k);
    o += k;
    p += k;
  }
  out[o] = '\0';
  return out;
}
