/* Base64, standard alphabet (RFC 4648 §4), as Java's Base64.getEncoder()/getDecoder(). */
#include "base/base64.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"

static const char k_b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *kt_base64_encode(const void *p, size_t n)
{
    const uint8_t *s = p;
    char *o = kt_xmalloc((n + 2) / 3 * 4 + 1), *q = o;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16 | (i + 1 < n ? (uint32_t)s[i + 1] << 8 : 0) | (i + 2 < n ? s[i + 2] : 0);
        *q++ = k_b64[(v >> 18) & 63];
        *q++ = k_b64[(v >> 12) & 63];
        *q++ = i + 1 < n ? k_b64[(v >> 6) & 63] : '=';
        *q++ = i + 2 < n ? k_b64[v & 63] : '=';
    }
    *q = 0;
    return o;
}

/* Java's Base64.getDecoder(): standard alphabet, padding optional at the end, nothing else allowed. */
int kt_base64_decode(const char *s, size_t n, unsigned char **out, size_t *outn)
{
    unsigned char *o = kt_xmalloc(n / 4 * 3 + 3);
    size_t k = 0;
    uint32_t acc = 0;
    int bits = 0, pad = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '=') {
            pad++;
            continue;
        }
        const char *f = c ? strchr(k_b64, c) : NULL;
        if (!f || pad) {
            free(o);
            return -1;
        }
        acc = (acc << 6) | (uint32_t)(f - k_b64);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            o[k++] = (unsigned char)(acc >> bits);
        }
    }
    if (bits >= 6 || (pad && (n % 4) != 0) || pad > 2) {
        free(o);
        return -1;
    }
    *out = o;
    *outn = k;
    return 0;
}
