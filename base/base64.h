/* Base64 with the standard alphabet and padding (RFC 4648 §4): the base64encode/base64decode filters, binary file
 * previews. Prefix kt_base64. */
#ifndef KT_BASE_BASE64_H
#define KT_BASE_BASE64_H

#include <stddef.h>

/* n bytes as base64 text (malloc'd, NUL-terminated). */
char *kt_base64_encode(const void *p, size_t n);
/* Java's Base64.getDecoder(): padding optional at the end, nothing outside the alphabet. 0 and *out (malloc'd, *outn
 * bytes), or -1 for text that is not base64. */
int kt_base64_decode(const char *s, size_t n, unsigned char **out, size_t *outn);

#endif
